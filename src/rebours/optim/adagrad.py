"""Adagrad: the `Adagrad` class (options, eagerly created sums) and `adagrad`, its math."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

import numpy as np

from .. import dtypes as D
from ..autograd.grad_mode import no_grad
from ..autograd.graph import user_where
from ..factories import tensor
from ..tensor import Tensor
from .adam import _real, _step_dtype
from .optimizer import Optimizer, ParamsT, bump_versions, on_device, state_like


class Adagrad(Optimizer):
    """Adagrad, as `torch.optim.Adagrad`.

    For each parameter θ with a gradient g = ∇f(θ), at step t = 1, 2, ... (γ = lr,
    η = lr_decay, λ = weight_decay, s₀ = initial_accumulator_value)::

        g ← −g                              if maximize
        g ← g + λ θ                         if λ ≠ 0
        γ̃ ← γ / (1 + (t − 1) η)
        s ← s + g²
        θ ← θ − γ̃ g / (√s + ε)

    Unlike the other optimizers, the state (`step` and `sum`, s) of every parameter is created
    by the constructor, as torch does; groups added later get theirs at their first step, from
    the constructor's `initial_accumulator_value`.

    >>> import rebours, rebours.optim
    >>> w = rebours.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = rebours.optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.5000, -1.5000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: Any = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: Optional[bool] = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: Optional[bool] = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        if differentiable:
            raise NotImplementedError("rebours.optim does not support differentiable=True: "
                                      "steps are not recorded in the graph")
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    _load_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                      ("fused", None))

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """One update of every parameter that has a `.grad`; returns `closure()`'s loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                states = [self._init_state(p, group) for p in params]
                adagrad(params, [p.grad for p in params], [s["sum"] for s in states],
                        [s["step"] for s in states], lr=group["lr"],
                        weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                        eps=group["eps"], maximize=group["maximize"])
        return loss

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:
            init = self.defaults["initial_accumulator_value"]  # the constructor's, as torch
            if p.is_complex():
                init = complex(init, init)
            step_dtype = D.float32 if group["fused"] else _step_dtype()
            state["step"] = tensor(0.0, dtype=step_dtype)
            state["sum"] = state_like(p, init)
        return state


def adagrad(params: list[Tensor], grads: list[Tensor], state_sums: list[Tensor],
            state_steps: list[Tensor], *, lr: Any, weight_decay: float, lr_decay: float,
            eps: float, maximize: bool) -> None:
    """The Adagrad update (see `Adagrad`), written in place into the parameters and sums."""
    where = user_where(1)
    lr, weight_decay, lr_decay, eps = float(lr), float(weight_decay), float(lr_decay), float(eps)
    for i, p in enumerate(params):
        on_device(p)
        step_t = state_steps[i]
        step_t._data += 1
        step = float(step_t._data)
        g = grads[i]._data
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p._data
        clr = lr / (1 + (step - 1) * lr_decay)
        theta, g, s = _real(p._data), _real(g), _real(state_sums[i]._data)
        s += 1.0 * g * g  # torch: addcmul_(g, g, value=1)
        theta += -clr * g / (np.sqrt(s) + eps)  # torch: addcdiv_(g, √s + ε, value=-clr)
        bump_versions((state_sums[i], step_t), "Adagrad.step()", where)
    bump_versions(params, "Adagrad.step()", where)
