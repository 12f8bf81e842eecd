"""Where one op's time goes: micro-benchmarks and a profile of a mul and a tanh on shape (8,).

The numbers behind docs/performance.md. One thread, the garbage collector on unless a line says
otherwise; each figure is the median of `--repeat` samples of `--number` ops, in ns per op.
Forward: the same op as raw NumPy, as rebours under inference_mode and no_grad (no graph), and
recording the graph (with provenance, and with `user_where` patched off, as in bench.py's case
g). Backward: a chain of n ops, then `.sum().backward()`, divided by n. GC: the same with
gc.disable(), and the objects the collector tracks per recorded op. Then cProfile of case (a).

    python benchmarks/profile_op.py [--number N] [--repeat R] [--profile-top K]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import rebours  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from cases import CHAIN, run_rebours, sample_input  # noqa: E402

OPS: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray]]] = {
    "mul": (lambda t: t * 0.999, lambda a: a * 0.999),
    "tanh": (lambda t: t.tanh(), np.tanh),
}


def per_op_ns(fn: Callable[[], Any], n_ops: int, number: int, repeat: int,
              gc_off: bool = False) -> float:
    """Median over `repeat` samples of ns per op, one sample = `number` calls of `fn`."""
    samples = []
    for _ in range(repeat):
        if gc_off:
            gc.disable()
        t0 = time.perf_counter_ns()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter_ns() - t0) / (number * n_ops))
        gc.enable()
    return statistics.median(samples)


def chain(op: Callable[[Any], Any], x: Any, n: int, backward: bool) -> None:
    leaf = x.detach().requires_grad_()
    y = leaf
    for _ in range(n):
        y = op(y)
    if backward:
        y.sum().backward()


def provenance_off() -> Callable[[], None]:
    """Patch user_where to return None in every rebours module; returns the undo."""
    import rebours.autograd.graph as graph

    original, patched = graph.user_where, []
    for mod in [m for k, m in sys.modules.items() if k.split(".")[0] == "rebours"]:
        if getattr(mod, "user_where", None) is original:
            mod.user_where = lambda depth=2: None
            patched.append(mod)

    def undo() -> None:
        for mod in patched:
            mod.user_where = original

    return undo


def tracked_per_op(op: Callable[[Any], Any], x: Any, n: int = 1000) -> tuple[float, float]:
    """(gc gen-0 count increase, objects still tracked while the graph lives) per recorded op."""
    leaf = x.detach().requires_grad_()
    gc.collect()
    gc.disable()
    before_count, before_objs = gc.get_count()[0], len(gc.get_objects())
    y = leaf
    for _ in range(n):
        y = op(y)
    count, objs = gc.get_count()[0] - before_count, len(gc.get_objects()) - before_objs
    gc.enable()
    del y
    return count / n, objs / n


def table(args: argparse.Namespace) -> None:
    num, rep, n = args.number, args.repeat, 100
    x = rebours.from_numpy(sample_input("float32"))
    a = x.numpy()
    print(f"{'ns per op, shape (8,) float32':44s}" + "".join(f"{k:>10s}" for k in OPS))
    rows: dict[str, list[float]] = {}
    for op, np_op in OPS.values():
        leaf = x.detach().requires_grad_()
        rows.setdefault("NumPy op alone", []).append(per_op_ns(lambda: np_op(a), 1, num * n, rep))
        rows.setdefault("rebours, input without requires_grad", []).append(
            per_op_ns(lambda: op(x), 1, num * n, rep))
        with rebours.inference_mode():
            rows.setdefault("rebours, inference_mode", []).append(
                per_op_ns(lambda: op(leaf), 1, num * n, rep))
        with rebours.no_grad():
            rows.setdefault("rebours, no_grad", []).append(
                per_op_ns(lambda: op(leaf), 1, num * n, rep))
        rows.setdefault("rebours, forward recording the graph", []).append(
            per_op_ns(lambda: chain(op, x, n, False), n, num, rep))
        undo = provenance_off()
        rows.setdefault("  ... with user_where patched to None", []).append(
            per_op_ns(lambda: chain(op, x, n, False), n, num, rep))
        undo()
        rows.setdefault("  ... with gc disabled", []).append(
            per_op_ns(lambda: chain(op, x, n, False), n, num, rep, gc_off=True))
        rows.setdefault("rebours, forward + backward", []).append(
            per_op_ns(lambda: chain(op, x, n, True), n, num, rep))
        rows.setdefault("  ... with gc disabled ", []).append(
            per_op_ns(lambda: chain(op, x, n, True), n, num, rep, gc_off=True))
        if args.deep:
            for off in (False, True):
                label = f"rebours, fwd+bwd, chain of {args.deep:,}" + (", gc off" if off else "")
                rows.setdefault(label, []).append(
                    per_op_ns(lambda: chain(op, x, args.deep, True), args.deep, 1, 1, off))
        count, objs = tracked_per_op(op, x)
        rows.setdefault("gc: gen-0 count increase per op", []).append(count)
        rows.setdefault("gc: tracked objects kept per op", []).append(objs)
    try:
        import torch

        torch.set_num_threads(1)
        tx = torch.from_numpy(a.copy())
        for op, _ in OPS.values():
            with torch.no_grad():
                rows.setdefault("torch, no_grad", []).append(
                    per_op_ns(lambda: op(tx), 1, num * n, rep))
            rows.setdefault("torch, forward recording the graph", []).append(
                per_op_ns(lambda: chain(op, tx, n, False), n, num, rep))
            rows.setdefault("torch, forward + backward", []).append(
                per_op_ns(lambda: chain(op, tx, n, True), n, num, rep))
    except ImportError:
        pass
    for label, vals in rows.items():
        print(f"{label:44s}" + "".join(f"{v:10.0f}" if v > 20 else f"{v:10.2f}" for v in vals))


def _group(filename: str) -> str:
    """A profile entry's bucket: the rebours module, NumPy, or other builtins."""
    if "rebours" in filename and "benchmarks" not in filename:
        part = filename.split("rebours/", 1)[-1]
        return "rebours/ops (rule + NumPy compute)" if part.startswith("ops/") else part
    if "numpy" in filename or "ufunc" in filename:
        return "NumPy (Python-level)"
    if filename == "~":
        return "builtins (dict.get, len, isinstance, __new__...)"
    return "benchmark driver"


