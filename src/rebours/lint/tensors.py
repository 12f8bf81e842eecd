"""What the linter knows about the torch API: factories, dtypes, in-place methods, leaf creation."""

from __future__ import annotations

import ast

from .imports import Resolver

FACTORIES = frozenset({
    "tensor", "as_tensor", "randn", "rand", "zeros", "ones", "empty", "full", "arange",
    "linspace", "logspace", "eye", "randint", "randperm", "normal", "zeros_like", "ones_like",
    "randn_like", "rand_like", "full_like", "empty_like", "randint_like", "from_numpy",
})
FLOAT_FACTORIES = frozenset({
    "randn", "rand", "zeros", "ones", "empty", "linspace", "logspace", "eye", "normal",
})
INT_FACTORIES = frozenset({"randint", "randperm", "randint_like"})
PARAMETER = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
CONVERSIONS = frozenset({"to", "cuda", "double", "half", "bfloat16", "type"})
NOT_IN_PLACE = frozenset({"requires_grad_", "share_memory_", "detach_", "retain_grad_"})
# methods whose result carries no graph (a number, a detached tensor, an array)
DETACHING = frozenset({"item", "detach", "tolist", "numpy"})

DTYPES = {
    "float64": "float64", "double": "float64", "float32": "float32", "float": "float32",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16",
    "int8": "int", "int16": "int", "int32": "int", "int64": "int", "uint8": "int",
    "long": "int", "int": "int", "short": "int", "bool": "int", "uint16": "int",
    "uint32": "int", "uint64": "int",
}
CAST_METHODS = {
    "double": "float64", "float": "float32", "half": "float16", "bfloat16": "bfloat16",
    "long": "int", "int": "int", "short": "int", "bool": "int", "byte": "int", "char": "int",
}


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument `name` in `call`, if given."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def torch_func(call: ast.AST, resolver: Resolver) -> str | None:
    """``exp`` for a call to ``torch.exp`` (however it is imported), else None."""
    q = resolver.call_name(call)
    if q and q.startswith("torch.") and q.count(".") == 1:
        return q[6:]
    return None


def method(call: ast.AST) -> str | None:
    """The method name of ``<expr>.name(...)``, else None."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def receiver(call: ast.AST) -> ast.expr:
    """The ``<expr>`` of a method call ``<expr>.name(...)`` (check with `method` first)."""
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
    return call.func.value


def dtype_name(node: ast.AST | None, resolver: Resolver) -> str | None:
    """``float64`` / ``float32`` / ``int`` ... for ``torch.double``, ``np.float32``, ``"int64"``."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return DTYPES.get(node.value)
    q = resolver.qualname(node)
    if q and (q.startswith("torch.") or q.startswith("numpy.")) and q.count(".") == 1:
        return DTYPES.get(q.split(".")[1])
    return None


def is_in_place(name: str) -> bool:
    """True for an in-place tensor method such as ``add_`` or ``zero_``."""
    return name.endswith("_") and not name.startswith("_") and name not in NOT_IN_PLACE


def is_leaf_creation(expr: ast.AST, resolver: Resolver) -> bool:
    """True when `expr` evaluates to a fresh leaf that requires grad."""
    if not isinstance(expr, ast.Call):
        return False
    name = torch_func(expr, resolver)
    if name in FACTORIES:
        return is_true(kwarg(expr, "requires_grad"))
    if resolver.call_name(expr) in PARAMETER:
        flag = kwarg(expr, "requires_grad")
        return not (isinstance(flag, ast.Constant) and flag.value is False)
    if method(expr) == "requires_grad_":
        arg = expr.args[0] if expr.args else kwarg(expr, "requires_grad")
        return arg is None or is_true(arg)
    return False


def literal_kind(node: ast.AST) -> str | None:
    """``int`` for int/bool literals (nested in lists), ``float`` if any float, else None."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or isinstance(node.value, int):
            return "int"
        if isinstance(node.value, float):
            return "float"
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return literal_kind(node.operand)
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        kinds = {literal_kind(e) for e in node.elts}
        if None in kinds:
            return None
        return "float" if "float" in kinds else "int"
    return None


def has_float_hint(nodes: list[ast.expr]) -> bool:
    """True if any argument contains a float literal or a true division."""
    for arg in nodes:
        for sub in ast.walk(arg):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, float):
                return True
            if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Div):
                return True
    return False


def factory_int_dtype(call: ast.Call, resolver: Resolver) -> bool:
    """True when a torch factory call builds an integer or bool tensor."""
    name = torch_func(call, resolver)
    if name not in FACTORIES:
        return False
    dtype = kwarg(call, "dtype")
    if dtype is not None:
        return dtype_name(dtype, resolver) == "int"
    if name in INT_FACTORIES:
        return True
    if name in ("tensor", "as_tensor") and call.args:
        return literal_kind(call.args[0]) == "int"
    if name == "arange":
        return bool(call.args) and not has_float_hint(call.args)
    if name == "full" and len(call.args) >= 2:
        return literal_kind(call.args[1]) == "int"
    return False


def describe_op(expr: ast.AST, resolver: Resolver) -> str:
    """A short name for the operation that produced `expr` (``torch.exp``, ``.clamp()``, ``*``)."""
    if isinstance(expr, ast.Call):
        q = resolver.call_name(expr)
        if q:
            return q
        m = method(expr)
        if m:
            return f".{m}()"
        if isinstance(expr.func, ast.Name):
            return f"{expr.func.id}()"
        return "a call"
    if isinstance(expr, ast.BinOp):
        return f"'{_OPS.get(type(expr.op), 'an operator')}'"
    if isinstance(expr, ast.UnaryOp):
        return "a unary operator"
    return "an expression"


_OPS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
    ast.FloorDiv: "//", ast.Mod: "%",
}


def op_symbol(op: ast.operator) -> str:
    return _OPS.get(type(op), "?")
