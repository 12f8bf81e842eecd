"""Scan, sort and selection rows: logsumexp, cumsum/cumprod/cummax/cummin, sort/argsort, topk,
kthvalue, median, nansum, and the boolean and counting reductions (all, any, count_nonzero,
nonzero, unique), which are not differentiable.
"""

from __future__ import annotations

from ..return_types import structseq
from .reduction import _evenly, _sum_dtype, axes
from .registry import BOOL, FLOAT, KEEP, LONG, defop


def _unreduced(ops, g, x, dim, keepdim):
    return ops.unreduce(g, shape=x.shape, dim=dim, keepdim=keepdim)


def _logsumexp(xp, x, dim=(), keepdim=False):  # fused for stability: max + log(sum(exp(x - max)))
    if not x.ndim:
        return x + 0
    ax = axes(dim, x.ndim)
    if x.size == 0:
        return xp.log(xp.sum(xp.exp(x), axis=ax, keepdims=keepdim))
    m = xp.max(x, axis=ax, keepdims=True)
    m = xp.where(xp.isinf(m), 0, m)
    s = xp.log(xp.sum(xp.exp(x - m), axis=ax, keepdims=True)) + m
    return s if keepdim else xp.squeeze(s, ax)


defop("logsumexp", _logsumexp,
      lambda ops, g, out, x, dim=(), keepdim=False:
      _unreduced(ops, g, x, dim, keepdim) * ops.exp(x - _unreduced(ops, out, x, dim, keepdim)),
      dtypes=FLOAT)


def _nansum(xp, x, dim=None, keepdim=False, dtype=None):
    if not x.ndim:
        return xp.where(xp.isnan(x), 0, x) if x.dtype.kind in "fc" else x + 0
    return xp.nansum(x, axis=axes(dim, x.ndim), keepdims=keepdim)


defop("nansum", _nansum,
      lambda ops, g, out, x, dim=None, keepdim=False, dtype=None:
      ops.where(ops.isnan(x), 0, _unreduced(ops, g, x, dim, keepdim)), dtypes=_sum_dtype)

# -- scans along one dim -------------------------------------------------------------------------


def _d(x, dim):
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _cumsum(xp, x, dim=0, dtype=None):
    return xp.cumsum(x, axis=_d(x, dim)) if x.ndim else x + 0


def _reverse_cumsum(ops, g, dim):
    return ops.flip(ops.cumsum(ops.flip(g, dims=(dim,)), dim=dim), dims=(dim,))


defop("cumsum", _cumsum, lambda ops, g, out, x, dim=0, dtype=None: _reverse_cumsum(ops, g, dim),
      dtypes=_sum_dtype, saves=())


def _cumprod(xp, x, dim=0, dtype=None):
    return xp.cumprod(x, axis=_d(x, dim)) if x.ndim else x + 0


def _cumprod_grad(ops, g, out, x, dim=0, dtype=None):
    """d out_j / d x_k = prod_{i <= j, i != k} x_i; without zeros, out_j / x_k."""
    if x.ndim == 0:
        return g
    if not bool((x == 0).any()):
        return _reverse_cumsum(ops, g * out, dim) / x
    # with zeros: one cumprod per position k, with x_k replaced by 1 (n cumprods, exact)
    d = _d(x, dim)
    n = x.shape[d]
    parts = []
    for k in range(n):
        at_k = tuple(slice(None) if a != d else slice(k, k + 1) for a in range(x.ndim))
        after = tuple(slice(None) if a != d else slice(k, None) for a in range(x.ndim))
        ones = ops.getitem(ops.zeros_like(x), idx=at_k) + 1
        xk = ops.cat(ops.getitem(x, idx=tuple(slice(None) if a != d else slice(0, k)
                                              for a in range(x.ndim))),
                     ones, ops.getitem(x, idx=tuple(slice(None) if a != d else slice(k + 1, None)
                                                    for a in range(x.ndim))), dim=d)
        p = ops.cumprod(xk, dim=d)
        parts.append(ops.sum(ops.getitem(g * p, idx=after), dim=d, keepdim=True))
    return ops.cat(*parts, dim=d)


defop("cumprod", _cumprod, _cumprod_grad, dtypes=_sum_dtype)

cummax_ret = structseq("cummax", ("values", "indices",))
cummin_ret = structseq("cummin", ("values", "indices",))


def _cumext(better):
    def fwd(xp, x, dim=0):
        if not x.ndim:
            return x + 0, xp.zeros((), dtype=xp.int64)
        d = _d(x, dim)
        v = xp.moveaxis(x, d, -1)
        vals, idx = xp.empty_like(v), xp.zeros(v.shape, dtype=xp.int64)
        if v.shape[-1]:
            best, bi = v[..., 0], xp.zeros(v.shape[:-1], dtype=xp.int64)
            for k in range(v.shape[-1]):  # ties move to the later index; nan stays, as torch
                take = better(v[..., k], best) | xp.isnan(v[..., k]) if v.dtype.kind == "f" \
                    else better(v[..., k], best)
                if v.dtype.kind == "f":
                    take &= ~xp.isnan(best)
                best = xp.where(take, v[..., k], best)
                bi = xp.where(take, k, bi)
                vals[..., k], idx[..., k] = best, bi
        return xp.moveaxis(vals, -1, d), xp.moveaxis(idx, -1, d)
    return fwd


def _cumext_grad(ops, g, out, x, dim=0):
    if x.ndim == 0:
        return g[0]
    return ops.gather_backward(g[0], out[1], shape=x.shape, dim=dim)


defop("cummax", _cumext(lambda a, b: a >= b), _cumext_grad, nout=2, diff_outputs=(0,),
      dtypes=KEEP, saves=("out",), wrap_outputs=lambda outs: cummax_ret(*outs))
