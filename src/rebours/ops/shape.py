"""Shape rows: reshape and views, transposes, squeeze/unsqueeze, expand, cat/stack/split, casts."""

from __future__ import annotations

from .. import dtypes as D
from .reduction import axes
from .registry import KEEP, defop


def _same_shape(ops, g, out, x, **params):
    return ops.reshape(g, shape=x.shape)


def _view(xp, x, shape=()):
    try:
        return xp.reshape(x, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    except TypeError:  # a namespace without copy= (older CuPy): fall back to a checked reshape
        return xp.reshape(x, shape)


def _reshape_name(args, params) -> str:  # torch: a view, an alias of strided memory, or a copy
    x = args[0]._data
    if x.flags.c_contiguous:
        return "ViewBackward0"
    try:
        x.reshape(params.get("shape", ()), copy=False)
    except (ValueError, TypeError):
        return "UnsafeViewBackward0"
    return "ReshapeAliasBackward0"


defop("reshape", lambda xp, x, shape=(): xp.reshape(x, shape), _same_shape, dtypes=KEEP,
      saves=(), view=True, node=_reshape_name)
defop("view", _view, _same_shape, dtypes=KEEP, saves=(), view=True, node="ViewBackward0")
defop("transpose", lambda xp, x, dim0=0, dim1=1: xp.swapaxes(x, dim0, dim1) if x.ndim else x[...],
      lambda ops, g, out, x, dim0=0, dim1=1: ops.transpose(g, dim0=dim0, dim1=dim1),
      dtypes=KEEP, view=True)
defop("t", lambda xp, x: xp.swapaxes(x, 0, 1) if x.ndim == 2 else x,
      lambda ops, g, out, x: ops.t(g), dtypes=KEEP, view=True, node="TBackward0")


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


defop("permute", lambda xp, x, dims=(): xp.transpose(x, tuple(d % max(x.ndim, 1) for d in dims)),
      lambda ops, g, out, x, dims=():
      ops.permute(g, dims=_inverse([d % max(len(dims), 1) for d in dims])),
      dtypes=KEEP, view=True, saves=())


def _squeeze(xp, x, dim=None):
    if dim is None:
        return xp.reshape(x, tuple(s for s in x.shape if s != 1))
    if isinstance(dim, (tuple, list)) and not dim:
        return xp.reshape(x, x.shape)
    drop = [a for a in axes(dim, x.ndim) if x.shape[a] == 1] if x.ndim else []
    return xp.reshape(x, tuple(s for a, s in enumerate(x.shape) if a not in drop))


defop("squeeze", _squeeze, _same_shape, dtypes=KEEP, saves=(), view=True,
      node=lambda args, p: "SqueezeBackward0" if p.get("dim") is None
      else "SqueezeBackward1" if isinstance(p["dim"], int) else "SqueezeBackward2")


def _unsqueeze(xp, x, dim=0):
    n = x.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return xp.expand_dims(x, dim % n)


defop("unsqueeze", _unsqueeze, _same_shape, dtypes=KEEP, saves=(), view=True)


def _sum_to_size(xp, x, shape=()):
    shape = tuple(shape)
    lead = x.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"size {list(shape)} is not expandable to size {list(x.shape)}")
    if lead:  # the array's method: NumPy's module function adds ~1 us of dispatch
        x = x.sum(axis=0) if lead == 1 else x.sum(axis=tuple(range(lead)))
    keep = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
    if keep:
        x = x.sum(axis=keep, keepdims=True)
    return x


defop("sum_to_size", _sum_to_size,
      lambda ops, g, out, x, shape=(): ops.broadcast_to(g, shape=x.shape),
      dtypes=KEEP, saves=(),  # torch views away the leading dims after summing
      node=lambda args, p: "ViewBackward0" if args[0].ndim > len(p.get("shape", ()))
      else "SumBackward1")


