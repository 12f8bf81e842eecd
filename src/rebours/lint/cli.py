"""Command-line interface of ``rebours lint`` (argparse; argv without the word ``lint``)."""

from __future__ import annotations

import argparse
import sys

from .engine import lint_paths, select_codes
from .report import FORMATS, render, version


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rebours lint",
        description="Find autograd pitfalls in code written against torch or rebours, "
                    "without running it.",
        epilog="Exit status: 0 no findings, 1 findings, 2 usage error. "
               "Suppress one line with '# noqa: RB0xx' (or a bare '# noqa').")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched for *.py)")
    p.add_argument("--select", action="append", metavar="CODES",
                   help="comma-separated codes or prefixes to report (default: all), "
                        "e.g. RB003,RB01")
    p.add_argument("--ignore", action="append", metavar="CODES",
                   help="comma-separated codes or prefixes not to report")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("--statistics", action="store_true",
                   help="print the number of findings per code instead of the findings")
    p.add_argument("--show-fix", action="store_true",
                   help="after each finding, print the catalogue's fix for its code")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    p.add_argument("--output-file", "-o", metavar="FILE", help="write the report to FILE")
    p.add_argument("--version", action="version", version=f"rebours lint {version()}")
    return p


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [part for value in values for part in value.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    """Run ``rebours lint`` with `argv` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help/--version (0) or a usage error (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    select, ignore = _split(args.select), _split(args.ignore)
    try:
        select_codes(select, ignore)
        findings = lint_paths(args.paths, select=select, ignore=ignore)
    except (ValueError, FileNotFoundError) as err:
        parser.print_usage(sys.stderr)
        print(f"rebours lint: error: {err}", file=sys.stderr)
        return 2
    output = render(findings, args.format, show_fix=args.show_fix, statistics=args.statistics)
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8") as fh:
            fh.write(output + "\n")
    elif output:
        print(output)
    return 1 if findings and not args.exit_zero else 0
