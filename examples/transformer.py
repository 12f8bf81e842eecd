"""Train a small Transformer encoder to reverse sequences of tokens.

    python examples/transformer.py --steps 40            # rebours (import rebours as torch)
    LIB=torch python examples/transformer.py --steps 40  # PyTorch, for comparison

Tokens and initial weights come from NumPy with a fixed seed and dropout is 0, so both libraries
start from the same numbers and print the same losses (to float32 rounding).
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
VOCAB, LENGTH = 10, 8


class Reverser(nn.Module):
    def __init__(self, d_model: int = 32, nhead: int = 4, num_layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.pos = nn.Parameter(torch.zeros(1, LENGTH, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, VOCAB)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens) + self.pos))


def numpy_init(model: nn.Module, rng: np.random.Generator) -> None:
    """Matrices and their biases ~ U(-1/√fan_in, 1/√fan_in) from NumPy; norms keep 1 and 0."""
    state = model.state_dict()
    for name, value in state.items():
        weight = state[name[:-4] + "weight"] if name.endswith("bias") else value
        if weight.dim() >= 2:
            bound = 1 / np.sqrt(weight.shape[-1])
            state[name] = torch.tensor(rng.uniform(-bound, bound, tuple(value.shape)),
                                       dtype=torch.float32)
    model.load_state_dict(state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    model = Reverser()
    numpy_init(model, rng)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 10))
    loss_fn = nn.CrossEntropyLoss()
    start, times = time.perf_counter(), []
    for step in range(args.steps):
        tokens = torch.tensor(rng.integers(0, VOCAB, size=(32, LENGTH)))
        target = tokens.flip(1)
        optimizer.zero_grad()
        logits = model(tokens)
        loss = loss_fn(logits.reshape(-1, VOCAB), target.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        warmup.step()
        print(f"step {step} loss {loss.item():.6f}")
        times.append(time.perf_counter())
    elapsed = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        tokens = torch.tensor(rng.integers(0, VOCAB, size=(256, LENGTH)))
        accuracy = (model(tokens).argmax(-1) == tokens.flip(1)).float().mean().item()
    print(f"token accuracy {accuracy:.3f}")
    per_step = (times[-1] - times[0]) / max(len(times) - 1, 1) * 1e3  # after the first step
    print(f"wall time {elapsed:.3f} s, {per_step:.2f} ms/step after the first ({torch.__name__})")


if __name__ == "__main__":
    main()
