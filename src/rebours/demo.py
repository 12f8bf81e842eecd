"""`rebours demo`: train a small convolutional network on the 8x8 handwritten digits shipped
with the package, with a progress bar, checkpoints (resumable, saved on Ctrl-C), loss and
accuracy curves, and a picture of the model's graph.

The data is the UCI "Optical Recognition of Handwritten Digits" test set (1,797 images, 0..16
grey levels; Alpaydin & Kaynak, CC BY 4.0; see rebours/data/README.md). A fixed split keeps 360
images apart for the test accuracy. Training is deterministic for a seed: a run resumed from a
checkpoint, even one saved mid-epoch on Ctrl-C, ends with the same weights as a run that never
stopped.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any, Optional

import numpy as np

import rebours
import rebours.nn as nn
import rebours.nn.functional as F
from rebours import Tensor
from rebours.serialization import load, save

N_TEST = 360
BATCH = 32
VIZ_HINT = "pip install 'rebours[viz]'"


# -- data ------------------------------------------------------------------------------------

def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as (images float32 (N, 1, 8, 8) in [0, 1], labels int64 (N,))."""
    raw = resources.files("rebours").joinpath("data/digits.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode().splitlines(), delimiter=",",
                       dtype=np.int64)
    images = (table[:, :64].astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    return images, table[:, 64]


def split(images: np.ndarray, labels: np.ndarray) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The same train/test split for every seed: the test set is held out, always."""
    order = np.random.default_rng(0).permutation(len(labels))
    test, train = order[:N_TEST], order[N_TEST:]
    t = rebours.from_numpy
    return (t(images[train].copy()), t(labels[train].copy()), t(images[test].copy()),
            t(labels[test].copy()))


# -- the model -------------------------------------------------------------------------------

class UnfoldConv2d(nn.Module):
    """A 3x3 'valid' convolution as im2col (`Tensor.unfold`) and one matmul; stands in for
    `nn.Conv2d` where rebours has none yet, with torch's default initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = (in_channels, out_channels,
                                                                 kernel_size)
        self.weight = nn.Parameter(rebours.empty(out_channels, in_channels, kernel_size,
                                                 kernel_size))
        self.bias = nn.Parameter(rebours.empty(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        conv2d = getattr(F, "conv2d", None)
        if conv2d is not None:
            return conv2d(x, self.weight, self.bias)
        n, c, h, w = x.shape
        k = self.kernel_size
        patches = x.unfold(2, k, 1).unfold(3, k, 1)  # (n, c, h', w', k, k)
        ho, wo = patches.shape[2], patches.shape[3]
        cols = patches.permute(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
        out = cols @ self.weight.reshape(self.out_channels, -1).t() + self.bias
        return out.reshape(n, ho, wo, self.out_channels).permute(0, 3, 1, 2)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"


class MaxPool2x2(nn.Module):
    """2x2 max pooling with stride 2, from reshape and amax (stands in for nn.MaxPool2d(2))."""

    def forward(self, x: Tensor) -> Tensor:
        max_pool2d = getattr(F, "max_pool2d", None)
        if max_pool2d is not None:
            return max_pool2d(x, 2)
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5))


def conv_layer(cin: int, cout: int, k: int) -> nn.Module:
    cls = getattr(nn, "Conv2d", None)
    return cls(cin, cout, k) if cls is not None else UnfoldConv2d(cin, cout, k)


def pool_layer() -> nn.Module:
    cls = getattr(nn, "MaxPool2d", None)
    return cls(2) if cls is not None else MaxPool2x2()


def make_model() -> nn.Module:
    """8x8 -> conv 3x3 (16) -> 6x6 -> conv 3x3 (32) -> 4x4 -> max pool -> 2x2x32 -> 10 logits."""
    return nn.Sequential(conv_layer(1, 16, 3), nn.ReLU(), conv_layer(16, 32, 3), nn.ReLU(),
                         pool_layer(), nn.Flatten(), nn.Linear(128, 10))


def cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    fn = getattr(F, "cross_entropy", None)
    if fn is not None:
        return fn(logits, target)
    logp = logits - logits.logsumexp(dim=1, keepdim=True)
    return -logp.gather(1, target.unsqueeze(1)).mean()


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with rebours.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean().item())


