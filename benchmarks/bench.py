"""Performance benchmark of issue 10: cases (a)-(h), rebours against torch and hand-written NumPy.

One process per library (worker.py) with one thread, driven over a pipe; the libraries'
results are checked to agree before anything is timed; rounds interleave the libraries
(A B C A B C ...) and ratios are paired per round, then summarized as median [min-max].
report.py turns the measurements into the table, with the issue's targets, met or not.
A report, not a test: it exits 0 whatever it measures, 2 when the libraries disagree.

    rebours bench [--quick] [--cases a,b,...] [--rounds N] [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import report

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# The same glibc malloc settings for every library's process: fixed thresholds, so arrays up to
# 32 MiB come from the heap and freed memory is kept for reuse. Without them, whether each
# large (1e6-float) array is served by fresh pages (a page fault per 4 KiB) depends on the
# heap's layout at import time, and case (c) swings 1x-3x from one process to the next for
# every library alike (docs/performance.md). `--system-malloc` runs without them.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
WORKER = Path(__file__).with_name("worker.py")
ALL_CASES = "abcdefgh"
TIMED = "abcdh"  # (e) memory, (f) one deep chain, (g) from case (a)'s rounds
CHECK_RTOL = {"a": 1e-7, "b": 1e-4, "c": 1e-7, "d": 1e-4, "h": 1e-7}  # b, d: float32 losses
DEEP_RTOL = 1e-4  # (f) runs in float32


class Worker:
    """One library's process; `ask` sends a command and returns its reply (errors raise)."""

    def __init__(self, lib: str, system_malloc: bool = False) -> None:
        env = os.environ | {var: "1" for var in THREAD_VARS}  # before numpy/torch import
        if not system_malloc:
            env |= MALLOC_ENV
        self.lib = lib
        self.proc = subprocess.Popen([sys.executable, str(WORKER), lib], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.lib} worker died (exit {self.proc.wait()}); see stderr")
        reply = json.loads(line)
        if "error" in reply and cmd != "info":
            raise RuntimeError(f"{self.lib}, {cmd} {args}: {reply['error']}")
        return reply

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def series(case: str, libs: list[str], cases: str) -> list[tuple[str, str]]:
    """The (lib, mode) pairs timed for a case, in their interleaving order."""
    if case == "a":
        want = (["rebours", "rebours-noprov"] if "g" in cases else ["rebours"]) + (
            ["torch", "numpy"] if "a" in cases else [])
        return [(lib, "fwd+bwd") for lib in want if lib in libs]
    out = [(lib, "fwd+bwd") for lib in ("rebours", "torch", "numpy") if lib in libs]
    return out + [("numpy", "fwd")] if case == "c" else out


def check(workers: dict[str, Worker], case: str) -> str | None:
    """Compare every library's values for a case with the reference's; None when they agree."""
    values = {lib: np.array(w.ask("check", case=case)["values"]) for lib, w in workers.items()
              if lib != "rebours-noprov"}
    ref_lib = "numpy" if "numpy" in values else "torch"
    ref = values[ref_lib]
    for lib, v in values.items():
        if v.shape != ref.shape or not np.allclose(v, ref, rtol=CHECK_RTOL[case], atol=1e-10):
            return f"case ({case}): {lib} differs from {ref_lib}:\n  {lib}: {v}\n  {ref_lib}: {ref}"
    return None


def measure(workers: dict[str, Worker], pairs: list[tuple[str, str]], case: str, rounds: int,
            repeat: int, sample_s: float) -> dict[str, list[float]]:
    """Seconds per call, one value per round (the median of `repeat` samples); round 0 warms up."""
    number = {}
    for lib, mode in pairs:  # calibrate: calls per sample so that one lasts ~sample_s
        t = min(workers[lib].ask("time", case=case, mode=mode, number=1, repeat=3)["times"])
        number[lib, mode] = max(1, round(sample_s / t))
    out: dict[str, list[float]] = {f"{lib} {mode}": [] for lib, mode in pairs}
    for r in range(rounds + 1):
        for lib, mode in pairs:  # A B C A B C ...
            req = dict(case=case, mode=mode, number=number[lib, mode], repeat=repeat)
            t = statistics.median(workers[lib].ask("time", **req)["times"])
            if r:
                out[f"{lib} {mode}"].append(t)
    return out


