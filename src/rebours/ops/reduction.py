"""Reduction rows: sum, mean, prod, amax/amin, max/min with indices, argmax, var/std, norms."""

from __future__ import annotations

import math

from .. import dtypes as D
from ..return_types import structseq
from .registry import FLOAT, KEEP, LONG, defop


def axes(dim, ndim):
    """torch's `dim` (None, int, or a sequence; empty means all) as a sorted tuple of axes."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    n = max(ndim, 1)
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}],"
                             f" but got {d})")
        out.append(d % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def count(shape, dim):
    n = 1
    for a in axes(dim, len(shape)):
        n *= shape[a]
    return n


# The shape helpers that reduction rules call: broadcast a reduced gradient back, and the reverse.

def _unreduce(xp, g, shape=(), dim=None, keepdim=False):
    if dim is None and math.prod(shape) <= _SMALL:  # a full reduction's gradient: one number
        out = xp.empty(shape, dtype=g.dtype)
        out[...] = g
        return out
    if not keepdim:
        kept = list(shape)
        for a in axes(dim, len(shape)):
            kept[a] = 1
        g = xp.reshape(g, kept)
    if math.prod(shape) <= _SMALL:  # filling a small array is ~3x faster than broadcast_to
        out = xp.empty(shape, dtype=g.dtype)
        out[...] = g
        return out
    return xp.broadcast_to(g, shape)  # a view: no memory for a large gradient of a reduction


_SMALL = 4096


defop("unreduce", _unreduce,
      lambda ops, g, out, x, shape=(), dim=None, keepdim=False:
      ops.sum(g, dim=axes(dim, len(shape)), keepdim=keepdim),
      dtypes=KEEP, node="ExpandBackward0", method=False, function=False)


def reduce_rows(xp, x, method, ax, keepdims):
    """`x.<method>(axis=ax, keepdims=...)` (sum, max, min), faster for a short last axis.

    NumPy reduces a short contiguous inner axis row by row, ~10 us for (128, 10) logits; on the
    transposed copy the same reduction runs along the outer axis in ~2 us (copy included).
    """
    if (len(ax) == 1 and ax[0] == 1 and x.ndim == 2 and x.shape[1] <= 32
            and x.shape[0] >= 4 * x.shape[1] and x.flags.c_contiguous):
        r = getattr(xp.ascontiguousarray(x.T), method)(axis=0)
        return r[:, None] if keepdims else r
    return getattr(x, method)(axis=ax, keepdims=keepdims)


def _sum(xp, x, dim=None, keepdim=False, dtype=None):
    if not x.ndim:
        return x + 0
    if dim is None and not keepdim:
        return x.sum()  # the array's method: NumPy's module function adds ~1 us of dispatch
    return reduce_rows(xp, x, "sum", axes(dim, x.ndim), keepdim)


def _sum_dtype(args, params):
    if params.get("dtype") is not None:
        d = D.to_dtype(params["dtype"])
        return d, d
    d = args[0]._dtype
    return d, (D.int64 if d.category < 2 else d)


defop("sum", _sum,
      lambda ops, g, out, x, dim=None, keepdim=False, dtype=None:
      ops.unreduce(g, shape=x.shape, dim=dim, keepdim=keepdim),
      dtypes=_sum_dtype, saves=(),
      node=lambda args, p: "SumBackward0" if p.get("dim") is None else "SumBackward1")


def _mean_dtype(args, params):
    d = D.to_dtype(params["dtype"]) if params.get("dtype") is not None else args[0]._dtype
    if d.category < 2:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {d.name.capitalize() if d.name != 'int64' else 'Long'}")
    return d, d


def _mean(xp, x, dim=None, keepdim=False, dtype=None):
    if not x.ndim:
        return x + 0
    if dim is None and not keepdim and x.dtype.char in "fd" and x.size:
        return x.sum() / x.size  # NumPy's mean is this sum and division
    ax = axes(dim, x.ndim)
    if x.dtype.char in "fd" and x.size:  # NumPy's mean is this sum and division (float16
        n = 1                             # and complex keep xp.mean: wider accumulators)
        for a in ax:
            n *= x.shape[a]
        return x.sum(axis=ax, keepdims=keepdim) / n
    return xp.mean(x, axis=ax, keepdims=keepdim)


def _mean_grad(ops, g, out, x, dim=None, keepdim=False, dtype=None):
    # divide the reduced gradient, before it is spread (n = 0: an empty x)
    n = math.prod(x.shape) if dim is None else count(x.shape, dim)
    return ops.unreduce(g / n if n else g, shape=x.shape, dim=dim, keepdim=keepdim)


defop("mean", _mean, _mean_grad,
      dtypes=_mean_dtype, saves=(),
      node=lambda args, p: "MeanBackward0" if p.get("dim") is None else "MeanBackward1")


def _prod_except(xp, x, dim=None):
    """For each element, the product of the others along `dim` (all, if None); exact at zeros."""
    shape = x.shape
    if x.size == 0:
        return xp.ones_like(x)
    flat = dim is None
    if flat:
        x = xp.reshape(x, (-1,))
        dim = 0
    ones = xp.ones_like(xp.take(x, [0], axis=dim))
    left = xp.cumprod(xp.concatenate([ones, x], axis=dim), axis=dim)
    left = xp.take(left, range(x.shape[dim]), axis=dim)
    rx = xp.flip(x, axis=dim)
    right = xp.cumprod(xp.concatenate([ones, rx], axis=dim), axis=dim)
    right = xp.flip(xp.take(right, range(x.shape[dim]), axis=dim), axis=dim)
    out = left * right
    return xp.reshape(out, shape) if flat else out


defop("prod_except", _prod_except,
      # d out_i / d x_j = out_i / x_j for i != j: (sum_i g_i out_i - g_j out_j) / x_j
      lambda ops, g, out, x, dim=None:
      (ops.unreduce(ops.sum(g * out, dim=dim, keepdim=dim is not None), shape=x.shape,
                    dim=dim, keepdim=dim is not None) - g * out) / x,
      dtypes=KEEP, method=False, function=False)


def _prod(xp, x, dim=None, keepdim=False, dtype=None):
    if not x.ndim:
        return x + 0
    return xp.prod(x, axis=None if dim is None else axes(dim, x.ndim), keepdims=keepdim)


defop("prod", _prod,
      lambda ops, g, out, x, dim=None, keepdim=False, dtype=None:
      ops.unreduce(g, shape=x.shape, dim=dim, keepdim=keepdim)
      * ops.prod_except(x, dim=None if dim is None or x.ndim == 0 else axes(dim, x.ndim)[0]),
      dtypes=_sum_dtype,
      node=lambda args, p: "ProdBackward0" if p.get("dim") is None else "ProdBackward1")


def _evenly(ops, g, out, x, dim=None, keepdim=False):  # ties share the gradient, as torch
    mask = x == ops.unreduce(out, shape=x.shape, dim=dim, keepdim=keepdim)
    share = ops.unreduce(ops.sum(mask, dim=dim, keepdim=keepdim), shape=x.shape, dim=dim,
                         keepdim=keepdim)
    return ops.where(mask, ops.unreduce(g, shape=x.shape, dim=dim, keepdim=keepdim) / share, 0)


def _amax(xp, x, dim=(), keepdim=False):
    return xp.max(x, axis=axes(dim, x.ndim), keepdims=keepdim) if x.ndim else x + 0


def _amin(xp, x, dim=(), keepdim=False):
    return xp.min(x, axis=axes(dim, x.ndim), keepdims=keepdim) if x.ndim else x + 0


defop("amax", _amax, _evenly, dtypes=KEEP)
defop("amin", _amin, _evenly, dtypes=KEEP)
defop("max_all", lambda xp, x: _amax(xp, x), lambda ops, g, out, x: _evenly(ops, g, out, x),
      dtypes=KEEP, node="MaxBackward1", method=False, function=False)
defop("min_all", lambda xp, x: _amin(xp, x), lambda ops, g, out, x: _evenly(ops, g, out, x),
      dtypes=KEEP, node="MinBackward1", method=False, function=False)

# max(dim) / min(dim): values and the index of each, the gradient goes to that index only.

max_ret = structseq("max")
min_ret = structseq("min")


def _arg(xp, f, x, dim, keepdim):
    if not x.ndim:
        return xp.zeros((), dtype=xp.int64)
    i = f(x, axis=dim)
    return xp.expand_dims(i, dim) if keepdim else i


def _max_dim(xp, x, dim=0, keepdim=False):
    return _amax(xp, x, dim, keepdim), _arg(xp, xp.argmax, x, dim, keepdim)


def _min_dim(xp, x, dim=0, keepdim=False):
    return _amin(xp, x, dim, keepdim), _arg(xp, xp.argmin, x, dim, keepdim)


def _to_index(ops, g, out, x, dim=0, keepdim=False):
    values, idx = out
    return ops.scatter_zeros(g[0], idx, shape=x.shape, dim=dim, keepdim=keepdim)


defop("max_dim", _max_dim, _to_index, nout=2, diff_outputs=(0,), dtypes=KEEP,
      node="MaxBackward0", method=False, function=False, saves=("out",),
      wrap_outputs=lambda outs: max_ret(*outs))
defop("min_dim", _min_dim, _to_index, nout=2, diff_outputs=(0,), dtypes=KEEP,
      node="MinBackward0", method=False, function=False, saves=("out",),
      wrap_outputs=lambda outs: min_ret(*outs))


def _row_pick(shape, dim, keepdim, idx, g=None) -> bool:
    """One index per row of a 2-d array along dim 1 (a class per sample): x[arange(n), idx]."""
    return (len(shape) == 2 and not keepdim and dim in (1, -1) and idx.shape == shape[:1]
            and (g is None or g.shape == shape[:1]))


def _scatter_zeros(xp, g, idx, shape=(), dim=0, keepdim=False):
    z = xp.zeros(shape, dtype=g.dtype)
    if not len(shape):
        return z + g
    if _row_pick(shape, dim, keepdim, idx, g):  # one entry per row: plain fancy indexing
        z[xp.arange(shape[0]), idx] = g
        return z
    if not keepdim:
        g, idx = xp.expand_dims(g, dim), xp.expand_dims(idx, dim)
    xp.put_along_axis(z, idx, g, axis=dim)
    return z


def _take(xp, x, idx, shape=(), dim=0, keepdim=False):
    if not x.ndim:
        return x + 0
    if _row_pick(x.shape, dim, keepdim, idx):
        return x[xp.arange(x.shape[0]), idx]
    out = xp.take_along_axis(x, idx if keepdim else xp.expand_dims(idx, dim), axis=dim)
    return out if keepdim else xp.squeeze(out, dim)


defop("scatter_zeros", _scatter_zeros,
      (lambda ops, g, out, gg, idx, shape=(), dim=0, keepdim=False:
       ops.take_index(g, idx, shape=shape, dim=dim, keepdim=keepdim), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False)
defop("take_index", _take,
      (lambda ops, g, out, x, idx, shape=(), dim=0, keepdim=False:
       ops.scatter_zeros(g, idx, shape=x.shape, dim=dim, keepdim=keepdim), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, saves=())


def _argext(f):
    def fwd(xp, x, dim=None, keepdim=False):
        if dim is None:
            i = getattr(xp, f)(x)
            return xp.reshape(i, (1,) * x.ndim) if keepdim else i
        return _arg(xp, getattr(xp, f), x, dim, keepdim)
    return fwd


defop("argmax", _argext("argmax"), None, dtypes=LONG)
defop("argmin", _argext("argmin"), None, dtypes=LONG)

# -- variance and standard deviation ----------------------------------------------------------


def _var(xp, x, dim=None, correction=1, keepdim=False):
    n = count(x.shape, dim)
    ax = axes(dim, x.ndim)
    m = xp.mean(x, axis=ax, keepdims=True) if x.ndim else x
    s = xp.sum((x - m) * (x - m), axis=ax, keepdims=keepdim) if x.ndim else (x - m) * 0
    return s / max(n - correction, 0) if n - correction > 0 else s / 0.0


def _var_grad(ops, g, out, x, dim=None, correction=1, keepdim=False):
    dof = count(x.shape, dim) - correction  # no degrees of freedom: inf * 0 = nan, as torch
    centred = x - ops.unreduce(ops.mean(x, dim=dim, keepdim=True), shape=x.shape, dim=dim,
                               keepdim=True)
    return ops.unreduce(g, shape=x.shape, dim=dim, keepdim=keepdim) * centred * (
        2.0 / dof if dof > 0 else math.inf)


defop("var", _var, _var_grad, dtypes=FLOAT)
defop("std", lambda xp, x, dim=None, correction=1, keepdim=False:
      xp.sqrt(_var(xp, x, dim, correction, keepdim)),
      lambda ops, g, out, x, dim=None, correction=1, keepdim=False:
      _var_grad(ops, g / (2 * out), None, x, dim, correction, keepdim),
      dtypes=FLOAT)

# -- norms: the gradient at the zero vector is 0, not NaN (see RB007) --------------------------


def _vector_norm(xp, x, ord=2, dim=None, keepdim=False):
    ax = axes(dim, x.ndim)
    a = xp.abs(x)
    if ord == 2:
        return xp.sqrt(xp.sum(a * a, axis=ax, keepdims=keepdim))
    if ord == math.inf:
        return xp.max(a, axis=ax, keepdims=keepdim) if a.size else xp.sum(a, axis=ax,
                                                                           keepdims=keepdim)
    if ord == -math.inf:
        return xp.min(a, axis=ax, keepdims=keepdim)
    if ord == 0:
        return xp.sum(a != 0, axis=ax, keepdims=keepdim).astype(x.dtype)
    if ord == 1:
        return xp.sum(a, axis=ax, keepdims=keepdim)
    return xp.sum(a ** ord, axis=ax, keepdims=keepdim) ** (1.0 / ord)


def _vector_norm_grad(ops, g, out, x, ord=2, dim=None, keepdim=False):
    n = ops.unreduce(out, shape=x.shape, dim=dim, keepdim=keepdim)
    gu = ops.unreduce(g, shape=x.shape, dim=dim, keepdim=keepdim)
    if ord == 0:  # piecewise constant: torch leaves the gradient undefined
        return None
    if ord == 1:
        return gu * ops.sign(x)
    if ord in (math.inf, -math.inf):
        return ops.sign(x) * _evenly(ops, g, out, ops.abs(x), dim=dim, keepdim=keepdim)
    if ord == 2:
        return ops.where(n == 0, 0, x * (gu / n))
    a = ops.abs(x)
    return ops.where(n == 0, 0, ops.sign(x) * a ** (ord - 1) * gu / n ** (ord - 1))


defop("vector_norm", _vector_norm, _vector_norm_grad, dtypes=FLOAT,
      node="LinalgVectorNormBackward0", method=False, function=False, kinks=(0.0,))
