"""Rearranging rows: roll, flip, repeat, unfold (sliding windows), the diagonal family
(diagonal, diag_embed, trace), tril/triu, and `unsafe_view` (a reshape torch records as
UnsafeViewBackward0, the last step of kron and einsum-like composites).
"""

from __future__ import annotations

from .registry import KEEP, defop


def _neg(shifts):
    return tuple(-s for s in shifts) if isinstance(shifts, (tuple, list)) else -shifts


defop("roll", lambda xp, x, shifts=0, dims=None: xp.roll(x, shifts, axis=dims),
      lambda ops, g, out, x, shifts=0, dims=None: ops.roll(g, shifts=_neg(shifts), dims=dims),
      dtypes=KEEP, saves=())


def _flip(xp, x, dims=()):
    return xp.flip(x, axis=dims).copy() if x.ndim else x.copy()


defop("flip", _flip, lambda ops, g, out, x, dims=(): ops.flip(g, dims=dims), dtypes=KEEP,
      saves=())


def _repeat(xp, x, sizes=()):
    sizes = tuple(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    x = xp.reshape(x, (1,) * (len(sizes) - x.ndim) + x.shape)
    return xp.tile(x, sizes)


def _repeat_grad(ops, g, out, x, sizes=()):
    """Each input element appears once per tile: split each dim into (tiles, size), sum tiles."""
    sizes = tuple(sizes)
    shape = (1,) * (len(sizes) - len(x.shape)) + tuple(x.shape)
    split = []
    for r, s in zip(sizes, shape):
        split += [r, s]
    g = ops.reshape(g, shape=tuple(split))
    g = ops.sum(g, dim=tuple(range(0, 2 * len(sizes), 2))) if sizes else g
    return ops.reshape(g, shape=tuple(x.shape))


defop("repeat", _repeat, _repeat_grad, dtypes=KEEP, saves=(), function=False)


def _unfold(xp, x, dimension=0, size=1, step=1):
    if not x.ndim:
        return xp.reshape(x, (1,))
    d = dimension % x.ndim
    if size > x.shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {x.shape[d]} but size "
                           f"is {size}")
    w = xp.lib.stride_tricks.sliding_window_view(x, size, axis=d)
    return w[tuple(slice(None) if a != d else slice(None, None, step) for a in range(x.ndim))]


def _unfold_backward(xp, g, shape=(), dimension=0, size=1, step=1):
    z = xp.zeros(shape, dtype=g.dtype)
    if not len(shape):
        return z + xp.reshape(g, ())
    d = dimension % len(shape)
    n = g.shape[d]
    for j in range(size):  # window offset j covers positions j, j + step, ...
        sl = tuple(slice(None) if a != d else slice(j, j + step * (n - 1) + 1, step)
                   for a in range(len(shape)))
        z[sl] += g[..., j]
    return z


defop("unfold", _unfold,
      lambda ops, g, out, x, dimension=0, size=1, step=1:
      ops.unfold_backward(g, shape=x.shape, dimension=dimension, size=size, step=step),
      dtypes=KEEP, saves=(), view=True, function=False)
defop("unfold_backward", _unfold_backward,
      lambda ops, g, out, gg, shape=(), dimension=0, size=1, step=1:
      ops.unfold(g, dimension=dimension, size=size, step=step),
      dtypes=KEEP, saves=(), method=False, function=False)
defop("unsafe_view", lambda xp, x, shape=(): xp.reshape(x, shape),
      lambda ops, g, out, x, shape=(): ops.reshape(g, shape=x.shape),
      dtypes=KEEP, saves=(), node="UnsafeViewBackward0", method=False, function=False)

# -- diagonals and triangles -----------------------------------------------------------------------


def _diag_index(xp, n1, n2, offset):
    k = max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    i = xp.arange(k)
    return i - min(offset, 0), i + max(offset, 0)


def _diagonal(xp, x, offset=0, dim1=0, dim2=1):
    m = xp.moveaxis(x, (dim1, dim2), (-2, -1))
    i, j = _diag_index(xp, m.shape[-2], m.shape[-1], offset)
    return m[..., i, j]


def _diagonal_backward(xp, g, shape=(), offset=0, dim1=0, dim2=1):
    z = xp.zeros(shape, dtype=g.dtype)
    m = xp.moveaxis(z, (dim1, dim2), (-2, -1))  # a view: writing into m writes into z
    i, j = _diag_index(xp, m.shape[-2], m.shape[-1], offset)
    m[..., i, j] = g
    return z


_diag_grad = (lambda ops, g, out, x, offset=0, dim1=0, dim2=1:
              ops.diagonal_backward(g, shape=x.shape, offset=offset, dim1=dim1, dim2=dim2))
defop("diagonal", _diagonal, _diag_grad, dtypes=KEEP, saves=())
defop("diagonal_copy", _diagonal, _diag_grad, dtypes=KEEP, saves=(),
      node="DiagonalBackward0_copy", method=False)
defop("diagonal_backward", _diagonal_backward,
      lambda ops, g, out, gg, shape=(), offset=0, dim1=0, dim2=1:
      ops.diagonal(g, offset=offset, dim1=dim1, dim2=dim2),
      dtypes=KEEP, saves=(), method=False, function=False)


def _diag_embed(xp, x, offset=0, dim1=-2, dim2=-1):
    n = x.shape[-1] + abs(offset)
    shape = x.shape[:-1] + (n, n)
    nd = len(shape)
    z = _diagonal_backward(xp, x, shape, offset, nd - 2, nd - 1)
    return xp.moveaxis(z, (nd - 2, nd - 1), (dim1 % nd, dim2 % nd))


defop("diag_embed", _diag_embed,
      lambda ops, g, out, x, offset=0, dim1=-2, dim2=-1:
      ops.diagonal(g, offset=offset, dim1=dim1, dim2=dim2), dtypes=KEEP, saves=())


def _trace(xp, x):
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return xp.asarray(xp.trace(x), dtype=x.dtype if x.dtype.kind in "fc" else xp.int64)


defop("trace", _trace,
      lambda ops, g, out, x: ops.diagonal_backward(
          ops.broadcast_to(g, shape=(min(x.shape),)), shape=x.shape, offset=0, dim1=0, dim2=1),
      dtypes=KEEP, saves=())
defop("tril", lambda xp, x, diagonal=0: xp.tril(x, diagonal),
      lambda ops, g, out, x, diagonal=0: ops.tril(g, diagonal=diagonal), dtypes=KEEP, saves=())
defop("triu", lambda xp, x, diagonal=0: xp.triu(x, diagonal),
      lambda ops, g, out, x, diagonal=0: ops.triu(g, diagonal=diagonal), dtypes=KEEP, saves=())
