"""Scopes and statement order: each body flattened, with its loop and no_grad context."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from .imports import Resolver
from .tensors import DETACHING, method

LOOPS = (ast.For, ast.AsyncFor, ast.While)
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Ctx:
    """Where a statement sits: under a grad-disabling context, inside which loops."""

    no_grad: bool = False
    loops: tuple[ast.stmt, ...] = ()


@dataclass
class Stmt:
    """One statement of a scope, its context, and the expression nodes of its own header."""

    node: ast.stmt
    ctx: Ctx
    nodes: list[ast.AST] = field(default_factory=list)
    calls: list[ast.Call] = field(default_factory=list)


@dataclass
class Scope:
    """A module, class or function body, flattened in source order (nested defs excluded)."""

    node: ast.AST
    cls: ast.ClassDef | None
    stmts: list[Stmt]


def header_exprs(stmt: ast.stmt) -> list[ast.AST]:
    """The expressions that belong to `stmt` itself, not to the statements nested in it."""
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.target, stmt.iter]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        out: list[ast.AST] = []
        for item in stmt.items:
            out.append(item.context_expr)
            if item.optional_vars is not None:
                out.append(item.optional_vars)
        return out
    if isinstance(stmt, ast.Match):
        return [stmt.subject]
    if isinstance(stmt, (*DEFS, ast.ClassDef, ast.Try, *_TRY_STAR)):
        return []
    return [stmt]


_TRY_STAR: tuple[type, ...] = (ast.TryStar,) if hasattr(ast, "TryStar") else ()


def _walk_expr(roots: list[ast.AST]) -> list[ast.AST]:
    """All nodes under `roots` in source (pre-)order, without Load/Store context markers."""
    out: list[ast.AST] = []
    stack = list(reversed(roots))
    AST, context = ast.AST, ast.expr_context
    while stack:
        node = stack.pop()
        out.append(node)
        children: list[ast.AST] = []
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, AST):
                if not isinstance(value, context):
                    children.append(value)
            elif isinstance(value, list):
                children.extend(v for v in value if isinstance(v, AST))
        stack.extend(reversed(children))
    return out


def grad_disabled(expr: ast.AST, resolver: Resolver) -> bool:
    """True for ``torch.no_grad()``, ``torch.inference_mode()``, ``set_grad_enabled(False)``."""
    target = expr.func if isinstance(expr, ast.Call) else expr
    q = resolver.qualname(target)
    if q is None or not q.startswith("torch."):
        return False
    last = q.rsplit(".", 1)[-1]
    if last in ("no_grad", "inference_mode"):
        args = expr.args if isinstance(expr, ast.Call) else []
        return not (args and isinstance(args[0], ast.Constant) and args[0].value is False)
    if last == "set_grad_enabled" and isinstance(expr, ast.Call) and expr.args:
        arg = expr.args[0]
        return isinstance(arg, ast.Constant) and arg.value is False
    return False


def _flatten(body: list[ast.stmt], ctx: Ctx, resolver: Resolver, out: list[Stmt]) -> None:
    for stmt in body:
        nodes = _walk_expr(header_exprs(stmt))
        out.append(Stmt(stmt, ctx, nodes, [n for n in nodes if isinstance(n, ast.Call)]))
        if isinstance(stmt, LOOPS):
            _flatten(stmt.body, Ctx(ctx.no_grad, (*ctx.loops, stmt)), resolver, out)
            _flatten(stmt.orelse, ctx, resolver, out)
        elif isinstance(stmt, ast.If):
            _flatten(stmt.body, ctx, resolver, out)
            _flatten(stmt.orelse, ctx, resolver, out)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            off = any(grad_disabled(item.context_expr, resolver) for item in stmt.items)
            _flatten(stmt.body, Ctx(ctx.no_grad or off, ctx.loops), resolver, out)
        elif isinstance(stmt, (ast.Try, *_TRY_STAR)):
            _flatten(stmt.body, ctx, resolver, out)
            for handler in stmt.handlers:
                _flatten(handler.body, ctx, resolver, out)
            _flatten(stmt.orelse, ctx, resolver, out)
            _flatten(stmt.finalbody, ctx, resolver, out)
        elif isinstance(stmt, ast.Match):
            for case in stmt.cases:
                _flatten(case.body, ctx, resolver, out)


def build_scopes(tree: ast.Module, resolver: Resolver) -> list[Scope]:
    """Every scope of the file: the module, each class body and each function."""
    scopes: list[Scope] = []

    def visit(node: ast.AST, body: list[ast.stmt], cls: ast.ClassDef | None, no_grad: bool) -> None:
        stmts: list[Stmt] = []
        _flatten(body, Ctx(no_grad), resolver, stmts)
        scopes.append(Scope(node, cls, stmts))
        for st in stmts:
            child = st.node
            if isinstance(child, DEFS):
                off = any(grad_disabled(d, resolver) for d in child.decorator_list)
                visit(child, child.body, cls if isinstance(node, ast.ClassDef) else None,
                      st.ctx.no_grad or off)
            elif isinstance(child, ast.ClassDef):
                visit(child, child.body, child, False)

    visit(tree, tree.body, None, False)
    return scopes


def replay(stmts: list[Stmt], depth: int = 2) -> Iterator[Stmt]:
    """Statements in execution-like order: each loop body twice, so uses at the top of a loop
    see what the bottom of the previous iteration left behind."""

    def block(i: int, end: int, level: int) -> Iterator[Stmt]:
        while i < end:
            st = stmts[i]
            yield st
            if isinstance(st.node, LOOPS):
                j = i + 1
                while j < end and any(loop is st.node for loop in stmts[j].ctx.loops):
                    j += 1
                for _ in range(2 if level < depth else 1):
                    yield from block(i + 1, j, level + 1)
                i = j
            else:
                i += 1

    yield from block(0, len(stmts), 0)


def key(node: ast.AST) -> str | None:
    """A dotted name for a Name/Attribute chain (``self.w``), or None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def mentions(expr: ast.AST, name: str) -> ast.AST | None:
    """The first Name/Attribute node in `expr` whose dotted name is `name`."""
    for node in ast.walk(expr):
        if isinstance(node, (ast.Name, ast.Attribute)) and key(node) == name:
            return node
    return None


def keys_in(expr: ast.AST, skip_detached: bool = False) -> set[str]:
    """Dotted names in `expr`; with `skip_detached`, not those under .item()/.detach()/float()."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if skip_detached and isinstance(node, ast.Call) and (method(node) in DETACHING or (
                isinstance(node.func, ast.Name) and node.func.id in ("float", "int"))):
            continue
        name = key(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name:
            found.add(name)
        stack.extend(ast.iter_child_nodes(node))
    return found
