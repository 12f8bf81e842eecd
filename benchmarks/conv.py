"""conv2d forward + backward, rebours against torch: 3x3 kernel, 1 -> 8 channels, 28x28, batch 32.

One thread each (the thread variables are set before NumPy or torch is imported), the two
libraries interleaved round by round, medians of the rounds; prints rebours / torch. Also times
a 16 -> 32 channel layer and the max_pool2d that usually follows, as context.

    python benchmarks/conv.py [--rounds N]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import rebours  # noqa: E402

torch.set_num_threads(1)

CASES = {  # name: (x shape, weight shape, what follows the conv)
    "conv2d 1->8, 3x3, 28x28, N=32": ((32, 1, 28, 28), (8, 1, 3, 3), None),
    "conv2d 16->32, 3x3 pad 1, 14x14, N=32 (+dx)": ((32, 16, 14, 14), (32, 16, 3, 3), None),
    "conv2d 1->8 + relu + max_pool2d(2)": ((32, 1, 28, 28), (8, 1, 3, 3), "pool"),
}


def step(lib: Any, x: Any, w: Any, b: Any, then: Any) -> None:
    """One forward + backward; w and b are leaves that require grad, and x too for an inner
    layer (more than one input channel)."""
    F = lib.nn.functional
    y = F.conv2d(x, w, b, padding=1 if w.shape[1] > 1 else 0)
    if then == "pool":
        y = F.max_pool2d(F.relu(y), 2)
    y.sum().backward()
    x.grad = w.grad = b.grad = None


def make(lib: Any, xs: np.ndarray, ws: np.ndarray) -> tuple:
    x = lib.tensor(xs, requires_grad=ws.shape[1] > 1)
    w = lib.tensor(ws, requires_grad=True)
    b = lib.tensor(np.zeros(ws.shape[0], np.float32), requires_grad=True)
    return x, w, b


def timed(fn: Callable[[], None], reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def check(xs: np.ndarray, ws: np.ndarray, then: Any) -> None:
    """The two libraries agree on the weight gradient before anything is timed."""
    grads = []
    for lib in (rebours, torch):
        x, w, b = make(lib, xs, ws)
        F = lib.nn.functional
        y = F.conv2d(x, w, b, padding=1 if ws.shape[1] > 1 else 0)
        if then == "pool":
            y = F.max_pool2d(F.relu(y), 2)
        y.sum().backward()
        grads.append(np.asarray(w.grad.detach()) if lib is rebours else w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-3, atol=1e-3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"{'case':46} {'rebours ms':>10} {'torch ms':>9} {'ratio':>6}")
    for name, (xshape, wshape, then) in CASES.items():
        xs = rng.standard_normal(xshape).astype(np.float32)
        ws = rng.standard_normal(wshape).astype(np.float32)
        check(xs, ws, then)
        libs = {lib: make(lib, xs, ws) for lib in (rebours, torch)}
        fns = {lib: (lambda lib=lib: step(lib, *libs[lib], then)) for lib in libs}
        reps = max(1, int(0.02 / max(timed(fns[torch], 3), 1e-6)))
        for fn in fns.values():  # warm up
            timed(fn, reps)
        times: dict[Any, list[float]] = {lib: [] for lib in libs}
        for _ in range(args.rounds):
            for lib, fn in fns.items():
                times[lib].append(timed(fn, reps))
        r, t = statistics.median(times[rebours]), statistics.median(times[torch])
        print(f"{name:46} {r * 1e3:10.3f} {t * 1e3:9.3f} {r / t:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
