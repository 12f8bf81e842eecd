"""Train a small MLP classifier on synthetic data: plain PyTorch code that runs on rebours.

    python examples/mlp.py --steps 50            # rebours (import rebours as torch)
    LIB=torch python examples/mlp.py --steps 50  # PyTorch, for comparison

Weights and data come from NumPy with a fixed seed, so both libraries start from the same
numbers and print the same losses (to float32 rounding).
"""

import argparse
import os
import time

import numpy as np

if os.environ.get("LIB", "rebours") == "torch":
    import torch
else:
    import rebours as torch

nn = torch.nn


class MLP(nn.Module):
    def __init__(self, n_in: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Dropout(0.0), nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.net(x)


def numpy_init(model: nn.Module, rng: np.random.Generator) -> None:
    """Load U(-1/√fan_in, 1/√fan_in) weights and biases drawn by NumPy."""
    state = model.state_dict()
    for name, value in state.items():
        fan_in = value.shape[1] if value.dim() == 2 else state[name[:-4] + "weight"].shape[1]
        bound = 1 / np.sqrt(fan_in)
        state[name] = torch.tensor(rng.uniform(-bound, bound, tuple(value.shape)),
                                   dtype=torch.float32)
    model.load_state_dict(state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 20)).astype(np.float32)
    teacher = rng.normal(size=(20, 4))
    y = (x @ teacher + 0.5 * rng.normal(size=(512, 4))).argmax(1)
    data = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=False)

    model = MLP(20, 64, 4)
    numpy_init(model, rng)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    start, step, times = time.perf_counter(), 0, []
    while step < args.steps:
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            print(f"step {step} loss {loss.item():.6f}")
            times.append(time.perf_counter())
            step += 1
            if step == args.steps:
                break
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(torch.tensor(x)).argmax(1) == torch.tensor(y)).float().mean().item()
    print(f"accuracy {accuracy:.3f}")
    per_step = (times[-1] - times[0]) / max(len(times) - 1, 1) * 1e3  # after the first step
    print(f"wall time {elapsed:.3f} s, {per_step:.2f} ms/step after the first ({torch.__name__})")


if __name__ == "__main__":
    main()
