"""Adaptive pooling rows: average and max over torch's adaptive windows of the last
len(output_size) dims (start = floor(i In / Out), end = ceil((i+1) In / Out)).

Windows differ in length by at most one, so each dim becomes an (Out, K) table of input indices
(shorter windows repeat their last index) that one gather reads: no loop over output cells.
"""

from __future__ import annotations

from .pool import flat_index, index_grad, max_name
from .registry import KEEP, defop


def adaptive_taps(xp, size, out):
    """(index (out, K), valid (out, K)): window i covers [floor(i size/out), ceil((i+1) size/out));
    shorter windows repeat their last index (which changes neither a max nor its first argmax)."""
    i = xp.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    k = int((end - start).max()) if out else 1
    idx = start[:, None] + xp.arange(k)[None, :]
    valid = idx < end[:, None]
    return xp.minimum(idx, end[:, None] - 1), valid


def _adaptive_avg(xp, x, output_size=(1,)):
    nd = len(output_size)
    total, count = x, 1
    for a, o in zip(range(x.ndim - nd, x.ndim), output_size):
        idx, valid = adaptive_taps(xp, x.shape[a], o)
        t = xp.take(total, idx, axis=a)  # (..., o, K, ...)
        mask = xp.reshape(valid, valid.shape + (1,) * (x.ndim - 1 - a))
        total = xp.sum(xp.where(mask, t, 0), axis=a + 1)
        count = count * xp.reshape(valid.sum(1), (o,) + (1,) * (x.ndim - 1 - a))
    return total / count.astype(x.dtype)


def _adaptive_avg_backward(xp, g, shape=(), output_size=(1,)):
    nd = len(output_size)
    count = 1
    for a, o in zip(range(len(shape) - nd, len(shape)), output_size):
        idx, valid = adaptive_taps(xp, shape[a], o)
        count = count * xp.reshape(valid.sum(1), (o,) + (1,) * (len(shape) - 1 - a))
    z = g / count.astype(g.dtype)
    for a, o in zip(range(len(shape) - nd, len(shape)), output_size):
        idx, valid = adaptive_taps(xp, shape[a], o)
        zm = xp.moveaxis(z, a, 0)
        acc = xp.zeros((shape[a],) + zm.shape[1:], dtype=g.dtype)
        for j in range(idx.shape[1]):
            sel = valid[:, j]
            xp.add.at(acc, idx[sel, j], zm[sel])
        z = xp.moveaxis(acc, 0, a)
    return z


defop("adaptive_avg_pool", _adaptive_avg,
      lambda ops, g, out, x, output_size=(1,):
      ops.adaptive_avg_pool_backward(g, shape=tuple(x.shape), output_size=output_size),
      dtypes=KEEP, saves=(), method=False, function=False,
      node=lambda args, p: f"AdaptiveAvgPool{len(p['output_size'])}DBackward0")
defop("adaptive_avg_pool_backward", _adaptive_avg_backward,
      lambda ops, g, out, gy, shape=(), output_size=(1,):
      ops.adaptive_avg_pool(g, output_size=output_size),
      dtypes=KEEP, saves=(), method=False, function=False,
      node=lambda args, p: f"AdaptiveAvgPool{len(p['output_size'])}DBackwardBackward0")


def _adaptive_max(xp, x, output_size=(1,)):
    nd = len(output_size)
    lead = x.ndim - nd
    taps = [adaptive_taps(xp, x.shape[lead + i], o)[0] for i, o in enumerate(output_size)]
    index = []
    for i, t in enumerate(taps):  # dim i's (out, K) taps at positions (2i, 2i + 1)
        index.append(xp.reshape(t, (1,) * (2 * i) + t.shape + (1,) * (2 * (nd - 1 - i))))
    gathered = x[(Ellipsis,) + tuple(index)]  # (..., o0, K0, o1, K1, ...)
    perm = (tuple(range(lead)) + tuple(lead + 2 * i for i in range(nd))
            + tuple(lead + 2 * i + 1 for i in range(nd)))
    flat = xp.reshape(xp.transpose(gathered, perm), x.shape[:lead] + tuple(output_size) + (-1,))
    arg = xp.argmax(flat, axis=-1)
    vals = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    offs = xp.unravel_index(arg, tuple(t.shape[1] for t in taps))
    positions = [t[xp.reshape(xp.arange(o), (o,) + (1,) * (nd - 1 - i)), offs[i]]
                 for i, (t, o) in enumerate(zip(taps, output_size))]
    return vals, flat_index(xp, x.shape[lead:], positions).astype(xp.int64)


defop("adaptive_max_pool", _adaptive_max,
      lambda ops, g, out, x, output_size=(1,):
      index_grad(ops, g[0], out[1], x.shape, len(output_size)),
      nout=2, diff_outputs=(0,), dtypes=KEEP, saves=("out",), method=False, function=False,
      node=max_name(lambda p: len(p["output_size"]), adaptive=True))
