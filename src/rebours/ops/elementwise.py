"""Elementwise rows: arithmetic, unary math, activations, comparisons and logical ops."""

from __future__ import annotations

import math

from .. import dtypes as D
from .registry import BOOL, FLOAT, KEEP, defop


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float, complex))


# -- arithmetic --------------------------------------------------------------------------------

defop("add", lambda xp, a, b, alpha=1: a + b if alpha == 1 else a + alpha * b,
      (lambda ops, g, out, a, b, alpha=1: g,
       lambda ops, g, out, a, b, alpha=1: g if alpha == 1 else g * alpha), method=False)
defop("sub", lambda xp, a, b, alpha=1: a - b if alpha == 1 else a - alpha * b,
      (lambda ops, g, out, a, b, alpha=1: g,
       lambda ops, g, out, a, b, alpha=1: -g if alpha == 1 else g * -alpha), method=False)
defop("rsub", lambda xp, a, b, alpha=1: b - a if alpha == 1 else b - alpha * a,
      (lambda ops, g, out, a, b, alpha=1: -g if alpha == 1 else g * -alpha,
       lambda ops, g, out, a, b, alpha=1: g), method=False,
      node=lambda args, p: "RsubBackward1" if _is_num(args[1]) else "RsubBackward0")
defop("mul", lambda xp, a, b: a * b,
      (lambda ops, g, out, a, b: g * b,
       lambda ops, g, out, a, b: g * a), method=False)
defop("div", lambda xp, a, b: a / b,
      (lambda ops, g, out, a, b: g / b,
       lambda ops, g, out, a, b: -g * a / (b * b)),
      dtypes=FLOAT, method=False,
      node=lambda args, p: "MulBackward0" if _is_num(args[0]) else "DivBackward0")
# torch records a node for `a // b` whose backward raises (NotImplemented), and a zero gradient
# for div(rounding_mode="trunc") (DivBackward2)
defop("floor_divide", lambda xp, a, b: xp.floor_divide(a, b), (None, None), node="NotImplemented")
defop("trunc_divide", lambda xp, a, b: xp.trunc(a / b) if a.dtype.kind in "fc"
      else (a - xp.fmod(a, b)) // b,
      (lambda ops, g, out, a, b: ops.zeros_like(g), lambda ops, g, out, a, b: ops.zeros_like(g)),
      node="DivBackward2", method=False, function=False)
defop("floor_divide_rounding", lambda xp, a, b: xp.floor_divide(a, b),
      (lambda ops, g, out, a, b: ops.zeros_like(g), lambda ops, g, out, a, b: ops.zeros_like(g)),
      node="DivBackward2", method=False, function=False)  # div(rounding_mode='floor')


def _by_tensor(name: str):  # torch: <Name>Backward0 for a number divisor, <Name>Backward1 else
    return lambda args, p: f"{name}Backward0" if _is_num(args[1]) else f"{name}Backward1"


defop("remainder", lambda xp, a, b: xp.remainder(a, b),
      (lambda ops, g, out, a, b: g,
       lambda ops, g, out, a, b: -g * ops.floor(a / b)), node=_by_tensor("Remainder"))
defop("fmod", lambda xp, a, b: xp.fmod(a, b),
      (lambda ops, g, out, a, b: g,
       lambda ops, g, out, a, b: -g * ops.trunc(a / b)), node=_by_tensor("Fmod"))


def _pow_name(args: tuple, params: dict) -> str:
    if _is_num(args[1]):
        return "PowBackward0"
    return "PowBackward2" if _is_num(args[0]) else "PowBackward1"


def _pow_base(ops, g, out, a, b):  # d/da a**b = b * a**(b-1), and 0 where b == 0, as torch
    if _is_num(b):
        return g * 0 if b == 0 else g * b * a ** (b - 1)
    return ops.where(b == 0, 0.0, g * b * a ** (b - 1))


def _pow_exponent(ops, g, out, a, b):  # d/db a**b = a**b * log(a), and 0 where a == 0, b >= 0
    if _is_num(a):
        return g * out * math.log(a) if a > 0 else ops.where(b >= 0, 0.0, g * out * math.nan)
    return g * ops.where((a == 0) & (b >= 0), 0.0, out * ops.log(a))


defop("pow", lambda xp, a, b: xp.power(a, b), (_pow_base, _pow_exponent), node=_pow_name)

# -- unary math ----------------------------------------------------------------------------------

