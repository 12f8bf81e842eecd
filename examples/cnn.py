"""Train a small CNN (conv, batch norm, pooling) to find which quadrant holds a bright blob.

    python examples/cnn.py --steps 30            # rebours (import rebours as torch)
    LIB=torch python examples/cnn.py --steps 30  # PyTorch, for comparison

Images, labels and initial weights come from NumPy with a fixed seed, so both libraries start
from the same numbers and print the same losses (to float32 rounding).
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
F = torch.nn.functional


class ConvNet(nn.Module):
    def __init__(self, n_classes: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, n_classes))

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        return self.head(F.relu(self.conv2(x)))


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """12×12 noise images with a 3×3 blob in one of four quadrants (the label)."""
    images = 0.3 * rng.normal(size=(n, 1, 12, 12)).astype(np.float32)
    labels = rng.integers(0, 4, size=n)
    for img, label in zip(images, labels):
        r, c = rng.integers(0, 4, size=2) + 6 * np.array([label // 2, label % 2])
        img[0, r:r + 3, c:c + 3] += 1.0
    return images, labels


def numpy_init(model: nn.Module, rng: np.random.Generator) -> None:
    """Conv and Linear weights and biases ~ U(-1/√fan_in, 1/√fan_in) from NumPy."""
    state = model.state_dict()
    for name, value in state.items():
        weight = state[name[:-4] + "weight"] if name.endswith("bias") else value
        if weight.dim() >= 2:
            bound = 1 / np.sqrt(weight[0].numel())
            state[name] = torch.tensor(rng.uniform(-bound, bound, tuple(value.shape)),
                                       dtype=torch.float32)
    model.load_state_dict(state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images, labels = make_data(rng, 256)
    data = torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels))
    loader = torch.utils.data.DataLoader(data, batch_size=32)

    model = ConvNet()
    numpy_init(model, rng)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    start, step, times = time.perf_counter(), 0, []
    while step < args.steps:
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            print(f"step {step} loss {loss.item():.6f}")
            times.append(time.perf_counter())
            step += 1
            if step == args.steps:
                break
    elapsed = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        test_x, test_y = make_data(rng, 256)
        predicted = model(torch.tensor(test_x)).argmax(1)
        accuracy = (predicted == torch.tensor(test_y)).float().mean().item()
    print(f"test accuracy {accuracy:.3f}")
    per_step = (times[-1] - times[0]) / max(len(times) - 1, 1) * 1e3  # after the first step
    print(f"wall time {elapsed:.3f} s, {per_step:.2f} ms/step after the first ({torch.__name__})")


if __name__ == "__main__":
    main()