defop("cummin", _cumext(lambda a, b: a <= b), _cumext_grad, nout=2, diff_outputs=(0,),
      dtypes=KEEP, saves=("out",), wrap_outputs=lambda outs: cummin_ret(*outs))

# -- sorting and selection: the gradient goes back to where each value came from --------------

sort_ret = structseq("sort", ("values", "indices",))
topk_ret = structseq("topk", ("values", "indices",))
kthvalue_ret = structseq("kthvalue", ("values", "indices",))
median_ret = structseq("median", ("values", "indices",))


def _argsort(xp, x, dim=-1, descending=False, stable=False):
    if not x.ndim:
        return xp.zeros((), dtype=xp.int64)
    d = _d(x, dim)
    if not descending:
        return xp.argsort(x, axis=d, kind="stable")
    n = x.shape[d]  # stable descending: sort the reversed array, reverse, map back
    i = xp.flip(xp.argsort(xp.flip(x, axis=d), axis=d, kind="stable"), axis=d)
    return (n - 1 - i).astype(xp.int64)


def _sort(xp, x, dim=-1, descending=False, stable=False):
    i = _argsort(xp, x, dim, descending)
    return (xp.take_along_axis(x, i, axis=_d(x, dim)) if x.ndim else x + 0), i


def _to_indices(ops, g, out, x, dim=-1, **params):
    return ops.scatter_zeros(g[0], out[1], shape=x.shape, dim=_d(x, dim), keepdim=True)


_pair = dict(nout=2, diff_outputs=(0,), dtypes=KEEP, saves=("out",))
defop("sort", _sort, _to_indices, wrap_outputs=lambda outs: sort_ret(*outs),
      node=lambda args, p: "SortBackward1" if "stable" in p else "SortBackward0", **_pair)
defop("argsort", _argsort, None, dtypes=LONG)


def _topk(xp, x, k=1, dim=-1, largest=True, sorted=True):
    v, i = _sort(xp, x, dim, descending=largest)
    if not x.ndim:
        return v, i
    sl = tuple(slice(None) if a != _d(x, dim) else slice(0, k) for a in range(x.ndim))
    return v[sl], i[sl]


defop("topk", _topk, _to_indices, wrap_outputs=lambda outs: topk_ret(*outs), **_pair)


def _select(xp, x, pos, dim, keepdim):
    v, i = _sort(xp, x, dim)
    if not x.ndim:
        return v, i
    d = _d(x, dim)
    sl = tuple(slice(None) if a != d else slice(pos, pos + 1) for a in range(x.ndim))
    v, i = v[sl], i[sl]
    return (v, i) if keepdim else (xp.squeeze(v, d), xp.squeeze(i, d))


def _selected(ops, g, out, x, dim=-1, keepdim=False, **params):
    if not x.ndim:
        return g[0]
    return ops.scatter_zeros(g[0], out[1], shape=x.shape, dim=_d(x, dim), keepdim=keepdim)


defop("kthvalue", lambda xp, x, k=1, dim=-1, keepdim=False: _select(xp, x, k - 1, dim, keepdim),
      _selected, wrap_outputs=lambda outs: kthvalue_ret(*outs), **_pair)


def _median_dim(xp, x, dim=-1, keepdim=False):
    n = x.shape[_d(x, dim)] if x.ndim else 1
    return _select(xp, x, (n - 1) // 2, dim, keepdim)


defop("median_dim", _median_dim, _selected, node="MedianBackward1", method=False,
      function=False, wrap_outputs=lambda outs: median_ret(*outs), **_pair)


def _median(xp, x):  # the lower of the two middle values, nan if any is nan, as torch
    flat = xp.sort(xp.reshape(x, (-1,)))
    if flat.size == 0 or (flat.dtype.kind == "f" and xp.isnan(flat[-1])):
        return xp.asarray(float("nan"), dtype=x.dtype)
    return flat[(flat.size - 1) // 2]


defop("median", _median, lambda ops, g, out, x: _evenly(ops, g, out, x), dtypes=KEEP)

# -- boolean and counting reductions: not differentiable ----------------------------------------


def _bool_reduce(f):
    def fwd(xp, x, dim=None, keepdim=False):
        return getattr(xp, f)(x, axis=axes(dim, x.ndim) if x.ndim else None, keepdims=keepdim)
    return fwd


defop("all", _bool_reduce("all"), None, dtypes=BOOL)
defop("any", _bool_reduce("any"), None, dtypes=BOOL)
defop("count_nonzero", lambda xp, x, dim=None:
      xp.asarray(xp.count_nonzero(x, axis=axes(dim, x.ndim) if x.ndim else None)),
      None, dtypes=LONG)
defop("nonzero", lambda xp, x: xp.argwhere(x), None, dtypes=LONG)


def _unique(xp, x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        vals, inv, counts = xp.unique(x, return_inverse=True, return_counts=True)
        inv = xp.reshape(inv, x.shape)
    else:
        vals, inv, counts = xp.unique(x, return_inverse=True, return_counts=True,
                                      axis=_d(x, dim))
        inv = xp.reshape(inv, (-1,))
    return vals, inv.astype(xp.int64), counts.astype(xp.int64)


def _no_derivative(name):
    def rule(ops, g, out, x, **params):
        raise NotImplementedError(f"the derivative for '{name}' is not implemented.")
    return rule


# torch records a node for unique whose backward raises: so do we (same names)
defop("unique", _unique, _no_derivative("_unique2"), nout=3, diff_outputs=(0,), dtypes=KEEP,
      node=lambda args, p: "UniqueDimBackward0" if p.get("dim") is not None
      else "Unique2Backward0")
