"""Loss rows (`rebours.nn.functional`): nll_loss, mse_loss, smooth_l1_loss, huber_loss,
binary_cross_entropy and binary_cross_entropy_with_logits, each with its reduction inside.

torch records one node per loss (NllLossBackward0, MseLossBackward0, ...) whatever the
reduction, so each is a fused row; binary_cross_entropy_with_logits is also fused for stability
(log(1 + e^-|x|), never log(sigmoid(x))). cross_entropy, l1_loss and kl_div are composites
(see nn/_functional_nn.py), as in torch.
"""

from __future__ import annotations

import math

from .registry import FLOAT, defop


def _reduce(xp, loss, reduction):
    if reduction == "mean":
        return xp.mean(loss) if loss.size else xp.asarray(math.nan, dtype=loss.dtype)
    return xp.sum(loss) if reduction == "sum" else loss


def _per_element(g, n, reduction):
    """The gradient each element's loss receives: g itself, or g / n for a mean."""
    return g / n if reduction == "mean" else g


# -- nll_loss: -w[t] x[t] per sample; the mean divides by the total weight of the kept samples ---


def _out_of_range(xp, t, n):
    """Any class index outside [0, n): one comparison, negatives read as huge unsigned."""
    if t.dtype.kind == "i":
        return bool((t.view(f"u{t.dtype.itemsize}") >= n).any())
    return bool(t.min() < 0 or t.max() >= n)


def _picked(xp, x, target, weight, ignore_index):
    """(x at each sample's class, each sample's weight: 0 where ignored; None when every sample
    counts 1, the common case, which then needs no weight arithmetic at all)."""
    cdim = 1 if x.ndim >= 2 else 0
    keep = target != ignore_index
    every = bool(keep.all())
    t = target if every else xp.where(keep, target, 0)
    if t.size and _out_of_range(xp, t, x.shape[cdim]):
        bad = target[keep & ((t < 0) | (t >= x.shape[cdim]))].reshape(-1)[0]
        raise IndexError(f"Target {int(bad)} is out of bounds.")
    if x.ndim == 2:
        x_t = x[xp.arange(x.shape[0]), t]
    else:
        x_t = xp.squeeze(xp.take_along_axis(x, xp.expand_dims(t, cdim), axis=cdim), cdim)
    if weight is None:
        return x_t, None if every else keep.astype(x.dtype)
    return x_t, (xp.take(weight, t) if every else xp.where(keep, xp.take(weight, t), 0)
                 ).astype(x.dtype)


def _nll_loss(xp, x, target, weight, reduction="mean", ignore_index=-100):
    x_t, w_t = _picked(xp, x, target, weight, ignore_index)
    loss = -x_t if w_t is None else -w_t * x_t
    if reduction == "mean":  # all ignored: 0 / 0 = nan, as torch
        return loss.sum() / (w_t.sum() if w_t is not None else x.dtype.type(loss.size))
    return loss.sum() if reduction == "sum" else loss


def _nll_loss_grad(ops, g, out, x, target, weight, reduction="mean", ignore_index=-100):
    keep = target != ignore_index
    cdim = 1 if x.ndim >= 2 else 0
    if weight is None and bool(keep.all()):
        n = math.prod(target.shape)
        if reduction != "none":  # one number for every sample
            g = ops.broadcast_to(-g / n if reduction == "mean" else -g, shape=tuple(target.shape))
        else:
            g = -g
        return ops.scatter_zeros(g, target, shape=x.shape, dim=cdim)
    t = ops.where(keep, target, 0)
    w_t = ops.where(keep, ops.take(weight, t), 0) if weight is not None else keep * 1.0
    if reduction == "mean":  # every sample ignored: no gradient at all (not 0 / 0), as torch
        w_t = ops.where(keep, w_t / ops.sum(w_t), 0)
    return ops.scatter_zeros(-g * w_t, t, shape=x.shape, dim=cdim)


defop("nll_loss", _nll_loss, (_nll_loss_grad, None, None), promote_args=(0, 2),
      node=lambda args, p: "NllLossBackward0" if args[0].ndim <= 2 else "NllLoss2DBackward0",
      method=False, function=False)

# -- regression losses on d = input - target -------------------------------------------------------


def _mse_loss(xp, x, y, reduction="mean"):
    return _reduce(xp, (x - y) * (x - y), reduction)


def _mse_grad(ops, g, out, x, y, reduction="mean"):
    return 2 * (x - y) * _per_element(g, math.prod((x - y).shape), reduction)


