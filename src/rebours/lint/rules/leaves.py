"""RB003 and RB004: a leaf that requires grad loses its name to an op, or to a device/dtype copy."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ..finding import Analysis, Finding
from ..flow import Scope, Stmt, key, mentions, replay
from ..tensors import (
    CONVERSIONS,
    DETACHING,
    describe_op,
    is_leaf_creation,
    is_true,
    method,
    receiver,
)


@dataclass
class _Leaf:
    line: int


@dataclass
class _Rebound:
    leaf_line: int
    stmt: ast.stmt
    op: str
    reported: bool = False


def check(an: Analysis) -> Iterator[Finding]:
    for scope in an.scopes:
        yield from _chains(an, scope)
        yield from _Tracker(an).run(scope)


def _chains(an: Analysis, scope: Scope) -> Iterator[Finding]:
    """RB004 in one expression: ``torch.randn(3, requires_grad=True).cuda()``."""
    for st in scope.stmts:
        detached: set[int] = set()
        for node in st.calls:
            if method(node) == "detach":
                inner = receiver(node)
                while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                    detached.add(id(inner))
                    inner = inner.func.value
        for node in st.calls:
            conv = method(node)
            if conv not in CONVERSIONS or id(node) in detached:
                continue
            inner = receiver(node)
            if is_leaf_creation(inner, an.resolver):
                yield an.finding("RB004", node, _chain_message(st, node, conv))


def _chain_message(st: Stmt, call: ast.AST, conv: str) -> str:
    stmt = st.node
    if isinstance(stmt, ast.Assign) and stmt.value is call and len(stmt.targets) == 1:
        name = key(stmt.targets[0])
        if name:
            return (f"'{name}' is the .{conv}() copy of a leaf created with requires_grad=True, "
                    f"not the leaf: '{name}.grad' stays None and the gradient goes to a tensor "
                    "you no longer hold; pass device=/dtype= to the factory instead")
    return (f".{conv}() after requires_grad=True returns a non-leaf copy; the leaf that receives "
            "the gradient is dropped; pass device=/dtype= to the factory instead")


class _Tracker:
    """Follows names bound to leaves through one scope, in execution-like order."""

    def __init__(self, an: Analysis) -> None:
        self.an = an
        self.state: dict[str, _Leaf | _Rebound] = {}
        self.out: list[Finding] = []

    def run(self, scope: Scope) -> list[Finding]:
        for st in replay(scope.stmts):
            self._uses(st)
            self._bind(st)
        return self.out

    def _uses(self, st: Stmt) -> None:
        for node in st.nodes:
            if isinstance(node, ast.Attribute) and node.attr == "grad" and isinstance(
                    node.ctx, ast.Load):
                self._use(key(node.value), node, "reads .grad")
            elif isinstance(node, ast.Call):
                q = self.an.resolver.call_name(node)
                if q and q.startswith("torch.optim.") and "lr_scheduler" not in q:
                    for arg in [*node.args, *(k.value for k in node.keywords)]:
                        for sub in ast.walk(arg):
                            if isinstance(sub, (ast.Name, ast.Attribute)):
                                self._use(key(sub), node, f"is passed to {q}")

    def _use(self, name: str | None, node: ast.AST, what: str) -> None:
        entry = self.state.get(name) if name else None
        if not isinstance(entry, _Rebound) or entry.reported:
            return
        entry.reported = True
        msg = (f"leaf '{name}' (requires_grad at line {entry.leaf_line}) is rebound by {entry.op} "
               f"at line {entry.stmt.lineno}; later use of '{name}' at line {node.lineno} "
               f"({what}) is the non-leaf result, whose .grad is None")
        self.out.append(self.an.finding("RB003", entry.stmt, msg))

    def _bind(self, st: Stmt) -> None:
        node = st.node
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._assign_target(target, node.value, node)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._assign_target(node.target, node.value, node)
        elif isinstance(node, ast.Expr) and method(node.value) == "requires_grad_":
            name = key(receiver(node.value))
            if name and is_leaf_creation(node.value, self.an.resolver):
                self.state[name] = _Leaf(node.lineno)
            elif name:  # requires_grad_(False)
                self.state.pop(name, None)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._forget(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._forget(item.optional_vars)

    def _forget(self, target: ast.AST) -> None:
        for sub in ast.walk(target):
            name = key(sub)
            if name:
                self.state.pop(name, None)

    def _assign_target(self, target: ast.expr, value: ast.expr, stmt: ast.stmt) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    self._assign_target(t, v, stmt)
            else:
                self._forget(target)
            return
        if isinstance(target, ast.Attribute) and target.attr == "requires_grad":
            name = key(target.value)
            if name and is_true(value):
                self.state[name] = _Leaf(stmt.lineno)
            elif name:
                self.state.pop(name, None)
            return
        name = key(target)
        if name is None:
            return
        prior = self.state.get(name)
        if is_leaf_creation(value, self.an.resolver):
            self.state[name] = _Leaf(stmt.lineno)
        elif prior is None or not mentions(value, name):
            self.state.pop(name, None)
        elif _detaches(value, name):
            self.state.pop(name, None)
        elif isinstance(prior, _Leaf):
            conv = _conversion(value, name)
            if conv:
                msg = (f"leaf '{name}' (requires_grad at line {prior.line}) is replaced by its "
                       f".{conv}() copy at line {stmt.lineno}, which is not a leaf: '{name}.grad' "
                       "stays None and an optimizer refuses it; convert before requires_grad")
                self.out.append(self.an.finding("RB004", stmt, msg))
                self.state.pop(name, None)
            else:
                self.state[name] = _Rebound(prior.line, stmt, describe_op(value, self.an.resolver))


def _detaches(value: ast.AST, name: str) -> bool:
    for node in ast.walk(value):
        if method(node) in DETACHING:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "data" and key(node.value) == name:
            return True
    return False


def _conversion(value: ast.AST, name: str) -> str | None:
    """``cuda`` for ``name.cuda()`` / ``name.to(d).double()`` (a chain of copies of `name`)."""
    outer = method(value)
    node = value
    while method(node) in CONVERSIONS:
        node = receiver(node)
    return outer if node is not value and key(node) == name else None
