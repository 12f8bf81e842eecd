"""RMSprop: the `RMSprop` class (options, lazily created averages) and `rmsprop`, its math."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.graph import user_where
from ..factories import tensor
from ..tensor import Tensor
from .adam import _lerp_, _real, _step_dtype
from .optimizer import Optimizer, ParamsT, bump_versions, on_device, state_like


class RMSprop(Optimizer):
    """RMSprop (optionally centered, with momentum), as `torch.optim.RMSprop`.

    For each parameter θ with a gradient g = ∇f(θ) (γ = lr, α = alpha, λ = weight_decay,
    μ = momentum, v₀ = b₀ = ḡ₀ = 0)::

        g ← −g                              if maximize
        g ← g + λ θ                         if λ ≠ 0
        v ← α v + (1 − α) g²                square average
        ḡ ← α ḡ + (1 − α) g                 if centered (gradient average)
        d ← √(v − ḡ²) + ε   if centered, else   d ← √v + ε
        b ← μ b + g / d,  θ ← θ − γ b       if μ > 0
        θ ← θ − γ g / d                     otherwise

    ε is added after the square root (TensorFlow adds it inside). State per parameter: `step`,
    `square_avg` (v), and `momentum_buffer` (b) if μ > 0, `grad_avg` (ḡ) if centered.

    >>> import rebours, rebours.optim
    >>> w = rebours.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = rebours.optim.RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9800, -1.9800], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: Any = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: Optional[bool] = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        if differentiable:
            raise NotImplementedError("rebours.optim does not support differentiable=True: "
                                      "steps are not recorded in the graph")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    _load_defaults = (("momentum", 0), ("centered", False), ("foreach", None),
                      ("maximize", False), ("differentiable", False), ("capturable", False))

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """One update of every parameter that has a `.grad`; returns `closure()`'s loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                states = [self._init_state(p, group) for p in params]
                momentum, centered = group["momentum"], group["centered"]
                rmsprop(params, [p.grad for p in params], [s["square_avg"] for s in states],
                        [s["grad_avg"] for s in states] if centered else [],
                        [s["momentum_buffer"] for s in states] if momentum > 0 else [],
                        [s["step"] for s in states], lr=group["lr"], alpha=group["alpha"],
                        eps=group["eps"], weight_decay=group["weight_decay"],
                        momentum=momentum, centered=centered, maximize=group["maximize"])
        return loss

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        if len(state) == 0:  # lazily, at the parameter's first step with a gradient
            def zeros() -> Tensor:
                return state_like(p)

            state["step"] = tensor(0.0, dtype=_step_dtype())
            state["square_avg"] = zeros()
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros()
            if group["centered"]:
                state["grad_avg"] = zeros()
        return state


def rmsprop(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor],
            grad_avgs: list[Tensor], momentum_buffer_list: list[Tensor],
            state_steps: list[Tensor], *, lr: Any, alpha: float, eps: float,
            weight_decay: float, momentum: float, centered: bool, maximize: bool) -> None:
    """The RMSprop update (see `RMSprop`), written in place into the parameters and states."""
    where = user_where(1)
    lr, alpha, eps, weight_decay, momentum = (float(lr), float(alpha), float(eps),
                                              float(weight_decay), float(momentum))
    for i, p in enumerate(params):
        on_device(p)
        theta, g = _real(p._data), _real(grads[i]._data)
        v = _real(square_avgs[i]._data)
        if maximize:
            g = -g
        state_steps[i]._data += 1
        if weight_decay != 0:
            g = g + weight_decay * theta
        v *= alpha
        v += (1 - alpha) * g * g  # torch: addcmul_(g, g, value=1 - alpha)
        state = [square_avgs[i], state_steps[i]]
        if centered:
            gbar = _real(grad_avgs[i]._data)
            _lerp_(gbar, g, 1 - alpha)
            d = np.sqrt(v + -1.0 * gbar * gbar)  # torch: v.addcmul(ḡ, ḡ, value=-1).sqrt_()
            state.append(grad_avgs[i])
        else:
            d = np.sqrt(v)
        d += eps
        if momentum > 0:
            b = _real(momentum_buffer_list[i]._data)
            b *= momentum
            b += g / d  # torch: addcdiv_(g, d)
            theta += -lr * b  # torch: add_(b, alpha=-lr)
            state.append(momentum_buffer_list[i])
        else:
            theta += -lr * g / d  # torch: addcdiv_(g, d, value=-lr)
        bump_versions(state, "RMSprop.step()", where)
    bump_versions(params, "RMSprop.step()", where)
