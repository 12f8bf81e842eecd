"""One row per public op: how to call it (the same lambda for rebours and torch) and on what.

A row's `fn` takes the library module (`rebours` or `torch`) and the input tensors. Its samples
say which inputs to draw: shapes, layouts (contiguous, a transposed view, a strided view, all made
with the library itself), index tensors and masks. Values come from NumPy and are the same for
both libraries. `away` keeps gradcheck samples at least 0.1 from kinks and poles; samples marked
`grad=False` sit *on* a kink (relu at 0, ties) and are compared with torch's value only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Arg:
    """One input: its shape, its layout, its kind and (optionally) exact values."""

    shape: tuple
    layout: str = "c"       # "c" contiguous, "T" transpose of the last two dims, "s" every 2nd
    kind: str = "float"     # "float" (the row's dtype), "long" (indices), "bool" (a mask)
    data: Any = None        # exact values instead of random ones
    high: int = 0           # indices are drawn from [-high, high) when kind == "long"
    domain: Any = None      # per-argument (low, high) instead of the row's domain


def A(*shape: int, layout: str = "c", data: Any = None, domain: Any = None) -> Arg:
    return Arg(tuple(shape), layout, data=data, domain=domain)


def T(*shape: int, domain: Any = None) -> Arg:
    """A non-contiguous input: the transpose of a contiguous tensor (shape is the result's)."""
    return Arg(tuple(shape), "T", domain=domain)


def St(*shape: int) -> Arg:
    """A non-contiguous input: every second element of the last dim of a contiguous tensor."""
    return Arg(tuple(shape), "s")


def Idx(*shape: int, high: int, data: Any = None) -> Arg:
    return Arg(tuple(shape), kind="long", high=high, data=data)


def Mask(*shape: int, data: Any = None) -> Arg:
    return Arg(tuple(shape), kind="bool", data=data)


def V(values: Any) -> Arg:
    """Exact values (a kink, a tie)."""
    arr = np.asarray(values, dtype=np.float64)
    return Arg(arr.shape, data=arr)


@dataclass(frozen=True)
class S:
    """One sample: its inputs; `grad=False` keeps it out of gradcheck (it sits on a kink)."""

    args: tuple
    grad: bool = True

    def __init__(self, *args: Arg, grad: bool = True) -> None:
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "grad", grad)


@dataclass
class OpRow:
    name: str
    fn: Callable[..., Any]
    samples: tuple
    covers: tuple = ()          # OPS rows this row exercises (default: (name,))
    grad: bool = True           # differentiable (float outputs require grad, backward works)
    domain: tuple = (-2.0, 2.0)
    away: tuple = ()            # gradcheck values stay >= 0.1 from these points
    ints: bool = False          # also run on int64/int32 inputs and compare the result dtype
    gradgrad: bool = True
    rtol32: float = 1e-5
    xfail: dict = field(default_factory=dict)  # test name -> reason (a bug outside op rows)
    meta: bool = True           # shapes do not depend on values: also checked on the meta device

    def __post_init__(self) -> None:
        if not self.covers:
            self.covers = (self.name,)


# -- sample sets -----------------------------------------------------------------------------

UNARY = (S(A(3, 4)), S(A()), S(T(4, 3)), S(St(5)), S(A(0, 3)))
BINARY = (S(A(3, 4), A(3, 4)), S(A(3, 4), A(4)), S(A(), A(2, 3)), S(A(2, 1, 3), A(4, 1)),
          S(T(3, 4), A(1, 4)), S(St(3), A(3)), S(A(0, 3), A(3)))
REDUCE_ALL = (S(A(3, 4)), S(A()), S(T(4, 3)), S(St(5)), S(A(0, 3)))
REDUCE_DIM = (S(A(3, 4)), S(A(2, 3, 2)), S(T(4, 3)), S(A(0, 3)))
NONEMPTY_DIM = (S(A(3, 4)), S(A(2, 3, 2)), S(T(4, 3)))

