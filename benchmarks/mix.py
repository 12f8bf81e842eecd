"""Case (h): a seeded random program of ops and shapes, run by rebours, torch and NumPy.

A fixed chain can be tuned for; this cannot, short of being fast in general. `program(seed)`
draws 100 ops (plus their leaves) over registers: elementwise unary ops, broadcasting binary
ops, scaled matmuls and reductions, on shapes from (4,) to (256, 256), small ones more often.
The loss is the sum of the means of the registers nothing else reads. rebours and torch run the
same lambdas; NumPy runs a hand-written forward that keeps its tape, then the hand-derived backward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

SIZES, WEIGHTS = (4, 16, 64, 256), (0.35, 0.3, 0.25, 0.1)
N_INSTRUCTIONS = 100

UNARY: dict[str, Callable[[Any, float], Any]] = {
    "tanh": lambda t, c: t.tanh(),
    "sigmoid": lambda t, c: t.sigmoid(),
    "sin": lambda t, c: t.sin(),
    "relu": lambda t, c: t.relu(),
    "neg": lambda t, c: -t,
    "mul_c": lambda t, c: t * c,
    "add_c": lambda t, c: t + c,
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}
NP_UNARY: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    # name -> (forward (x, c) -> y, backward (g, x, y, c) -> dx)
    "tanh": (lambda x, c: np.tanh(x), lambda g, x, y, c: g * (1.0 - y * y)),
    "sigmoid": (lambda x, c: 1.0 / (1.0 + np.exp(-x)), lambda g, x, y, c: g * y * (1.0 - y)),
    "sin": (lambda x, c: np.sin(x), lambda g, x, y, c: g * np.cos(x)),
    "relu": (lambda x, c: np.maximum(x, 0), lambda g, x, y, c: g * (x > 0)),
    "neg": (lambda x, c: -x, lambda g, x, y, c: -g),
    "mul_c": (lambda x, c: x * c, lambda g, x, y, c: g * c),
    "add_c": (lambda x, c: x + c, lambda g, x, y, c: g),
}
Instr = tuple  # ("leaf", k) | ("unary", name, i, c) | ("binary", name, i, j) | ("matmul", i, j, s)
#              | ("reduce", "sum"|"mean", i, dim, keepdim); registers are numbered in push order


def program(seed: int = 0, n: int = N_INSTRUCTIONS) -> tuple[list[Instr], list[tuple]]:
    """(instructions, leaf shapes) of the seeded random program."""
    rng = np.random.default_rng(seed)
    code: list[Instr] = []
    leaves: list[tuple] = []
    shapes: list[tuple] = []

    def size() -> int:
        return int(rng.choice(SIZES, p=WEIGHTS))

    def reg(shape: tuple, fresh: bool = False) -> int:
        """A recent register of this shape, else (or if `fresh`) a new leaf."""
        recent = [r for r in range(max(0, len(shapes) - 8), len(shapes)) if shapes[r] == shape]
        if recent and not fresh and rng.random() < 0.7:
            return int(rng.choice(recent))
        leaves.append(shape)
        code.append(("leaf", len(leaves) - 1))
        shapes.append(shape)
        return len(shapes) - 1

    reg((256, 256), fresh=True)  # the largest shape occurs at least once
    while len(code) - len(leaves) < n:
        if rng.random() < 0.08:  # start a new chain from a leaf of any shape
            reg((size(), size()) if rng.random() < 0.6 else (size(),), fresh=True)
        i = int(rng.integers(max(0, len(shapes) - 4), len(shapes)))  # mostly chains
        a, kind = shapes[i], rng.choice(["unary"] * 4 + ["binary"] * 3 + ["matmul", "reduce"])
        if kind in ("matmul", "reduce") and len(a) == 1:
            reg((size(), a[0]) if rng.random() < 0.5 else (a[0], size()))
            continue
        if kind == "unary":
            name = str(rng.choice(list(UNARY)))
            code.append(("unary", name, i, round(float(rng.uniform(0.5, 1.5)), 3)))
            shape = a
        elif kind == "binary":
            options = [a, a[1:] or a] + ([(a[0], 1)] if len(a) == 2 else [])
            j = reg(options[int(rng.integers(len(options)))])
            i, j = (i, j) if rng.random() < 0.5 else (j, i)  # the broadcast side varies
            code.append(("binary", str(rng.choice(list(BINARY))), i, j))
            shape = a
        elif kind == "matmul":
            j = reg((a[1], size()))
            code.append(("matmul", i, j, round(1.0 / np.sqrt(a[1]), 6)))
            shape = (a[0], shapes[j][1])
        else:
            dim, keep = int(rng.integers(2)), bool(rng.integers(2))
            code.append(("reduce", str(rng.choice(["sum", "mean"])), i, dim, keep))
            shape = tuple(1 if d == dim else s for d, s in enumerate(a) if keep or d != dim)
        shapes.append(shape)
    return code, leaves


def leaf_values(leaves: list[tuple], dtype: str) -> list[np.ndarray]:
    """Seeded leaf inputs, ~N(0, 0.5^2)."""
    rng = np.random.default_rng(1)
    return [(0.5 * rng.standard_normal(s)).astype(dtype) for s in leaves]


def _inputs(ins: Instr) -> tuple[int, ...]:
    """The registers an instruction reads."""
    return {"leaf": (), "unary": ins[2:3], "binary": ins[2:4], "matmul": ins[1:3],
            "reduce": ins[2:3]}[ins[0]]


def _sinks(code: list[Instr]) -> list[int]:
    read = {r for ins in code for r in _inputs(ins)}
    return [r for r in range(len(code)) if r not in read]


def run_tensors(code: list[Instr], leaves: list[Any]) -> Any:
    """Forward with rebours or torch tensors (`leaves` require grad); returns the loss."""
    regs: list[Any] = []
    for ins in code:
        op = ins[0]
        if op == "leaf":
            regs.append(leaves[ins[1]])
        elif op == "unary":
            regs.append(UNARY[ins[1]](regs[ins[2]], ins[3]))
        elif op == "binary":
            regs.append(BINARY[ins[1]](regs[ins[2]], regs[ins[3]]))
        elif op == "matmul":
            regs.append((regs[ins[1]] @ regs[ins[2]]) * ins[3])
        else:
            t = regs[ins[2]]
            regs.append(t.sum(ins[3], keepdim=ins[4]) if ins[1] == "sum"
                        else t.mean(ins[3], keepdim=ins[4]))
    return sum(regs[r].mean() for r in _sinks(code))


def _unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    dims = tuple(d for d, s in enumerate(shape) if s == 1 and g.shape[d] != 1)
    return g.sum(axis=dims, keepdims=True) if dims else g


def run_numpy(code: list[Instr], leaves: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    """Hand-written forward and backward; (loss, gradient of each leaf)."""
    regs: list[np.ndarray] = []
    for ins in code:
        op = ins[0]
        if op == "leaf":
            regs.append(leaves[ins[1]])
        elif op == "unary":
            regs.append(NP_UNARY[ins[1]][0](regs[ins[2]], ins[3]))
        elif op == "binary":
            a, b = regs[ins[2]], regs[ins[3]]
            regs.append(a + b if ins[1] == "add" else a - b if ins[1] == "sub" else a * b)
        elif op == "matmul":
            regs.append((regs[ins[1]] @ regs[ins[2]]) * ins[3])
        else:
            fn = np.sum if ins[1] == "sum" else np.mean
            regs.append(fn(regs[ins[2]], axis=ins[3], keepdims=ins[4]))
    sinks = _sinks(code)
    loss = float(sum(regs[r].mean() for r in sinks))
    grads: list[Any] = [None] * len(regs)
    for r in sinks:
        grads[r] = np.full_like(regs[r], 1.0 / regs[r].size)

    def acc(r: int, g: np.ndarray) -> None:
        grads[r] = g if grads[r] is None else grads[r] + g

    for r in range(len(code) - 1, -1, -1):
        ins, g = code[r], grads[r]
        if g is None or ins[0] == "leaf":
            continue
        if ins[0] == "unary":
            acc(ins[2], NP_UNARY[ins[1]][1](g, regs[ins[2]], regs[r], ins[3]))
        elif ins[0] == "binary":
            a, b = regs[ins[2]], regs[ins[3]]
            ga, gb = (g, g) if ins[1] == "add" else (g, -g) if ins[1] == "sub" else (g * b, g * a)
            acc(ins[2], _unbroadcast(ga, a.shape))
            acc(ins[3], _unbroadcast(gb, b.shape))
        elif ins[0] == "matmul":
            gs = g * ins[3]
            acc(ins[1], gs @ regs[ins[2]].T)
            acc(ins[2], regs[ins[1]].T @ gs)
        else:
            x, dim = regs[ins[2]], ins[3]
            g = g if ins[4] else np.expand_dims(g, dim)
            acc(ins[2], np.broadcast_to(g / (x.shape[dim] if ins[1] == "mean" else 1), x.shape))
    index = [r for r, ins in enumerate(code) if ins[0] == "leaf"]
    return loss, [grads[r] for r in index]


def make(lib: str, dtype: str = "float32") -> Callable[[], Any]:
    """One forward + backward of the program; grads are reset first, as zero_grad would."""
    code, shapes = program()
    values = leaf_values(shapes, dtype)
    if lib == "numpy":
        return lambda: run_numpy(code, values)
    mod = __import__(lib)
    leaves = [mod.tensor(v, requires_grad=True) for v in values]

    def step() -> list[Any]:
        for t in leaves:
            t.grad = None
        run_tensors(code, leaves).backward()
        return [t.grad for t in leaves]

    return step


def check_values(lib: str) -> list[float]:
    """Float64 loss, then each leaf gradient's sum and up to 16 of its entries."""
    code, shapes = program()
    values = leaf_values(shapes, "float64")
    if lib == "numpy":
        loss, grads = run_numpy(code, values)
    else:
        mod = __import__(lib)
        leaves = [mod.tensor(v, requires_grad=True) for v in values]
        out = run_tensors(code, leaves)
        out.backward()
        loss, grads = float(out.item()), [t.grad.numpy() for t in leaves]
    vals = [loss]
    for g in grads:
        flat = np.asarray(g, dtype=np.float64).ravel()
        vals += [float(flat.sum()), *flat[:: max(1, flat.size // 16)][:16].tolist()]
    return vals
