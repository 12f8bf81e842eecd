"""The rule registry: which checker emits which catalogue codes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..finding import Analysis, Finding
from . import inplace, integers, leaves, modules, norms, precision, steps, totals

Checker = Callable[[Analysis], Iterable[Finding]]

# (codes a checker can emit, the checker). A checker runs when any of its codes is selected.
CHECKERS: list[tuple[frozenset[str], Checker]] = [
    (frozenset({"RB003", "RB004"}), leaves.check),
    (frozenset({"RB005", "RB023"}), inplace.check),
    (frozenset({"RB007"}), norms.check),
    (frozenset({"RB009"}), integers.check),
    (frozenset({"RB010"}), precision.check),
    (frozenset({"RB012", "RB013"}), steps.check),
    (frozenset({"RB014"}), totals.check),
    (frozenset({"RB015"}), modules.check),
]

CODES: tuple[str, ...] = tuple(sorted(set().union(*(codes for codes, _ in CHECKERS))))
SYNTAX_ERROR = "RB000"
NOTE_CODES = frozenset({"RB010"})


def run(analysis: Analysis, selected: frozenset[str]) -> list[Finding]:
    """All findings of the selected codes for one analysed file, deduplicated and sorted."""
    found: set[Finding] = set()
    for codes, checker in CHECKERS:
        if codes & selected:
            found.update(f for f in checker(analysis) if f.code in selected)
    unique: dict[tuple[int, int, str], Finding] = {}
    for f in sorted(found):
        unique.setdefault((f.line, f.col, f.code), f)
    return sorted(unique.values())