# -- progress --------------------------------------------------------------------------------

class Progress:
    """A tqdm bar per epoch when tqdm is installed, else one plain line per epoch."""

    def __init__(self, total: int, epoch: int, epochs: int, seen: int = 0, correct: int = 0,
                 loss: float = 0.0) -> None:
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        self.label = f"epoch {epoch + 1}/{epochs}"
        fmt = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
               "[{elapsed}<{remaining}{postfix}]")
        self.bar = None if tqdm is None else tqdm(
            total=total, initial=seen, desc=self.label, unit="img", leave=True,
            dynamic_ncols=True, file=sys.stderr, bar_format=fmt)
        self.start, self.seen, self.loss, self.correct = time.perf_counter(), seen, loss, correct
        self.base = seen  # samples per second count this run's samples only

    def update(self, n: int, loss: float, correct: int) -> None:
        self.seen, self.loss, self.correct = self.seen + n, self.loss + loss * n, \
            self.correct + correct
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix_str(self.text(), refresh=False)

    def text(self) -> str:
        rate = (self.seen - self.base) / max(time.perf_counter() - self.start, 1e-9)
        return (f"loss {self.loss / max(self.seen, 1):.3f}  acc "
                f"{100 * self.correct / max(self.seen, 1):.1f}%  {rate:,.0f} samples/s")

    def close(self, test_acc: Optional[float]) -> None:
        tail = "" if test_acc is None else f"  test {100 * test_acc:.1f}%"
        if self.bar is not None:
            self.bar.set_postfix_str(self.text() + tail)
            self.bar.close()
        else:
            print(f"{self.label}  {self.text()}{tail}", flush=True)


# -- training --------------------------------------------------------------------------------

