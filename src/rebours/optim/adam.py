"""Adam: the `Adam` class (options, lazily created moments and step counts) and `adam`, its math."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

import numpy as np

from .. import dtypes as D
from ..autograd.grad_mode import no_grad
from ..autograd.graph import user_where
from ..factories import tensor
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, bump_versions, on_device, state_like


class Adam(Optimizer):
    """Adam (and AMSGrad), as `torch.optim.Adam`.

    For each parameter θ with a gradient g = ∇f(θ), at step t = 1, 2, ... (γ = lr,
    λ = weight_decay, m₀ = v₀ = v̂₀ = 0)::

        g ← −g                              if maximize
        g ← g + λ θ                         if λ ≠ 0   (decoupled_weight_decay: θ ← θ (1 − γλ))
        m ← β₁ m + (1 − β₁) g               first moment
        v ← β₂ v + (1 − β₂) g²              second moment
        v̂ ← max(v̂, v)                       if amsgrad, else v̂ ← v
        θ ← θ − γ / (1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)

    State per parameter: `step` (a float tensor), `exp_avg` (m), `exp_avg_sq` (v) and, with
    amsgrad, `max_exp_avg_sq` (v̂). Parameters whose `.grad` is None are skipped.

    >>> import rebours, rebours.optim
    >>> w = rebours.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = rebours.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: Any = 1e-3, betas: tuple[Any, Any] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: Optional[bool] = None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        if differentiable:
            raise NotImplementedError("rebours.optim does not support differentiable=True: "
                                      "steps are not recorded in the graph")
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    _load_defaults = (("amsgrad", False), ("maximize", False), ("foreach", None),
                      ("capturable", False), ("differentiable", False),
                      ("decoupled_weight_decay", False), ("fused", None))

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """One update of every parameter that has a `.grad`; returns `closure()`'s loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                states = [self._init_state(p, group["amsgrad"]) for p in params]
                beta1, beta2 = group["betas"]
                adam(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                     [s["exp_avg_sq"] for s in states],
                     [s["max_exp_avg_sq"] for s in states] if group["amsgrad"] else [],
                     [s["step"] for s in states], amsgrad=group["amsgrad"], beta1=beta1,
                     beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                     eps=group["eps"], maximize=group["maximize"],
                     decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss

    def _init_state(self, p: Tensor, amsgrad: bool) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:  # lazily, at the parameter's first step with a gradient
            def zeros() -> Tensor:
                return state_like(p)

            state["step"] = tensor(0.0, dtype=_step_dtype())
            state["exp_avg"] = zeros()
            state["exp_avg_sq"] = zeros()
            if amsgrad:
                state["max_exp_avg_sq"] = zeros()
        return state


def adam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
         exp_avg_sqs: list[Tensor], max_exp_avg_sqs: list[Tensor], state_steps: list[Tensor],
         *, amsgrad: bool, beta1: Any, beta2: Any, lr: Any, weight_decay: float, eps: float,
         maximize: bool, decoupled_weight_decay: bool = False) -> None:
    """The Adam update (see `Adam`), written in place into each parameter's and state's array."""
    where = user_where(1)
    lr, beta1, beta2, weight_decay, eps = (float(lr), float(beta1), float(beta2),
                                           float(weight_decay), float(eps))
    for i, p in enumerate(params):
        on_device(p)
        theta, g = _real(p._data), _real(grads[i]._data)
        m, v = _real(exp_avgs[i]._data), _real(exp_avg_sqs[i]._data)
        if maximize:
            g = -g
        step_t = state_steps[i]
        step_t._data += 1
        step = float(step_t._data)
        if weight_decay != 0:
            if decoupled_weight_decay:
                theta *= 1 - lr * weight_decay
                bump_versions((p,), "Adam.step()", where)  # a second in-place op, as torch
            else:
                g = g + weight_decay * theta
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g  # torch: addcmul_(g, g, value=1 - beta2)
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if amsgrad:
            vmax = _real(max_exp_avg_sqs[i]._data)
            np.maximum(vmax, v, out=vmax)
            v = vmax
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        theta += -step_size * m / denom  # torch: addcdiv_(m, denom, value=-step_size)
        state = [exp_avgs[i], exp_avg_sqs[i], step_t] + ([max_exp_avg_sqs[i]] if amsgrad else [])
        bump_versions(state, "Adam.step()", where)
    bump_versions(params, "Adam.step()", where)


def _lerp_(start: Any, end: Any, weight: float) -> None:
    """start ← start + weight (end − start) in place, rounded as torch's lerp."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        w = start.dtype.type(weight)
        start[...] = end - (end - start) * (1 - w)


def _real(a: Any) -> Any:
    """A complex array as a real view with a trailing axis of 2 (torch.view_as_real)."""
    if a.dtype.kind != "c":
        return a
    return a.reshape(a.shape + (1,)).view(a.real.dtype)


def _step_dtype() -> D.dtype:
    return D.float64 if D.get_default_dtype() is D.float64 else D.float32
