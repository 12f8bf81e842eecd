"""Benchmark for `rebours lint`: generate ~10,000 lines of realistic training code and time it.

Run: python benchmarks/lint_speed.py [--lines N] [--repeat R]

It writes the code into a temporary folder (many files, as in a project) and also as one large
file, times `rebours.lint.lint_paths` over each (best of R runs), and prints lines/s and seconds.
The target is under 2 seconds for 10,000 lines; the exit status is 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rebours.lint import lint_paths

HEADER = '''\
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
'''

MODULE = '''

class Block{i}(nn.Module):
    """A residual MLP block with a learned gate."""

    def __init__(self, dim, hidden=4 * 64, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.gate = nn.Parameter(torch.zeros(dim))
        self.drop = nn.Dropout(p)
        self.layers = [nn.Linear(dim, dim) for _ in range(2)]

    def forward(self, x):
        h = self.fc2(self.drop(F.gelu(self.fc1(self.norm(x)))))
        for layer in self.layers:
            h = h + layer(h)
        return x + torch.sigmoid(self.gate) * h

    @torch.no_grad()
    def renorm(self, max_norm=1.0):
        norms = self.fc1.weight.norm(dim=1, keepdim=True).clamp_min(max_norm)
        self.fc1.weight.mul_(max_norm / norms)

    def prune(self, threshold):
        self.gate[self.gate.abs() < threshold] = 0
'''

TRAIN = '''

def train_{i}(model, loader, val_loader, epochs=10, lr=3e-4, device="cpu"):
    model.to(device)
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))
    criterion = nn.CrossEntropyLoss()
    history = []
    for epoch in range(epochs):
        model.train()
        running_loss = 0.0
        for step, (xb, yb) in enumerate(loader):
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            logits = model(xb)
            loss = criterion(logits, yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running_loss += loss
            if step % 100 == 0:
                print(f"epoch {{epoch}} step {{step}} loss {{loss.item():.4f}}")
        history.append(running_loss / len(loader))
        model.eval()
        correct, total = 0, 0
        with torch.no_grad():
            for xb, yb in val_loader:
                pred = model(xb.to(device)).argmax(dim=1)
                correct += (pred == yb.to(device)).sum().item()
                total += yb.numel()
        print(f"val acc {{correct / max(total, 1):.3f}}")
    return history
'''

FIT = '''

def fit_scale_{i}(data, steps=200):
    scale = torch.tensor(1.0, requires_grad=True)
    shift = torch.zeros(data.shape[-1], requires_grad=True)
    scale = torch.exp(scale)
    opt = torch.optim.SGD([scale, shift], lr=0.05)
    for it in range(steps):
        pred = data * scale + shift
        loss = ((pred - data.mean(0)) ** 2).mean()
        loss.backward()
        opt.step()
    dist = torch.sqrt(torch.sum(shift ** 2))
    counts = torch.tensor([1, 2, 3], requires_grad=True)
    return scale.grad, dist, counts
'''

NOTEBOOK = '''

# %% cell {i}: quick experiment
X{i} = torch.from_numpy(np.random.randn(256, 8))
w{i} = torch.randn(8, requires_grad=True)
b{i} = torch.zeros(1, requires_grad=True).cuda()
y{i} = (X{i} * w{i}).sum(1) + b{i}
w{i}.data.mul_(0.5)
w{i} += 0.1
opt{i} = optim.Adam([w{i}], lr=1e-2)
for it in range(100):
    opt{i}.zero_grad()
    out = (X{i}.float() @ w{i}).tanh()
    loss = (out - 1).pow(2).mean()
    opt{i}.step()
    loss.backward()
print(w{i}.grad, math.pi)
'''

TEMPLATES = (MODULE, TRAIN, FIT, NOTEBOOK)


def generate(folder: Path, target_lines: int, lines_per_file: int = 400) -> int:
    """Write files of generated training code under `folder`; return the number of lines."""
    total, n_file, i = 0, 0, 0
    while total < target_lines:
        parts = [HEADER]
        size = HEADER.count("\n")
        while size < lines_per_file and total + size < target_lines:
            chunk = TEMPLATES[i % len(TEMPLATES)].format(i=i)
            parts.append(chunk)
            size += chunk.count("\n")
            i += 1
        (folder / f"module_{n_file:03d}.py").write_text("".join(parts))
        total += size
        n_file += 1
    return total


def timed(paths: list[Path], repeat: int) -> tuple[float, int]:
    best, found = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = len(lint_paths(paths))
        best = min(best, time.perf_counter() - start)
    return best, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="lines to generate")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds allowed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        project, single = Path(tmp) / "project", Path(tmp) / "single"
        project.mkdir()
        single.mkdir()
        lines = generate(project, args.lines)
        joined = HEADER + "".join(
            p.read_text().removeprefix(HEADER) for p in sorted(project.glob("*.py")))
        (single / "big.py").write_text(joined)
        n_files = len(list(project.glob("*.py")))
        ok = True
        for label, path in ((f"{n_files} files", project), ("one file", single / "big.py")):
            seconds, found = timed([path], args.repeat)
            ok &= seconds < args.budget
            print(f"rebours lint, {label}: {lines:,} lines in {seconds:.3f} s = "
                  f"{lines / seconds:,.0f} lines/s ({found} findings)")
    print(f"target: {args.lines:,} lines under {args.budget:.1f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
