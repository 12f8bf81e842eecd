"""Written-out functions for ops whose torch signature does not follow their row: `dim` between
tensors (`gather(x, dim, index)`), several forms (`median(x)` vs `median(x, dim)`), varargs
(`x.flip(0, 1)`), and the composites torch records under another op's node (outer, kron, tile,
tensordot, meshgrid, take_along_dim, repeat_interleave, movedim, nanmean).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from .dispatch import apply
from .ops.registry import OPS
from .tensor import Tensor


def _ints(args: Sequence[Any]) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def _long(data: Any, device: Any = None) -> Tensor:
    """Host indices as an int64 tensor on `device` (the device of the tensor they index)."""
    from .factories import from_numpy, tensor

    arr = np.asarray(data, dtype=np.int64)
    return from_numpy(arr) if device is None or device.type == "cpu" else tensor(arr,
                                                                                  device=device)


# -- elementwise -----------------------------------------------------------------------------------

def square(input: Tensor) -> Tensor:
    """input ** 2 (recorded as PowBackward0, as torch)."""
    return apply(OPS["pow"], input, 2)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    if isinstance(weight, Tensor):
        return apply(OPS["lerp_tensor"], input, end, weight)
    return apply(OPS["lerp"], input, end, weight=weight)


def selu(input: Tensor) -> Tensor:
    from .nn.functional import selu as f

    return f(input)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    from .nn.functional import celu as f

    return f(input, alpha)


# -- reductions ------------------------------------------------------------------------------------

def median(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    if dim is None:
        return apply(OPS["median"], input)
    return apply(OPS["median_dim"], input, dim=dim, keepdim=keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *,
            dtype: Any = None) -> Tensor:
    """nansum / the count of non-nan values (a composite: DivBackward0, as torch)."""
    if dtype is not None:
        input = input.to(dtype)
    n = apply(OPS["sum"], ~apply(OPS["isnan"], input), dim=dim, keepdim=keepdim)
    return apply(OPS["nansum"], input, dim=dim, keepdim=keepdim) / n


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    idx = apply(OPS["nonzero"], input)
    if not as_tuple:
        return idx
    if input.ndim == 0:
        return (apply(OPS["sum"], idx, dim=1),)  # a 0-d input: [0] if it is nonzero, else []
    return tuple(idx[:, k] for k in range(input.ndim))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: Optional[int] = None) -> Any:
    vals, inv, counts = apply(OPS["unique"], input, dim=dim)
    out = (vals,) + ((inv,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out[0] if len(out) == 1 else out


# -- gather and scatter: torch puts dim between the tensors ---------------------------------------

def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    return apply(OPS["gather"], input, index, dim=dim)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None, *,
            reduce: Optional[str] = None) -> Tensor:
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add or "
                                  "scatter_reduce")
    if src is None:
        src = value
    if isinstance(src, Tensor):
        return apply(OPS["scatter"], input, index, src, dim=dim)
    return apply(OPS["scatter_value"], input, index, value=src, dim=dim)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return apply(OPS["scatter_add"], input, index, src, dim=dim)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    return apply(OPS["index_select"], input, index, dim=dim)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,
              alpha: Any = 1) -> Tensor:
    return apply(OPS["index_add"], input, index, source, dim=dim, alpha=alpha)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return apply(OPS["masked_fill_tensor"], input, mask, value)
    return apply(OPS["masked_fill"], input, mask, value=value)


def take_along_dim(input: Tensor, indices: Tensor, dim: Optional[int] = None) -> Tensor:
    """gather after broadcasting all dims but `dim` (GatherBackward0, as torch)."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = dim % input.ndim
    a, b = list(input.shape), list(indices.shape)
    a[d] = b[d] = 1
    shape = np.broadcast_shapes(tuple(a), tuple(b))
    xs = list(shape)
    xs[d] = input.shape[d]
    ys = list(shape)
    ys[d] = indices.shape[d]
    return gather(input.expand(*xs), d, indices.expand(*ys))


def _inplace(row: str, t: Tensor, *args: Any, **params: Any) -> Tensor:
    from .inplace import apply_

    return apply_(row, t, *args, **params)


def scatter_(self: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None, *,
             reduce: Optional[str] = None) -> Tensor:
    if reduce is not None:
        raise NotImplementedError("scatter_(reduce=...) is not supported")
    src = value if src is None else src
    if isinstance(src, Tensor):
        return _inplace("scatter", self, index, src, dim=dim)
    return _inplace("scatter_value", self, index, value=src, dim=dim)


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return _inplace("scatter_add", self, index, src, dim=dim)


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *,
               alpha: Any = 1) -> Tensor:
    return _inplace("index_add", self, index, source, dim=dim, alpha=alpha)


def masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return _inplace("masked_fill_tensor", self, mask, value)
    return _inplace("masked_fill", self, mask, value=value)


def lerp_(self: Tensor, end: Tensor, weight: Any) -> Tensor:
    if isinstance(weight, Tensor):
        return _inplace("lerp_tensor", self, end, weight)
    return _inplace("lerp", self, end, weight=weight)


def square_(self: Tensor) -> Tensor:
    return _inplace("pow", self, 2)


# -- rearranging -----------------------------------------------------------------------------------

def flip(input: Tensor, *dims: Any, **kw: Any) -> Tensor:
    return apply(OPS["flip"], input, dims=_ints(dims or (kw["dims"],)))


def fliplr(input: Tensor) -> Tensor:
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    return flip(input, 0)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    return apply(OPS["repeat"], input, sizes=_ints(sizes))


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    return apply(OPS["unfold"], input, dimension=dimension, size=size, step=step)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    n = input.ndim
    src, dst = [s % max(n, 1) for s in src], [d % max(n, 1) for d in dst]
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    perm = tuple(o if o is not None else next(rest) for o in order)
    return apply(OPS["permute"], input, dims=perm)


def repeat_interleave(input: Any, repeats: Any = None, dim: Optional[int] = None, *,
                      output_size: Optional[int] = None) -> Tensor:
    if repeats is None:  # repeat_interleave(repeats): the indices, each repeated
        counts = np.asarray(input)
        return _long(np.repeat(np.arange(len(counts)), counts))
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = dim % max(input.ndim, 1)
    if isinstance(repeats, Tensor) and repeats.numel() != 1:
        idx = np.repeat(np.arange(input.shape[d]), np.asarray(repeats))
        return apply(OPS["index_select"], input, _long(idx, input.device), dim=d)
    r = int(repeats)
    shape = list(input.shape)
    x = input.unsqueeze(d + 1).expand(*shape[:d + 1], r, *shape[d + 1:])
    shape[d] *= r
    return apply(OPS["view"], apply(OPS["contiguous_copy"], x), shape=tuple(shape))
