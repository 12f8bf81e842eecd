"""rebours.nn.functional: activations with torch's names, signatures and defaults.

Each calls one row of the op table (ops/activation.py); `inplace=True` writes the result into
the input, as the in-place tensor methods do.

>>> import rebours as torch
>>> import rebours.nn.functional as F
>>> F.relu6(torch.tensor([-1.0, 3.0, 7.0]))
tensor([0., 3., 6.])
"""

from __future__ import annotations

from typing import Any

from ..dispatch import apply
from ..ops.activation import SELU_ALPHA, SELU_SCALE
from ..ops.registry import OPS
from ..tensor import Tensor

__all__ = ["softplus", "gelu", "silu", "elu", "selu", "celu", "leaky_relu", "hardtanh",
           "hardsigmoid", "hardswish", "mish", "relu6", "logsigmoid", "relu", "sigmoid", "tanh"]


def _run(name: str, input: Tensor, inplace: bool = False, **params: Any) -> Tensor:
    if inplace:
        from ..inplace import apply_

        return apply_(name, input, **params)
    return apply(OPS[name], input, **params)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _run("relu", input, inplace)


def sigmoid(input: Tensor) -> Tensor:
    return apply(OPS["sigmoid"], input)


def tanh(input: Tensor) -> Tensor:
    return apply(OPS["tanh"], input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return _run("softplus", input, beta=beta, threshold=threshold)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x) (`approximate='none'`), or its tanh approximation (`approximate='tanh'`)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _run("gelu", input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _run("silu", input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _run("mish", input, inplace)


def logsigmoid(input: Tensor) -> Tensor:
    return _run("logsigmoid", input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _run("elu", input, inplace, alpha=alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """elu with torch's fixed alpha and scale (recorded as EluBackward0, as torch)."""
    return _run("elu", input, inplace, alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _run("celu", input, inplace, alpha=alpha)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _run("leaky_relu", input, inplace, negative_slope=negative_slope)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _run("hardtanh", input, inplace, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """hardtanh(x, 0, 6), recorded as HardtanhBackward0, as torch."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _run("hardsigmoid", input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _run("hardswish", input, inplace)


from ._functional_conv import *  # noqa: E402,F403
from ._functional_nn import *  # noqa: E402,F403
from ._functional_nn import __all__ as _nn_all  # noqa: E402

__all__ += _nn_all