def deep(workers: dict[str, Worker], nodes: int, rounds: int) -> dict[str, Any]:
    """Case (f): interleaved rounds of the deep chain; a crash is a result, not an exception."""
    runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in ("rebours", "torch")
                                             if lib in workers}
    try:
        for _ in range(rounds):
            for lib in runs:
                runs[lib].append(workers[lib].ask("deep", nodes=nodes))
    except RuntimeError as err:
        return {"nodes": nodes, "error": str(err), "runs": runs}
    agree = None
    if "torch" in runs:
        g_r, g_t = runs["rebours"][0]["grad"], runs["torch"][0]["grad"]
        agree = bool(np.allclose(g_r, g_t, rtol=DEEP_RTOL, atol=1e-6))
    return {"nodes": nodes, "runs": runs, "grads_agree": agree}


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases, print the table, write JSON/markdown; 0, or 2 on disagreement."""
    p = argparse.ArgumentParser(prog="rebours bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short run (< 60 s), noisier")
    p.add_argument("--cases", default=ALL_CASES, help="comma-separated subset of a,b,...,h")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 25, quick 5)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--markdown", metavar="PATH", help="also write the table as markdown")
    p.add_argument("--system-malloc", action="store_true",
                   help="leave glibc's malloc thresholds as they are (noisier case c)")
    args = p.parse_args(argv)
    cases = "".join(sorted(set(args.cases.replace(",", ""))))
    if not cases or set(cases) - set(ALL_CASES):
        p.error(f"--cases: choose among {','.join(ALL_CASES)}")
    rounds = args.rounds or (5 if args.quick else 25)
    if rounds < 1:
        p.error("--rounds must be at least 1")
    repeat, sample_s = (3, 0.015) if args.quick else (5, 0.04)
    deep_rounds = 1 if args.quick else 3
    timed = "".join(c for c in TIMED if c in cases or (c == "a" and "g" in cases))
    needed = ["rebours", "torch", "numpy"] + (["rebours-noprov"] if "g" in cases else [])

    t0 = time.perf_counter()
    workers = {lib: Worker(lib, args.system_malloc) for lib in needed}
    try:
        infos = {lib: w.ask("info") for lib, w in workers.items()}
        for lib, info in infos.items():
            if "error" in info:
                print(f"note: {info['error']}; its columns print n/a", file=sys.stderr)
                workers.pop(lib).close()
        if "rebours" not in workers:
            print(f"error: {infos['rebours']['error']}", file=sys.stderr)
            return 2
        if "rebours-noprov" in workers and infos["rebours-noprov"]["provenance"]:
            print("error: the provenance switch did not take; case (g) would lie", file=sys.stderr)
            return 2
        for case in timed:  # before anything is timed: a fast wrong answer cannot pass
            if err := check(workers, case):
                print(f"error: the libraries compute different things; not timing.\n{err}",
                      file=sys.stderr)
                return 2
        measured = {c: measure(workers, series(c, list(workers), cases), c, rounds, repeat,
                               sample_s) for c in timed}
        memory = ({lib: workers[lib].ask("memory") for lib in ("rebours", "torch", "numpy")
                   if lib in workers} if "e" in cases else None)
        deep_res = deep(workers, 100_000, deep_rounds) if "f" in cases else None
    finally:
        for w in workers.values():
            w.close()

    cfg = {"cases": cases, "rounds": rounds, "repeat": repeat, "sample_ms": sample_s * 1e3,
           "deep_rounds": deep_rounds, "quick": args.quick, "cpus": os.cpu_count(),
           "malloc": "system" if args.system_malloc else " ".join(
               f"{k}={v}" for k, v in MALLOC_ENV.items()),
           "python": sys.version.split()[0], "numpy": np.__version__,
           "versions": {lib: i.get("version") for lib, i in infos.items()},
           "command": "rebours bench" + (" " + " ".join(argv if argv is not None
                                                        else sys.argv[1:])).rstrip(),
           "seconds": round(time.perf_counter() - t0, 1)}
    res = report.build(cases, measured, memory, deep_res)
    table = report.markdown(res, cfg)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.json:
        raw = {"measured_s": measured, "memory": memory, "deep": deep_res}
        Path(args.json).write_text(json.dumps({"config": cfg, "results": res, "raw": raw},
                                              indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
