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
    from .tour import main

    return main()


def _lint(rest: list[str]) -> int:
    from .lint import main

    return main(rest)


def _bench(rest: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    bench_dir = os.path.normpath(os.path.join(here, "..", "..", "benchmarks"))
    if not os.path.isdir(bench_dir):
        print("rebours bench: the benchmarks/ folder ships with the source tree; run it from a "
              "clone of the repository", file=sys.stderr)
        return 2
    sys.path.insert(0, bench_dir)
    import overhead  # type: ignore[import-not-found]

    return int(overhead.main(rest) or 0)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the `rebours` console script and of `python -m rebours`."""
    from . import __version__

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lint":  # lint and bench parse their own options
        return _lint(argv[1:])
    if argv and argv[0] == "bench":
        return _bench(argv[1:])
    parser = argparse.ArgumentParser(
        prog="rebours",
        description="Reverse-mode autodiff with PyTorch's API, that explains why backward failed.")
    parser.add_argument("--version", action="version", version=f"rebours {__version__}")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("explain", help="explain a pitfall code, e.g. `rebours explain RB001`")
    p.add_argument("code", nargs="?", help="a catalogue code (RB001...)")
    p.add_argument("--list", action="store_true", help="list every code")
    p.set_defaults(func=_explain)
    p = sub.add_parser("demo", help="the main job: a tour of rebours")
    p.set_defaults(func=_demo)
    sub.add_parser("lint", help="find autograd pitfalls in scripts without running them")
    sub.add_parser("bench", help="overhead benchmark against PyTorch and NumPy")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
