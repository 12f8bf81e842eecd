"""Running the rules: parse a source, apply selection and ``# noqa``, walk files and folders."""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections.abc import Iterable
from pathlib import Path

from . import rules
from .finding import Analysis, Finding

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox", "node_modules",
    "build", "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages",
})


def select_codes(select: Iterable[str] | None = None,
                 ignore: Iterable[str] | None = None) -> frozenset[str]:
    """The rule codes left after `select` and `ignore` (codes or prefixes such as ``RB01``).

    Raises ValueError for a selector that matches no rule.
    """
    def expand(selectors: Iterable[str]) -> set[str]:
        chosen: set[str] = set()
        for raw in selectors:
            sel = raw.strip().upper()
            if not sel:
                continue
            hits = {c for c in (*rules.CODES, rules.SYNTAX_ERROR)
                    if sel == "ALL" or c.startswith(sel)}
            if not hits:
                raise ValueError(f"unknown rule selector {raw!r}; known codes: "
                                 + ", ".join(rules.CODES))
            chosen |= hits
        return chosen

    chosen = expand(select) if select is not None else set(rules.CODES)
    # RB000 (a file that cannot be parsed) is always reported, whatever the selection
    return frozenset(chosen - expand(ignore or ()) - {rules.SYNTAX_ERROR})


def lint_tree(tree: ast.Module, filename: str = "<string>",
              selected: frozenset[str] | None = None) -> list[Finding]:
    """Findings for an already parsed module (no ``# noqa`` handling: see lint_source)."""
    analysis = Analysis.of(tree, filename)
    if not analysis.resolver.uses_torch:
        return []
    return rules.run(analysis, selected if selected is not None else frozenset(rules.CODES))


def lint_source(source: str, filename: str = "<string>", *, select: Iterable[str] | None = None,
                ignore: Iterable[str] | None = None) -> list[Finding]:
    """Lint Python source text; a syntax error comes back as one ``RB000`` finding."""
    selected = select_codes(select, ignore)
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None) or 1
        col = getattr(err, "offset", None) or 1
        msg = getattr(err, "msg", None) or str(err)
        return [Finding(filename, line, col, rules.SYNTAX_ERROR, f"syntax error: {msg}")]
    return _apply_noqa(lint_tree(tree, filename, selected), source)


def _apply_noqa(findings: list[Finding], source: str) -> list[Finding]:
    if not findings or "noqa" not in source.lower():
        return findings
    lines = source.splitlines()
    kept = []
    for f in findings:
        text = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        match = _NOQA.search(text)
        if match is None:
            kept.append(f)
            continue
        codes = match.group("codes")
        if codes and f.code not in {c.upper() for c in re.split(r"[\s,]+", codes) if c}:
            kept.append(f)
    return kept


def read_source(path: Path) -> str:
    """The text of a Python file, honouring its encoding declaration."""
    data = path.read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def python_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The .py files named by `paths`, folders searched recursively (sorted, no duplicates).

    Raises FileNotFoundError for a path that does not exist.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
                found.extend(Path(root) / f for f in sorted(files) if f.endswith(".py"))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"path not found: {raw}")
    seen: set[Path] = set()
    unique = []
    for p in found:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


def lint_paths(paths: Iterable[str | os.PathLike[str]], *, select: Iterable[str] | None = None,
               ignore: Iterable[str] | None = None) -> list[Finding]:
    """Lint files and folders (recursively); a file that cannot be read or parsed is one
    RB000 finding, and the run goes on."""
    select_codes(select, ignore)  # fail early on a bad selector
    findings: list[Finding] = []
    for path in python_files(paths):
        try:
            source = read_source(path)
        except (OSError, UnicodeDecodeError, SyntaxError) as err:
            findings.append(Finding(str(path), 1, 1, rules.SYNTAX_ERROR, f"cannot read: {err}"))
            continue
        findings.extend(lint_source(source, str(path), select=select, ignore=ignore))
    return findings
