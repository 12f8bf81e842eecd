"""The `rebours` command line: demo, explain, lint, bench, and --version."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional


def _explain(args: argparse.Namespace) -> int:
    from .errors import CATALOGUE, explain

    if args.list or not args.code:
        for row in CATALOGUE.values():
            print(f"{row.code}  {row.title}")
        return 0
    try:
        print(explain(args.code))
    except KeyError as err:
        print(f"rebours explain: {err.args[0]}", file=sys.stderr)
        return 2
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import set_num_threads
    from .demo import run

    # Small convolutions run fastest on one BLAS thread (and ranks must not oversubscribe
    # cores); honoured when threadpoolctl is installed (the `progress` extra brings it).
    set_num_threads(args.threads)
    return run(epochs=args.epochs, seed=args.seed, resume=args.resume, out=args.out)


def _run(rest: list[str]) -> int:
    """Run a script with anomaly mode on; explain an uncaught autograd error."""
    import runpy
    import traceback

    from .autograd.anomaly import ANOMALY
    from .errors import CATALOGUE, ReboursError

    if not rest or rest[0] in ("-h", "--help"):
        print("usage: rebours run SCRIPT [ARGS...]\n\nRun SCRIPT with anomaly detection on "
              "(backward stops at the first NaN and names its root cause); an uncaught autograd "
              "error is printed with its catalogue entry. glibc's malloc keeps freed memory for "
              "large arrays (rebours.utils.malloc.tune).", file=sys.stderr if not rest
              else sys.stdout)
        return 2 if not rest else 0
    script = rest[0]
    if not os.path.isfile(script):
        print(f"rebours run: no such file: {script}", file=sys.stderr)
        return 2
    argv, path0 = sys.argv, sys.path[0]
    sys.argv = list(rest)
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    prev = ANOMALY.enabled, ANOMALY.check_nan
    ANOMALY.enabled, ANOMALY.check_nan = True, True
    from .utils import malloc

    malloc.tune()  # this process is the script's: keep large arrays' memory for reuse
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ReboursError as err:
        tb = traceback.extract_tb(err.__traceback__)
        user = [f for f in tb if not f.filename.startswith((os.path.dirname(__file__), "<"))]
        if user:
            print("Traceback (most recent call last, rebours frames hidden):", file=sys.stderr)
            print("".join(traceback.format_list(user)), end="", file=sys.stderr)
        builtin = next(c for c in type(err).__mro__ if c.__module__ == "builtins")
        print(f"{builtin.__name__}: {err}", file=sys.stderr)
        if err.code in CATALOGUE:  # why and fix are in the message; add the row's example
            row = CATALOGUE[err.code]
            print(f"\n{row.code}: {row.title}. A minimal example (`rebours explain {row.code}`):",
                  file=sys.stderr)
            print("\n".join("    " + line for line in row.example.splitlines()), file=sys.stderr)
        return 1
    finally:
        sys.argv, sys.path[0] = argv, path0
        ANOMALY.enabled, ANOMALY.check_nan = prev
    return 0


def _lint(rest: list[str]) -> int:
    from .lint import main

    return main(rest)


def _bench(rest: list[str]) -> int:
    """`rebours bench [--quick] [--cases a,b,...] ...`: benchmarks/bench.py, issue 10's cases;
    `rebours bench overhead [...]`: case (a) alone (benchmarks/overhead.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    bench_dir = os.path.normpath(os.path.join(here, "..", "..", "benchmarks"))
    if not os.path.isfile(os.path.join(bench_dir, "bench.py")):
        print("rebours bench: needs a source checkout (benchmarks/ is not installed with the "
              "package); clone the repository, `pip install -e .`, and run it there",
              file=sys.stderr)
        return 2
    sys.path.insert(0, bench_dir)
    if rest[:1] == ["overhead"]:
        import overhead  # type: ignore[import-not-found]

        return int(overhead.main(rest[1:]) or 0)
    import bench  # type: ignore[import-not-found]

    return int(bench.main(rest) or 0)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the `rebours` console script and of `python -m rebours`."""
    from . import __version__

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lint":  # lint and bench parse their own options
        return _lint(argv[1:])
    if argv and argv[0] == "bench":
        return _bench(argv[1:])
    if argv and argv[0] == "run":
        return _run(argv[1:])
    parser = argparse.ArgumentParser(
        prog="rebours",
        description="Reverse-mode autodiff with PyTorch's API, that explains why backward failed.")
    parser.add_argument("--version", action="version", version=f"rebours {__version__}")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("explain", help="explain a pitfall code, e.g. `rebours explain RB001`")
    p.add_argument("code", nargs="?", help="a catalogue code (RB001...)")
    p.add_argument("--list", action="store_true", help="list every code")
    p.set_defaults(func=_explain)
    p = sub.add_parser("demo", help="the main job: train a small CNN on the bundled digits",
                       description="Train a small convolutional network on the 8x8 handwritten "
                       "digits that ship with rebours; write a checkpoint, the loss and accuracy "
                       "curves and the model's graph under --out. Ctrl-C saves and stops.")
    p.add_argument("--epochs", type=int, default=10, help="epochs in all (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the shuffling")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue from a checkpoint.safetensors the demo wrote")
    p.add_argument("--out", metavar="DIR", default="rebours-demo",
                   help="folder for checkpoint.safetensors, curves.png, graph.png "
                        "(default ./rebours-demo)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (default 1: fastest for these small layers)")
    p.set_defaults(func=_demo)
    sub.add_parser("lint", help="find autograd pitfalls in scripts without running them")
    sub.add_parser("bench", help="the benchmark suite (cases a-h) against PyTorch and NumPy")
    sub.add_parser("run", help="run a script with anomaly mode on and explain autograd errors")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
