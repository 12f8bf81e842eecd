"""Dropout: in training, zero each element with probability p and scale the rest by 1/(1-p)
(a Bernoulli mask from rebours's generator); in eval, the identity.

>>> import rebours, rebours.nn as nn
>>> drop = nn.Dropout(0.5).eval()
>>> drop, drop(rebours.ones(3))
(Dropout(p=0.5, inplace=False), tensor([1., 1., 1.]))
"""

from __future__ import annotations

import numpy as np

from ... import dtypes as D
from ...factories import _rng, tensor
from ...tensor import Tensor
from ..module import Module

__all__ = ["Dropout", "dropout"]


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
            ) -> Tensor:
    """torch.nn.functional.dropout: x * mask / (1 - p), mask ~ Bernoulli(1 - p)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return input
    shape = tuple(input.shape)
    keep = _rng(None).random(shape) >= p if p < 1 else np.zeros(shape, dtype=bool)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = tensor(keep.astype(D.np_dtype(input.dtype)) * np.asarray(scale, D.np_dtype(
        input.dtype)), dtype=input.dtype, device=input.device)
    return input.mul_(mask) if inplace else input * mask


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
        return dropout(input, self.p, self.training, self.inplace)
