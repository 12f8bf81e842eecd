"""Rows that in-place ops and index assignment record: copy, zero, fill, CopySlices, index_put.

A write `x[idx] = v` or `view.add_(1)` changes a base tensor in one region. Its backward splits
the gradient: the region goes to the written value, the rest to the base's old self. The region
is named by a view chain (the view rows that made the view), so any view works the same way.
"""

from __future__ import annotations

from .registry import KEEP, defop, take_view


def _copy(xp, x, src):
    return xp.array(xp.broadcast_to(xp.asarray(src), x.shape), dtype=x.dtype)


defop("copy", _copy,
      (lambda ops, g, out, x, src: ops.zeros_like(g), lambda ops, g, out, x, src: g),
      dtypes=KEEP, node="CopyBackwards", method=False, function=False)
defop("zero", lambda xp, x: xp.zeros_like(x), lambda ops, g, out, x: ops.zeros_like(g),
      dtypes=KEEP, method=False, function=False)
defop("fill", lambda xp, x, value=0: xp.full_like(x, value),
      lambda ops, g, out, x, value=0: ops.zeros_like(g),
      dtypes=KEEP, node="FillBackward2", method=False, function=False)


def _copy_slices(xp, base, value, chain=()):
    out = base.copy()
    take_view(xp, out, chain)[...] = value
    return out


def _zero_view(xp, g, chain=()):
    out = g.copy()
    take_view(xp, out, chain)[...] = 0
    return out


def _embed_view(xp, g, shape=(), chain=()):
    out = xp.zeros(shape, dtype=g.dtype)
    take_view(xp, out, chain)[...] = g
    return out


defop("copy_slices", _copy_slices,
      (lambda ops, g, out, base, value, chain=(): ops.zero_view(g, chain=chain),
       lambda ops, g, out, base, value, chain=(): ops.as_view(g, chain=chain)),
      dtypes=KEEP, saves=(), node="CopySlices", method=False, function=False)
defop("zero_view", _zero_view, lambda ops, g, out, x, chain=(): ops.zero_view(g, chain=chain),
      dtypes=KEEP, saves=(), method=False, function=False)
defop("as_view", lambda xp, x, chain=(): take_view(xp, x, chain),
      lambda ops, g, out, x, chain=(): ops.embed_view(g, shape=x.shape, chain=chain),
      dtypes=KEEP, saves=(), node="AsStridedBackward0", method=False, function=False)
defop("embed_view", _embed_view,
      lambda ops, g, out, x, shape=(), chain=(): ops.as_view(g, chain=chain),
      dtypes=KEEP, saves=(), method=False, function=False)


def _index_put(xp, x, value, idx=()):
    out = x.copy()
    out[idx] = value
    return out


def _index_zero(xp, g, idx=()):
    out = g.copy()
    out[idx] = 0
    return out


defop("index_put", _index_put,
      (lambda ops, g, out, x, value, idx=(): ops.index_zero(g, idx=idx),
       lambda ops, g, out, x, value, idx=(): ops.getitem(g, idx=idx)),
      dtypes=KEEP, saves=(), node="IndexPutBackward0", method=False, function=False)
defop("index_zero", _index_zero, lambda ops, g, out, x, idx=(): ops.index_zero(g, idx=idx),
      dtypes=KEEP, saves=(), method=False, function=False)
defop("to_device", lambda xp, x, device=None: x, lambda ops, g, out, x, device=None: g,
      dtypes=KEEP, saves=(), node="ToCopyBackward0", method=False, function=False)
