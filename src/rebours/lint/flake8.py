"""flake8 plugin: the same rules through flake8's tree-plugin protocol (flake8 handles noqa)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from .engine import lint_tree
from .report import version


class Plugin:
    """flake8 extension ``RB0``: yields ``(line, col, "RB0xx message", type)`` per finding."""

    name = "rebours-lint"
    version = version()

    def __init__(self, tree: ast.AST, filename: str = "<unknown>") -> None:
        self.tree = tree
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        if not isinstance(self.tree, ast.Module):
            return
        for f in lint_tree(self.tree, self.filename):
            yield f.line, f.col - 1, f"{f.code} {f.message}", type(self)