rows: list[OpRow] = []


def row(name: str, fn: Callable[..., Any], samples: tuple, **kw: Any) -> OpRow:
    r = OpRow(name, fn, samples, **kw)
    rows.append(r)
    return r


# -- elementwise: unary --------------------------------------------------------------------------

def _unary(name: str, method: bool = True, samples: tuple = UNARY, **kw: Any) -> None:
    row(name, lambda t, x: getattr(t, name)(x), samples, **kw)
    if method:  # the Tensor method, on one sample
        row(f"Tensor.{name}", lambda t, x: getattr(x, name)(), samples[:1], covers=(name,), **kw)


_unary("neg", ints=True)
_unary("abs", ints=True, away=(0.0,))
_unary("sign", ints=True, away=(0.0,))
_unary("exp", ints=True)
_unary("log", ints=True, domain=(0.1, 3.0))
_unary("log2", ints=True, domain=(0.1, 3.0))
_unary("log10", ints=True, domain=(0.1, 3.0))
_unary("log1p", ints=True, domain=(-0.8, 3.0))
_unary("expm1", ints=True)
_unary("sqrt", ints=True, domain=(0.1, 3.0))
_unary("rsqrt", ints=True, domain=(0.1, 3.0))
_unary("sin", ints=True)
_unary("cos", ints=True)
_unary("tan", ints=True, domain=(-1.2, 1.2))
_unary("tanh", ints=True)
_unary("sigmoid", ints=True)
_unary("relu", ints=True, away=(0.0,))
_unary("floor", ints=True, away=(-1.0, 0.0, 1.0))
_unary("ceil", ints=True, away=(-1.0, 0.0, 1.0))
_unary("trunc", ints=True, away=(-1.0, 0.0, 1.0))
_unary("round", ints=True, away=(-1.5, -0.5, 0.5, 1.5))
row("round_decimals", lambda t, x: t.round(x, decimals=1), UNARY[:3], covers=("round",),
    away=tuple(k / 10 + 0.05 for k in range(-20, 20)))
_unary("clone", ints=True)
for _n in ("isnan", "isinf", "isfinite"):
    _unary(_n, ints=True, grad=False)
row("isnan_special", lambda t, x: (t.isnan(x), t.isinf(x), t.isfinite(x)),
    (S(V([0.0, math.nan, math.inf, -math.inf, 1.0])),), covers=("isnan", "isinf", "isfinite"),
    grad=False)
_unary("logical_not", ints=True, grad=False)
row("bitwise_not", lambda t, x: t.bitwise_not(x), (S(Idx(3, 4, high=9)), S(Mask(5))),
    grad=False)
row("~", lambda t, x: ~x, (S(Mask(3, 4)),), covers=("bitwise_not",), grad=False)
row("-x", lambda t, x: -x, UNARY[:2], covers=("neg",), ints=True)
row("abs()", lambda t, x: abs(x), UNARY[:2], covers=("abs",), away=(0.0,))

# kinks: torch's values at the kink itself
row("relu_kink", lambda t, x: t.relu(x), (S(V([-1.0, 0.0, 2.0]), grad=False),),
    covers=("relu",))
row("abs_kink", lambda t, x: t.abs(x), (S(V([-1.0, 0.0, 2.0]), grad=False),), covers=("abs",))
row("sign_kink", lambda t, x: t.sign(x), (S(V([-1.0, 0.0, 2.0]), grad=False),),
    covers=("sign",))
row("sqrt_zero", lambda t, x: t.sqrt(x), (S(V([0.0, 1.0]), grad=False),), covers=("sqrt",))

# -- clamp ---------------------------------------------------------------------------------------

row("clamp", lambda t, x: t.clamp(x, -0.5, 0.7), UNARY, ints=True, away=(-0.5, 0.7))
row("clamp_min", lambda t, x: x.clamp(min=-0.5), UNARY[:3], covers=("clamp",), away=(-0.5,),
    ints=True)
