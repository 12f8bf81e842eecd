"""RB007: ``sqrt`` of a sum of squares, where a norm (with a defined gradient at 0) is meant."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..finding import Analysis, Finding, snippet
from ..imports import Resolver
from ..tensors import method, receiver, torch_func

_DEPTH = 4


def check(an: Analysis) -> Iterator[Finding]:
    for scope in an.scopes:
        env: dict[str, ast.expr] = {}
        for st in scope.stmts:
            if not st.ctx.no_grad:
                for node in st.nodes:
                    arg = _sqrt_argument(node, an.resolver)
                    if arg is None:
                        continue
                    kind = _squares(arg, env, an.resolver, 0)
                    # `(a ** 2 + b ** 2) ** 0.5` is as likely plain Python floats as tensors
                    if kind and not (kind == "sum" and _is_python_pow(node, arg, env)):
                        yield an.finding("RB007", node, _message(node, kind))
            _remember(st.node, env)


def _message(node: ast.AST, kind: str) -> str:
    text = snippet(node, 60)
    return (f"'{text}' is the square root of a {kind} of squares: its gradient is NaN where "
            "all the terms are 0; use torch.linalg.vector_norm() / .norm(), or keep the "
            "argument off 0 (sqrt(s + eps))")


def _remember(stmt: ast.stmt, env: dict[str, ast.expr]) -> None:
    if isinstance(stmt, ast.Assign):
        for t in stmt.targets:
            if isinstance(t, ast.Name):
                if len(stmt.targets) == 1:
                    env[t.id] = stmt.value
                else:
                    env.pop(t.id, None)
            else:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Name):
                        env.pop(sub.id, None)
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        target = stmt.target
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                env.pop(sub.id, None)


def _is_const(node: ast.AST, value: float) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and (
        node.value == value)


def _sqrt_argument(node: ast.AST, resolver: Resolver) -> ast.expr | None:
    """X for ``torch.sqrt(X)``, ``X.sqrt()``, ``X ** 0.5``, ``torch.pow(X, 0.5)``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _is_const(
            node.right, 0.5):
        return node.left
    if not isinstance(node, ast.Call):
        return None
    fn = torch_func(node, resolver)
    if fn == "sqrt" and node.args:
        return node.args[0]
    if fn == "pow" and len(node.args) == 2 and _is_const(node.args[1], 0.5):
        return node.args[0]
    if fn is None and resolver.call_name(node) is None:
        m = method(node)
        if m == "sqrt" and not node.args:
            return receiver(node)
        if m == "pow" and len(node.args) == 1 and _is_const(node.args[0], 0.5):
            return receiver(node)
    return None


def _lookup(node: ast.expr, env: dict[str, ast.expr], depth: int) -> ast.expr:
    while isinstance(node, ast.Name) and node.id in env and depth < _DEPTH:
        node = env[node.id]
        depth += 1
    return node


def _squares(node: ast.expr, env: dict[str, ast.expr], resolver: Resolver, depth: int) -> str:
    """'sum' or 'mean' if `node` reduces squares (or adds up two or more squares), else ''."""
    node = _lookup(node, env, depth)
    if isinstance(node, ast.Call):
        fn = torch_func(node, resolver)
        operand: ast.expr | None = None
        kind = ""
        if fn in ("sum", "mean") and node.args:
            operand, kind = node.args[0], fn
        elif fn is None and method(node) in ("sum", "mean"):
            operand, kind = receiver(node), method(node) or ""
        if operand is not None and _square(operand, env, resolver, depth + 1):
            return kind
        return ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        terms = _add_terms(node)
        if len(terms) >= 2 and all(_square(t, env, resolver, depth + 1) for t in terms):
            return "sum"
    return ""


def _is_python_pow(node: ast.AST, arg: ast.expr, env: dict[str, ast.expr]) -> bool:
    """True for ``X ** 0.5`` where X is a plain ``+`` of squares (no tensor reduction)."""
    return isinstance(node, ast.BinOp) and isinstance(_lookup(arg, env, 0), ast.BinOp)


def _add_terms(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _add_terms(node.left) + _add_terms(node.right)
    return [node]


def _square(node: ast.expr, env: dict[str, ast.expr], resolver: Resolver, depth: int) -> bool:
    node = _lookup(node, env, depth)
    if _without_grad(node):
        return False
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            return _is_const(node.right, 2)
        if isinstance(node.op, ast.Mult):
            return ast.dump(node.left) == ast.dump(node.right)
        return False
    if isinstance(node, ast.Call):
        fn = torch_func(node, resolver)
        if fn == "square":
            return True
        if fn == "pow":
            return len(node.args) == 2 and _is_const(node.args[1], 2)
        m = method(node) if fn is None else None
        if m == "square" and not node.args:
            return True
        if m == "pow":
            return len(node.args) == 1 and _is_const(node.args[0], 2)
    return False


def _without_grad(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in ("grad", "data"):
            return True
        if method(sub) in ("detach", "item"):
            return True
    return False
