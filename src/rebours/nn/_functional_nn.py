"""rebours.nn.functional beyond activations: softmax, losses, distances, linear layers,
normalisation, dropout, embedding, pad, one_hot and scaled_dot_product_attention.

Each is torch's signature over the rows of ops/nn_layers.py, nn_loss.py and nn_norm.py; the
composites (cross_entropy, l1_loss, kl_div, the distances, attention) are built exactly as torch
builds them, so they record torch's node names.

>>> import rebours as torch
>>> import rebours.nn.functional as F
>>> F.cross_entropy(torch.tensor([[2.0, 0.0]]), torch.tensor([0]))
tensor(0.1269)
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Optional

import numpy as np

from ..autograd.grad_mode import no_grad
from ..dispatch import apply
from ..ops.registry import OPS
from ..tensor import Tensor
from ._functional_layers import *  # noqa: F403  (linear layers, norms, dropout, pad, attention)
from ._functional_layers import __all__ as _layers_all

__all__ = ["softmax", "log_softmax", "softmin", "cross_entropy", "nll_loss", "mse_loss",
           "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
           "pairwise_distance", "normalize", *_layers_all]

_T = Optional[Tensor]


_OP_LOG_SOFTMAX, _OP_NLL = OPS["log_softmax"], OPS["nll_loss"]


def _row(name: str, *args: Any, **params: Any) -> Any:
    return apply(OPS[name], *args, **params)


# -- softmax ---------------------------------------------------------------------------------------

def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: Optional[int] = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x_i) / Σ_j exp(x_j) along `dim` (one fused, max-shifted row: SoftmaxBackward0)."""
    dim = _softmax_dim("softmax", input.dim(), _stacklevel) if dim is None else dim
    return _row("softmax", input, dim=dim, dtype=dtype)


def log_softmax(input: Tensor, dim: Optional[int] = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    dim = _softmax_dim("log_softmax", input.dim(), _stacklevel) if dim is None else dim
    return _row("log_softmax", input, dim=dim, dtype=dtype)


def softmin(input: Tensor, dim: Optional[int] = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    dim = _softmax_dim("softmin", input.dim(), _stacklevel) if dim is None else dim
    return _row("softmax", -input, dim=dim, dtype=dtype)


# -- losses ----------------------------------------------------------------------------------------

def _reduction(size_average: Optional[bool], reduce: Optional[bool], reduction: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _same_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


def _weighted(loss: Tensor, weight: _T, reduction: str, mean_by_weight: bool = True) -> Tensor:
    """torch's per-sample weights for mse/l1/huber: the mean divides by Σ weight (huber: n)."""
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
             reduce: Optional[bool] = None, reduction: str = "mean", weight: _T = None) -> Tensor:
    """mean((input - target)²): one row, MseLossBackward0."""
    _same_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, reduction)
    return _row("mse_loss", input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
            reduce: Optional[bool] = None, reduction: str = "mean", weight: _T = None) -> Tensor:
    """mean(|input - target|), a composite as in torch (MeanBackward0)."""
    _same_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted((input - target).abs(), weight, reduction)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
                   reduce: Optional[bool] = None, reduction: str = "mean", beta: float = 1.0
                   ) -> Tensor:
    """0.5 d² / beta where |d| < beta, else |d| - beta/2 (beta = 0: the L1 loss)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _same_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    return _row("smooth_l1_loss", input, target, reduction=reduction, beta=beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: _T = None) -> Tensor:
    """0.5 d² where |d| < delta, else delta (|d| - delta/2)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _same_size(input, target)
    reduction = _reduction(None, None, reduction)
    if weight is not None:
        loss = _row("huber_loss", input, target, reduction="none", delta=delta)
        return _weighted(loss, weight, reduction, mean_by_weight=False)
    return _row("huber_loss", input, target, reduction=reduction, delta=delta)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: _T = None,
                         size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                         reduction: str = "mean") -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)), with log clamped at -100 as torch."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.size()}) that is different to the "
                         f"input size ({input.size()}) is deprecated. Please ensure they have "
                         "the same size.")
    if weight is not None:
        weight = weight.expand(*np.broadcast_shapes(tuple(target.shape), tuple(weight.shape)))
    return _row("binary_cross_entropy", input, target, weight, reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: _T = None,
                                     size_average: Optional[bool] = None,
                                     reduce: Optional[bool] = None, reduction: str = "mean",
                                     pos_weight: _T = None) -> Tensor:
    """BCE on logits, stable for any x: (1 - y) x + (1 + (pw - 1) y) log(1 + e^-x)."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    return _row("binary_cross_entropy_with_logits", input, target, weight, pos_weight,
                reduction=reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
           reduce: Optional[bool] = None, reduction: str = "mean", log_target: bool = False
           ) -> Tensor:
    """target (log target - input), pointwise; 'batchmean' divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.size(0) if input.dim() else loss.sum()
    return _reduce(loss, _reduction(None, None, reduction))


