"""AdamW: Adam with decoupled weight decay, as `torch.optim.AdamW` (a subclass of `Adam`)."""

from __future__ import annotations

from typing import Any, Optional

from ..tensor import Tensor
from .adam import Adam, adam
from .optimizer import ParamsT


class AdamW(Adam):
    """AdamW: Adam whose weight decay shrinks θ directly, outside the moments.

    For each parameter θ with a gradient g = ∇f(θ), at step t = 1, 2, ... (γ = lr,
    λ = weight_decay, m₀ = v₀ = v̂₀ = 0)::

        g ← −g                              if maximize
        θ ← θ (1 − γλ)                      decoupled decay: never enters m or v
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        v̂ ← max(v̂, v)                       if amsgrad, else v̂ ← v
        θ ← θ − γ / (1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)

    It is `Adam(..., decoupled_weight_decay=True)` with λ = 0.01 by default; the option stays
    True after `load_state_dict`, as torch. State per parameter: `step`, `exp_avg`,
    `exp_avg_sq` and, with amsgrad, `max_exp_avg_sq`.

    >>> import rebours, rebours.optim
    >>> w = rebours.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = rebours.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.8500, -1.8000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: Any = 1e-3, betas: tuple[Any, Any] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: Optional[bool] = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def _after_load(self) -> None:
        super()._after_load()
        for group in self.param_groups:  # an AdamW always decouples, whatever was saved
            group["decoupled_weight_decay"] = True


def adamw(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
          exp_avg_sqs: list[Tensor], max_exp_avg_sqs: list[Tensor], state_steps: list[Tensor],
          *, amsgrad: bool, beta1: Any, beta2: Any, lr: Any, weight_decay: float, eps: float,
          maximize: bool) -> None:
    """The AdamW update (see `AdamW`): `adam` with decoupled weight decay."""
    adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, amsgrad=amsgrad,
         beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay, eps=eps,
         maximize=maximize, decoupled_weight_decay=True)
