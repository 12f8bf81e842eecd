"""Checkpoint memory benchmark: peak memory of forward + backward through a deep MLP-like chain,
plain against activation checkpointing (per layer, and `checkpoint_sequential`).

Memory is measured with `tracemalloc` (NumPy reports its array allocations to it), as the
peak during one training step above what was allocated before it (weights and input). The
gradients of all three runs are checked to agree. A report, not a test.

    python benchmarks/checkpoint_memory.py [--depth D] [--width W] [--batch B]
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc

import numpy as np

import rebours
import rebours.utils.checkpoint as cp


def model(depth: int, width: int, batch: int) -> tuple[list, list, rebours.Tensor]:
    rng = np.random.default_rng(0)
    ws = [rebours.tensor(rng.standard_normal((width, width)) / math.sqrt(width),
                         dtype=rebours.float32, requires_grad=True) for _ in range(depth)]
    bs = [rebours.zeros(width, requires_grad=True) for _ in range(depth)]
    x = rebours.tensor(rng.standard_normal((batch, width)), dtype=rebours.float32)
    return ws, bs, x


def layers(ws: list, bs: list) -> list:
    return [lambda h, w=w, b=b: (h @ w + b).tanh() * 1.5 for w, b in zip(ws, bs)]


def step(mode: str, ws: list, bs: list, x: rebours.Tensor) -> tuple[int, float, list]:
    """(peak bytes above the start, seconds, gradients) of one forward + backward."""
    for p in ws + bs:
        p.grad = None
    fs = layers(ws, bs)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    h = x
    if mode == "plain":
        for f in fs:
            h = f(h)
    elif mode == "per layer":
        for f in fs:
            h = cp.checkpoint(f, h)
    else:
        h = cp.checkpoint_sequential(fs, max(1, round(math.sqrt(len(fs)))), h)
    (h * h).mean().backward()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak, dt, [p.grad.numpy().copy() for p in ws + bs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=32)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batch", type=int, default=2048)
    args = ap.parse_args(argv)
    ws, bs, x = model(args.depth, args.width, args.batch)
    act = args.batch * args.width * 4
    print(f"MLP chain: {args.depth} layers of tanh(h @ W + b) * 1.5, batch {args.batch}, "
          f"width {args.width}, float32 (one activation = {act / 2**20:.2f} MiB)")
    results = {m: step(m, ws, bs, x) for m in ("plain", "per layer", "sequential")}
    ref = results["plain"][2]
    for m, (_, _, gs) in results.items():
        for a, b in zip(gs, ref):
            if not np.allclose(a, b, rtol=1e-5, atol=1e-7):
                print(f"gradients of {m!r} disagree with plain")
                return 2
    plain_peak, plain_t, _ = results["plain"]
    print(f"{'':12s}{'peak MiB':>10s}{'activations':>13s}{'saving':>8s}{'time':>8s}")
    for m, (peak, dt, _) in results.items():
        print(f"{m:12s}{peak / 2**20:10.1f}{peak / act:13.1f}{plain_peak / peak:7.1f}x"
              f"{dt / plain_t:7.2f}x")
    print("saving = plain peak / this peak; time relative to plain (recomputation costs one "
          "more forward)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
