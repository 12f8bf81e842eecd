"""`rebours.nn.init`: fill a tensor in place with torch's initialization schemes.

Each function draws from rebours's generator (`rebours.manual_seed`, or `generator=`), writes
into the tensor under no_grad (a Parameter stays a leaf; its version counter is bumped like any
in-place write) and returns it. Fans and gains follow torch's formulas exactly; the random
streams are NumPy's, not torch's.

>>> import rebours, rebours.nn as nn
>>> w = nn.init.constant_(rebours.empty(2, 3), 0.5)
>>> w
tensor([[0.5000, 0.5000, 0.5000],
        [0.5000, 0.5000, 0.5000]])
>>> nn.init.calculate_gain("leaky_relu", 0.2)
1.3867504905630728
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Optional

import numpy as np

from ..autograd.grad_mode import no_grad
from ..factories import Generator, _rng
from ..factories import tensor as _tensor
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "trunc_normal_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> float:
    """The recommended gain for a nonlinearity (`'relu'`: sqrt(2), `'tanh'`: 5/3, ...)."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _write(t: Tensor, values: Any) -> Tensor:
    """Copy values into t under no_grad: an in-place write (version bumped), t stays a leaf."""
    src = _tensor(np.asarray(values), dtype=t.dtype, device=t.device)
    with no_grad():
        t.copy_(src)
    return t


def _calculate_fan_in_and_fan_out(t: Tensor) -> tuple[int, int]:
    if t.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for s in t.shape[2:]:
        receptive *= s
    return t.size(1) * receptive, t.size(0) * receptive


def _calculate_correct_fan(t: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Optional[Generator] = None) -> Tensor:
    """Values drawn uniformly from [a, b)."""
    return _write(tensor, _rng(generator).uniform(a, b, tuple(tensor.shape)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Optional[Generator] = None) -> Tensor:
    """Values drawn from N(mean, std²)."""
    return _write(tensor, _rng(generator).normal(mean, std, tuple(tensor.shape)))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _write(tensor, np.full(tuple(tensor.shape), val))


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (a 2-D tensor only)."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Optional[Generator] = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Optional[Generator] = None) -> Tensor:
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> Optional[float]:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Optional[Generator] = None) -> Tensor:
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al., 2015)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Optional[Generator] = None) -> Tensor:
    """N(0, std²), std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Optional[Generator] = None
                ) -> Tensor:
    """A (semi-)orthogonal matrix from the QR of a Gaussian one, times gain (Saxe et al.)."""
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes Q uniform (Mezzadri, 2007), as torch
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tuple(tensor.shape)))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Optional[Generator] = None) -> Tensor:
    """N(mean, std²) restricted to [a, b]: draws outside are redrawn (rejection sampling)."""
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    rng = _rng(generator)
    shape = tuple(tensor.shape)
    p = 0.5 * (math.erf((b - mean) / std / math.sqrt(2)) - math.erf((a - mean) / std
                                                                     / math.sqrt(2)))
    if p > 0.3:  # redraw from the normal until every value falls inside
        out = rng.normal(mean, std, shape)
        bad = (out < a) | (out > b)
        while bad.any():
            out[bad] = rng.normal(mean, std, int(bad.sum()))
            bad = (out < a) | (out > b)
    else:  # a narrow window: propose uniformly in [a, b], accept by the density's ratio
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        out = np.empty(shape)
        pending = np.ones(shape, dtype=bool)
        while pending.any():
            n = int(pending.sum())
            cand = rng.uniform(a, b, n)
            accept = np.log(rng.random(n)) <= -0.5 * ((cand - mean) / std) ** 2 - log_peak
            idx = np.flatnonzero(pending)[accept]
            out.reshape(-1)[idx] = cand[accept]
            pending.reshape(-1)[idx] = False
    return _write(tensor, out)
