"""Deep-graph benchmark: forward + backward of a 100,000-node chain, rebours against torch.

One chain of ops (mul, sin, add, repeated; one graph node each) on a tensor of shape (8,),
then `.sum().backward()`; the same lambdas for both libraries, one thread each, rounds
interleaved, ratios paired per round. The gradients are checked to agree first. A report,
not a test.

    python benchmarks/deep_graph.py [--nodes N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import rebours  # noqa: E402

STEPS = (lambda y: y * 1.0001, lambda y: y.sin(), lambda y: y + 0.001)  # one node each


def chain(lib, x0: np.ndarray, nodes: int, gc_off: bool = False) -> tuple[float, float, Any]:
    """(forward seconds, backward seconds, gradient) of one run; `nodes` ops in the chain.
    `gc_off`: with Python's cyclic collector disabled (its passes over the growing graph are
    a large part of rebours's forward; torch's nodes are C++ objects it never visits)."""
    if gc_off:
        gc.disable()
    x = lib.tensor(x0, requires_grad=True)
    t0 = time.perf_counter()
    y = x
    for i in range(nodes):
        y = STEPS[i % 3](y)
    t1 = time.perf_counter()
    y.sum().backward()
    t2 = time.perf_counter()
    g = x.grad.numpy().copy()
    del y  # freeing the graph is part of the cost users pay; time it with the backward
    t3 = time.perf_counter()
    gc.enable()
    return t1 - t0, (t2 - t1) + (t3 - t2), g


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rebours.set_num_threads(1)
    x0 = np.linspace(-1.0, 1.0, 8)
    nodes = args.nodes
    _, _, gr = chain(rebours, x0, nodes)
    _, _, gt = chain(torch, x0, nodes)
    if not np.allclose(gr, gt, rtol=1e-4, atol=1e-6):
        print("gradients disagree:", gr, gt)
        return 2
    rows: dict[str, list] = {"rebours": [], "torch": [], "rebours, gc off": []}
    for _ in range(args.rounds):
        for name, lib in (("rebours", rebours), ("torch", torch), ("rebours, gc off", rebours)):
            rows[name].append(chain(lib, x0, nodes, gc_off=name.endswith("gc off"))[:2])
    print(f"chain of {nodes:,} nodes (mul, sin, add) on shape (8,), float32, "
          f"{args.rounds} rounds, median seconds")
    print(f"{'':16s}{'forward':>10s}{'backward':>10s}{'total':>10s}")
    for name, rs in rows.items():
        f = statistics.median(r[0] for r in rs)
        b = statistics.median(r[1] for r in rs)
        t = statistics.median(r[0] + r[1] for r in rs)
        print(f"{name:16s}{f:10.3f}{b:10.3f}{t:10.3f}")
    ratios = [(a[0] + a[1]) / (b[0] + b[1]) for a, b in zip(rows["rebours"], rows["torch"])]
    fwd = [a[0] / b[0] for a, b in zip(rows["rebours"], rows["torch"])]
    bwd = [a[1] / b[1] for a, b in zip(rows["rebours"], rows["torch"])]
    print(f"rebours/torch: total {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f}); forward {statistics.median(fwd):.2f}, "
          f"backward {statistics.median(bwd):.2f}")
    off = [(a[0] + a[1]) / (b[0] + b[1]) for a, b in zip(rows["rebours, gc off"], rows["torch"])]
    print(f"rebours with gc off / torch: total {statistics.median(off):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
