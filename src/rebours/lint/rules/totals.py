"""RB014: a running total (or list) of loss tensors that keeps every iteration's graph alive."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..finding import Analysis, Finding
from ..flow import Scope, key, keys_in
from ..tensors import DETACHING, method, receiver

_LOSS_WORDS = ("loss", "criterion", "entropy", "nll", "kl_div")


def _loss_call(node: ast.AST) -> bool:
    """A call that computes a loss (``criterion(...)``, ``F.mse_loss(...)``), not a class."""
    if not isinstance(node, ast.Call):
        return False
    name = key(node.func)
    last = name.rsplit(".", 1)[-1] if name else ""
    return not last[:1].isupper() and any(word in last.lower() for word in _LOSS_WORDS)


def _carrier(expr: ast.AST, losses: set[str]) -> str | None:
    """The loss tensor (with its graph) that `expr` adds in, if any."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Lambda, ast.Constant)):
            continue
        if isinstance(node, ast.Call):
            if method(node) in DETACHING or (
                    isinstance(node.func, ast.Name) and node.func.id in ("float", "int", "round")):
                continue
            if _loss_call(node):
                return ast.unparse(node.func) + "(...)"
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = key(node)
            if name in losses or (isinstance(node, ast.Attribute) and node.attr == "loss"):
                return name or ast.unparse(node)
        stack.extend(ast.iter_child_nodes(node))
    return None


def _accumulation(stmt: ast.stmt) -> tuple[str, ast.expr, ast.AST] | None:
    """(total, what is added, where) for ``t += x``, ``t = t + x`` and ``t.append(x)``."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.Sub)):
        name = key(stmt.target)
        return (name, stmt.value, stmt) if name else None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
            stmt.value, ast.BinOp) and isinstance(stmt.value.op, (ast.Add, ast.Sub)):
        name = key(stmt.targets[0])
        if name and key(stmt.value.left) == name:
            return name, stmt.value.right, stmt
        if name and key(stmt.value.right) == name:
            return name, stmt.value.left, stmt
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(call, ast.Call) and method(call) in ("append", "extend"):
        name = key(receiver(call))
        if name and call.args:
            return name, call.args[0], call
    return None


def _backprop_roots(scope: Scope) -> tuple[set[str], set[str]]:
    """Names that flow into a backward() call (through simple assignments), and the names
    backward() is called on directly."""
    direct: set[str] = set()
    for st in scope.stmts:
        for node in st.calls:
            if method(node) == "backward":
                direct |= keys_in(receiver(node))
    roots = set(direct)
    for _ in range(3):
        for st in scope.stmts:
            node = st.node
            if isinstance(node, ast.Assign) and any(key(t) in roots for t in node.targets):
                roots |= keys_in(node.value)
    return roots, direct


def check(an: Analysis) -> Iterator[Finding]:
    for scope in an.scopes:
        if not any(st.ctx.loops and _accumulation(st.node) for st in scope.stmts):
            continue
        roots, direct = _backprop_roots(scope)
        has_backward = bool(direct)
        returned: set[str] = set()
        for st in scope.stmts:
            if isinstance(st.node, ast.Return) and st.node.value is not None:
                returned |= keys_in(st.node.value, skip_detached=True)
        losses: set[str] = set()
        for st in scope.stmts:
            node = st.node
            acc = _accumulation(node) if st.ctx.loops and not st.ctx.no_grad else None
            if acc and acc[0] not in roots and (has_backward or acc[0] not in returned):
                total, added, at = acc
                carrier = _carrier(added, losses)
                if carrier:
                    yield an.finding("RB014", at, (
                        f"'{total}' accumulates '{carrier}', a tensor that carries its graph, in "
                        f"the loop at line {st.ctx.loops[-1].lineno}, and is never "
                        "backpropagated: every iteration's graph stays alive; add .item() "
                        "(or .detach())"))
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                name = key(node.targets[0])
                if name:
                    losses.discard(name)
                    if _is_loss(node.value, name, direct):
                        losses.add(name)


def _is_loss(value: ast.expr, name: str, direct: set[str]) -> bool:
    """True when `name` is bound to a loss tensor: a loss call, a name that says loss, or a
    name that backward() is called on; never a constant or a detached value."""
    if isinstance(value, ast.Constant):
        return False
    lossy = "loss" in name.rsplit(".", 1)[-1].lower() or name in direct
    if not lossy and _carrier(value, set()) is None:
        return False
    return not any(method(n) in DETACHING for n in ast.walk(value)) and not (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
        and value.func.id in ("float", "int"))