row("clamp_max", lambda t, x: t.clamp(x, max=0.7), UNARY[:3], covers=("clamp",), away=(0.7,))
row("clip", lambda t, x: t.clip(x, -0.5, 0.7), UNARY[:1], covers=("clamp",), away=(-0.5, 0.7))
row("clamp_kink", lambda t, x: t.clamp(x, -0.5, 0.5),
    (S(V([-1.0, -0.5, 0.0, 0.5, 1.0]), grad=False),), covers=("clamp",))
row("clamp_tensor", lambda t, x, lo, hi: t.clamp(x, lo, hi), (S(A(3, 4), A(4), A(3, 1)),),
    covers=("clamp_tensor",))

# -- elementwise: binary ---------------------------------------------------------------------------

def _binary(name: str, samples: tuple = BINARY, method: bool = True, **kw: Any) -> None:
    row(name, lambda t, x, y: getattr(t, name)(x, y), samples, **kw)
    if method:
        row(f"Tensor.{name}", lambda t, x, y: getattr(x, name)(y), samples[:2],
            covers=(name,), **kw)


def _away_zero_second(samples: tuple) -> tuple:
    """The same samples with the second input kept away from zero (a divisor)."""
    out = []
    for s in samples:
        a, b = s.args
        b = Arg(b.shape, b.layout, b.kind, b.data, b.high, domain=("away0",))
        out.append(S(a, b, grad=s.grad))
    return tuple(out)


DIVISOR = _away_zero_second(BINARY)

_binary("add", ints=True)
_binary("sub", ints=True)
_binary("mul", ints=True)
_binary("div", DIVISOR, ints=True)
_binary("maximum", ints=True)
_binary("minimum", ints=True)
row("rsub", lambda t, x, y: t.rsub(x, y), BINARY[:3], ints=True)
row("add_alpha", lambda t, x, y: t.add(x, y, alpha=2.5), BINARY[:3], covers=("add",))
row("sub_alpha", lambda t, x, y: x.sub(y, alpha=-1.5), BINARY[:3], covers=("sub",))
row("rsub_alpha", lambda t, x, y: t.rsub(x, y, alpha=2), BINARY[:2], covers=("rsub",))
row("remainder", lambda t, x, y: t.remainder(x, y), DIVISOR, ints=True, gradgrad=True,
    domain=(-3.0, 3.0))
row("fmod", lambda t, x, y: t.fmod(x, y), DIVISOR, ints=True, domain=(-3.0, 3.0))
row("pow", lambda t, x, y: t.pow(x, y),
    (S(A(3, 4, domain=(0.2, 2.0)), A(3, 4)), S(A(3, 4, domain=(0.2, 2.0)), A(4)),
     S(T(3, 2, domain=(0.2, 2.0)), A()), S(A(0, 2), A(2))))
row("pow_scalar_exp", lambda t, x: x.pow(3), UNARY, covers=("pow",), ints=True)
row("pow_frac_exp", lambda t, x: t.pow(x, 0.5), UNARY[:3], covers=("pow",),
    domain=(0.2, 2.0))
row("pow_scalar_base", lambda t, x: t.pow(2.5, x), UNARY[:3], covers=("pow",))
row("pow_zero_exp", lambda t, x: x ** 0, UNARY[:2], covers=("pow",))
row("pow_zero_base", lambda t, x, y: x ** y, (S(V([0.0, 0.0, 2.0]), V([0.0, 2.0, 1.0]),
                                                grad=False),), covers=("pow",))
row("maximum_tie", lambda t, x, y: t.maximum(x, y),
    (S(V([1.0, 2.0, 3.0]), V([1.0, 0.0, 3.0]), grad=False),), covers=("maximum",))
row("minimum_tie", lambda t, x, y: t.minimum(x, y),
    (S(V([1.0, 2.0, 3.0]), V([1.0, 0.0, 3.0]), grad=False),), covers=("minimum",))
