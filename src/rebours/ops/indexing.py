"""Indexing rows: `x[idx]` with ints, slices, None, Ellipsis, integer arrays and boolean masks."""

from __future__ import annotations

from .registry import KEEP, defop


def is_basic(idx) -> bool:
    """True when `idx` only holds ints, slices, None and Ellipsis (the result is a view)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


def _node_name(args, params) -> str:
    """torch's node: the last view it applies, left to right; in a tuple, full slices are no-ops
    (`x[:, None]` is an unsqueeze), but a lone slice always slices (`x[:]`)."""
    idx = params["idx"]
    if not is_basic(idx):
        return "IndexBackward0"
    if isinstance(idx, slice):
        return "SliceBackward0"
    items = idx if isinstance(idx, tuple) else (idx,)
    shape = args[0].shape
    d = 0  # the dim of the input the next int or slice applies to
    name = "AliasBackward0"
    for i in items:
        if i is None:
            name = "UnsqueezeBackward0"
        elif i is Ellipsis:
            d += len(shape) - sum(1 for j in items if j is not None and j is not Ellipsis)
        elif isinstance(i, slice):
            if i.indices(shape[d]) != (0, shape[d], 1):
                name = "SliceBackward0"
            d += 1
        else:
            name = "SelectBackward0"
            d += 1
    return name


def _scatter(xp, g, shape=(), idx=()):
    """Zeros of `shape` with `g` added at `idx` (repeated indices accumulate)."""
    z = xp.zeros(shape, dtype=g.dtype)
    if is_basic(idx):
        z[idx] = g
    else:
        xp.add.at(z, idx, g)
    return z


def _getitem(xp, x, idx=()):
    if is_basic(idx):  # x[0] of a 1-d array is a NumPy scalar; x[0, ...] is a 0-d view
        items = idx if isinstance(idx, tuple) else (idx,)
        if Ellipsis not in items:
            idx = items + (Ellipsis,)
    return x[idx]


defop("getitem", _getitem,
      lambda ops, g, out, x, idx=(): ops.index_backward(g, shape=x.shape, idx=idx),
      dtypes=KEEP, saves=(), view=lambda p: is_basic(p["idx"]), node=_node_name,
      method=False, function=False)
defop("index_backward", _scatter,
      lambda ops, g, out, gg, shape=(), idx=(): ops.getitem(g, idx=idx),
      dtypes=KEEP, saves=(), node="IndexPutBackward0", method=False, function=False)
