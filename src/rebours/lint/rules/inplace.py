"""RB005 and RB023: in-place writes to leaves that require grad, and writes through ``.data``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..finding import Analysis, Finding
from ..flow import DEFS, Stmt, key
from ..tensors import is_in_place, is_leaf_creation, is_true, method, op_symbol, receiver

# `.data` of these names is a dataset's array, not a tensor's storage.
_NOT_TENSORS = ("data", "set", "df", "frame", "loader", "batch")


def check(an: Analysis) -> Iterator[Finding]:
    per_class = _class_parameters(an)
    for scope in an.scopes:
        leaves: dict[str, str] = {}
        if scope.cls is not None and isinstance(scope.node, DEFS):
            leaves.update(per_class.get(id(scope.cls), {}))
        for st in scope.stmts:
            yield from _data_writes(an, st)
            if not st.ctx.no_grad:
                yield from _in_place(an, st, leaves)
            _update(an, st, leaves)


def _class_parameters(an: Analysis) -> dict[int, dict[str, str]]:
    """``self.<attr>`` leaves of each class, from assignments in any of its methods."""
    found: dict[int, dict[str, str]] = {}
    for scope in an.scopes:
        if scope.cls is None or not isinstance(scope.node, DEFS):
            continue
        for st in scope.stmts:
            node = st.node
            if isinstance(node, ast.Assign) and is_leaf_creation(node.value, an.resolver):
                for t in node.targets:
                    name = key(t)
                    if name and name.startswith("self."):
                        found.setdefault(id(scope.cls), {})[name] = (
                            f"a parameter of the module (line {node.lineno})")
    return found


def _in_place(an: Analysis, st: Stmt, leaves: dict[str, str]) -> Iterator[Finding]:
    node = st.node
    targets: list[ast.expr] = []
    if isinstance(node, ast.AugAssign):
        name = key(node.target)
        if name in leaves:
            yield an.finding("RB005", node, _message(
                name, leaves[name], f"'{op_symbol(node.op)}='"))
        targets = [node.target]
    elif isinstance(node, ast.Assign):
        targets = node.targets
    for t in targets:
        if isinstance(t, ast.Subscript):
            name = key(t.value)
            if name in leaves:
                yield an.finding("RB005", node, _message(name, leaves[name], "index assignment"))
    for sub in st.calls:
        m = method(sub)
        if m and is_in_place(m):
            name = key(receiver(sub))
            if name in leaves:
                yield an.finding("RB005", sub, _message(name, leaves[name], f".{m}()"))


def _message(name: str, origin: str, what: str) -> str:
    return (f"in-place {what} on '{name}', {origin}, outside no_grad: autograd refuses to "
            f"modify a leaf that requires grad; write '{name} = {name} ...' out of place or do "
            "the update under torch.no_grad()")


def _update(an: Analysis, st: Stmt, leaves: dict[str, str]) -> None:
    node = st.node
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            if isinstance(t, ast.Attribute) and t.attr == "requires_grad":
                owner = key(t.value)
                if owner and is_true(node.value):
                    leaves[owner] = f"set to require grad at line {node.lineno}"
                elif owner:
                    leaves.pop(owner, None)
                continue
            for name in _bound(t):
                leaves.pop(name, None)
            name = key(t)
            if name and is_leaf_creation(node.value, an.resolver):
                leaves[name] = f"created with requires_grad at line {node.lineno}"
    elif isinstance(node, ast.Expr) and method(node.value) == "requires_grad_":
        name = key(receiver(node.value))
        if name and is_leaf_creation(node.value, an.resolver):
            leaves[name] = f"set to require grad at line {node.lineno}"
        elif name:  # requires_grad_(False)
            leaves.pop(name, None)
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        for name in _bound(node.target):
            leaves.pop(name, None)
        for target, source in _loop_pairs(node.target, node.iter):
            name = key(target)
            if name is None:
                continue
            if method(source) in ("parameters", "named_parameters"):
                leaves[name] = f"a parameter from {ast.unparse(source)}"
            elif isinstance(source, (ast.List, ast.Tuple)) and source.elts and all(
                    key(e) in leaves for e in source.elts):
                leaves[name] = "a leaf that requires grad"


def _bound(target: ast.expr) -> Iterator[str]:
    """The dotted names an assignment target rebinds (not ``x`` in ``x[i] = ...``)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _bound(elt)
    elif isinstance(target, ast.Starred):
        yield from _bound(target.value)
    else:
        name = key(target)
        if name:
            yield name


def _loop_pairs(target: ast.expr, source: ast.expr) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(loop variable, what it iterates over), looking through zip() and enumerate()."""
    if isinstance(source, ast.Call) and isinstance(source.func, ast.Name):
        fn = source.func.id
        if fn == "enumerate" and source.args and isinstance(target, ast.Tuple) and len(
                target.elts) == 2:
            yield from _loop_pairs(target.elts[1], source.args[0])
            return
        if fn == "zip" and isinstance(target, ast.Tuple) and len(target.elts) == len(source.args):
            for t, s in zip(target.elts, source.args):
                yield from _loop_pairs(t, s)
            return
    if method(source) == "named_parameters" and isinstance(target, ast.Tuple) and len(
            target.elts) == 2:
        yield target.elts[1], source
        return
    yield target, source


def _data_owner(node: ast.AST) -> ast.expr | None:
    """For ``p.data`` (or ``p.data[i]``), the tensor ``p`` if it looks like a tensor."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if not (isinstance(node, ast.Attribute) and node.attr == "data"):
        return None
    owner = node.value
    if isinstance(owner, ast.Attribute) and owner.attr in ("grad", "_grad"):
        return None
    name = key(owner)
    if name is not None:
        last = name.rsplit(".", 1)[-1].lower()
        if name == "self" or any(word in last for word in _NOT_TENSORS):
            return None
    return owner


def _data_writes(an: Analysis, st: Stmt) -> Iterator[Finding]:
    node = st.node
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    for t in targets:
        owner = _data_owner(t)
        if owner is not None:
            what = "index assignment" if isinstance(t, ast.Subscript) else "assignment"
            yield an.finding("RB023", node, _data_message(owner, what))
    for sub in st.calls:
        m = method(sub)
        if m and is_in_place(m):
            owner = _data_owner(receiver(sub))
            if owner is not None:
                yield an.finding("RB023", sub, _data_message(owner, f".{m}()"))


def _data_message(owner: ast.expr, what: str) -> str:
    name = ast.unparse(owner)
    return (f"{what} through '{name}.data' bypasses autograd: no version check sees it, so "
            f"gradients computed from saved values of '{name}' are silently wrong; update "
            f"'{name}' itself under torch.no_grad()")