defop("neg", lambda xp, x: -x, lambda ops, g, out, x: -g, dtypes=KEEP)
defop("abs", lambda xp, x: xp.abs(x), lambda ops, g, out, x: g * ops.sign(x), dtypes=KEEP,
      kinks=(0.0,))
defop("sign", lambda xp, x: xp.sign(x), lambda ops, g, out, x: ops.zeros_like(g), dtypes=KEEP)
defop("exp", lambda xp, x: xp.exp(x), lambda ops, g, out, x: g * out, dtypes=FLOAT)
defop("log", lambda xp, x: xp.log(x), lambda ops, g, out, x: g / x, dtypes=FLOAT,
      domain=(0, None))
defop("log2", lambda xp, x: xp.log2(x), lambda ops, g, out, x: g / (x * math.log(2.0)),
      dtypes=FLOAT, domain=(0, None))
defop("log10", lambda xp, x: xp.log10(x), lambda ops, g, out, x: g / (x * math.log(10.0)),
      dtypes=FLOAT, domain=(0, None))
defop("log1p", lambda xp, x: xp.log1p(x), lambda ops, g, out, x: g / (x + 1),
      dtypes=FLOAT, domain=(-1, None), node="Log1PBackward0")
defop("expm1", lambda xp, x: xp.expm1(x), lambda ops, g, out, x: g * (out + 1), dtypes=FLOAT)
defop("sqrt", lambda xp, x: xp.sqrt(x), lambda ops, g, out, x: g / (2 * out), dtypes=FLOAT,
      domain=(0, None))
defop("rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda ops, g, out, x: -0.5 * g * out * out * out,
      dtypes=FLOAT, domain=(0, None))
defop("sin", lambda xp, x: xp.sin(x), lambda ops, g, out, x: g * ops.cos(x), dtypes=FLOAT)
defop("cos", lambda xp, x: xp.cos(x), lambda ops, g, out, x: -g * ops.sin(x), dtypes=FLOAT)
defop("tan", lambda xp, x: xp.tan(x), lambda ops, g, out, x: g * (1 + out * out), dtypes=FLOAT)


def _sigmoid(xp, x):  # 1 / (1 + e^-x): e^-x overflows to inf for x << 0, giving exactly 0
    if x.dtype.kind == "f" and x.ndim:  # the same steps in place: one array instead of three
        t = xp.negative(x)
        xp.exp(t, out=t)
        t += 1
        return xp.reciprocal(t, out=t)
    return 1 / (1 + xp.exp(-x))


def _own(ops, g, out):
    """The backend's namespace when a rule may work in place on its own temporaries: first-order
    backward (raw arrays, `ops.xp`), and a gradient of the output's shape."""
    xp = getattr(ops, "xp", None)
    return (xp if xp is not None and out.ndim and g.shape == out.shape and g.dtype == out.dtype
            else None)


def _sigmoid_grad(ops, g, out, x):  # g (1 - out) out, in torch's order
    if _own(ops, g, out) is not None:
        t = 1 - out
        t *= g
        t *= out
        return t
    return g * (1 - out) * out


def _tanh_grad(ops, g, out, x):  # g (1 - out^2)
    xp = _own(ops, g, out)
    if xp is not None:
        t = out * out
        xp.subtract(1, t, out=t)
        t *= g
        return t
    return g * (1 - out * out)


defop("tanh", lambda xp, x: xp.tanh(x), _tanh_grad, dtypes=FLOAT)
defop("sigmoid", _sigmoid, _sigmoid_grad, dtypes=FLOAT)
defop("relu", lambda xp, x: xp.maximum(x, 0).astype(x.dtype, copy=False),
      lambda ops, g, out, x: ops.where(out > 0, g, 0), dtypes=KEEP, kinks=(0.0,))


def _clamp_dtype(args, params):  # the bounds promote like numbers: clamp(int, 0.5) is float
    bounds = [v for v in (params.get("min"), params.get("max")) if v is not None]
    d = D.result_type([args[0]], bounds)
    return d, d


defop("clamp", lambda xp, x, min=None, max=None: xp.clip(x, min, max),
      lambda ops, g, out, x, min=None, max=None: ops.where(_inside(x, min, max), g, 0),
      dtypes=_clamp_dtype, node="ClampBackward1")


defop("clamp_tensor", lambda xp, x, lo, hi: xp.minimum(xp.maximum(x, lo), hi),
      (lambda ops, g, out, x, lo, hi: ops.where((x >= lo) & (x <= hi), g, 0),
       # when lo > hi the result is hi everywhere, so hi takes the gradient there, as torch
       lambda ops, g, out, x, lo, hi: ops.where((x < lo) & (lo < hi), g, 0),
       lambda ops, g, out, x, lo, hi: ops.where((x > hi) | (hi < lo), g, 0)),
      node="ClampBackward0", method=False, function=False)


