"""Dropout: in training, zero each element with probability p and scale the rest by 1/(1-p)
(a Bernoulli mask from rebours's generator); in eval, the identity.

>>> import rebours, rebours.nn as nn
>>> drop = nn.Dropout(0.5).eval()
>>> drop, drop(rebours.ones(3))
(Dropout(p=0.5, inplace=False), tensor([1., 1., 1.]))
"""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module

__all__ = ["Dropout", "dropout"]

dropout = F.dropout


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes elements with probability p while training; scales survivors by 1/(1-p)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)
