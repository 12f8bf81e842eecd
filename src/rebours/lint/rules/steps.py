"""RB012 and RB013: the order of zero_grad(), backward() and step() in training code."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ..finding import Analysis, Finding
from ..flow import DEFS, Scope, Stmt, key, keys_in
from ..tensors import kwarg, method, receiver


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
    for node in st.calls:
        m = method(node)
        if isinstance(node, ast.Call) and helpers and (
                (isinstance(node.func, ast.Name) and node.func.id in helpers) or m in helpers):
            yield _Event("zero", node, st)
        elif m == "backward" or an.resolver.call_name(node) == "torch.autograd.backward":
            yield _Event("backward", node, st)
        elif m == "step":
            owner = key(receiver(node))
            last = owner.rsplit(".", 1)[-1].lower() if owner else ""
            if "scaler" in last and node.args:
                yield _Event("step", node, st, key(node.args[0]))
            elif _is_optimizer(owner, optimizers):
                closure = bool(node.args) or kwarg(node, "closure") is not None
                yield _Event("step", node, st, owner, closure)
        elif m == "zero_grad":
            owner = key(receiver(node))
            yield _Event("zero", node, st, owner if _is_optimizer(owner, optimizers) else None)
        elif m in ("zero_", "detach_", "fill_") and _is_grad(receiver(node)):
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


def check(an: Analysis) -> Iterator[Finding]:
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
                for name in keys_in(t):
                    assigned.setdefault(name, []).append(i)

    def computed_before(backward: _Event, step: _Event) -> bool:
        at_step, at_backward = order[id(step.st.node)], order[id(backward.st.node)]
        for name in keys_in(receiver(backward.node)):
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
