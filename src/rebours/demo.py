"""`rebours demo`: train a small convolutional network on the 8x8 handwritten digits shipped
with the package, with a progress bar, checkpoints (resumable, saved on Ctrl-C), loss and
accuracy curves, and a picture of the model's graph.

The data is the UCI "Optical Recognition of Handwritten Digits" test set (1,797 images, 0..16
grey levels; Alpaydin & Kaynak, CC BY 4.0; see rebours/data/README.md). A fixed split keeps 360
images apart for the test accuracy. Training is deterministic for a seed: a run resumed from a
checkpoint, even one saved mid-epoch on Ctrl-C, ends with the same weights as a run that never
stopped.

Under an MPI launcher (`mpiexec -n N rebours demo`) it trains data-parallel: each epoch's order
(the same generator as one process) is sharded with `DistributedSampler`, each rank runs
BATCH/N images of every batch through `DistributedDataParallel`, and the averaged gradient is
the one-process batch's, so N ranks train to the one-process weights up to rounding. Rank 0
alone shows progress and writes files; every rank's throughput is printed at the end.
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
    """A tqdm bar per epoch when tqdm is installed, else one plain line per epoch (nothing at
    all when not `show`: the ranks other than 0)."""

    def __init__(self, total: int, epoch: int, epochs: int, seen: int = 0, correct: int = 0,
                 loss: float = 0.0, show: bool = True) -> None:
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        self.show = show
        if not show:
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
        elif self.show:
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


def batches(n: int, gen: rebours.Generator, shard: Optional[Tensor] = None,
            size: int = BATCH) -> Iterator[Tensor]:
    """The epoch's shuffled indices in batches; with `shard`, only this rank's positions."""
    order = rebours.randperm(n, generator=gen)
    if shard is not None:
        order = order[shard]
    for i in range(0, len(order), size):
        yield order[i:i + size]


class Ranks:
    """This process among the data-parallel ranks: one process unless an MPI launcher started
    several, and then the shard of every batch that is this rank's."""

    def __init__(self, n: int) -> None:
        from . import distributed as dist
        from .distributed._world import launched_size

        if launched_size() > 1 and not dist.is_initialized():
            dist.init_process_group(backend="mpi")
        self.dist = dist
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.main = self.rank == 0
        self.n, self.batch = n, max(1, BATCH // self.size)  # global batch: batch * size
        self.shard: Optional[Tensor] = None
        if self.size > 1:
            from .utils.data import DistributedSampler

            # the epoch's order comes from the generator (as one process, so a checkpoint
            # replays it); the sampler deals its positions out: r, r + N, r + 2N, ...
            positions = list(DistributedSampler(range(n), num_replicas=self.size,
                                                rank=self.rank, shuffle=False))
            self.shard = rebours.tensor(positions)

    def real(self, step: int, size: int) -> tuple[int, int]:
        """(this rank's, all ranks') count of real images in a step: the sampler pads the
        last positions with repeats, which must not count twice."""
        first = step * self.batch * self.size
        every = max(0, min(self.batch * self.size, self.n - first))
        mine = sum(1 for j in range(step * self.batch, step * self.batch + size)
                   if self.rank + self.size * j < self.n)
        return mine, every

    def loss(self, logits: Tensor, y: Tensor, step: int) -> Tensor:
        """The step's mean loss over all ranks' real images, once DDP averages the ranks."""
        mine, every = self.real(step, len(y))
        if self.size == 1 or (mine == len(y) and every == len(y) * self.size):
            return cross_entropy(logits, y)
        if mine == 0:
            return logits.sum() * 0.0  # only padding here: zero gradients, same graph
        return cross_entropy(logits[:mine], y[:mine]) * (mine * self.size / every)

    def step_stats(self, loss: float, correct: int, step: int, size: int,
                   stop: bool) -> tuple[int, float, int, bool]:
        """(images, mean loss, correct, stop) of the step over all ranks."""
        mine, every = self.real(step, size)
        if self.size == 1:
            return size, loss, correct, stop
        t = rebours.tensor([loss * every / self.size, float(correct), float(stop)],
                           dtype=rebours.float64)
        self.dist.all_reduce(t)
        total, good, stops = t.tolist()
        return every, total / every, int(good), stops > 0

    def throughput(self, samples: int, seconds: float) -> list[str]:
        """One line per rank (gathered on every rank, printed by rank 0)."""
        mine = rebours.tensor([float(samples), seconds], dtype=rebours.float64)
        every = [rebours.zeros(2, dtype=rebours.float64) for _ in range(self.size)]
        self.dist.all_gather(every, mine)
        lines = [f"rank {r} of {self.size}: {s / max(t, 1e-9):,.0f} samples/s ({int(s):,} "
                 f"samples in {t:.1f} s)" for r, (s, t) in enumerate(e.tolist() for e in every)]
        if self.size > 1:
            total = sum(e.tolist()[0] for e in every)
            slowest = max(e.tolist()[1] for e in every)
            lines.append(f"all {self.size} ranks: {total / max(slowest, 1e-9):,.0f} samples/s")
        return lines


def run(epochs: int = 10, seed: int = 0, resume: Optional[str] = None,
        out: str = "rebours-demo", lr: float = 3e-3) -> int:
    """Train, write the checkpoint, curves and graph under `out`; 130 when stopped by Ctrl-C.

    Under `mpiexec -n N` every rank runs this; an exception on one rank aborts them all."""
    x_train, y_train, x_test, y_test = split(*load_digits())
    ranks = Ranks(len(y_train))
    try:
        return _train(ranks, x_train, y_train, x_test, y_test, epochs, seed, resume, out, lr)
    except Exception:
        if ranks.size == 1:
            raise
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        from .distributed._world import abort

        abort(1)
        raise


def _train(ranks: Ranks, x_train: Tensor, y_train: Tensor, x_test: Tensor, y_test: Tensor,
           epochs: int, seed: int, resume: Optional[str], out: str, lr: float) -> int:
    main = ranks.main
    if main:
        os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, "checkpoint.safetensors")
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
        if main:
            print(f"resumed from {resume}: epoch {epoch + 1}, step {step}", flush=True)
    net: nn.Module = model
    if ranks.size > 1:
        from .nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model)
        if main:
            print(f"data-parallel over {ranks.size} ranks: {ranks.batch} images of each batch "
                  f"of {ranks.batch * ranks.size} per rank", flush=True)

    def checkpoint() -> None:
        if main:
            save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                  "epoch": epoch, "step": step, "rng": epoch_rng,
                  "seed": seed, "history": history,
                  "partial": [bar.seen, bar.correct, bar.loss]}, ckpt_path)

    # the picture: one batch's graph, drawn before any step changes the weights it saved and
    # before state_dict() detaches them (the doctor would draw both)
    graph = None
    if main:
        graph = rebours.viz.draw(cross_entropy(model(x_train[:BATCH]), y_train[:BATCH]),
                                 params=dict(model.named_parameters()), show_saved=False)
    n = len(y_train)
    nb = math.ceil((n if ranks.shard is None else len(ranks.shard)) / ranks.batch)
    t0 = time.perf_counter()
    mine, stopping = 0, False  # this rank's real images, for its throughput
    with Stop() as stop:
        while epoch < epochs:
            epoch_rng = gen.get_state()  # the epoch's shuffle is replayed on resume
            bar = Progress(n, epoch, epochs, *partial, show=main)
            partial = [0, 0, 0.0]
            for i, idx in enumerate(batches(n, gen, ranks.shard, ranks.batch)):
                if i < step:
                    continue
                x, y = x_train[idx], y_train[idx]
                logits = net(x)
                loss = ranks.loss(logits, y, i)
                opt.zero_grad()
                loss.backward()
                opt.step()
                step = i + 1
                real = ranks.real(i, len(y))[0]
                mine += real
                hits = int((logits[:real].argmax(dim=1) == y[:real]).sum().item())
                seen, value, hits, stopping = ranks.step_stats(loss.item(), hits, i, len(y),
                                                               stop.requested)
                history["step_loss"].append(value)
                bar.update(seen, value, hits)
                if stopping and step < nb:
                    bar.close(None)
                    checkpoint()
                    if main:
                        print(f"\ninterrupted: saved {ckpt_path} (epoch {epoch + 1}, step "
                              f"{step}); resume with: rebours demo --resume {ckpt_path} "
                              f"--epochs {epochs}", flush=True)
                    return 130
            model.train(False)
            history["train_acc"].append(bar.correct / max(bar.seen, 1))
            history["test_acc"].append(accuracy(model, x_test, y_test) if main else 0.0)
            model.train(True)
            bar.close(history["test_acc"][-1])
            epoch, step = epoch + 1, 0
            epoch_rng = gen.get_state()
            checkpoint()
            if stop.requested if ranks.size == 1 else stopping:
                if main:
                    print(f"\ninterrupted: saved {ckpt_path} after epoch {epoch}", flush=True)
                return 130
    seconds = time.perf_counter() - t0
    lines = ranks.throughput(mine, seconds)
    if not main:
        return 0
    print("throughput per rank:\n  " + "\n  ".join(lines), flush=True)
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