row("max_binary", lambda t, x, y: t.max(x, y), BINARY[:2], covers=("maximum",))
row("min_binary", lambda t, x, y: t.min(x, y), BINARY[:2], covers=("minimum",))
row("div_floor", lambda t, x, y: t.div(x, y, rounding_mode="floor"), DIVISOR[:3], ints=True,
    covers=("floor_divide_rounding",), gradgrad=False)
row("div_trunc", lambda t, x, y: t.div(x, y, rounding_mode="trunc"), DIVISOR[:3], ints=True,
    covers=("trunc_divide",), gradgrad=False)
row("floor_divide", lambda t, x, y: t.floor_divide(x, y), DIVISOR[:3], ints=True, grad=False)

# where: a mask, then the two branches (broadcast together)
row("where", lambda t, c, x, y: t.where(c, x, y),
    (S(Mask(3, 4), A(3, 4), A(3, 4)), S(Mask(3, 1), A(4), A(3, 4)), S(Mask(), A(2), A()),
     S(Mask(2, 3), T(2, 3), A(1, 3))), ints=True)
row("where_scalar", lambda t, c, x: t.where(c, x, 0.0), (S(Mask(3, 4), A(3, 4)),),
    covers=("where",))
row("Tensor.where", lambda t, c, x, y: x.where(c, y), (S(Mask(3, 4), A(3, 4), A(4)),),
    covers=("where",))

# comparisons and logic: bool results, never differentiable
for _n in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"):
    _binary(_n, BINARY[:4], ints=True, grad=False)
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    row(_n, lambda t, x, y, n=_n: getattr(t, n)(x, y),
        (S(Idx(3, 4, high=9), Idx(4, high=9)), S(Mask(3), Mask(3))), grad=False)

# -- operators -------------------------------------------------------------------------------------

row("x + y", lambda t, x, y: x + y, BINARY, covers=("add",), ints=True)
row("x + 2.5", lambda t, x: x + 2.5, UNARY[:3], covers=("add",), ints=True)
row("2 + x", lambda t, x: 2 + x, UNARY[:2], covers=("add",), ints=True)
row("x - y", lambda t, x, y: x - y, BINARY[:4], covers=("sub",), ints=True)
row("1.5 - x", lambda t, x: 1.5 - x, UNARY[:2], covers=("rsub",), ints=True)
row("x * y", lambda t, x, y: x * y, BINARY[:4], covers=("mul",), ints=True)
row("x * 3", lambda t, x: x * 3, UNARY[:2], covers=("mul",), ints=True)
row("x / y", lambda t, x, y: x / y, DIVISOR[:4], covers=("div",), ints=True)
row("x / 4", lambda t, x: x / 4, UNARY[:2], covers=("div",), ints=True)
row("2 / x", lambda t, x: 2 / x, UNARY[:2], covers=("div",), away=(0.0,), ints=True)
row("x // y", lambda t, x, y: x // y, DIVISOR[:3], covers=("floor_divide",), ints=True,
    grad=False)
row("x % y", lambda t, x, y: x % y, DIVISOR[:3], covers=("remainder",), ints=True)
row("x % 1.5", lambda t, x: x % 1.5, UNARY[:2], covers=("remainder",),
    away=(-1.5, 0.0, 1.5))
row("x ** y", lambda t, x, y: x ** y, (S(A(3, 4, domain=(0.2, 2.0)), A(4)),), covers=("pow",))
row("x ** 2", lambda t, x: x ** 2, UNARY[:3], covers=("pow",), ints=True)
row("2 ** x", lambda t, x: 2 ** x, UNARY[:2], covers=("pow",))
row("x @ y", lambda t, x, y: x @ y, (S(A(2, 3), A(3, 4)), S(A(3), A(3))), covers=("matmul",))
for _op, _name in (("<", "lt"), ("<=", "le"), (">", "gt"), (">=", "ge"), ("==", "eq"),
                   ("!=", "ne")):
    row(f"x {_op} y", eval(f"lambda t, x, y: x {_op} y"), BINARY[:3], covers=(_name,),
        ints=True, grad=False)
