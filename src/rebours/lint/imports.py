"""Alias resolution: which local names a file binds to torch (or rebours, or numpy)."""

from __future__ import annotations

import ast

# rebours mirrors torch's API, so code written against it is read as torch code.
_ROOTS = {"torch": "torch", "rebours": "torch", "numpy": "numpy"}


def _canonical(dotted: str) -> str | None:
    head, _, rest = dotted.partition(".")
    root = _ROOTS.get(head)
    if root is None:
        return None
    return f"{root}.{rest}" if rest else root


class Resolver:
    """Maps local names to canonical dotted paths (``T.exp`` -> ``torch.exp``)."""

    def __init__(self, tree: ast.AST) -> None:
        self.aliases: dict[str, str] = {}
        self._cache: dict[int, str | None] = {}  # id(node) -> qualname; the tree outlives it
        for node in _import_nodes(tree):
            self._bind(node)

    def _bind(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                canonical = _canonical(alias.name)
                if canonical is None:
                    continue
                if alias.asname:
                    self.aliases[alias.asname] = canonical
                else:  # `import torch.nn` binds the name `torch`
                    head = alias.name.partition(".")[0]
                    self.aliases[head] = _ROOTS[head]
            return
        if node.level or not node.module:
            return
        base = _canonical(node.module)
        if base is None:
            return
        for alias in node.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"

    @property
    def uses_torch(self) -> bool:
        """True when the file imports torch or rebours in any form."""
        return any(v == "torch" or v.startswith("torch.") for v in self.aliases.values())

    def qualname(self, node: ast.AST) -> str | None:
        """The canonical dotted name of a Name/Attribute chain, or None if not imported."""
        try:
            return self._cache[id(node)]
        except KeyError:
            pass
        result = self._cache[id(node)] = self._resolve(node)
        return result

    def _resolve(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id)
        if base is None:
            return None
        parts.append(base)
        return ".".join(reversed(parts))

    def call_name(self, node: ast.AST) -> str | None:
        """The canonical name of the function a Call invokes, if it is a torch/numpy one."""
        return self.qualname(node.func) if isinstance(node, ast.Call) else None

    def is_torch(self, node: ast.AST, *names: str) -> bool:
        """True if `node` resolves to ``torch.<name>`` for one of `names`."""
        q = self.qualname(node)
        return q is not None and q.startswith("torch.") and q[6:] in names


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Import statements anywhere in the file, without descending into expressions."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                stack.append(child)
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return found