def _inside(x, lo, hi):
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


def _max_grad(ops, g, out, a, b):  # ties split the gradient in half, as torch
    return ops.where(a == b, g / 2, ops.where(a > b, g, 0))


def _min_grad(ops, g, out, a, b):
    return ops.where(a == b, g / 2, ops.where(a < b, g, 0))


defop("maximum", lambda xp, a, b: xp.maximum(a, b),
      (_max_grad, lambda ops, g, out, a, b: _max_grad(ops, g, out, b, a)))
defop("minimum", lambda xp, a, b: xp.minimum(a, b),
      (_min_grad, lambda ops, g, out, a, b: _min_grad(ops, g, out, b, a)))
def _where(xp, condition, a, b):
    # The backward rules' `where(mask, g, 0)`: on a random mask NumPy's where is ~10x slower
    # than one pass of integer arithmetic. Keeping v's bits where selected and all-zero bits
    # elsewhere is where's result bit for bit (+0.0, and nan/inf kept where selected).
    dt = getattr(condition, "dtype", None)
    if dt is not None and dt.kind == "b":
        if _is_plus_zero(b) and _bit_maskable(a):
            return xp.bitwise_and(a.view(_SAME_SIZE_INT[a.dtype.itemsize]),
                                  -condition.view(xp.int8)).view(a.dtype)
        if _is_plus_zero(a) and _bit_maskable(b):
            return xp.bitwise_and(b.view(_SAME_SIZE_INT[b.dtype.itemsize]),
                                  condition.view(xp.int8) - 1).view(b.dtype)
    return xp.where(condition, a, b)


_SAME_SIZE_INT = {2: "int16", 4: "int32", 8: "int64"}


def _is_plus_zero(v: object) -> bool:
    return type(v) is int and v == 0 or type(v) is float and v == 0 and math.copysign(1, v) > 0


def _bit_maskable(v: object) -> bool:
    dt = getattr(v, "dtype", None)
    return dt is not None and dt.kind == "f" and dt.itemsize in _SAME_SIZE_INT and v.ndim > 0


defop("where", _where,
      (None, lambda ops, g, out, c, a, b: ops.where(c, g, 0),
       lambda ops, g, out, c, a, b: ops.where(c, 0, g)), promote_args=(1, 2), method=False)

# -- rounding: zero gradient almost everywhere -------------------------------------------------

_zero = lambda ops, g, out, x: ops.zeros_like(g)  # noqa: E731
defop("floor", lambda xp, x: xp.floor(x), _zero, dtypes=KEEP)
defop("ceil", lambda xp, x: xp.ceil(x), _zero, dtypes=KEEP)
defop("trunc", lambda xp, x: xp.trunc(x), _zero, dtypes=KEEP)
defop("round", lambda xp, x, decimals=0: xp.round(x, decimals),
      lambda ops, g, out, x, decimals=0: ops.zeros_like(g), dtypes=KEEP,
      node=lambda args, p: "RoundBackward1" if "decimals" in p else "RoundBackward0")

# -- comparisons and logic: not differentiable -------------------------------------------------

for _name, _fn in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
                   ("gt", "greater"), ("ge", "greater_equal")):
    defop(_name, (lambda f: lambda xp, a, b: getattr(xp, f)(a, b))(_fn), None, dtypes=BOOL)
for _name in ("logical_and", "logical_or", "logical_xor"):
    defop(_name, (lambda f: lambda xp, a, b: getattr(xp, f)(a, b))(_name), None, dtypes=BOOL)
defop("logical_not", lambda xp, x: xp.logical_not(x), None, dtypes=BOOL)
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    defop(_name, (lambda f: lambda xp, a, b: getattr(xp, f)(a, b))(_name), None)
defop("bitwise_not", lambda xp, x: xp.invert(x), None, dtypes=KEEP)
defop("isnan", lambda xp, x: xp.isnan(x), None, dtypes=BOOL)
defop("isinf", lambda xp, x: xp.isinf(x), None, dtypes=BOOL)
defop("isfinite", lambda xp, x: xp.isfinite(x), None, dtypes=BOOL)
defop("zeros_like", lambda xp, x: xp.zeros_like(x), None, dtypes=KEEP, method=False,
      function=False)
