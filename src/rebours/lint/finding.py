"""The Finding record and the per-file analysis that rules read (tree, aliases, scopes)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .flow import Scope, build_scopes
from .imports import Resolver


@dataclass(frozen=True, order=True)
class Finding:
    """One reported pitfall: where (1-based line and column), which catalogue code, what."""

    path: str
    line: int
    col: int
    code: str
    message: str


@dataclass
class Analysis:
    """What the rules share for one file: its tree, resolved imports and flattened scopes."""

    path: str
    tree: ast.Module
    resolver: Resolver
    scopes: list[Scope] = field(default_factory=list)

    @classmethod
    def of(cls, tree: ast.Module, path: str) -> Analysis:
        resolver = Resolver(tree)
        return cls(path, tree, resolver, build_scopes(tree, resolver))

    def finding(self, code: str, at: ast.AST, message: str) -> Finding:
        line = getattr(at, "lineno", 1)
        col = getattr(at, "col_offset", 0) + 1
        return Finding(self.path, line, col, code, message)


def snippet(node: ast.AST, limit: int = 50) -> str:
    """The source text of `node` for a message, shortened to `limit` characters."""
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."
