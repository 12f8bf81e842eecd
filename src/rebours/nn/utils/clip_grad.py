"""Gradient clipping, as torch.nn.utils: scale all gradients so their joint norm is at most
max_norm (`clip_grad_norm_`), or clamp each gradient value (`clip_grad_value_`). In place.

>>> import rebours, rebours.nn as nn
>>> w = rebours.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()                  # grad (6, 8), norm 10
>>> nn.utils.clip_grad_norm_([w], max_norm=1.0), w.grad
(tensor(10.), tensor([0.6000, 0.8000]))
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable
from typing import Optional, Union

from ...autograd.grad_mode import no_grad
from ...factories import tensor
from ...linalg import vector_norm
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

TensorOrTensors = Union[Tensor, Iterable[Tensor]]


def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: Optional[bool] = None) -> Tensor:
    """The norm of the tensors' norms: the norm of all of them viewed as one vector."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    from ... import stack

    with no_grad():
        norms = [vector_norm(t, norm_type) for t in tensors]
        total = vector_norm(stack([n.to(tensors[0].device) for n in norms]), norm_type)
    if error_if_nonfinite and bool(total.isnan() | total.isinf()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: Optional[bool] = None) -> None:
    """grad *= min(max_norm / (total_norm + 1e-6), 1), in place, for each parameter's grad."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    with no_grad():
        coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device))


def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Optional[bool] = None) -> Tensor:
    """Scale the gradients so their total norm is at most max_norm; returns the norm before.

    `foreach` is accepted for torch compatibility (rebours has one implementation)."""
    if isinstance(parameters, Tensor):
        params = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        params = list(parameters)
        if is_generator and not params:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float,
                     foreach: Optional[bool] = None) -> None:
    """Clamp every gradient value into [-clip_value, clip_value], in place."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    clip_value = float(clip_value)
    with no_grad():
        for p in params:
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
