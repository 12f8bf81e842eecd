"""RB015: parameters or submodules hidden from ``Module.parameters()`` in a plain list or dict."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..finding import Analysis, Finding
from ..flow import DEFS, Scope, key
from ..imports import Resolver
from ..tensors import PARAMETER, method, receiver

_CONTAINERS = frozenset({"ModuleList", "ModuleDict", "ParameterList", "ParameterDict"})
_LITERALS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.DictComp, ast.SetComp)


def check(an: Analysis) -> Iterator[Finding]:
    module_classes = _module_classes(an)
    for cls in module_classes.values():
        methods = [s for s in an.scopes if s.cls is cls and isinstance(s.node, DEFS)]
        wrapped = _wrapped_later(methods)
        for name, finding in _check_class(an, cls, methods, set(module_classes)):
            if name not in wrapped:
                yield finding


def _wrapped_later(methods: list[Scope]) -> set[str]:
    """Attributes that some method rebinds to a call (``self.x = nn.ModuleList(self.x)``)."""
    names: set[str] = set()
    for scope in methods:
        for st in scope.stmts:
            node = st.node
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                names.update(k for k in map(key, node.targets) if k and k.startswith("self."))
    return names


def _module_classes(an: Analysis) -> dict[str, ast.ClassDef]:
    """Classes of this file that derive from torch.nn.Module (directly or through each other)."""
    found: dict[str, ast.ClassDef] = {}
    classes = [s.node for s in an.scopes if isinstance(s.node, ast.ClassDef)]
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name in found:
                continue
            for base in cls.bases:
                q = an.resolver.qualname(base)
                local = isinstance(base, ast.Name) and base.id in found
                if local or (q is not None and q.startswith("torch.nn.") and q[9:10].isupper()):
                    found[cls.name] = cls
                    changed = True
                    break
    return found


def _is_component(node: ast.AST, resolver: Resolver, local: set[str]) -> str | None:
    """'submodule' or 'parameter' if `node` constructs one, else None."""
    if not isinstance(node, ast.Call):
        return None
    q = resolver.call_name(node)
    if q in PARAMETER:
        return "parameter"
    if q and q.startswith("torch.nn.") and q.count(".") == 2:
        name = q.rsplit(".", 1)[-1]
        if name[:1].isupper() and name not in _CONTAINERS:
            return "submodule"
    if isinstance(node.func, ast.Name) and node.func.id in local:
        return "submodule"
    return None


def _elements(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [e.value if isinstance(e, ast.Starred) else e for e in node.elts]
    if isinstance(node, ast.Dict):
        return [v for v in node.values if v is not None]
    if isinstance(node, (ast.ListComp, ast.SetComp)):
        return [node.elt]
    if isinstance(node, ast.DictComp):
        return [node.value]
    return []


def _check_class(an: Analysis, cls: ast.ClassDef, methods: list[Scope],
                 local: set[str]) -> Iterator[tuple[str, Finding]]:
    def component(values: list[ast.AST]) -> str | None:
        return next((k for k in (_is_component(v, an.resolver, local) for v in values) if k), None)

    # attribute -> the assignment of an empty container to it
    empty: dict[str, ast.stmt] = {}
    reported: set[str] = set()
    for scope in methods:
        lists: dict[str, str | None] = {}  # local container variable -> what it holds
        for st in scope.stmts:
            for node in st.calls:
                if method(node) in ("append", "extend", "insert") and node.args:
                    owner = key(receiver(node))
                    added = node.args[-1]
                    kind = component([added, *_elements(added)])
                    if kind and owner in lists:
                        lists[owner] = lists[owner] or kind
                    elif kind and owner in empty and owner not in reported:
                        reported.add(owner)
                        yield owner, _finding(an, empty[owner], owner, kind, cls)
            stmt = st.node
            if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
                continue
            target, value = stmt.targets[0], stmt.value
            if isinstance(target, ast.Subscript):
                owner = key(target.value)
                kind = component([value])
                if kind and owner in empty and owner not in reported:
                    reported.add(owner)
                    yield owner, _finding(an, empty[owner], owner, kind, cls)
                continue
            name = key(target)
            if name is None:
                continue
            if isinstance(target, ast.Name):
                lists.pop(name, None)
                if isinstance(value, _LITERALS):
                    lists[name] = component(_elements(value))
                continue
            if not name.startswith("self."):
                continue
            kind = None
            if isinstance(value, _LITERALS):
                kind = component(_elements(value))
                if kind is None and not _elements(value):
                    empty.setdefault(name, stmt)
            elif isinstance(value, ast.Name):
                kind = lists.get(value.id)
            if kind and name not in reported:
                reported.add(name)
                yield name, _finding(an, stmt, name, kind, cls)


def _finding(an: Analysis, stmt: ast.stmt, name: str, kind: str, cls: ast.ClassDef) -> Finding:
    container = "ParameterList/ParameterDict" if kind == "parameter" else "ModuleList/ModuleDict"
    return an.finding("RB015", stmt, (
        f"'{name}' of Module '{cls.name}' keeps {kind}s in a plain Python container: "
        "parameters() and state_dict() cannot see them, so the optimizer never updates them; "
        f"use nn.{container}"))