row("x < 0.5", lambda t, x: x < 0.5, UNARY[:2], covers=("lt",), ints=True, grad=False)
row("x & y", lambda t, x, y: x & y, (S(Mask(3), Mask(3)),), covers=("bitwise_and",),
    grad=False)
row("x | y", lambda t, x, y: x | y, (S(Idx(3, high=7), Idx(3, high=7)),),
    covers=("bitwise_or",), grad=False)
row("x ^ y", lambda t, x, y: x ^ y, (S(Mask(3), Mask(3)),), covers=("bitwise_xor",),
    grad=False)

# -- linear algebra ----------------------------------------------------------------------------

row("matmul", lambda t, x, y: t.matmul(x, y),
    (S(A(2, 3), A(3, 4)), S(A(3), A(3)), S(A(2, 3), A(3)), S(A(3), A(3, 2)),
     S(A(2, 2, 3), A(3, 2)), S(A(3), A(2, 3, 2)), S(A(2, 1, 2, 3), A(2, 3, 2)),
     S(T(2, 3), T(3, 2)), S(A(0, 3), A(3, 2))))
row("mm", lambda t, x, y: t.mm(x, y), (S(A(2, 3), A(3, 4)), S(T(2, 3), A(3, 2))))
row("bmm", lambda t, x, y: t.bmm(x, y), (S(A(2, 2, 3), A(2, 3, 2)), S(T(2, 2, 3), A(2, 3, 1))))
row("mv", lambda t, x, y: t.mv(x, y), (S(A(2, 3), A(3)), S(T(2, 3), St(3))))
row("dot", lambda t, x, y: t.dot(x, y), (S(A(3), A(3)), S(St(3), A(3))))
row("Tensor.matmul", lambda t, x, y: x.matmul(y), (S(A(2, 3), A(3, 4)),), covers=("matmul",))
row("Tensor.dot", lambda t, x, y: x.dot(y), (S(A(3), A(3)),), covers=("dot",))

# -- reductions --------------------------------------------------------------------------------

row("sum", lambda t, x: t.sum(x), REDUCE_ALL, ints=True)
row("sum_dim", lambda t, x: x.sum(dim=1), REDUCE_DIM, covers=("sum",), ints=True)
row("sum_dims_keepdim", lambda t, x: x.sum(dim=(0, -1), keepdim=True), REDUCE_DIM,
    covers=("sum",), ints=True)
row("sum_dtype", lambda t, x: x.sum(dtype=t.float64), REDUCE_ALL[:2], covers=("sum",))
row("sum_0d_dim", lambda t, x: x.sum(0), (S(A()),), covers=("sum",))
row("mean", lambda t, x: t.mean(x), REDUCE_ALL)
row("mean_dim", lambda t, x: x.mean(1, keepdim=True), REDUCE_DIM, covers=("mean",))
row("mean_dims", lambda t, x: x.mean((0, 1)), REDUCE_DIM, covers=("mean",))
row("prod", lambda t, x: t.prod(x), REDUCE_ALL, ints=True, domain=(0.5, 1.5))
row("prod_dim", lambda t, x: x.prod(1), REDUCE_DIM, covers=("prod",), ints=True)
row("prod_dim_keepdim", lambda t, x: x.prod(-1, keepdim=True), REDUCE_DIM, covers=("prod",))
row("prod_zeros", lambda t, x: x.prod(1), (S(V([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0]])),),
    covers=("prod",), gradgrad=False)
row("prod_zero_all", lambda t, x: x.prod(), (S(V([[0.0, 2.0, 3.0], [4.0, -1.0, 1.0]])),),
    covers=("prod",), gradgrad=False)
row("amax", lambda t, x: t.amax(x, dim=1), NONEMPTY_DIM, ints=True)
row("amax_all", lambda t, x: x.amax(), NONEMPTY_DIM + (S(A()),), covers=("amax",))
row("amin", lambda t, x: t.amin(x, dim=(0, 1), keepdim=True), NONEMPTY_DIM, ints=True)
row("amax_tie", lambda t, x: x.amax(1), (S(V([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]),
                                           grad=False),), covers=("amax",))
