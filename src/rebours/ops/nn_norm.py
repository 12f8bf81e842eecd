"""Normalisation rows (`rebours.nn.functional`): batch_norm, layer_norm, group_norm.

Each is a fused row with torch's node name (NativeBatchNormBackward0, ...) and torch's backward
formula, for speed and stability: with x̂ = (x - mean) / σ over the normalised set S of size n,
and ĝ = g * weight,

    dx = (ĝ - mean_S(ĝ) - x̂ mean_S(ĝ x̂)) / σ,   dweight = Σ g x̂,   dbias = Σ g

instead of the graph of a dozen primitives. The rules recompute the statistics from x with the
table's rows, so they are differentiable again (gradgradcheck).
"""

from __future__ import annotations

from .registry import defop


def _channel(ops, v, ndim):
    """A per-channel vector (C,) shaped to broadcast against (N, C, *)."""
    return ops.reshape(v, shape=(1, -1) + (1,) * (ndim - 2)) if ndim > 1 else v


def _stats(xp, x, dims, eps):
    mean = xp.mean(x, axis=dims, keepdims=True)
    var = xp.mean((x - mean) ** 2, axis=dims, keepdims=True)
    return mean, var, 1 / xp.sqrt(var + eps)


def _affine(out, weight, bias, shape):
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _normalised(ops, x, dims, eps):
    """(x̂, 1/σ) from x with the table's rows: differentiable, for the rules."""
    mean = ops.mean(x, dim=dims, keepdim=True)
    xc = x - mean
    invstd = ops.rsqrt(ops.mean(xc * xc, dim=dims, keepdim=True) + eps)
    return xc * invstd, invstd


def _dx(ops, gw, xhat, invstd, dims):
    """Torch's formula: (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) / σ over the normalised dims."""
    return invstd * (gw - ops.mean(gw, dim=dims, keepdim=True)
                     - xhat * ops.mean(gw * xhat, dim=dims, keepdim=True))


def _sum_over(ops, v, dims):
    return ops.sum(v, dim=dims) if dims else v


# -- batch_norm: statistics over (N, *) for each channel; running stats in eval mode ------------


def _bn_dims(x):
    return (0,) + tuple(range(2, x.ndim))


def _batch_norm(xp, x, weight, bias, running_mean, running_var, training=False, eps=1e-5):
    """(out, batch mean, biased batch var): nn.functional updates the running stats from the
    last two (they are not differentiable outputs)."""
    dims = _bn_dims(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var, invstd = _stats(xp, x, dims, eps)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
        invstd = 1 / xp.sqrt(var + eps)
    out = _affine((x - mean) * invstd, weight, bias, shape)
    return out, xp.reshape(mean, (-1,)), xp.reshape(var, (-1,))


def _bn_xhat(ops, x, running_mean, running_var, training, eps):
    if training:
        return _normalised(ops, x, _bn_dims(x), eps)
    invstd = ops.rsqrt(_channel(ops, running_var, x.ndim) + eps)
    return (x - _channel(ops, running_mean, x.ndim)) * invstd, invstd


def _bn_grad_x(ops, g, out, x, weight, bias, running_mean, running_var, training=False,
               eps=1e-5):
    xhat, invstd = _bn_xhat(ops, x, running_mean, running_var, training, eps)
    gw = g[0] if weight is None else g[0] * _channel(ops, weight, x.ndim)
    return _dx(ops, gw, xhat, invstd, _bn_dims(x)) if training else gw * invstd


def _bn_grad_w(ops, g, out, x, weight, bias, running_mean, running_var, training=False,
               eps=1e-5):
    xhat, _ = _bn_xhat(ops, x, running_mean, running_var, training, eps)
    return ops.sum(g[0] * xhat, dim=_bn_dims(x))


defop("batch_norm", _batch_norm,
      (_bn_grad_x, _bn_grad_w,
       lambda ops, g, out, x, weight, bias, running_mean, running_var, training=False,
       eps=1e-5: ops.sum(g[0], dim=_bn_dims(x)), None, None),
      nout=3, diff_outputs=(0,), promote_args=(0, 1, 2), node="NativeBatchNormBackward0",
      method=False, function=False, saves=("x", "weight", "running_mean", "running_var"))

# -- layer_norm: statistics over the trailing normalized_shape dims -------------------------------


def _ln_dims(x, normalized_shape):
    return tuple(range(x.ndim - len(normalized_shape), x.ndim))


def _layer_norm(xp, x, weight, bias, normalized_shape=(), eps=1e-5):
    dims = _ln_dims(x, normalized_shape)
    mean, _, invstd = _stats(xp, x, dims, eps) if x.size else (x, x, x)
    return _affine((x - mean) * invstd, weight, bias, tuple(normalized_shape))


def _ln_grad_x(ops, g, out, x, weight, bias, normalized_shape=(), eps=1e-5):
    dims = _ln_dims(x, normalized_shape)
    xhat, invstd = _normalised(ops, x, dims, eps)
    return _dx(ops, g if weight is None else g * weight, xhat, invstd, dims)


def _ln_grad_w(ops, g, out, x, weight, bias, normalized_shape=(), eps=1e-5):
    xhat, _ = _normalised(ops, x, _ln_dims(x, normalized_shape), eps)
    return _sum_over(ops, g * xhat, tuple(range(x.ndim - len(normalized_shape))))


defop("layer_norm", _layer_norm,
      (_ln_grad_x, _ln_grad_w, lambda ops, g, out, x, weight, bias, normalized_shape=(),
       eps=1e-5: _sum_over(ops, g, tuple(range(x.ndim - len(normalized_shape))))),
      promote_args=(0, 1, 2), node="NativeLayerNormBackward0", method=False, function=False,
      saves=("x", "weight"))

# -- group_norm: statistics over each group of C / G channels and all spatial positions ----------


def _grouped(x, num_groups):
    return (x.shape[0], num_groups, -1)


def _group_norm(xp, x, weight, bias, num_groups=1, eps=1e-5):
    xr = xp.reshape(x, _grouped(x, num_groups))
    mean, _, invstd = _stats(xp, xr, (2,), eps) if x.size else (xr, xr, xr)
    out = xp.reshape((xr - mean) * invstd, x.shape)
    return _affine(out, weight, bias, (-1,) + (1,) * (x.ndim - 2))


def _gn_xhat(ops, x, num_groups, eps):
    xhat, invstd = _normalised(ops, ops.reshape(x, shape=_grouped(x, num_groups)), (2,), eps)
    return xhat, invstd


def _gn_grad_x(ops, g, out, x, weight, bias, num_groups=1, eps=1e-5):
    xhat, invstd = _gn_xhat(ops, x, num_groups, eps)
    gw = g if weight is None else g * _channel(ops, weight, x.ndim)
    dx = _dx(ops, ops.reshape(gw, shape=_grouped(x, num_groups)), xhat, invstd, (2,))
    return ops.reshape(dx, shape=tuple(x.shape))


def _gn_grad_w(ops, g, out, x, weight, bias, num_groups=1, eps=1e-5):
    xhat, _ = _gn_xhat(ops, x, num_groups, eps)
    return ops.sum(g * ops.reshape(xhat, shape=tuple(x.shape)), dim=_bn_dims(x))


defop("group_norm", _group_norm,
      (_gn_grad_x, _gn_grad_w, lambda ops, g, out, x, weight, bias, num_groups=1, eps=1e-5:
       ops.sum(g, dim=_bn_dims(x))),
      promote_args=(0, 1, 2), node="NativeGroupNormBackward0", method=False, function=False,
      saves=("x", "weight"))
