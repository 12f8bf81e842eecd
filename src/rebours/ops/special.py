"""Special-function rows: inverse trig and hyperbolic functions, erf/erfc/erfinv, and the small
elementwise helpers (reciprocal, square, hypot, lerp, logaddexp, logit, xlogy, frac, nan_to_num).

NumPy has no erf. `erf` and `erfc` use W. J. Cody's rational Chebyshev approximations (Math.
Comp. 1969, the CALERF routine), accurate to float64 rounding; `erfinv` starts from M. Giles's
single-precision approximation and polishes it with two Halley steps on erf or erfc.
"""

from __future__ import annotations

import math

from .registry import FLOAT, KEEP, defop

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _float(x):  # integer inputs of a FLOAT row compute in float64; the row's rule casts
    return x.dtype if x.dtype.kind == "f" else "float64"


def _cody(xp, x):
    """(erf(x) for |x| <= 0.46875, erfc(|x|) elsewhere, the mask of the first region)."""
    x = xp.asarray(x, dtype=xp.float64)
    y = xp.abs(x)
    small = y <= 0.46875
    z = x * x
    num, den = _A[4] * z, z
    for i in range(3):
        num, den = (num + _A[i]) * z, (den + _B[i]) * z
    erf_small = x * (num + _A[3]) / (den + _B[3])
    num, den = _C[8] * y, y
    for i in range(7):
        num, den = (num + _C[i]) * y, (den + _D[i]) * y
    mid = (num + _C[7]) / (den + _D[7])
    with_y = xp.where(y > 0, y, 1.0)
    r = 1.0 / (with_y * with_y)
    num, den = _P[5] * r, r
    for i in range(4):
        num, den = (num + _P[i]) * r, (den + _Q[i]) * r
    tail = (1 / math.sqrt(math.pi) - r * (num + _P[4]) / (den + _Q[4])) / with_y
    res = xp.where(y <= 4.0, mid, tail)
    ysq = xp.trunc(y * 16.0) / 16.0  # exp(-y^2) split in two: no cancellation in y^2
    res = xp.exp(-ysq * ysq) * xp.exp(-(y - ysq) * (y + ysq)) * res
    return erf_small, res, small


def _erf(xp, x):
    small_val, c, small = _cody(xp, x)
    big = xp.where(x < 0, c - 1.0, 1.0 - c)
    return xp.where(small, small_val, big).astype(_float(x), copy=False)


def _erfc(xp, x):
    small_val, c, small = _cody(xp, x)
    big = xp.where(x < 0, 2.0 - c, c)
    return xp.where(small, 1.0 - small_val, big).astype(_float(x), copy=False)


def _giles(xp, y):
    """M. Giles's approximation of erfinv (single precision), the start for Halley steps."""
    w = -xp.log((1.0 - y) * (1.0 + y))
    a = w - 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * a
    b = xp.sqrt(xp.maximum(w, 5.0)) - 3.0
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = c + q * b
    return xp.where(w < 5.0, p, q) * y


def _erfinv(xp, y):
    y64 = xp.asarray(y, dtype=xp.float64)
    inside = xp.abs(y64) < 1
    yc = xp.where(inside, y64, 0.0)
    x = _giles(xp, yc)
    a = xp.abs(yc)
    for _ in range(2):  # Halley on f(x) = erfc(|x|) - (1 - |y|) near +-1, erf(x) - y elsewhere
        s = xp.sign(yc)
        f = xp.where(a > 0.5, s * ((1.0 - a) - _erfc(xp, xp.abs(x))), _erf(xp, x) - yc)
        d = _TWO_OVER_SQRT_PI * xp.exp(-x * x)
        x = x - f / (d + x * f)
    x = xp.where(inside, x, xp.where(xp.abs(y64) == 1, xp.sign(y64) * math.inf, math.nan))
    return x.astype(_float(y), copy=False)


defop("erf", _erf, lambda ops, g, out, x: g * _TWO_OVER_SQRT_PI * ops.exp(-(x * x)),
      dtypes=FLOAT)
defop("erfc", _erfc, lambda ops, g, out, x: g * -_TWO_OVER_SQRT_PI * ops.exp(-(x * x)),
      dtypes=FLOAT)
defop("erfinv", _erfinv,
      lambda ops, g, out, x: g * (math.sqrt(math.pi) / 2) * ops.exp(out * out),
      dtypes=FLOAT, node="ErfinvBackward0")

# -- inverse trigonometric and hyperbolic functions -------------------------------------------

defop("asin", lambda xp, x: xp.arcsin(x), lambda ops, g, out, x: g * ops.rsqrt(1 - x * x),
      dtypes=FLOAT)