defop("mse_loss", _mse_loss,
      (_mse_grad, lambda ops, g, out, x, y, reduction="mean": -_mse_grad(ops, g, out, x, y,
                                                                       reduction)),
      dtypes=FLOAT, method=False, function=False)


def _smooth_l1_loss(xp, x, y, reduction="mean", beta=1.0):
    d = x - y
    z = xp.abs(d)
    return _reduce(xp, xp.where(z < beta, 0.5 * d * d / beta, z - 0.5 * beta), reduction)


def _smooth_l1_grad(ops, g, out, x, y, reduction="mean", beta=1.0):
    d = x - y  # d / beta inside the quadratic piece, sign(d) outside
    slope = ops.clamp(d / beta, min=-1.0, max=1.0)
    return slope * _per_element(g, math.prod(d.shape), reduction)


defop("smooth_l1_loss", _smooth_l1_loss,
      (_smooth_l1_grad, lambda ops, g, out, x, y, reduction="mean", beta=1.0:
       -_smooth_l1_grad(ops, g, out, x, y, reduction, beta)),
      dtypes=FLOAT, method=False, function=False, node="SmoothL1LossBackward0")


def _huber_loss(xp, x, y, reduction="mean", delta=1.0):
    d = x - y
    z = xp.abs(d)
    return _reduce(xp, xp.where(z < delta, 0.5 * d * d, delta * (z - 0.5 * delta)), reduction)


def _huber_grad(ops, g, out, x, y, reduction="mean", delta=1.0):
    d = x - y
    return ops.clamp(d, min=-delta, max=delta) * _per_element(g, math.prod(d.shape), reduction)


defop("huber_loss", _huber_loss,
      (_huber_grad, lambda ops, g, out, x, y, reduction="mean", delta=1.0:
       -_huber_grad(ops, g, out, x, y, reduction, delta)),
      dtypes=FLOAT, method=False, function=False)

# -- binary cross-entropy -------------------------------------------------------------------------

_EPS = 1e-12  # torch clamps (1 - p) p from below in the gradient, and log p at -100


def _bce(xp, p, y, weight, reduction="mean"):
    if p.size and (p.min() < 0 or p.max() > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_p = xp.maximum(xp.log(p), -100)
    log_1p = xp.maximum(xp.log1p(-p), -100)
    loss = -(y * log_p + (1 - y) * log_1p)
    return _reduce(xp, loss if weight is None else loss * weight, reduction)


def _weighted(g, weight):
    return g if weight is None else g * weight


def _bce_grad_p(ops, g, out, p, y, weight, reduction="mean"):
    gw = _weighted(_per_element(g, math.prod(p.shape), reduction), weight)
    return gw * (p - y) / ops.clamp((1 - p) * p, min=_EPS)


def _bce_grad_y(ops, g, out, p, y, weight, reduction="mean"):
    gw = _weighted(_per_element(g, math.prod(p.shape), reduction), weight)
    return gw * (ops.log1p(-p) - ops.log(p))  # -logit(p), unclamped as torch


defop("binary_cross_entropy", _bce, (_bce_grad_p, _bce_grad_y, None), dtypes=FLOAT,
      method=False, function=False)


def _bce_logits(xp, x, y, weight, pos_weight, reduction="mean"):
    softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # log(1 + e^-x), stable
    lw = 1 if pos_weight is None else (pos_weight - 1) * y + 1
    loss = (1 - y) * x + lw * softplus_neg
    return _reduce(xp, loss if weight is None else loss * weight, reduction)


def _bce_logits_grad_x(ops, g, out, x, y, weight, pos_weight, reduction="mean"):
    gw = _weighted(_per_element(g, math.prod((x - y).shape), reduction), weight)
    if pos_weight is None:
        return gw * (ops.sigmoid(x) - y)
    return gw * (((pos_weight - 1) * y + 1) * ops.sigmoid(x) - pos_weight * y)


def _bce_logits_grad_y(ops, g, out, x, y, weight, pos_weight, reduction="mean"):
    gw = _weighted(_per_element(g, math.prod((x - y).shape), reduction), weight)
    if pos_weight is None:
        return -gw * x
    return gw * ((pos_weight - 1) * ops.softplus(-x) - x)


defop("binary_cross_entropy_with_logits", _bce_logits,
      (_bce_logits_grad_x, _bce_logits_grad_y, None, None), dtypes=FLOAT, method=False,
      function=False)

# torch divides by a C++ number in cross_entropy with probabilities: DivBackward1, not 0
defop("div_scalar", lambda xp, x, other=1.0: x / other,
      lambda ops, g, out, x, other=1.0: g / other, dtypes=FLOAT, node="DivBackward1",
      method=False, function=False, saves=())
