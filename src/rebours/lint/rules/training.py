"""RB012, RB013 and RB014: zero_grad/backward/step order in training loops, and loss totals."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ..finding import Analysis, Finding
from ..flow import DEFS, Scope, Stmt, key
from ..tensors import kwarg, method


@dataclass
class _Event:
    kind: str  # "backward", "step" or "zero"
    node: ast.AST
    st: Stmt
    opt: str | None = None  # the optimizer a step or zero_grad belongs to; None: all of them
    closure: bool = False


def _optimizers(an: Analysis) -> set[str]:
    names: set[str] = set()
    for scope in an.scopes:
        for st in scope.stmts:
            node = st.node
            if isinstance(node, ast.Assign):
                q = an.resolver.call_name(node.value)
                if q and q.startswith("torch.optim.") and "lr_scheduler" not in q:
                    names.update(k for k in map(key, node.targets) if k)
    return names


def _is_optimizer(name: str | None, optimizers: set[str]) -> bool:
    if not name:
        return False
    last = name.rsplit(".", 1)[-1].lower()
    return name in optimizers or ("opt" in last and "sched" not in last)


def _zeroing_helpers(an: Analysis, optimizers: set[str]) -> set[str]:
    """Functions of this file that zero gradients themselves (``def reset_grad(): ...``)."""
    names: set[str] = set()
    for scope in an.scopes:
        if isinstance(scope.node, DEFS) and any(
                ev.kind == "zero" for st in scope.stmts for ev in _events(an, st, optimizers)):
            names.add(scope.node.name)
    return names


def _events(an: Analysis, st: Stmt, optimizers: set[str],
            helpers: frozenset[str] | set[str] = frozenset()) -> Iterator[_Event]:
    for node in st.nodes:
        m = method(node)
        if isinstance(node, ast.Call) and helpers and (
                (isinstance(node.func, ast.Name) and node.func.id in helpers) or m in helpers):
            yield _Event("zero", node, st)
        elif m == "backward" or an.resolver.call_name(node) == "torch.autograd.backward":
            yield _Event("backward", node, st)
        elif m == "step":
            owner = key(node.func.value)  # type: ignore[union-attr]
            last = owner.rsplit(".", 1)[-1].lower() if owner else ""
            if "scaler" in last and node.args:  # type: ignore[attr-defined]
                yield _Event("step", node, st, key(node.args[0]))  # type: ignore[attr-defined]
            elif _is_optimizer(owner, optimizers):
                closure = bool(node.args) or kwarg(node, "closure") is not None  # type: ignore[arg-type]
                yield _Event("step", node, st, owner, closure)
        elif m == "zero_grad":
            owner = key(node.func.value)  # type: ignore[union-attr]
            yield _Event("zero", node, st, owner if _is_optimizer(owner, optimizers) else None)
        elif m in ("zero_", "detach_", "fill_") and _is_grad(node.func.value):  # type: ignore[union-attr]
            yield _Event("zero", node, st)
    stmt = st.node
    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and (
            stmt.value.value is None) and any(_is_grad(t) for t in stmt.targets):
        yield _Event("zero", stmt, st)


def _is_grad(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute) and node.attr == "data":
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "grad"


def _text(node: ast.AST) -> str:
    return ast.unparse(node.func) if isinstance(node, ast.Call) else ast.unparse(node)


def check_steps(an: Analysis) -> Iterator[Finding]:
    optimizers = _optimizers(an)
    helpers = _zeroing_helpers(an, optimizers)
    for scope in an.scopes:
        events = [ev for st in scope.stmts for ev in _events(an, st, optimizers, helpers)]
        if any(ev.kind == "step" for ev in events):
            yield from _never_zeroed(an, events)
            yield from _step_first(an, scope, events)


def _inside(events: list[_Event], loop: ast.stmt) -> list[_Event]:
    return [ev for ev in events if any(outer is loop for outer in ev.st.ctx.loops)]


def _never_zeroed(an: Analysis, events: list[_Event]) -> Iterator[Finding]:
    """RB012: a step inside a loop that backpropagates but never zeroes the gradients."""
    for ev in events:
        if ev.kind != "step" or ev.closure:
            continue
        for loop in reversed(ev.st.ctx.loops):
            inside = _inside(events, loop)
            backward = next((e for e in inside if e.kind == "backward"), None)
            if backward is not None:
                break
        else:
            continue
        if any(e.kind == "zero" and (e.opt is None or e.opt == ev.opt) for e in inside):
            continue
        who = ev.opt or "the optimizer"
        yield an.finding("RB012", ev.node, (
            f"{_text(ev.node)}() in the loop at line {loop.lineno} follows backward() "
            f"(line {backward.node.lineno}) but nothing in the loop zeroes the gradients: each "
            f"step uses the sum of all gradients so far; call {who}.zero_grad() every "
            "iteration"))


def _step_first(an: Analysis, scope: Scope, events: list[_Event]) -> Iterator[Finding]:
    """RB013: a step with no backward since the previous step, followed by the backward of a
    loss computed before the step (or the step comes right after its zero_grad)."""
    order = {id(st.node): i for i, st in enumerate(scope.stmts)}
    assigned: dict[str, list[int]] = {}
    for i, st in enumerate(scope.stmts):
        if isinstance(st.node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = st.node.targets if isinstance(st.node, ast.Assign) else [st.node.target]
            for t in targets:
                for name in _keys(t):
                    assigned.setdefault(name, []).append(i)

    def computed_before(backward: _Event, step: _Event) -> bool:
        at_step, at_backward = order[id(step.st.node)], order[id(backward.st.node)]
        for name in _keys(backward.node.func.value):  # type: ignore[attr-defined]
            last = [i for i in assigned.get(name, ()) if i < at_backward]
            if last and last[-1] < at_step:
                return True
        return False

    bodies: dict[int, list[_Event]] = {}
    for ev in events:
        loops = ev.st.ctx.loops
        bodies.setdefault(id(loops[-1]) if loops else 0, []).append(ev)
    for body in bodies.values():
        for i, ev in enumerate(body):
            if ev.kind != "step" or ev.closure:
                continue
            before = [e for e in body[:i] if e.kind in ("backward", "step")]
            if before and before[-1].kind == "backward":
                continue
            after = next((e for e in body[i + 1:] if e.kind == "backward"), None)
            if after is None:
                continue
            since = body[body.index(before[-1]) + 1:i] if before else body[:i]
            zeroed = any(e.kind == "zero" and e.opt in (None, ev.opt) for e in since)
            if before and not zeroed and not computed_before(after, ev):
                continue
            yield an.finding("RB013", ev.node, (
                f"{_text(ev.node)}() at line {ev.node.lineno} runs before "
                f"{_text(after.node)}() at line {after.node.lineno}: the step reads stale "
                "gradients (or none); order each iteration as zero_grad(), backward(), step()"))


# ---------------------------------------------------------------------------------- RB014

_DETACHING = frozenset({"item", "detach", "tolist", "numpy"})
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
            if method(node) in _DETACHING or (
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


def _keys(expr: ast.AST, skip_detached: bool = False) -> set[str]:
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if skip_detached and isinstance(node, ast.Call) and (method(node) in _DETACHING or (
                isinstance(node.func, ast.Name) and node.func.id in ("float", "int"))):
            continue
        name = key(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name:
            found.add(name)
        stack.extend(ast.iter_child_nodes(node))
    return found


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
    if isinstance(stmt, ast.Expr) and method(stmt.value) in ("append", "extend"):
        call = stmt.value
        name = key(call.func.value)  # type: ignore[union-attr]
        if name and call.args:  # type: ignore[union-attr]
            return name, call.args[0], call  # type: ignore[union-attr]
    return None


def _backprop_roots(scope: Scope) -> tuple[set[str], set[str]]:
    """Names that flow into a backward() call (through simple assignments), and the names
    backward() is called on directly."""
    direct: set[str] = set()
    for st in scope.stmts:
        for node in st.nodes:
            if method(node) == "backward":
                direct |= _keys(node.func.value)  # type: ignore[union-attr]
    roots = set(direct)
    for _ in range(3):
        for st in scope.stmts:
            node = st.node
            if isinstance(node, ast.Assign) and any(key(t) in roots for t in node.targets):
                roots |= _keys(node.value)
    return roots, direct


def check_running_total(an: Analysis) -> Iterator[Finding]:
    for scope in an.scopes:
        if not any(st.ctx.loops and _accumulation(st.node) for st in scope.stmts):
            continue
        roots, direct = _backprop_roots(scope)
        has_backward = bool(direct)
        returned: set[str] = set()
        for st in scope.stmts:
            if isinstance(st.node, ast.Return) and st.node.value is not None:
                returned |= _keys(st.node.value, skip_detached=True)
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
    return not any(method(n) in _DETACHING for n in ast.walk(value)) and not (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
        and value.func.id in ("float", "int"))