defop("acos", lambda xp, x: xp.arccos(x), lambda ops, g, out, x: -g * ops.rsqrt(1 - x * x),
      dtypes=FLOAT)
defop("atan", lambda xp, x: xp.arctan(x), lambda ops, g, out, x: g / (x * x + 1), dtypes=FLOAT)
defop("atan2", lambda xp, a, b: xp.arctan2(a, b),
      (lambda ops, g, out, a, b: g * b / (a * a + b * b),
       lambda ops, g, out, a, b: g * -a / (a * a + b * b)), dtypes=FLOAT)
defop("sinh", lambda xp, x: xp.sinh(x), lambda ops, g, out, x: g * ops.cosh(x), dtypes=FLOAT)
defop("cosh", lambda xp, x: xp.cosh(x), lambda ops, g, out, x: g * ops.sinh(x), dtypes=FLOAT)
defop("asinh", lambda xp, x: xp.arcsinh(x), lambda ops, g, out, x: g * ops.rsqrt(x * x + 1),
      dtypes=FLOAT)
defop("acosh", lambda xp, x: xp.arccosh(x), lambda ops, g, out, x: g * ops.rsqrt(x * x - 1),
      dtypes=FLOAT)
defop("atanh", lambda xp, x: xp.arctanh(x), lambda ops, g, out, x: g / (1 - x * x),
      dtypes=FLOAT)

# -- small elementwise helpers ------------------------------------------------------------------

defop("reciprocal", lambda xp, x: 1 / x, lambda ops, g, out, x: -g * out * out, dtypes=FLOAT)
defop("frac", lambda xp, x: x - xp.trunc(x), lambda ops, g, out, x: g, dtypes=KEEP)
defop("hypot", lambda xp, a, b: xp.hypot(a, b),
      (lambda ops, g, out, a, b: g * a / out, lambda ops, g, out, a, b: g * b / out))
def _lerp(xp, a, b, w):  # as torch: from the nearer end, so lerp(a, b, 1) == b exactly
    return xp.where(xp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))


defop("lerp", lambda xp, a, b, weight=0.5: _lerp(xp, a, b, weight),
      (lambda ops, g, out, a, b, weight=0.5: g * (1 - weight),
       lambda ops, g, out, a, b, weight=0.5: g * weight))
defop("lerp_tensor", _lerp,
      (lambda ops, g, out, a, b, w: g * (1 - w), lambda ops, g, out, a, b, w: g * w,
       lambda ops, g, out, a, b, w: g * (b - a)),
      node="LerpBackward1", method=False, function=False)


def _logaddexp(xp, a, b):  # fused for stability: max + log1p(exp(-|a - b|))
    m = xp.maximum(a, b)
    d = xp.where(xp.isinf(m) & (a == b), 0, -xp.abs(a - b))
    return m + xp.log1p(xp.exp(d))


defop("logaddexp", _logaddexp,
      (lambda ops, g, out, a, b: g * ops.exp(a - out),
       lambda ops, g, out, a, b: g * ops.exp(b - out)), dtypes=FLOAT)


def _logit(xp, x, eps=None):
    if eps is not None:
        x = xp.clip(x, eps, 1 - eps)
    return xp.log(x / (1 - x))


def _logit_grad(ops, g, out, x, eps=None):  # outside [eps, 1 - eps]: 0, as torch; nan if no eps
    inside = (x >= eps) & (x <= 1 - eps) if eps is not None else (x >= 0) & (x <= 1)
    return ops.where(inside, g / (x * (1 - x)), 0.0 if eps is not None else math.nan)


defop("logit", _logit, _logit_grad, dtypes=FLOAT)


def _xlogy_name(args, params) -> str:
    if isinstance(args[0], (int, float)):
        return "XlogyBackward1"
    return "XlogyBackward2" if isinstance(args[1], (int, float)) else "XlogyBackward0"


def _xlogy(xp, a, b):
    return xp.where(xp.isnan(b), math.nan, xp.where(a == 0, 0.0, a * xp.log(b)))


defop("xlogy", _xlogy,
      (lambda ops, g, out, a, b: g * ops.xlogy(a != 0, b),
       lambda ops, g, out, a, b: g * a / b), dtypes=FLOAT, node=_xlogy_name)


def _nan_to_num(xp, x, nan=0.0, posinf=None, neginf=None):
    if x.dtype.kind not in "fc":
        return x.copy()
    return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


defop("nan_to_num", _nan_to_num,
      lambda ops, g, out, x, nan=0.0, posinf=None, neginf=None: g * ops.isfinite(x),
      dtypes=KEEP)