def nll_loss(input: Tensor, target: Tensor, weight: _T = None,
             size_average: Optional[bool] = None, ignore_index: int = -100,
             reduce: Optional[bool] = None, reduction: str = "mean") -> Tensor:
    """-weight[t] input[n, t] per sample (input holds log-probabilities); the mean divides by
    the total weight of the samples not ignored."""
    reduction = _reduction(size_average, reduce, reduction)
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() >= 2 and target.dim() >= 1 and target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    want = tuple(input.shape[:1]) + tuple(input.shape[2:]) if input.dim() >= 2 else ()
    if tuple(target.shape) != want:
        raise RuntimeError(f"Expected target size {list(want)}, got {list(target.shape)}")
    c = input.shape[1 if input.dim() >= 2 else 0]
    if weight is not None and tuple(weight.shape) != (c,):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    out = _row("nll_loss", input, target, weight, reduction=reduction, ignore_index=ignore_index)
    if reduction == "none" and input.dim() not in (1, 2, 4):
        out = out.view(tuple(out.shape))  # torch reshapes K-d to 4-d and back: ViewBackward0
    return out


def cross_entropy(input: Tensor, target: Tensor, weight: _T = None,
                  size_average: Optional[bool] = None, ignore_index: int = -100,
                  reduce: Optional[bool] = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input), target), with class indices or class probabilities as
    target, exactly as torch composes it (including label smoothing and weights)."""
    if (weight is None and label_smoothing == 0.0 and size_average is None and reduce is None
            and isinstance(input, Tensor) and isinstance(target, Tensor)
            and input._data.ndim == 2 and target._data.ndim == 1
            and target._data.shape[0] == input._data.shape[0]
            and reduction in ("mean", "sum", "none")):  # the classifier's case, in two rows
        logp = apply(_OP_LOG_SOFTMAX, input, dim=1, dtype=None)
        return apply(_OP_NLL, logp, target, None, reduction=reduction, ignore_index=ignore_index)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 0 if input.dim() == 1 else 1
    logp = log_softmax(input, cdim)
    c = input.shape[cdim]
    wshape = tuple(c if d == cdim else 1 for d in range(input.dim()))
    if tuple(target.shape) == tuple(input.shape):
        return _cross_entropy_probs(logp, target, weight, reduction, ignore_index,
                                    label_smoothing, cdim, wshape)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    smooth = -(logp * weight.view(wshape)).sum(cdim) if weight is not None else -logp.sum(cdim)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        kept = ~ignored
        ret = smooth.sum() / (weight[target[kept]].sum() if weight is not None else kept.sum())
    else:
        ret = smooth.sum() if reduction == "sum" else smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


def _cross_entropy_probs(logp: Tensor, target: Tensor, weight: _T, reduction: str,
                         ignore_index: int, label_smoothing: float, cdim: int,
                         wshape: tuple) -> Tensor:
    if not target.is_floating_point():
        raise RuntimeError("Expected floating point type for target with class probabilities, "
                           f"got {str(target.dtype).split('.')[-1].capitalize()}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    c = logp.shape[cdim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    terms = logp * target if weight is None else logp * target * weight.view(wshape)
    if reduction == "none":
        return -terms.sum(cdim)
    total = -terms.sum()
    if reduction == "sum":
        return total
    n = logp.numel() // c if logp.numel() else 0
    return _row("div_scalar", total, other=n if n else math.nan)


# -- distances -------------------------------------------------------------------------------------

def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ (x1 / |x1|)(x2 / |x2|) along dim; the norms clamped at eps without a gradient, as
    torch (which divides first, for a result within [-1, 1])."""
    x1, x2 = _broadcast(x1, x2)
    n1 = _row("vector_norm", x1, ord=2, dim=dim, keepdim=True).clone()
    n2 = _row("vector_norm", x2, ord=2, dim=dim, keepdim=True).clone()
    with no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _broadcast(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    return (a if tuple(a.shape) == shape else a.expand(*shape),
            b if tuple(b.shape) == shape else b.expand(*shape))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p over the last dim (NormBackward1, as torch)."""
    last = max(x1.dim(), x2.dim()) - 1
    return _row("norm_dim", x1 - x2 + eps, ord=p, dim=max(last, 0), keepdim=keepdim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: _T = None) -> Tensor:
    """input / max(‖input‖_p, eps) along dim."""
    denom = _row("vector_norm", input, ord=p, dim=dim, keepdim=True).clamp(min=eps)
    res = input / denom.expand_as(input)
    if out is not None:
        with no_grad():
            out.copy_(res)
        return out
    return res

