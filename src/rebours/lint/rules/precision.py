"""RB010: float64 and float32 tensors mixed in one elementwise op (a note)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..finding import Analysis, Finding, snippet
from ..flow import key
from ..imports import Resolver
from ..tensors import (
    CAST_METHODS,
    FACTORIES,
    FLOAT_FACTORIES,
    INT_FACTORIES,
    PARAMETER,
    dtype_name,
    has_float_hint,
    kwarg,
    literal_kind,
    method,
    receiver,
    torch_func,
)

_ELEMENTWISE = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv)
_BINARY_FUNCS = frozenset({"add", "sub", "mul", "div", "subtract", "multiply", "maximum",
                           "minimum", "true_divide"})
_UNARY_FUNCS = frozenset({
    "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "sqrt", "square", "neg",
    "clamp", "softmax", "log_softmax", "sum", "mean", "log1p", "expm1", "flatten", "squeeze",
    "unsqueeze", "reshape", "transpose", "cumsum",
})
_PRESERVING = _UNARY_FUNCS | frozenset({
    "pow", "t", "view", "clone", "detach", "requires_grad_", "permute", "contiguous", "cpu",
    "cuda", "expand", "repeat", "norm", "prod", "std", "var", "flip", "roll", "view_as",
    "reshape_as", "expand_as", "add", "sub", "mul", "div", "clamp_min", "clamp_max",
})
_NUMPY_FLOAT = frozenset({
    "numpy.random.randn", "numpy.random.rand", "numpy.random.normal", "numpy.random.uniform",
    "numpy.random.standard_normal", "numpy.random.random", "numpy.linspace", "numpy.zeros",
    "numpy.ones", "numpy.empty", "numpy.eye", "numpy.logspace",
})
_RANK = {"float64": 4, "float32": 3, "float16": 2, "bfloat16": 2, "int": 1}


def _promote(left: str | None, right: str | None) -> str | None:
    if left == "py":
        return right
    if right == "py":
        return left
    if left is None or right is None:
        known = left or right
        return known if known == "float64" else None
    return left if _RANK.get(left, 0) >= _RANK.get(right, 0) else right


class _Dtypes:
    """Infers the dtype of an expression from factories, casts and tracked names."""

    def __init__(self, resolver: Resolver, default: str) -> None:
        self.resolver = resolver
        self.default = default
        self.env: dict[str, str | None] = {}

    def __call__(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant):
            return "py" if type(node.value) in (int, float, bool) else None
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = key(node)
            return self.env.get(name) if name else None
        if isinstance(node, ast.UnaryOp):
            return self(node.operand)
        if isinstance(node, ast.Subscript):
            return self(node.value)
        if isinstance(node, ast.BinOp):
            left, right = self(node.left), self(node.right)
            if isinstance(node.op, ast.MatMult):
                return left if left == right else None
            return _promote(left, right)
        if isinstance(node, ast.Call):
            return self._call(node)
        return None

    def _call(self, node: ast.Call) -> str | None:
        fn = torch_func(node, self.resolver)
        explicit = dtype_name(kwarg(node, "dtype"), self.resolver)
        first = node.args[0] if node.args else None
        if fn in FACTORIES:
            if explicit:
                return explicit
            if fn.endswith("_like") or fn == "from_numpy":
                return self(first) if first is not None else None
            if fn in INT_FACTORIES:
                return "int"
            if fn in FLOAT_FACTORIES:
                return self.default
            if fn in ("tensor", "as_tensor") and first is not None:
                kind = literal_kind(first)
                if kind:
                    return self.default if kind == "float" else "int"
                return None if isinstance(first, (ast.List, ast.Tuple)) else self(first)
            if fn == "arange":
                return self.default if has_float_hint(node.args) else "int"
            return None
        if self.resolver.call_name(node) in PARAMETER or fn in _UNARY_FUNCS:
            return self(first) if first is not None else None
        q = self.resolver.call_name(node)
        if q and q.startswith("numpy."):
            if explicit or q in _NUMPY_FLOAT:
                return explicit or "float64"
            if q in ("numpy.array", "numpy.asarray") and first is not None:
                kind = literal_kind(first)
                return {"float": "float64", "int": "int"}.get(kind or "")
            return None
        m = method(node)
        if m in CAST_METHODS and not node.args:
            return CAST_METHODS[m]
        if m in ("to", "type", "astype"):
            cast = dtype_name(first if first is not None else kwarg(node, "dtype"), self.resolver)
            if cast or m != "to":
                return cast
            return self(receiver(node))
        if m in _PRESERVING:
            return self(receiver(node))
        return None

    def bind(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                name = key(t)
                if name:
                    self.env[name] = self(stmt.value)
                else:
                    for sub in ast.walk(t):
                        self.env.pop(key(sub) or "", None)
        elif isinstance(stmt, ast.AugAssign):
            name = key(stmt.target)
            if name:
                self.env[name] = _promote(self.env.get(name), self(stmt.value))
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            for sub in ast.walk(stmt.target):
                self.env.pop(key(sub) or "", None)


def _default_dtype(an: Analysis) -> str:
    for scope in an.scopes:
        for st in scope.stmts:
            for node in st.calls:
                if torch_func(node, an.resolver) == "set_default_dtype" and node.args:
                    dt = dtype_name(node.args[0], an.resolver)
                    if dt:
                        return dt
    return "float32"


def check(an: Analysis) -> Iterator[Finding]:
    default = _default_dtype(an)
    for scope in an.scopes:
        infer = _Dtypes(an.resolver, default)
        for st in scope.stmts:
            for node in st.nodes:
                pair: tuple[ast.AST, ast.AST] | None = None
                if isinstance(node, ast.BinOp) and isinstance(node.op, _ELEMENTWISE):
                    pair = (node.left, node.right)
                elif isinstance(node, ast.Call) and len(node.args) >= 2 and torch_func(
                        node, an.resolver) in _BINARY_FUNCS:
                    pair = (node.args[0], node.args[1])
                if pair is None:
                    continue
                kinds = (infer(pair[0]), infer(pair[1]))
                if set(kinds) == {"float32", "float64"}:
                    wide, narrow = pair if kinds[0] == "float64" else pair[::-1]
                    yield an.finding("RB010", node, (
                        f"note: '{snippet(wide)}' is float64 and '{snippet(narrow)}' is float32: "
                        f"'{snippet(node)}' promotes to float64 (slower, and cast back at float32 "
                        "leaves); pick one precision with .float() or set_default_dtype"))
            infer.bind(st.node)
