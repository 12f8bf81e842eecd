"""Stochastic gradient descent: the `SGD` class (options and state) and `sgd`, its math."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.graph import user_where
from ..tensor import Tensor, new_tensor_raw
from .optimizer import Optimizer, ParamsT, bump_versions, on_device


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as `torch.optim.SGD`.

    For each parameter θ with a gradient g = ∇f(θ), at step t (γ = lr, λ = weight_decay,
    μ = momentum, τ = dampening)::

        g ← −g                                  if maximize
        g ← g + λ θ                             if λ ≠ 0
        b ← g               if t = 1,   else  b ← μ b + (1 − τ) g      (only if μ ≠ 0)
        g ← g + μ b         if nesterov, else  g ← b                    (only if μ ≠ 0)
        θ ← θ − γ g

    The momentum buffer b starts as the first gradient (not as zeros), so dampening applies from
    the second step on. Parameters whose `.grad` is None are skipped.

    >>> import rebours, rebours.optim
    >>> w = rebours.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = rebours.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: Any = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: Any = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None,
                 differentiable: bool = False, fused: Optional[bool] = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if differentiable:
            raise NotImplementedError("rebours.optim does not support differentiable=True: "
                                      "steps are not recorded in the graph")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    _load_defaults = (("nesterov", False), ("maximize", False), ("foreach", None),
                      ("differentiable", False), ("fused", False))

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """One update of every parameter that has a `.grad`; returns `closure()`'s loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                momentum = group["momentum"]
                bufs = ([self.state[p].get("momentum_buffer") for p in params]
                        if momentum != 0 else [])
                sgd(params, [p.grad for p in params], bufs, lr=group["lr"], momentum=momentum,
                    dampening=group["dampening"], weight_decay=group["weight_decay"],
                    nesterov=group["nesterov"], maximize=group["maximize"])
                if momentum != 0:
                    for p, buf in zip(params, bufs):
                        self.state[p]["momentum_buffer"] = buf
        return loss


def sgd(params: list[Tensor], grads: list[Tensor], momentum_buffer_list: list[Optional[Tensor]],
        *, lr: Any, momentum: float, dampening: float, weight_decay: Any, nesterov: bool,
        maximize: bool) -> None:
    """The SGD update (see `SGD`), written in place into each parameter's array.

    `momentum_buffer_list[i]` is None before the first step; it is then set to a new buffer.
    """
    where = user_where(1)
    lr, momentum, dampening, weight_decay = (float(lr), float(momentum), float(dampening),
                                             float(weight_decay))
    for i, p in enumerate(params):
        on_device(p)
        theta = p._data
        g = grads[i]._data
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            buf = momentum_buffer_list[i]
            if buf is None:
                buf = momentum_buffer_list[i] = new_tensor_raw(_fresh(g), p._dtype, p._device)
            else:
                b = buf._data
                b *= momentum
                b += (1 - dampening) * g
                bump_versions((buf,), "SGD.step()", where)
            g = g + momentum * buf._data if nesterov else buf._data
        theta -= lr * g  # torch: param.add_(g, alpha=-lr)
    bump_versions(params, "SGD.step()", where)


def _fresh(a: Any) -> Any:
    """A writable copy (NumPy turns 0-d results into scalars; the buffer must stay an array)."""
    return np.array(a, copy=True) if isinstance(a, (np.ndarray, np.generic)) else a.copy()
