"""Pooling rows over the last len(kernel_size) dims: max (with indices) and average pooling.
(The adaptive forms are in adaptive.py.)

Max pools return (values, indices into the flattened spatial plane), as torch; their gradient
goes to the argmax (the first maximum on ties, as torch) through `gather_backward`, whose own
vjp is `gather`. Average pools are linear: each row's vjp is its adjoint row, and back.
"""

from __future__ import annotations

import itertools
import math

from .conv import pad, windows
from .registry import KEEP, defop


def pool_out_size(s, k, st, p, d, ceil_mode):
    """torch's pooling_output_shape: the windows that start inside the (left-padded) input."""
    o = (s + 2 * p - d * (k - 1) - 1 + (st - 1 if ceil_mode else 0)) // st + 1
    if ceil_mode and (o - 1) * st >= s + p:
        o -= 1
    return o


def _geometry(shape, kernel_size, stride, padding, dilation, ceil_mode):
    """(output sizes, (lo, hi) padding that makes every window fit)."""
    nd = len(kernel_size)
    out, pads = [], []
    for s, k, st, p, d in zip(shape[-nd:], kernel_size, stride, padding, dilation):
        o = pool_out_size(s, k, st, p, d, ceil_mode)
        out.append(o)
        pads.append((p, max(0, (o - 1) * st + d * (k - 1) + 1 - s - p)))
    return tuple(out), tuple(pads)


def flat_index(xp, shape, positions):
    """Index into the flattened last len(positions) dims from per-dim positions."""
    idx = positions[0]
    for s, pos in zip(shape[1:], positions[1:]):
        idx = idx * s + pos
    return idx


def _low(x):
    return -math.inf if x.dtype.kind in "fc" else x.min() if x.size else 0


def _max_pool(xp, x, kernel_size=(1,), stride=(1,), padding=(0,), dilation=(1,),
              ceil_mode=False):
    """torch's scan, one kernel offset at a time over all windows: a tap replaces the best so
    far when it is larger or NaN (ties keep the first maximum); taps in the padding never count.
    The values are a chain of maximum(); the winning offset is blended in arithmetically (a
    masked where() is ~10x slower on random masks)."""
    nd = len(kernel_size)
    size = x.shape[-nd:]
    out, pads = _geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xpd = pad(xp, x, pads, _low(x))
    starts = [xp.reshape(xp.arange(o) * st - p, (o,) + (1,) * (nd - 1 - i))
              for i, (o, st, p) in enumerate(zip(out, stride, padding))]
    padded = any(lo or hi for lo, hi in pads)
    floats = x.dtype.kind in "fc"
    best = arg = seen = None
    for k, off in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        v = xpd[(Ellipsis,) + tuple(slice(j * d, j * d + (o - 1) * st + 1, st)
                                    for j, d, o, st in zip(off, dilation, out, stride))]
        valid = None
        if padded:
            valid = True
            for s0, j, d, n in zip(starts, off, dilation, size):
                valid = valid & (s0 + j * d >= 0) & (s0 + j * d < n)
        if best is None:
            best, arg, seen = v, xp.zeros(v.shape, xp.int16), valid
            continue
        take = (v > best) | xp.isnan(v) if floats else v > best
        if padded:
            take = (take | ~seen) & valid
            seen = seen | valid
        arg = arg + take * (xp.int16(k) - arg)
        best = xp.maximum(best, v)  # the same value as torch's where(take, v, best)
    offs = xp.unravel_index(arg, kernel_size)
    positions = [s0 + o * d for s0, o, d in zip(starts, offs, dilation)]
    vals = best.copy() if best.base is not None else best
    return vals, flat_index(xp, size, positions).astype(xp.int64)


def _index_scatter(xp, g, idx, shape=(), nd=2):
    """zeros(shape), with g added at the flat spatial positions idx (one bincount, ~3x faster
    than add.at): the gradient of a max pool."""
    n = math.prod(shape[:-nd])
    plane = math.prod(shape[-nd:])
    flat = xp.reshape(idx, (n, -1)) + xp.arange(n)[:, None] * plane
    z = xp.bincount(xp.reshape(flat, (-1,)), weights=xp.reshape(g, (-1,)), minlength=n * plane)
    return xp.reshape(z, tuple(shape)).astype(g.dtype)


