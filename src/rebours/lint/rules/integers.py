"""RB009: requires_grad asked of an integer or bool tensor."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..finding import Analysis, Finding, snippet
from ..flow import key
from ..imports import Resolver
from ..tensors import (
    CAST_METHODS,
    FACTORIES,
    dtype_name,
    factory_int_dtype,
    is_leaf_creation,
    is_true,
    kwarg,
    method,
    receiver,
    torch_func,
)


def _int_tensor(expr: ast.AST, resolver: Resolver) -> bool:
    """True when `expr` evaluates to an integer or bool tensor."""
    if not isinstance(expr, ast.Call):
        return False
    if factory_int_dtype(expr, resolver):
        return True
    m = method(expr)
    if m in CAST_METHODS and not expr.args:
        return CAST_METHODS[m] == "int"
    if m in ("to", "type"):
        arg = expr.args[0] if expr.args else kwarg(expr, "dtype")
        return dtype_name(arg, resolver) == "int"
    return False


def check(an: Analysis) -> Iterator[Finding]:
    fix = "only floating-point tensors can require grad: use float values or dtype=torch.float32"
    for scope in an.scopes:
        ints: dict[str, int] = {}
        for st in scope.stmts:
            for node in st.calls:
                if torch_func(node, an.resolver) in FACTORIES and is_true(
                        kwarg(node, "requires_grad")) and factory_int_dtype(node, an.resolver):
                    yield an.finding("RB009", node, (f"'{snippet(node)}' builds an integer "
                                                     f"tensor with requires_grad=True; {fix}"))
                elif method(node) == "requires_grad_" and is_leaf_creation(node, an.resolver):
                    inner = receiver(node)
                    name = key(inner)
                    if (name in ints) or _int_tensor(inner, an.resolver):
                        where = f" (line {ints[name]})" if name in ints else ""
                        yield an.finding("RB009", node, (
                            f"requires_grad_() on integer tensor '{snippet(inner)}'{where}; {fix}"))
            stmt = st.node
            if not isinstance(stmt, ast.Assign):
                continue
            for t in stmt.targets:
                if isinstance(t, ast.Attribute) and t.attr == "requires_grad":
                    owner = key(t.value)
                    if owner in ints and is_true(stmt.value):
                        yield an.finding("RB009", stmt, (
                            f"'{owner}' is an integer tensor (line {ints[owner]}) and cannot "
                            f"require grad; {fix}"))
                    continue
                target = key(t)
                if target:
                    ints.pop(target, None)
                    if _int_tensor(stmt.value, an.resolver):
                        ints[target] = stmt.lineno