row("max", lambda t, x: t.max(x), NONEMPTY_DIM + (S(A()),), covers=("max_all",), ints=True)
row("min", lambda t, x: x.min(), NONEMPTY_DIM, covers=("min_all",), ints=True)
row("max_tie", lambda t, x: x.max(), (S(V([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]]), grad=False),),
    covers=("max_all",))
row("max_dim", lambda t, x: t.max(x, 1), NONEMPTY_DIM, covers=("max_dim",), ints=True)
row("max_dim_keepdim", lambda t, x: x.max(dim=-1, keepdim=True), NONEMPTY_DIM,
    covers=("max_dim",))
row("min_dim", lambda t, x: x.min(0), NONEMPTY_DIM + (S(A()),), covers=("min_dim",),
    ints=True)
row("max_dim_values", lambda t, x: x.max(1).values * 2, NONEMPTY_DIM[:1], covers=("max_dim",))
row("argmax", lambda t, x: t.argmax(x), NONEMPTY_DIM, ints=True, grad=False)
row("argmax_dim", lambda t, x: x.argmax(1, keepdim=True), NONEMPTY_DIM, covers=("argmax",),
    ints=True, grad=False)
row("argmin", lambda t, x: t.argmin(x, dim=0), NONEMPTY_DIM, ints=True, grad=False)
ONE_VALUE = (S(A(3, 4)), S(A(), grad=False), S(T(4, 3)), S(St(5)))  # var of 1 value: nan
row("var", lambda t, x: t.var(x), ONE_VALUE)
row("var_dim", lambda t, x: x.var(1, keepdim=True), NONEMPTY_DIM, covers=("var",))
row("var_unbiased_false", lambda t, x: t.var(x, False), REDUCE_ALL[:3], covers=("var",))
row("var_correction", lambda t, x: x.var(dim=0, correction=0), NONEMPTY_DIM, covers=("var",))
row("std", lambda t, x: t.std(x), ONE_VALUE)
row("std_dim", lambda t, x: x.std(dim=(0, 1), keepdim=True), NONEMPTY_DIM, covers=("std",))
row("std_unbiased_false", lambda t, x: x.std(0, unbiased=False), NONEMPTY_DIM,
    covers=("std",))
row("norm", lambda t, x: t.norm(x), REDUCE_ALL[:4], covers=("vector_norm",))
row("norm_p1_dim", lambda t, x: x.norm(1, dim=1), NONEMPTY_DIM, covers=("vector_norm",),
    away=(0.0,))
row("norm_p3_keepdim", lambda t, x: x.norm(3, 0, True), NONEMPTY_DIM, covers=("vector_norm",),
    away=(0.0,))
row("vector_norm", lambda t, x: t.linalg.vector_norm(x), REDUCE_ALL, away=(0.0,))
row("vector_norm_inf", lambda t, x: t.linalg.vector_norm(x, float("inf"), dim=1),
    NONEMPTY_DIM, covers=("vector_norm",))
row("vector_norm_0", lambda t, x: t.linalg.vector_norm(x, 0), NONEMPTY_DIM[:1],
    covers=("vector_norm",))
row("vector_norm_zero", lambda t, x: t.linalg.vector_norm(x, dim=1),
    (S(V([[0.0, 0.0], [3.0, 4.0]]), grad=False),), covers=("vector_norm",))
row("linalg.norm", lambda t, x: t.linalg.norm(x), REDUCE_ALL[:2], covers=("vector_norm",))

# -- shape and views -------------------------------------------------------------------------

row("reshape", lambda t, x: t.reshape(x, (4, 3)),
    (S(A(3, 4)), S(T(4, 3)), S(T(3, 4)), S(A(2, 6))))  # a view, an alias, a copy
