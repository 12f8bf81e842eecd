"""Regression losses built from existing ops: MSELoss, L1Loss, HuberLoss, SmoothL1Loss (with
their functional forms). Losses that need their own rows (cross-entropy, NLL, BCE) come later.

>>> import rebours, rebours.nn as nn
>>> nn.MSELoss()(rebours.tensor([1.0, 3.0]), rebours.tensor([0.0, 0.0]))
tensor(5.)
"""

from __future__ import annotations

import warnings
from typing import Optional

from ...tensor import Tensor
from ..module import Module

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "mse_loss", "l1_loss",
           "huber_loss", "smooth_l1_loss"]


def _legacy_reduction(size_average: Optional[bool], reduce: Optional[bool]) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=4)
    return ret


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _diff(input: Tensor, target: Tensor, size_average: Optional[bool], reduce: Optional[bool],
          reduction: str) -> tuple[Tensor, str]:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return input - target, reduction


def mse_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
             reduce: Optional[bool] = None, reduction: str = "mean") -> Tensor:
    d, reduction = _diff(input, target, size_average, reduce, reduction)
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
            reduce: Optional[bool] = None, reduction: str = "mean") -> Tensor:
    d, reduction = _diff(input, target, size_average, reduce, reduction)
    return _reduce(d.abs(), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
               ) -> Tensor:
    """0.5 d² where |d| < delta, else delta (|d| - delta/2)."""
    d, reduction = _diff(input, target, None, None, reduction)
    z = d.abs()
    return _reduce((0.5 * d * d).where(z < delta, delta * (z - 0.5 * delta)), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
                   reduce: Optional[bool] = None, reduction: str = "mean", beta: float = 1.0
                   ) -> Tensor:
    """0.5 d² / beta where |d| < beta, else |d| - beta/2 (beta = 0: the L1 loss)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d, reduction = _diff(input, target, size_average, reduce, reduction)
    z = d.abs()
    if beta == 0:
        return _reduce(z, reduction)
    return _reduce((0.5 * d * d / beta).where(z < beta, z - 0.5 * beta), reduction)


class _Loss(Module):
    def __init__(self, size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = _legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class MSELoss(_Loss):
    """mean((input - target)²) (or sum, or none, by `reduction`)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """mean(|input - target|)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)