def expand_shape(old, sizes):
    """torch's expand: -1 keeps a dim, new dims go in front, only size-1 dims can grow."""
    sizes = tuple(sizes)
    if len(sizes) < len(old):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(old)})")
    lead = len(sizes) - len(old)
    out = []
    for i, s in enumerate(sizes):
        o = old[i - lead] if i >= lead else None
        if s == -1:
            if o is None:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing "
                                   "dimension")
            s = o
        elif o is not None and o != 1 and o != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({o}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(old)}")
        out.append(s)
    return tuple(out)


defop("broadcast_to", lambda xp, x, shape=(): xp.broadcast_to(x, expand_shape(x.shape, shape)),
      lambda ops, g, out, x, shape=(): ops.sum_to_size(g, shape=x.shape),
      dtypes=KEEP, saves=(), view=True, node="ExpandBackward0")


def _split_points(size, sizes):
    points, acc = [], 0
    for s in sizes[:-1]:
        acc += s
        points.append(acc)
    return points


def _split(xp, x, sizes=(), dim=0, with_sizes=False):  # with_sizes: torch got a list of sizes
    d = dim % max(x.ndim, 1)
    if sum(sizes) != x.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {x.shape[d]} "
                           f"(input tensor's size at dimension {dim}), but got split_sizes="
                           f"{list(sizes)}")
    return tuple(xp.split(x, _split_points(x.shape[d], sizes), axis=d))


defop("split", _split,
      lambda ops, g, out, x, sizes=(), dim=0, with_sizes=False:
      ops.cat(*(g if isinstance(g, tuple) else (g,)), dim=dim),  # one piece: g is not a tuple
      nout=-1, dtypes=KEEP, saves=(), view=True,
      node=lambda args, p: "SplitWithSizesBackward0" if p.get("with_sizes") else "SplitBackward0")
defop("unbind", lambda xp, x, dim=0: tuple(xp.moveaxis(x, dim, 0)),
      lambda ops, g, out, x, dim=0: ops.stack(*(g if isinstance(g, tuple) else (g,)), dim=dim),
      nout=-1, dtypes=KEEP, saves=(), view=True, node="UnbindBackward0")


def _pieces(ops, g, sizes, dim):
    out, start = [], 0
    d = dim % g.ndim
    for s in sizes:
        idx = (slice(None),) * d + (slice(start, start + s),)
        out.append(ops.getitem(g, idx=idx))
        start += s
    return tuple(out)


def _cat(xp, *xs, dim=0):
    xs = [x for x in xs if not (x.ndim == 1 and x.shape[0] == 0)] or list(xs)  # legacy: skip []
    return xp.concatenate(xs, axis=dim)


defop("cat", _cat,
      lambda ops, g, out, *xs, dim=0:
      _pieces(ops, g, [x.shape[dim] if not (x.ndim == 1 and x.shape[0] == 0) else 0
                       for x in xs], dim),
      saves=(), method=False)
defop("stack", lambda xp, *xs, dim=0: xp.stack(xs, axis=dim),
      lambda ops, g, out, *xs, dim=0:
      tuple(ops.squeeze(p, dim=dim) for p in _pieces(ops, g, [1] * len(xs), dim)),
      saves=(), method=False)

# -- copies and casts --------------------------------------------------------------------------


def _cast_dtype(args, params):
    d = D.to_dtype(params["dtype"])
    return None, d


defop("to_dtype", lambda xp, x, dtype=None: x.astype(dtype.np if hasattr(dtype, "np") else dtype),
      lambda ops, g, out, x, dtype=None: g,  # the engine casts g back to x's dtype
      dtypes=_cast_dtype, node="ToCopyBackward0", method=False, function=False)
defop("clone", lambda xp, x: xp.array(x, copy=True), lambda ops, g, out, x: g, dtypes=KEEP)
defop("contiguous_copy", lambda xp, x: xp.ascontiguousarray(x), lambda ops, g, out, x: g,
      dtypes=KEEP, node="CloneBackward0", method=False, function=False)
defop("alias", lambda xp, x: x.view(), lambda ops, g, out, x: g, dtypes=KEEP, view=True,
      method=False, function=False)