row("reshape_strided", lambda t, x: x.reshape(2, 3, 1), (S(St(2, 3)), S(St(6))),
    covers=("reshape",))
row("reshape_args", lambda t, x: x.reshape(2, -1), (S(A(3, 4)), S(T(4, 3))), covers=("reshape",))
row("reshape_0d", lambda t, x: x.reshape(1, 1), (S(A()),), covers=("reshape",))
row("reshape_empty", lambda t, x: x.reshape(3, 0), (S(A(0, 3)),), covers=("reshape",))
row("view", lambda t, x: x.view(4, 3), (S(A(3, 4)), S(A(2, 6))))
row("view_neg", lambda t, x: x.view(-1), (S(A(3, 4)), S(A())), covers=("view",))
row("flatten", lambda t, x: t.flatten(x), (S(A(2, 3, 2)), S(T(3, 2)), S(A())),
    covers=("reshape",))
row("flatten_range", lambda t, x: x.flatten(1), (S(A(2, 3, 2)),), covers=("reshape",))
row("flatten_1d", lambda t, x: x.flatten(), (S(A(4)),), covers=("reshape",))
row("transpose", lambda t, x: t.transpose(x, 0, 1), (S(A(3, 4)), S(A(2, 3, 2)), S(T(4, 3))))
row("transpose_neg", lambda t, x: x.transpose(-1, -3), (S(A(2, 3, 2)),), covers=("transpose",))
row("t", lambda t, x: t.t(x), (S(A(3, 4)), S(A(3)), S(A())))
row("Tensor.t", lambda t, x: x.t(), (S(T(3, 4)),), covers=("t",))
row(".T", lambda t, x: x.T, (S(A(3, 4)),), covers=("permute",))
row(".mT", lambda t, x: x.mT, (S(A(2, 3, 4)),), covers=("transpose",))
row("permute", lambda t, x: t.permute(x, (2, 0, 1)), (S(A(2, 3, 2)), S(A(2, 0, 3))))
row("permute_args", lambda t, x: x.permute(1, -1, 0), (S(A(2, 3, 2)),), covers=("permute",))
row("squeeze", lambda t, x: t.squeeze(x), (S(A(3, 1, 2, 1)), S(A(1)), S(A())))
row("squeeze_dim", lambda t, x: x.squeeze(1), (S(A(3, 1, 2)), S(A(3, 2, 2))),
    covers=("squeeze",))
row("squeeze_dims", lambda t, x: x.squeeze((1, -1)), (S(A(3, 1, 2, 1)),), covers=("squeeze",))
row("unsqueeze", lambda t, x: t.unsqueeze(x, 1), (S(A(3, 4)), S(A(3)), S(T(3, 2))))
row("unsqueeze_neg", lambda t, x: x.unsqueeze(-1), (S(A()), S(A(2, 3))), covers=("unsqueeze",))
row("expand", lambda t, x: x.expand(2, 3, 4), (S(A(3, 1)), S(A(4)), S(A())),
    covers=("broadcast_to",))
row("expand_neg", lambda t, x: x.expand(-1, 4), (S(A(3, 1)),), covers=("broadcast_to",))
row("broadcast_to", lambda t, x: t.broadcast_to(x, (2, 3, 4)), (S(A(3, 1)), S(T(3, 1))))
row("expand_as", lambda t, x, y: x.expand_as(y), (S(A(3, 1), A(2, 3, 4)),),
    covers=("broadcast_to",))
