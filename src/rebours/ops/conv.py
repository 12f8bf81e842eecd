"""Convolution rows: N-d convolution (and its transpose) with stride, padding, dilation, groups.

Layout as torch: x (N, C, *S), weight (O, C/groups, *K), bias (O,) or None; `padding` is one
(lo, hi) pair per spatial dim. Three rows, each the adjoint of the others, so that every
derivative of a convolution is again one of them (double backward works through the same code):

    convolution         y = conv_w(x) + b     im2col (a strided window view) + one tensordot/group
    conv_input_grad     dx = conv_w^T(g)      one tensordot/group, then K strided adds (col2im)
    conv_weight_grad    dw = <windows(x), g>  one tensordot/group

`convolution(..., transposed=True)` is conv_transpose: conv_input_grad plus the bias. Every row
runs through `xp`, so CuPy (which has the same stride tricks) can run them too.
"""

from __future__ import annotations

import itertools

from .registry import defop


def windows(xp, x, k, stride, dilation, out):
    """A view of `x` with the last len(k) dims replaced by (*out, *k): window p, offset j reads
    x[..., p * stride + j * dilation]. No copy; the tensordot that reads it is the im2col."""
    nd = len(k)
    axes = tuple(range(x.ndim - nd, x.ndim))
    span = tuple(d * (kk - 1) + 1 for kk, d in zip(k, dilation))
    swv = getattr(xp.lib.stride_tricks, "sliding_window_view", None)
    if swv is None:  # an older CuPy: the same view by hand
        st = x.strides
        return xp.lib.stride_tricks.as_strided(
            x, x.shape[:-nd] + tuple(out) + tuple(k),
            st[:-nd] + tuple(st[a] * s for a, s in zip(axes, stride))
            + tuple(st[a] * d for a, d in zip(axes, dilation)))
    w = swv(x, span, axis=axes)
    lead = (slice(None),) * (x.ndim - nd)
    return w[lead + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride))
             + tuple(slice(None, None, d) for d in dilation)]


def _columns(xp, win, nd):
    """The im2col matrix of a window view (N, C, *out, *k): (N, C*K, P), one copy whose inner
    loop runs along rows of x (the kernel offsets outside, the output positions inside)."""
    n, c = win.shape[:2]
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return xp.reshape(xp.transpose(win, perm),
                      (n, c * _prod(win.shape[2 + nd:]), _prod(win.shape[2:2 + nd])))


def _prod(t):
    n = 1
    for v in t:
        n *= v
    return n


def pad(xp, x, padding, value=0):
    """Pad the last len(padding) dims by (lo, hi) each (a negative hi crops)."""
    if not any(lo or hi for lo, hi in padding):
        return x
    if any(hi < 0 for _, hi in padding):
        x = x[(Ellipsis,) + tuple(slice(None, hi if hi < 0 else None) for _, hi in padding)]
        padding = tuple((lo, max(hi, 0)) for lo, hi in padding)
        if not any(lo or hi for lo, hi in padding):
            return x
    width = ((0, 0),) * (x.ndim - len(padding)) + tuple(tuple(p) for p in padding)
    return xp.pad(x, width, constant_values=value)


def conv_out_size(size, k, stride, padding, dilation):
    return tuple((s + lo + hi - d * (kk - 1) - 1) // st + 1
                 for s, kk, st, (lo, hi), d in zip(size, k, stride, padding, dilation))


def fit(size, out, k, stride, padding, dilation):
    """`padding` with each hi lowered so that a convolution of `size` has `out` positions: the
    adjoint of a transposed convolution whose output_padding reached past the last window."""
    have = conv_out_size(size, k, stride, padding, dilation)
    return tuple((lo, hi - (h - o) * st)
                 for (lo, hi), h, o, st in zip(padding, have, out, stride))


