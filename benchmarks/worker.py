"""Timing worker of bench.py: one library's process, answering JSON commands one a line.

`python worker.py LIB` with LIB one of rebours, rebours-noprov, torch, numpy. The harness sets
OMP/OPENBLAS/MKL_NUM_THREADS=1 in its environment, so they hold before NumPy or torch is
imported; the worker also calls `set_num_threads(1)`. `rebours-noprov` is rebours with the
provenance lookup (file:line per op, `rebours.autograd.graph.user_where`) replaced by a function
returning None in every module that bound it: case (g)'s "off" side, without editing the core.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import chains
import mix
import training
from cases import CHAIN, RUNNERS, sample_input

LIBS = ("rebours", "rebours-noprov", "torch", "numpy")


def _no_provenance() -> None:
    import rebours  # noqa: F401  (loads the submodules that bind user_where)
    import rebours.autograd.graph as graph

    original = graph.user_where
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "rebours" and getattr(module, "user_where", None) is original:
            module.user_where = lambda depth=2: None


def setup(lib: str) -> dict[str, Any]:
    """Import and pin the library; its version, and whether ops record their user line."""
    mod = lib.split("-")[0]
    try:
        version = str(__import__(mod).__version__)
    except ImportError as err:
        return {"error": f"{mod} is not installed ({err})"}
    info: dict[str, Any] = {"version": version, "provenance": None}
    if mod == "torch":
        import torch

        torch.set_num_threads(1)
    elif mod == "rebours":
        import rebours

        rebours.set_num_threads(1)
        if lib == "rebours-noprov":
            _no_provenance()
        probe = rebours.ones(2, requires_grad=True) * 2.0
        info["provenance"] = probe.grad_fn.where is not None
    return info


def make(case: str, lib: str, mode: str) -> Callable[[], Any]:
    """The zero-argument call timed for (case, lib, mode); float32 data throughout."""
    mod = lib.split("-")[0]
    if case == "a":
        x, run = sample_input("float32"), RUNNERS[mod]
        return lambda: run(CHAIN, x, True)
    if case == "b":
        return training.make("mlp", mod)
    if case == "c":
        return chains.make_elementwise(mod, backward=mode != "fwd")
    if case == "d":
        return training.make("conv", mod)
    if case == "h":
        return mix.make(mod)
    raise ValueError(f"no timed case {case!r}")


def check(case: str, lib: str) -> list[float]:
    """Values that must agree across libraries before anything is timed (see bench.CHECKS)."""
    mod = lib.split("-")[0]
    if case == "a":
        return RUNNERS[mod](CHAIN, sample_input("float64")).tolist()
    if case in ("b", "d"):
        return training.check_values("mlp" if case == "b" else "conv", mod)
    if case == "c":
        return chains.check_elementwise(mod)
    if case == "h":
        return mix.check_values(mod)
    raise ValueError(f"no checked case {case!r}")


def peak_memory(lib: str, repeat: int = 3) -> dict[str, Any]:
    """Case (e): tracemalloc's peak over one warm MLP step, above what was allocated before it."""
    mod = lib.split("-")[0]
    if mod == "torch":
        return {"peak": None, "why": "torch's CPU allocator does not report to tracemalloc"}
    step = training.make("mlp", mod)
    step()
    step()  # warm: the first steps create .grad buffers and any caches
    peaks = []
    for _ in range(repeat):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step()
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
        tracemalloc.stop()
    return {"peak": statistics.median(peaks)}


def serve(lib: str) -> None:
    """Answer commands until stdin closes; a failing command replies {"error": ...}."""
    replies, calls = sys.stdout, {}  # (case, mode) -> call
    sys.stdout = sys.stderr  # a stray print in a library must not corrupt the protocol
    info = setup(lib)
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        try:
            if cmd == "info" or "error" in info:
                reply = info
            elif cmd == "check":
                reply = {"values": check(req["case"], lib)}
            elif cmd == "memory":
                reply = peak_memory(lib)
            elif cmd == "deep":
                reply = chains.deep_chain(lib.split("-")[0], req["nodes"])
            else:  # "time": `repeat` samples, each the mean of `number` calls, in seconds
                key = (req["case"], req["mode"])
                if key not in calls:
                    calls[key] = make(req["case"], lib, req["mode"])
                fn = calls[key]
                times = []
                for _ in range(req["repeat"]):
                    t0 = time.perf_counter()
                    for _ in range(req["number"]):
                        fn()
                    times.append((time.perf_counter() - t0) / req["number"])
                reply = {"times": times}
        except Exception as err:  # reported to the harness, which stops loudly
            reply = {"error": f"{type(err).__name__}: {err}"}
        print(json.dumps(reply), file=replies, flush=True)


if __name__ == "__main__":
    serve(sys.argv[1])
