"""Indexing rows: `x[idx]` with ints, slices, None, Ellipsis, integer arrays and boolean masks."""

from __future__ import annotations

from .registry import KEEP, defop


def is_basic(idx) -> bool:
    """True when `idx` only holds ints, slices, None and Ellipsis (the result is a view)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


def _node_name(args, params) -> str:
    idx = params["idx"]
    items = idx if isinstance(idx, tuple) else (idx,)
    if not is_basic(idx):
        return "IndexBackward0"
    if all(i is Ellipsis for i in items):
        return "AliasBackward0"
    if all(i is None or i is Ellipsis for i in items):
        return "UnsqueezeBackward0"
    if any(isinstance(i, slice) for i in items):
        return "SliceBackward0"
    return "SelectBackward0"


def _scatter(xp, g, shape=(), idx=()):
    """Zeros of `shape` with `g` added at `idx` (repeated indices accumulate)."""
    z = xp.zeros(shape, dtype=g.dtype)
    if is_basic(idx):
        z[idx] = g
    else:
        xp.add.at(z, idx, g)
    return z


defop("getitem", lambda xp, x, idx=(): x[idx],
      lambda ops, g, out, x, idx=(): ops.index_backward(g, shape=x.shape, idx=idx),
      dtypes=KEEP, saves=(), view=lambda p: is_basic(p["idx"]), node=_node_name,
      method=False, function=False)
defop("index_backward", _scatter,
      lambda ops, g, out, gg, shape=(), idx=(): ops.getitem(g, idx=idx),
      dtypes=KEEP, saves=(), node="IndexPutBackward0", method=False, function=False)