def _conv(xp, x, weight, stride, padding, dilation, groups):
    nd = weight.ndim - 2
    k = weight.shape[2:]
    xpd = pad(xp, x, padding)
    out = conv_out_size(x.shape[2:], k, stride, padding, dilation)
    win = windows(xp, xpd, k, stride, dilation, out)  # (N, C, *out, *k)
    og, cg = weight.shape[0] // groups, weight.shape[1]
    if groups == 1:  # one batched matmul (O, C*K) @ (N, C*K, P): the result is (N, O, P)
        y = xp.matmul(xp.reshape(weight, (weight.shape[0], -1)), _columns(xp, win, nd))
        return xp.reshape(y, y.shape[:2] + tuple(out))
    # weight first: tensordot lays the windows out as (C, *k, N, *out), whose copy (the im2col)
    # runs along contiguous rows of x; (N, *out, C, *k) would copy k-long runs, ~4x slower
    axes = (list(range(1, 2 + nd)), [1] + list(range(2 + nd, 2 + 2 * nd)))
    y = xp.empty((x.shape[0], weight.shape[0]) + out, dtype=xp.result_type(x, weight))
    for i in range(groups):
        r = xp.tensordot(weight[i * og:(i + 1) * og], win[:, i * cg:(i + 1) * cg], axes)
        y[:, i * og:(i + 1) * og] = xp.moveaxis(r, 0, 1)
    return y


def _conv_input_grad(xp, g, weight, shape=(), stride=(1,), padding=((0, 0),), dilation=(1,),
                     groups=1):
    """The adjoint of `_conv` in x: each window's column of w^T g is added back where it was
    read, one strided add per kernel offset (K adds in all, not one per output position)."""
    k, out = weight.shape[2:], g.shape[2:]
    full = tuple(max(lo + s + max(hi, 0), (o - 1) * st + d * (kk - 1) + 1)
                 for s, (lo, hi), o, st, d, kk in zip(shape[2:], padding, out, stride, dilation, k))
    # channels first (C, N, *full): the adds then run along contiguous rows (~2x faster)
    z = xp.zeros((shape[1], shape[0]) + full, dtype=xp.result_type(g, weight))
    og, cg = weight.shape[0] // groups, weight.shape[1]
    for i in range(groups):
        # (cg, *k, N, *out): one column per kernel offset
        cols = xp.tensordot(weight[i * og:(i + 1) * og], g[:, i * og:(i + 1) * og], ([0], [1]))
        zg = z[i * cg:(i + 1) * cg]
        for off in itertools.product(*(range(kk) for kk in k)):
            sl = tuple(slice(j * d, j * d + (o - 1) * st + 1, st)
                       for j, d, o, st in zip(off, dilation, out, stride))
            zg[(slice(None), slice(None)) + sl] += cols[(slice(None),) + off]
    crop = (slice(None),) * 2 + tuple(slice(lo, lo + s) for (lo, _), s in zip(padding, shape[2:]))
    return xp.ascontiguousarray(xp.moveaxis(z[crop], 0, 1))


def _conv_weight_grad(xp, x, g, shape=(), stride=(1,), padding=((0, 0),), dilation=(1,),
                      groups=1):
    """The adjoint of `_conv` in w: the windows of x contracted with g over batch and positions."""
    nd = len(shape) - 2
    win = windows(xp, pad(xp, x, padding), shape[2:], stride, dilation, g.shape[2:])
    og, cg = shape[0] // groups, shape[1]
    if groups == 1:  # sum over the batch of (O, P) @ (P, C*K): N small GEMMs, no copy of g
        gm = xp.reshape(g, g.shape[:2] + (_prod(g.shape[2:]),))
        dw = xp.sum(xp.matmul(gm, xp.swapaxes(_columns(xp, win, nd), 1, 2)), axis=0)
        return xp.reshape(dw, tuple(shape))
    axes = [0] + list(range(2, 2 + nd))
    dw = xp.empty(tuple(shape), dtype=xp.result_type(x, g))
    for i in range(groups):  # windows first, for the fast im2col layout: (C, *k, O) -> (O, C, *k)
        r = xp.tensordot(win[:, i * cg:(i + 1) * cg], g[:, i * og:(i + 1) * og], (axes, axes))
        dw[i * og:(i + 1) * og] = xp.moveaxis(r, -1, 0)
    return dw