class Stop:
    """SIGINT sets a flag the loop reads after each step; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Any = None

    def __enter__(self) -> Stop:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C stays a KeyboardInterrupt
            self.previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def batches(n: int, gen: rebours.Generator) -> Iterator[Tensor]:
    order = rebours.randperm(n, generator=gen)
    for i in range(0, n, BATCH):
        yield order[i:i + BATCH]


def run(epochs: int = 10, seed: int = 0, resume: Optional[str] = None,
        out: str = "rebours-demo", lr: float = 3e-3) -> int:
    """Train, write the checkpoint, curves and graph under `out`; 130 when stopped by Ctrl-C."""
    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, "checkpoint.safetensors")
    x_train, y_train, x_test, y_test = split(*load_digits())
    rebours.manual_seed(seed)
    model = make_model()
    opt = rebours.optim.Adam(model.parameters(), lr=lr)
    gen = rebours.Generator().manual_seed(seed)
    epoch, step, partial = 0, 0, [0, 0, 0.0]
    history: dict[str, list] = {"step_loss": [], "train_acc": [], "test_acc": []}
    if resume:
        ckpt = load(resume)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["rng"])
        epoch, step, history = ckpt["epoch"], ckpt["step"], ckpt["history"]
        partial = ckpt["partial"] if step else [0, 0, 0.0]
        print(f"resumed from {resume}: epoch {epoch + 1}, step {step}", flush=True)

    def checkpoint() -> None:
        save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                    "epoch": epoch, "step": step, "rng": epoch_rng,
                                    "seed": seed, "history": history,
              "partial": [bar.seen, bar.correct, bar.loss]}, ckpt_path)

    # the picture: one batch's graph, drawn before any step changes the weights it saved and
    # before state_dict() detaches them (the doctor would draw both)
    graph = rebours.viz.draw(cross_entropy(model(x_train[:BATCH]), y_train[:BATCH]),
                             params=dict(model.named_parameters()), show_saved=False)
    n, nb = len(y_train), math.ceil(len(y_train) / BATCH)
    t0 = time.perf_counter()
    with Stop() as stop:
        while epoch < epochs:
            epoch_rng = gen.get_state()  # the epoch's shuffle is replayed on resume
            bar = Progress(n, epoch, epochs, *partial)
            partial = [0, 0, 0.0]
            for i, idx in enumerate(batches(n, gen)):
                if i < step:
                    continue
                x, y = x_train[idx], y_train[idx]
                logits = model(x)
                loss = cross_entropy(logits, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step = i + 1
                value = loss.item()
                history["step_loss"].append(value)
                bar.update(len(y), value, int((logits.argmax(dim=1) == y).sum().item()))
                if stop.requested and step < nb:
                    bar.close(None)
                    checkpoint()
                    print(f"\ninterrupted: saved {ckpt_path} (epoch {epoch + 1}, step {step});"
                          f" resume with: rebours demo --resume {ckpt_path} --epochs {epochs}",
                          flush=True)
                    return 130
            model.train(False)
            history["train_acc"].append(bar.correct / max(bar.seen, 1))
            history["test_acc"].append(accuracy(model, x_test, y_test))
            model.train(True)
            bar.close(history["test_acc"][-1])
            epoch, step = epoch + 1, 0
            epoch_rng = gen.get_state()
            checkpoint()
            if stop.requested:
                print(f"\ninterrupted: saved {ckpt_path} after epoch {epoch}", flush=True)
                return 130
    seconds = time.perf_counter() - t0
    saved = [ckpt_path]
    skipped = [*_plot(history, out, saved), *_draw(graph, out, saved)]
    print(f"trained to epoch {epochs} in {seconds:.1f} s; wrote {', '.join(saved)}")
    if skipped:
        print(f"skipped {' and '.join(skipped)}: install the plotting extra with "
              f"{VIZ_HINT}" + ("" if shutil.which("dot") else
                               " (and Graphviz's `dot`: apt-get install graphviz)"))
    print(f"test accuracy: {100 * accuracy(model, x_test, y_test):.1f}%", flush=True)
    return 0


def _plot(history: dict, out: str, saved: list) -> list[str]:
    """Loss per step and accuracy per epoch, as a PNG (matplotlib, Agg backend)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["the curves (matplotlib is missing)"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    losses = np.asarray(history["step_loss"], dtype=float)
    ax1.plot(losses, color="#bbbbbb", linewidth=0.8, label="per batch")
    if losses.size >= 20:
        smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")
        ax1.plot(np.arange(19, losses.size), smooth, color="C0", label="mean of 20")
    ax1.set(title="training loss", xlabel="step", ylabel="cross-entropy", yscale="log")
    ax1.legend()
    epochs = np.arange(1, len(history["test_acc"]) + 1)
    ax2.plot(epochs, 100 * np.asarray(history["train_acc"]), "o-", label="train")
    ax2.plot(epochs, 100 * np.asarray(history["test_acc"]), "o-", label="test (held out)")
    ax2.set(title="accuracy", xlabel="epoch", ylabel="%")
    ax2.grid(alpha=0.3)
    ax2.legend()
    fig.suptitle("rebours demo: a small CNN on the 8x8 UCI digits")
    fig.tight_layout()
    path = os.path.join(out, "curves.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    saved.append(path)
    return []


def _draw(graph: Any, out: str, saved: list) -> list[str]:
    """The graph behind one batch's loss: a PNG when Graphviz is there, else the DOT text."""
    try:
        saved.append(graph.render(os.path.join(out, "graph.png")))
        return []
    except (ImportError, RuntimeError) as err:
        path = os.path.join(out, "graph.dot")
        with open(path, "w") as f:
            f.write(graph.source)
        saved.append(path)
        what = "the graphviz package" if isinstance(err, ImportError) else "the `dot` program"
        return [f"graph.png ({what} is missing; wrote the DOT text)"]


def main(argv: Optional[list[str]] = None) -> int:
    """`python -m rebours.demo ARGS` is `rebours demo ARGS`."""
    from .cli import main as cli_main

    return cli_main(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
