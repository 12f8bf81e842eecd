"""Chain cases: (c) ten elementwise ops + sum on 1e6 floats, (f) backward through 100,000 nodes.

(c) reuses case (a)'s ops (cases.py): the ten kinds of the pattern, once each, on a vector of
1e6 elements, then `.sum().backward()`; NumPy's forward alone is the unit it is reported in.
(f) is deep_graph.py's chain (mul, sin, add; one node each): it must complete, and the graph
must be freed once the user drops the output (weak references to the last and first nodes).
"""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from cases import NUMPY_OPS, PATTERN, RUNNERS

BIG = 1_000_000
DEEP_STEPS = (lambda y: y * 1.0001, lambda y: y.sin(), lambda y: y + 0.001)


def big_input(dtype: str) -> np.ndarray:
    """The (c) input: 1e6 points in [-1, 1] (the pattern keeps them bounded, as in case a)."""
    return np.linspace(-1.0, 1.0, num=BIG, dtype=dtype)


def make_elementwise(lib: str, backward: bool = True) -> Callable[[], Any]:
    """One (c) call in float32: forward (and backward) of the ten ops + sum."""
    x, run = big_input("float32"), RUNNERS[lib]
    if lib == "numpy" and not backward:
        return lambda: numpy_forward(x)
    return lambda: run(PATTERN, x, backward)


def numpy_forward(x: np.ndarray) -> float:
    """(c)'s unit: NumPy's forward alone, the ten ops and the sum, nothing kept."""
    for name in PATTERN:
        x = NUMPY_OPS[name][0](x)
    return float(x.sum())


def check_elementwise(lib: str) -> list[float]:
    """The float64 gradient at a spread of 101 of the 1e6 points."""
    g = RUNNERS[lib](PATTERN, big_input("float64"), True)
    return g[:: BIG // 100].tolist()


def _weak(obj: Any) -> Callable[[], Any] | None:
    try:
        return weakref.ref(obj)
    except TypeError:  # torch's C++ nodes have no weak references
        return None


def deep_chain(lib: str, nodes: int) -> dict[str, Any]:
    """Forward + backward of a `nodes`-long chain on shape (8,) float32; timings, the gradient
    at the leaf, and whether the graph's nodes die on `del` (by refcount) or after gc.collect()."""
    mod = __import__(lib)
    x = mod.tensor(np.linspace(-1.0, 1.0, 8, dtype=np.float32), requires_grad=True)
    t0 = time.perf_counter()
    y = x
    for i in range(nodes):
        y = DEEP_STEPS[i % 3](y)
        if i == 0:
            first = _weak(y.grad_fn)
    last = _weak(y.grad_fn)
    t1 = time.perf_counter()
    y.sum().backward()
    t2 = time.perf_counter()
    grad = x.grad.numpy().astype(float).tolist()
    del y  # freeing the graph is part of what users pay: timed with the backward
    t3 = time.perf_counter()
    refcount = None if last is None else last() is None and first() is None
    gc.collect()
    collected = None if last is None else last() is None and first() is None
    return {"forward_s": t1 - t0, "backward_s": t3 - t1, "total_s": t3 - t0, "grad": grad,
            "freed_on_del": refcount, "freed_after_gc": collected, "free_s": t3 - t2}