def split_profile(op: Callable[[Any], Any], n: int = 200, calls: int = 100) -> dict[str, Any]:
    """cProfile of a chain of `n` ops, forward and backward profiled apart; tottime by bucket."""
    x = rebours.from_numpy(sample_input("float32"))
    out: dict[str, Any] = {}
    for phase in ("forward", "backward"):
        prof = cProfile.Profile()
        for _ in range(calls):
            leaf = x.detach().requires_grad_()
            y = leaf
            if phase == "forward":
                prof.enable()
            for _ in range(n):
                y = op(y)
            s = y.sum()
            if phase == "forward":
                prof.disable()
            else:
                prof.enable()
                s.backward()
                prof.disable()
        groups: dict[str, float] = {}
        n_calls = 0
        for (filename, _, _), (_, nc, tt, _, _) in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
            key = _group(filename)
            groups[key] = groups.get(key, 0.0) + tt
            n_calls += nc
        out[phase] = {k: v / (n * calls) * 1e9 for k, v in groups.items()}  # ns per op
        out[phase + " calls"] = n_calls / (n * calls)
    return out


def profile(top: int) -> None:
    """Per bucket, ns per op under cProfile (inflated; read the shares); then case (a)'s top."""
    for name, (op, _) in OPS.items():
        res = split_profile(op)
        for phase in ("forward", "backward"):
            groups = res[phase]
            total = sum(groups.values())
            print(f"cProfile, chain of {name}, {phase}: {total:.0f} ns per op (profiled), "
                  f"{res[phase + ' calls']:.1f} function calls per op")
            for k, v in sorted(groups.items(), key=lambda kv: -kv[1]):
                print(f"    {v / total:6.1%}  {k}")
    x = sample_input("float32")
    for _ in range(20):
        run_rebours(CHAIN, x)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(200):
        run_rebours(CHAIN, x)
    prof.disable()
    stream = io.StringIO()
    pstats.Stats(prof, stream=stream).sort_stats("tottime").print_stats(top)
    print(stream.getvalue())


def main(argv: list[str] | None = None) -> int:
    """Print the micro-benchmark table, then the profile."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--number", type=int, default=50, help="chains of 100 ops per sample")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--profile-top", type=int, default=25)
    p.add_argument("--deep", type=int, default=100_000, help="also a chain this long (0: no)")
    args = p.parse_args(argv)
    rebours.set_num_threads(1)
    table(args)
    if args.profile_top:
        profile(args.profile_top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
