"""Public API of ``rebours lint``: a static linter for autograd pitfalls in torch/rebours code."""

from __future__ import annotations

from .cli import main
from .engine import lint_paths, lint_source, lint_tree, select_codes
from .finding import Finding
from .rules import CODES

__all__ = ["CODES", "Finding", "lint_paths", "lint_source", "lint_tree", "main", "select_codes"]