row("sum_to_size", lambda t, x: x.sum_to_size(3, 1), (S(A(2, 3, 4)), S(A(3, 4))))
row("view_as", lambda t, x, y: x.view_as(y), (S(A(3, 4), A(2, 6)),), covers=("view",))
row("reshape_as", lambda t, x, y: x.reshape_as(y), (S(T(4, 3), A(2, 6)),), covers=("reshape",))
row("split", lambda t, x: t.split(x, 2), (S(A(5, 3)), S(T(5, 3))))
row("split_sizes", lambda t, x: x.split([1, 3], dim=1), (S(A(2, 4)),), covers=("split",))
row("chunk", lambda t, x: t.chunk(x, 3, 1), (S(A(2, 7)), S(A(2, 6))), covers=("split",))
row("unbind", lambda t, x: t.unbind(x), (S(A(3, 2)), S(T(3, 2))))
row("unbind_dim", lambda t, x: x.unbind(1), (S(A(3, 2, 2)),), covers=("unbind",))
row("narrow", lambda t, x: t.narrow(x, 1, 1, 2), (S(A(3, 4)), S(T(3, 4))),
    covers=("getitem",))
row("cat", lambda t, x, y: t.cat([x, y]), (S(A(2, 3), A(1, 3)), S(A(3), A(0)), S(T(2, 3),
                                                                                A(0, 3))),
    ints=True)
row("cat_dim", lambda t, x, y, z: t.cat((x, y, z), dim=-1), (S(A(2, 3), A(2, 1), A(2, 2)),),
    covers=("cat",))
row("stack", lambda t, x, y: t.stack([x, y]), (S(A(2, 3), A(2, 3)), S(A(), A())), ints=True)
row("stack_dim", lambda t, x, y: t.stack((x, y), dim=-1), (S(A(2, 3), T(2, 3)),),
    covers=("stack",))
row("contiguous", lambda t, x: x.contiguous() * 1, (S(T(3, 4)),),
    covers=("contiguous_copy",))
row("to_double", lambda t, x: x.double() * 1, (S(A(3, 4)),), covers=("to_dtype",))

# -- indexing ----------------------------------------------------------------------------------

_L = Idx(3, high=3, data=np.array([2, 0, 2]))  # repeats accumulate in backward
row("getitem_int", lambda t, x: x[1], (S(A(3, 4)), S(T(3, 4))), covers=("getitem",))
row("getitem_neg_int", lambda t, x: x[-1, 2], (S(A(3, 4)),), covers=("getitem",))
row("getitem_slice", lambda t, x: x[1:, ::2], (S(A(3, 4)), S(T(3, 4))), covers=("getitem",))
row("getitem_none", lambda t, x: x[None, :, None], (S(A(3, 4)),), covers=("getitem",))
row("getitem_none_only", lambda t, x: x[None], (S(A(3)),), covers=("getitem",))
row("getitem_ellipsis", lambda t, x: x[..., 1], (S(A(2, 3, 4)),), covers=("getitem",))
row("getitem_ellipsis_only", lambda t, x: x[...], (S(A(2, 3)),), covers=("getitem",))
row("getitem_long", lambda t, x, i: x[i], (S(A(3, 4), _L), S(T(3, 4), _L)), meta=False,
    covers=("getitem",))
row("getitem_long_2d", lambda t, x, i: x[:, i], (S(A(3, 4), Idx(2, 2, high=4)),),
    meta=False, covers=("getitem",))
row("getitem_two_long", lambda t, x, i, j: x[i, j],
    (S(A(3, 4), Idx(3, high=3), Idx(3, high=4)),), meta=False, covers=("getitem",))
row("getitem_mask", lambda t, x, m: x[m], (S(A(3, 4), Mask(3, 4)), S(A(3, 4), Mask(3))),
    meta=False, covers=("getitem",))
row("getitem_mask_cmp", lambda t, x: x[x > 0], (S(A(3, 4)),), meta=False, covers=("getitem", "gt"))
row("getitem_empty", lambda t, x: x[2:2], (S(A(3, 4)),), covers=("getitem",))
row("getitem_full_slices", lambda t, x: (x[:], x[:, :], x[0:3, None], x[1:, 1], x[..., 0:4]),
    (S(A(3, 4)),), covers=("getitem",))

# -- issue 6's families live in their own files; importing them appends their rows ---------------

from tests import (  # noqa: E402,F401
    op_db_conv,
    op_db_index,
    op_db_linalg,
    op_db_more,
    op_db_nn,
)
