"""The torch-style function surface: one function per row, plus the argument forms torch accepts.

Most functions are generated from their row (`rebours.exp(x)` is `apply(OPS['exp'], x)`). The
ones written out here are those whose torch signature has several forms: `max(x)` vs
`max(x, dim)`, `var(x, unbiased)`, `reshape(x, 2, 3)`, `cat([a, b])`.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any, Optional

import numpy as np

from . import dtypes as D
from .dispatch import apply
from .ops.indexing import is_basic
from .ops.registry import OPS, OpDef
from .tensor import Tensor

_apply = apply


def from_row(op: OpDef) -> Callable[..., Any]:
    """A function with torch's positional order: inputs first, then the row's parameters."""
    nin, pnames = op.nin, op.params
    if not pnames and nin == 1:
        def fn1(input: Tensor) -> Any:
            return _apply(op, input)
        return _named(fn1, op)
    if not pnames and nin == 2:
        def fn2(input: Any, other: Any) -> Any:
            return _apply(op, input, other)
        return _named(fn2, op)

    def fn(*args: Any, **kwargs: Any) -> Any:
        if "input" in kwargs:
            args = (kwargs.pop("input"),) + args
        if "other" in kwargs:
            args = args + (kwargs.pop("other"),)
        if len(args) > nin:
            kwargs.update(zip(pnames, args[nin:]))
            args = args[:nin]
        return _apply(op, *args, **kwargs)

    return _named(fn, op)


def _named(fn: Callable[..., Any], op: OpDef) -> Callable[..., Any]:
    fn.__name__ = fn.__qualname__ = op.name
    node = op.node if isinstance(op.node, str) else "a node named by its arguments"
    fn.__doc__ = op.doc or f"rebours.{op.name}, as torch.{op.name}; recorded as {node}."
    return fn


def _shape_args(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


# -- functions whose torch signature has several forms -----------------------------------------

def reshape(input: Tensor, *shape: Any) -> Tensor:
    return _apply(OPS["reshape"], input, shape=_shape_args(shape))


def view(input: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (D.dtype, str)):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return _apply(OPS["view"], input, shape=_shape_args(shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = tuple(input.shape)
    if not shape:
        return reshape(input, 1)
    s, e = start_dim % len(shape), end_dim % len(shape)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input  # torch returns the tensor itself: nothing to merge
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def permute(input: Tensor, *dims: Any) -> Tensor:
    dims = _shape_args(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}")
    return _apply(OPS["permute"], input, dims=dims)


def expand(input: Tensor, *sizes: Any) -> Tensor:
    return _apply(OPS["broadcast_to"], input, shape=_shape_args(sizes))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    return _apply(OPS["broadcast_to"], input, shape=tuple(size))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, tuple(other.shape))


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, tuple(other.shape))


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    return _apply(OPS["sum_to_size"], input, shape=_shape_args(size))


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: Optional[int] = None) -> Tensor:
    if not isinstance(tensors, (list, tuple)):
        raise TypeError("cat() argument 'tensors' must be a tuple or list of Tensors")
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    return _apply(OPS["cat"], *tensors, dim=dim if axis is None else axis)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                           f"{[list(t.shape) for t in tensors][:2]}")
    n = tensors[0].ndim + 1
    return _apply(OPS["stack"], *tensors, dim=dim % n)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    size = tensor.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        sizes = [step] * (size // step) + ([size % step] if size % step else []) if step else [0]
    else:
        return _apply(OPS["split"], tensor, sizes=tuple(split_size_or_sections), dim=dim,
                      with_sizes=True)
    return _apply(OPS["split"], tensor, sizes=tuple(sizes), dim=dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    size = input.shape[dim]
    return split(input, builtins.max(1, math.ceil(size / chunks)), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    return _apply(OPS["unbind"], input, dim=dim)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = dim % input.ndim
    return _apply(OPS["getitem"], input,
                  idx=(slice(None),) * d + (slice(start, start + length),))


def t(input: Tensor) -> Tensor:
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return _apply(OPS["t"], input)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    if isinstance(dim, Tensor):
        return _apply(OPS["maximum"], input, dim)
    if dim is None:
        if other is not None:
            return _apply(OPS["maximum"], input, other)
        if input.numel() == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        return _apply(OPS["max_all"], input)
    return _apply(OPS["max_dim"], input, dim=dim, keepdim=keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    if isinstance(dim, Tensor):
        return _apply(OPS["minimum"], input, dim)
    if dim is None:
        if other is not None:
            return _apply(OPS["minimum"], input, other)
        if input.numel() == 0:
            raise RuntimeError("min(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        return _apply(OPS["min_all"], input)
    return _apply(OPS["min_dim"], input, dim=dim, keepdim=keepdim)


def _moments(name: str):
    def fn(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
           correction: Any = None) -> Tensor:
        if isinstance(dim, bool):  # var(x, unbiased)
            dim, unbiased = None, dim
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return _apply(OPS[name], input, dim=dim, correction=correction, keepdim=keepdim)
    fn.__name__ = name
    fn.__doc__ = f"The {'variance' if name == 'var' else 'standard deviation'} over `dim`, " \
                 "with Bessel's correction by default (`correction=1`)."
    return fn


var = _moments("var")
std = _moments("std")


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Clip values into [min, max]; the gradient is 1 inside, 0 outside (ClampBackward1)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = min if min is not None else -math.inf
        hi = max if max is not None else math.inf
        return _apply(OPS["clamp_tensor"], input, lo, hi)
    return _apply(OPS["clamp"], input, min=min, max=max)


clip = clamp


def div(input: Any, other: Any, *, rounding_mode: Optional[str] = None) -> Tensor:
    if rounding_mode is None:
        return _apply(OPS["div"], input, other)
    if rounding_mode == "floor":
        return _apply(OPS["floor_divide_rounding"], input, other)
    if rounding_mode == "trunc":
        return _apply(OPS["trunc_divide"], input, other)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


divide = true_divide = div


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    if input is None and other is None:
        from .factories import from_numpy

        return tuple(from_numpy(i) for i in np.nonzero(condition.__array__()))
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition.dtype is not D.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype.name.capitalize()}")
    return _apply(OPS["where"], condition, input, other)


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The p-norm of `x` over `dim`; the gradient at the zero vector is 0 (see RB007)."""
    if dtype is not None:
        x = x.to(D.to_dtype(dtype))
    if not x.dtype.is_floating_point and not x.dtype.is_complex:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype.name.capitalize()}")
    return _apply(OPS["vector_norm"], x, ord=float(ord), dim=dim, keepdim=keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """`torch.norm`: the vector 2-norm by default ('fro' over all elements)."""
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        from .linalg import matrix_norm

        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not a norm")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def type_as(input: Tensor, other: Tensor) -> Tensor:
    return input.to(other.dtype)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when |input - other| <= atol + rtol * |other| everywhere."""
    return builtins.bool(np.allclose(np.asarray(input), np.asarray(other), rtol, atol,
                                     equal_nan))


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    from .factories import from_numpy

    other_arr = np.asarray(other) if isinstance(other, Tensor) else other
    return from_numpy(np.asarray(np.isclose(np.asarray(input), other_arr, rtol, atol,
                                            equal_nan)))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same values."""
    return tuple(input.shape) == tuple(other.shape) and builtins.bool(
        np.array_equal(np.asarray(input), np.asarray(other)))


def numel(input: Tensor) -> int:
    return input.numel()


def index_for(idx: Any) -> Any:
    """Turn a torch index into one NumPy understands (tensors → arrays, lists → arrays)."""
    if isinstance(idx, tuple):
        return tuple(index_for(i) for i in idx)
    if isinstance(idx, Tensor):
        if idx.dtype.category > 1:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return idx.__array__()
    if isinstance(idx, list):
        return np.asarray([index_for(i) if isinstance(i, Tensor) else i for i in idx])
    if isinstance(idx, (np.integer,)):
        return int(idx)
    return idx


def getitem(input: Tensor, idx: Any) -> Tensor:
    idx = index_for(idx)
    if not is_basic(idx):
        items = idx if isinstance(idx, tuple) else (idx,)
        for i in items:  # NumPy would take a float array; torch refuses
            if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
    return _apply(OPS["getitem"], input, idx=idx)
