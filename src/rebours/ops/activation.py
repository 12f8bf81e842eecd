"""Activation rows (`rebours.nn.functional`): softplus, gelu, silu, the elu family, leaky_relu,
hardtanh and the hard-* functions, mish, logsigmoid. relu and sigmoid live in elementwise.py.

Each is a fused row with torch's node name: torch records one node for each, not the primitives.
"""

from __future__ import annotations

import math

from .registry import FLOAT, defop

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_nn = dict(dtypes=FLOAT, method=False, function=False)


def _softplus(xp, x, beta=1.0, threshold=20.0):
    bx = x * beta
    return xp.where(bx > threshold, x, xp.logaddexp(0, bx) / beta)


def _softplus_grad(ops, g, out, x, beta=1.0, threshold=20.0):
    z = ops.exp(x * beta)
    return ops.where(x * beta > threshold, g, g * z / (z + 1))


defop("softplus", _softplus, _softplus_grad, **_nn)


def _gelu(xp, x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    from .special import _erf

    return 0.5 * x * (1 + _erf(xp, x * math.sqrt(0.5)))


def _gelu_grad(ops, g, out, x, approximate="none"):
    if approximate == "tanh":
        t = ops.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)
    cdf = 0.5 * (1 + ops.erf(x * math.sqrt(0.5)))
    return g * (cdf + x * _INV_SQRT_2PI * ops.exp(-0.5 * x * x))


defop("gelu", _gelu, _gelu_grad, **_nn)


def _silu(xp, x):
    from .elementwise import _sigmoid

    return x * _sigmoid(xp, x)


def _silu_grad(ops, g, out, x):
    s = ops.sigmoid(x)
    return g * s * (1 + x * (1 - s))


defop("silu", _silu, _silu_grad, **_nn)


def _mish(xp, x):
    return x * xp.tanh(_softplus(xp, x))


def _mish_grad(ops, g, out, x):
    t = ops.tanh(ops.softplus(x))
    return g * (t + x * ops.sigmoid(x) * (1 - t * t))


defop("mish", _mish, _mish_grad, **_nn)


def _logsigmoid(xp, x):  # fused for stability: min(x, 0) - log1p(exp(-|x|))
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


defop("logsigmoid", _logsigmoid, lambda ops, g, out, x: g * ops.sigmoid(-x),
      node="LogSigmoidBackward0", **_nn)

# -- the elu family: elu(x) = scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)) ------

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _elu(xp, x, alpha=1.0, scale=1.0, input_scale=1.0):
    return xp.where(x > 0, scale * x, scale * alpha * xp.expm1(x * input_scale))


def _elu_grad(ops, g, out, x, alpha=1.0, scale=1.0, input_scale=1.0):
    return ops.where(x > 0, g * scale, g * (scale * alpha * input_scale)
                     * ops.exp(x * input_scale))


defop("elu", _elu, _elu_grad, kinks=(0.0,), **_nn)
defop("celu", lambda xp, x, alpha=1.0: _elu(xp, x, alpha, 1.0, 1.0 / alpha),
      lambda ops, g, out, x, alpha=1.0: ops.where(x > 0, g, g * ops.exp(x / alpha)),
      kinks=(0.0,), **_nn)
defop("leaky_relu", lambda xp, x, negative_slope=0.01: xp.where(x > 0, x, x * negative_slope),
      lambda ops, g, out, x, negative_slope=0.01: ops.where(x > 0, g, g * negative_slope),
      kinks=(0.0,), **_nn)

# -- piecewise linear: zero gradient outside the linear pieces --------------------------------

defop("hardtanh", lambda xp, x, min_val=-1.0, max_val=1.0: xp.clip(x, min_val, max_val),
      lambda ops, g, out, x, min_val=-1.0, max_val=1.0:
      ops.where((x > min_val) & (x < max_val), g, 0), kinks=(-1.0, 1.0), **_nn)
defop("hardsigmoid", lambda xp, x: xp.clip(x / 6 + 0.5, 0, 1),
      lambda ops, g, out, x: ops.where((x > -3) & (x < 3), g / 6, 0), kinks=(-3.0, 3.0), **_nn)
defop("hardswish", lambda xp, x: x * xp.clip(x + 3, 0, 6) / 6,
      lambda ops, g, out, x:
      ops.where(x <= -3, 0, ops.where(x < 3, g * (x / 3 + 0.5), g)), kinks=(-3.0, 3.0), **_nn)