def _index_take(ops, g, idx, nd):
    """The adjoint of _index_scatter: g read at idx."""
    lead = tuple(g.shape[:-nd])
    taken = ops.gather(ops.reshape(g, shape=lead + (-1,)), ops.reshape(idx, shape=lead + (-1,)),
                       dim=-1)
    return ops.reshape(taken, shape=tuple(idx.shape))


def index_grad(ops, g, idx, shape, nd):
    return ops.index_scatter(g, idx, shape=tuple(shape), nd=nd)


defop("index_scatter", _index_scatter,
      (lambda ops, g, out, gy, idx, shape=(), nd=2: _index_take(ops, g, idx, nd), None),
      dtypes=KEEP, promote_args=(0,), saves=("idx",), method=False, function=False,
      node=lambda args, p: f"MaxPool{p['nd']}DWithIndicesBackwardBackward0")


def max_name(nd, adaptive=False):
    return lambda args, p: (f"AdaptiveMaxPool{nd(p)}DBackward0" if adaptive
                            else f"MaxPool{nd(p)}DWithIndicesBackward0")


defop("max_pool", _max_pool,
      lambda ops, g, out, x, kernel_size=(1,), stride=(1,), padding=(0,), dilation=(1,),
      ceil_mode=False: index_grad(ops, g[0], out[1], x.shape, len(kernel_size)),
      nout=2, diff_outputs=(0,), dtypes=KEEP, saves=("out",), method=False, function=False,
      node=max_name(lambda p: len(p["kernel_size"])))

# -- average pooling -----------------------------------------------------------------------------


def _avg_divisor(xp, shape, kernel_size, stride, padding, out, count_include_pad,
                 divisor_override, dtype):
    """torch's divide factor per output position: the window clipped to the padded input (with
    count_include_pad) or to the input itself; separable, so an outer product of per-dim counts."""
    if divisor_override:
        return divisor_override
    div = xp.ones((1,) * len(out), dtype=dtype)
    for i, (s, k, st, p, o) in enumerate(zip(shape, kernel_size, stride, padding, out)):
        start = xp.arange(o) * st - p
        end = xp.minimum(start + k, s + p)
        n = end - start if count_include_pad else (xp.minimum(end, s) - xp.maximum(start, 0))
        div = div * xp.reshape(n.astype(dtype), (o,) + (1,) * (len(out) - 1 - i))
    return div


def _avg_pool(xp, x, kernel_size=(1,), stride=(1,), padding=(0,), ceil_mode=False,
              count_include_pad=True, divisor_override=None):
    nd = len(kernel_size)
    ones = (1,) * nd
    out, pads = _geometry(x.shape, kernel_size, stride, padding, ones, ceil_mode)
    win = windows(xp, pad(xp, x, pads), kernel_size, stride, ones, out)
    total = xp.sum(win, axis=tuple(range(-nd, 0)))
    return total / _avg_divisor(xp, x.shape[-nd:], kernel_size, stride, padding, out,
                                count_include_pad, divisor_override, x.dtype)


def _avg_pool_backward(xp, g, shape=(), kernel_size=(1,), stride=(1,), padding=(0,),
                       ceil_mode=False, count_include_pad=True, divisor_override=None):
    nd = len(kernel_size)
    out, pads = _geometry(shape, kernel_size, stride, padding, (1,) * nd, ceil_mode)
    g = g / _avg_divisor(xp, shape[-nd:], kernel_size, stride, padding, out, count_include_pad,
                         divisor_override, g.dtype)
    full = tuple(s + lo + hi for s, (lo, hi) in zip(shape[-nd:], pads))
    z = xp.zeros(tuple(shape[:-nd]) + full, dtype=g.dtype)
    lead = (Ellipsis,)
    for off in itertools.product(*(range(k) for k in kernel_size)):
        z[lead + tuple(slice(j, j + (o - 1) * st + 1, st) for j, o, st
                       in zip(off, out, stride))] += g
    return z[lead + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, shape[-nd:]))]


defop("avg_pool", _avg_pool,
      lambda ops, g, out, x, **p: ops.avg_pool_backward(g, shape=tuple(x.shape), **p),
      dtypes=KEEP, saves=(), method=False, function=False,
      node=lambda args, p: f"AvgPool{len(p['kernel_size'])}DBackward0")
defop("avg_pool_backward", _avg_pool_backward,
      lambda ops, g, out, gy, shape=(), **p: ops.avg_pool(g, **p),
      dtypes=KEEP, saves=(), method=False, function=False,
      node=lambda args, p: f"AvgPool{len(p['kernel_size'])}DBackwardBackward0")
