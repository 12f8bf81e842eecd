"""Gather and scatter rows: gather/scatter/scatter_add along a dim, index_select/index_add,
masked_fill/masked_select, take, and the zero-filled scatters their backward rules call.

Torch's argument order puts `dim` between tensors (`gather(x, dim, index)`); rows take tensors
first and `dim` as a parameter, and the functions in `written.py` reorder.
"""

from __future__ import annotations

from .registry import KEEP, defop


def _d(x, dim):
    return dim % max(x.ndim, 1)


def _along(xp, index, dim):
    """Index arrays addressing `z[..., index, ...]` along `dim`, with index's own shape."""
    d = dim % max(index.ndim, 1)
    grids = list(xp.indices(index.shape, sparse=True))
    grids[d] = index
    return tuple(grids)


def _gather(xp, x, index, dim=0):
    if not x.ndim:
        return xp.reshape(x, index.shape).copy()
    if index.size == 0:
        return xp.zeros(index.shape, dtype=x.dtype)
    if index.ndim != x.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    return x[_along(xp, index, _d(x, dim))]


def _gather_backward(xp, g, index, shape=(), dim=0):
    """zeros(shape).scatter_add(dim, index, g): what gather's backward is."""
    z = xp.zeros(shape, dtype=g.dtype)
    if not len(shape):
        return z + xp.sum(g)
    if index.size:
        xp.add.at(z, _along(xp, index, dim), g)
    return z


