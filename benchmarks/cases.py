"""Case (a) of the overhead benchmark: one chain of small ops, run by rebours, torch and NumPy.

The chain is a list of op names, expressed once. rebours and torch share the same lambdas (our
API is torch's); NumPy runs a hand-written forward that keeps what the backward needs, then
walks back with hand-derived derivatives: the practical floor for this work in Python.

Run as a script (`python cases.py LIB`), this module is a timing worker: it answers JSON
commands, one a line, on stdin/stdout. The harness (overhead.py) sets the thread variables in
its environment, so they hold before NumPy or torch is imported.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

LIBRARIES = ("rebours", "torch", "numpy")
SHAPE = (8,)
# One lap is ~ x -> -x near 0 (exp(x)**2 - 1 ~ 2x, 4 * (0.5 - sigmoid(x)) ~ -x, ...), so 20 laps
# neither blow up nor contract to a point: the gradient stays ~1e-3..1 and the agreement
# check below means something (a chain of squashing ops drives it to 1e-10).
PATTERN = ("tanh", "exp", "self_mul", "sub", "sigmoid", "neg", "add", "mul", "sin", "div")
CHAIN = PATTERN * 20

TENSOR_OPS: dict[str, Callable[[Any], Any]] = {
    "mul": lambda t: t * 4.0,
    "add": lambda t: t + 0.5,
    "sub": lambda t: t - 1.0,
    "div": lambda t: t / 2.0,
    "neg": lambda t: -t,
    "self_mul": lambda t: t * t,
    "tanh": lambda t: t.tanh(),
    "exp": lambda t: t.exp(),
    "sigmoid": lambda t: t.sigmoid(),
    "sin": lambda t: t.sin(),
}

# name -> (forward x -> y, backward (g, x, y) -> g * dy/dx)
NUMPY_OPS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    "mul": (lambda x: x * 4.0, lambda g, x, y: g * 4.0),
    "add": (lambda x: x + 0.5, lambda g, x, y: g),
    "sub": (lambda x: x - 1.0, lambda g, x, y: g),
    "div": (lambda x: x / 2.0, lambda g, x, y: g / 2.0),
    "neg": (lambda x: -x, lambda g, x, y: -g),
    "self_mul": (lambda x: x * x, lambda g, x, y: 2.0 * g * x),
    "tanh": (np.tanh, lambda g, x, y: g * (1.0 - y * y)),
    "exp": (np.exp, lambda g, x, y: g * y),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), lambda g, x, y: g * y * (1.0 - y)),
    "sin": (np.sin, lambda g, x, y: g * np.cos(x)),
}


def run_rebours(ops: Sequence[str], x: np.ndarray, backward: bool = True) -> np.ndarray | None:
    """Forward the chain from a fresh leaf, then `.sum().backward()`; returns x.grad as NumPy."""
    import rebours

    t = leaf = rebours.from_numpy(x).requires_grad_()
    for name in ops:
        t = TENSOR_OPS[name](t)
    if not backward:
        return None
    t.sum().backward()
    return leaf.grad.numpy()


def run_torch(ops: Sequence[str], x: np.ndarray, backward: bool = True) -> np.ndarray | None:
    """The same chain in PyTorch eager, with the same lambdas as run_rebours."""
    import torch

    t = leaf = torch.from_numpy(x).requires_grad_()
    for name in ops:
        t = TENSOR_OPS[name](t)
    if not backward:
        return None
    t.sum().backward()
    return leaf.grad.numpy()


def run_numpy(ops: Sequence[str], x: np.ndarray, backward: bool = True) -> np.ndarray | None:
    """Hand-written NumPy: forward keeps (x, y) per op, backward applies the derivatives."""
    tape = []
    for name in ops:
        y = NUMPY_OPS[name][0](x)
        tape.append((name, x, y))
        x = y
    if not backward:
        return None
    g = np.ones_like(x)  # d(sum)/dy
    for name, x, y in reversed(tape):
        g = NUMPY_OPS[name][1](g, x, y)
    return g


RUNNERS = {"rebours": run_rebours, "torch": run_torch, "numpy": run_numpy}


def sample_input(dtype: str = "float64") -> np.ndarray:
    """The input every library starts from (deterministic)."""
    return np.linspace(-1.0, 1.0, num=int(np.prod(SHAPE)), dtype=dtype).reshape(SHAPE)


def _pin_threads(lib: str) -> None:
    if lib == "torch":
        import torch

        torch.set_num_threads(1)
    elif lib == "rebours":
        import rebours

        rebours.set_num_threads(1)


def _info(lib: str) -> dict[str, Any]:
    version = str(__import__(lib).__version__)
    return {"version": version, "n_ops": len(CHAIN), "shape": list(SHAPE)}


def serve(lib: str) -> None:
    """Answer {"cmd": "info"|"grad"|"time"} lines, one JSON reply a line, until stdin closes."""
    run, replies = RUNNERS[lib], sys.stdout
    sys.stdout = sys.stderr  # a stray print in a library must not corrupt the protocol
    _pin_threads(lib)
    for line in sys.stdin:
        req = json.loads(line)
        reply: dict[str, Any]
        if req["cmd"] == "info":
            reply = _info(lib)
        elif req["cmd"] == "grad":
            reply = {"grad": run(CHAIN, sample_input("float64")).tolist()}
        else:  # "time": `repeat` samples, each the mean of `number` calls, in seconds
            x, backward, number = sample_input(req["dtype"]), req["backward"], req["number"]
            times = []
            for _ in range(req["repeat"]):
                t0 = time.perf_counter()
                for _ in range(number):
                    run(CHAIN, x, backward)
                times.append((time.perf_counter() - t0) / number)
            reply = {"times": times}
        print(json.dumps(reply), file=replies, flush=True)


if __name__ == "__main__":
    serve(sys.argv[1])