def _transposed_shape(x, weight, stride, padding, dilation, output_padding, groups):
    return (x.shape[0], weight.shape[1] * groups) + tuple(
        (s - 1) * st - lo - hi + d * (kk - 1) + op + 1 for s, st, (lo, hi), d, kk, op
        in zip(x.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding))


def _convolution(xp, x, weight, bias, stride=(1,), padding=((0, 0),), dilation=(1,),
                 transposed=False, output_padding=(0,), groups=1):
    if transposed:
        shape = _transposed_shape(x, weight, stride, padding, dilation, output_padding, groups)
        y = _conv_input_grad(xp, x, weight, shape, stride, padding, dilation, groups)
    else:
        y = _conv(xp, x, weight, stride, padding, dilation, groups)
    if bias is not None:
        y += xp.reshape(bias, (1, -1) + (1,) * (y.ndim - 2))
    return y


def _x_grad(ops, g, out, x, weight, bias, stride=(1,), padding=((0, 0),), dilation=(1,),
            transposed=False, output_padding=(0,), groups=1):
    kw = {"stride": stride, "dilation": dilation, "groups": groups}
    if transposed:
        pads = fit(g.shape[2:], x.shape[2:], weight.shape[2:], stride, padding, dilation)
        return ops.convolution(g, weight, None, padding=pads, **kw)
    return ops.conv_input_grad(g, weight, shape=tuple(x.shape), padding=padding, **kw)


def _w_grad(ops, g, out, x, weight, bias, stride=(1,), padding=((0, 0),), dilation=(1,),
            transposed=False, output_padding=(0,), groups=1):
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if transposed:  # y = conv_w^T(x): <G, conv_w^T x> = <conv_w G, x>, linear in w
        return ops.conv_weight_grad(g, x, shape=tuple(weight.shape), **kw)
    return ops.conv_weight_grad(x, g, shape=tuple(weight.shape), **kw)


def _b_grad(ops, g, out, x, weight, bias, **_):
    return ops.sum(g, dim=(0,) + tuple(range(2, len(g.shape))))


defop("convolution", _convolution, (_x_grad, _w_grad, _b_grad), saves=("x", "weight"),
      node="ConvolutionBackward0", method=False, function=False)
defop("conv_input_grad", _conv_input_grad,
      (lambda ops, g, out, gy, weight, shape=(), stride=(1,), padding=((0, 0),), dilation=(1,),
       groups=1: ops.convolution(g, weight, None, stride=stride, dilation=dilation, groups=groups,
                                 padding=fit(shape[2:], gy.shape[2:], weight.shape[2:], stride,
                                             padding, dilation)),
       lambda ops, g, out, gy, weight, shape=(), stride=(1,), padding=((0, 0),), dilation=(1,),
       groups=1: ops.conv_weight_grad(g, gy, shape=tuple(weight.shape), stride=stride,
                                      padding=padding, dilation=dilation, groups=groups)),
      node="ConvolutionBackwardBackward0", method=False, function=False)
defop("conv_weight_grad", _conv_weight_grad,
      (lambda ops, g, out, x, gy, shape=(), stride=(1,), padding=((0, 0),), dilation=(1,),
       groups=1: ops.conv_input_grad(gy, g, shape=tuple(x.shape), stride=stride,
                                     padding=padding, dilation=dilation, groups=groups),
       lambda ops, g, out, x, gy, shape=(), stride=(1,), padding=((0, 0),), dilation=(1,),
       groups=1: ops.convolution(x, g, None, stride=stride, dilation=dilation, groups=groups,
                                 padding=fit(x.shape[2:], gy.shape[2:], shape[2:], stride,
                                             padding, dilation))),
      node="ConvolutionBackwardBackward0", method=False, function=False)
