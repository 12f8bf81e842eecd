"""Affine layers: Identity, Linear (y = x Wᵀ + b) and Bilinear (y = x1ᵀ A x2 + b), with
torch's parameter shapes, names and default initialization.

>>> import rebours, rebours.nn as nn
>>> rebours.manual_seed(0)  # doctest: +ELLIPSIS
<rebours.factories.Generator object at ...>
>>> fc = nn.Linear(3, 2)
>>> fc, fc.weight.shape, fc(rebours.ones(5, 3)).shape
(Linear(in_features=3, out_features=2, bias=True), rebours.Size([2, 3]), rebours.Size([5, 2]))
"""

from __future__ import annotations

import math
from typing import Any

from ...factories import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear", "linear", "bilinear"]


linear = F.linear
bilinear = F.bilinear


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as torch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x Wᵀ + b, with W of shape (out_features, in_features).

    Default init as torch: W ~ kaiming_uniform_(a=√5), i.e. U(-1/√in, 1/√in), and
    b ~ U(-1/√in, 1/√in).

    >>> import rebours, rebours.nn as nn
    >>> fc = nn.Linear(2, 1)
    >>> with rebours.no_grad():
    ...     _ = fc.weight.copy_(rebours.tensor([[1.0, 2.0]])); _ = fc.bias.fill_(0.5)
    >>> fc(rebours.tensor([[3.0, 4.0]]))
    tensor([[11.5000]], grad_fn=<AddmmBackward0>)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y = x1ᵀ A x2 + b, A of shape (out_features, in1_features, in2_features); init
    U(-1/√in1, 1/√in1) for A and b, as torch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features),
                                      device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