defop("gather", _gather,
      (lambda ops, g, out, x, index, dim=0:
       ops.gather_backward(g, index, shape=x.shape, dim=dim), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, saves=("index",))
defop("gather_backward", _gather_backward,
      (lambda ops, g, out, gg, index, shape=(), dim=0: ops.gather(g, index, dim=dim), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, node="ScatterAddBackward0")


def _scatter(xp, x, index, src, dim=0):
    out = x.copy()
    if not x.ndim:
        return xp.reshape(src, ()).astype(x.dtype) if index.size else out
    sl = tuple(slice(0, s) for s in index.shape)
    out[_along(xp, index, _d(x, dim))] = src[sl] if src.ndim else src
    return out


def _scatter_value(xp, x, index, value=0, dim=0):
    return _scatter(xp, x, index, xp.asarray(value, dtype=x.dtype), dim)


def _scatter_add(xp, x, index, src, dim=0):
    out = x.copy()
    if not x.ndim:
        return out + xp.sum(src) if index.size else out
    sl = tuple(slice(0, s) for s in index.shape)
    xp.add.at(out, _along(xp, index, _d(x, dim)), src[sl])
    return out


_src_grad = lambda ops, g, out, x, index, src, dim=0: ops.gather(g, index, dim=dim)  # noqa: E731
defop("scatter", _scatter,
      (lambda ops, g, out, x, index, src, dim=0: ops.scatter_value(g, index, value=0, dim=dim),
       None, _src_grad),
      dtypes=KEEP, promote_args=(0, 2), method=False, function=False, saves=("index",))
defop("scatter_value", _scatter_value,
      (lambda ops, g, out, x, index, value=0, dim=0:
       ops.scatter_value(g, index, value=0, dim=dim), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, node="ScatterBackward1",
      saves=("index",))
defop("scatter_add", _scatter_add,
      (lambda ops, g, out, x, index, src, dim=0: g, None, _src_grad),
      dtypes=KEEP, promote_args=(0, 2), method=False, function=False, saves=("index",))

# -- index_select / index_add: whole slices along one dim --------------------------------------


def _index_select(xp, x, index, dim=0):
    if not x.ndim:
        return x.copy()
    return xp.take(x, xp.reshape(index, (-1,)), axis=_d(x, dim))


def _index_add(xp, x, index, source, dim=0, alpha=1):
    out = x.copy()
    if not x.ndim:
        return out + alpha * xp.sum(source)
    d = _d(x, dim)
    moved = xp.moveaxis(out, d, 0)  # a view of out: adding into it adds into out
    src = xp.moveaxis(source if source.ndim else xp.reshape(source, (1,)), d, 0)
    xp.add.at(moved, xp.reshape(index, (-1,)), src if alpha == 1 else alpha * src)
    return out


def _index_select_backward(xp, g, index, shape=(), dim=0):
    return _index_add(xp, xp.zeros(shape, dtype=g.dtype), index, g, dim)


defop("index_select", _index_select,
      (lambda ops, g, out, x, index, dim=0:
       ops.index_select_backward(g, index, shape=x.shape, dim=dim), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, saves=("index",))
defop("index_select_backward", _index_select_backward,
      (lambda ops, g, out, gg, index, shape=(), dim=0: ops.index_select(g, index, dim=dim),
       None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, node="IndexAddBackward0")
defop("index_add", _index_add,
      (lambda ops, g, out, x, index, source, dim=0, alpha=1: g, None,
       lambda ops, g, out, x, index, source, dim=0, alpha=1:
       ops.reshape(ops.index_select(g, index, dim=dim), shape=source.shape) * alpha),
      dtypes=KEEP, promote_args=(0, 2), method=False, function=False, saves=("index",))

# -- masks ---------------------------------------------------------------------------------------


def _check_mask(mask):
    if mask.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{'long' if mask.dtype.kind in 'iu' else mask.dtype}")


def _masked_fill(xp, x, mask, value=0):
    _check_mask(mask)
    return xp.where(mask, xp.asarray(value).astype(x.dtype), x)


def _masked_fill_tensor(xp, x, mask, value):
    _check_mask(mask)
    if value.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    return xp.where(mask, value.astype(x.dtype), x)


defop("masked_fill", _masked_fill,
      (lambda ops, g, out, x, mask, value=0: ops.where(mask, 0, g), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False)
defop("masked_fill_tensor", _masked_fill_tensor,
      (lambda ops, g, out, x, mask, value: ops.where(mask, 0, g), None,
       lambda ops, g, out, x, mask, value: ops.where(mask, g, 0)),
      dtypes=KEEP, promote_args=(0, 2), method=False, function=False,
      node="MaskedFillBackward1")


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(j if i == 1 else i for i, j in zip(a, b))


def _masked_select(xp, x, mask):
    if mask.dtype.kind != "b":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = xp.broadcast_shapes(x.shape, mask.shape)
    return xp.broadcast_to(x, shape)[xp.broadcast_to(mask, shape)]


def _masked_scatter_zeros(xp, g, mask, shape=()):
    z = xp.zeros(shape, dtype=g.dtype)
    z[xp.broadcast_to(mask, shape)] = g
    return z


defop("masked_select", _masked_select,
      (lambda ops, g, out, x, mask:
       ops.masked_scatter_zeros(g, mask, shape=_broadcast_shape(x.shape, mask.shape)), None),
      dtypes=KEEP, promote_args=(0,), saves=("mask",))
defop("masked_scatter_zeros", _masked_scatter_zeros,
      (lambda ops, g, out, gg, mask, shape=(): ops.masked_select(g, mask), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False,
      node="MaskedScatterBackward0")

# -- take: the input as if it were 1-d -------------------------------------------------------------


def _take(xp, x, index):
    n = x.size
    if index.size and (index.max() >= n or index.min() < -n):
        raise IndexError(f"out of range: tried to access index {int(index.max())} on a tensor of "
                         f"{n} elements.")
    return xp.take(xp.reshape(x, (-1,)), index)


def _take_backward(xp, g, index, shape=()):
    z = xp.zeros(int(xp.prod(xp.asarray(shape, dtype=xp.int64))), dtype=g.dtype)
    xp.add.at(z, xp.reshape(index, (-1,)), xp.reshape(g, (-1,)))
    return xp.reshape(z, shape)


defop("take", _take,
      (lambda ops, g, out, x, index: ops.take_backward(g, index, shape=x.shape), None),
      dtypes=KEEP, promote_args=(0,), saves=("index",))
defop("take_backward", _take_backward,
      (lambda ops, g, out, gg, index, shape=(): ops.take(g, index), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, node="PutBackward0")
