"""rebours.nn.functional, pooling: max and average pools, adaptive pools (1-, 2- and 3-d).

Each function normalizes torch's arguments and calls one row (ops/pool.py).
The 1-d pools run the 2-d row on `input.unsqueeze(-2)` and squeeze the result, as torch does, so
their nodes are torch's (SqueezeBackward1).

>>> import rebours as torch
>>> import rebours.nn.functional as F
>>> F.max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

from typing import Any, Optional, Union

from ..dispatch import apply
from ..ops.pool import pool_out_size
from ..ops.registry import OPS
from ..tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d"]

Size = Union[int, tuple[int, ...], list[int]]


def _tup(v: Any, n: int) -> tuple:
    if isinstance(v, (tuple, list)):
        return tuple(int(a) for a in v) * (n if len(v) == 1 else 1)
    return (int(v),) * n


def _check_input(input: Tensor, nd: int, name: str) -> None:
    if input.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in input.shape[-nd - 1:]):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                           f"optional 0 dim batch size for input, but got: {list(input.shape)}")


def _pool_args(input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any, ceil_mode: bool, name: str) -> dict:
    _check_input(input, nd, name)
    k = _tup(kernel_size, nd)
    st = _tup(stride, nd) if stride is not None and stride != [] and stride != () else k
    p, d = _tup(padding, nd), _tup(dilation, nd)
    if len(k) != nd or any(v <= 0 for v in k):
        raise RuntimeError(f"{name}: kernel_size must either be a single int, or a tuple of "
                           f"{nd} ints")
    if any(v <= 0 for v in st):
        raise RuntimeError("stride should be greater than zero")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation: {list(d)}")
    for kk, pp, dd in zip(k, p, d):
        if pp < 0 or pp > (dd * (kk - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    out = [pool_out_size(s, kk, ss, pp, dd, ceil_mode)
           for s, kk, ss, pp, dd in zip(input.shape[-nd:], k, st, p, d)]
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, input.shape[-nd - 1:]))}). "
                           f"Calculated output size: ({input.shape[-nd - 1]}x"
                           f"{'x'.join(map(str, out))}). Output size is too small")
    return {"kernel_size": k, "stride": st, "padding": p, "dilation": d, "ceil_mode": ceil_mode}


def _max_pool(nd: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool, return_indices: bool) -> Any:
    args = _pool_args(input, nd, kernel_size, stride, padding, dilation, ceil_mode,
                      f"max_pool{nd}d")
    vals, idx = apply(OPS["max_pool"], input, **args)
    return (vals, idx) if return_indices else vals


def max_pool1d(input: Tensor, kernel_size: Size, stride: Optional[Size] = None,
               padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    _check_input(input, 1, "max_pool1d")
    two = lambda v, fill: (fill,) + _tup(v, 1)  # noqa: E731  (a (1, k) window over (.., 1, L))
    out = _max_pool(2, input.unsqueeze(-2), two(kernel_size, 1),
                    None if stride is None or stride == [] else two(stride, 1),
                    two(padding, 0), two(dilation, 1), ceil_mode, True)
    vals, idx = out[0].squeeze(-2), out[1].squeeze(-2)
    return (vals, idx) if return_indices else vals


def max_pool2d(input: Tensor, kernel_size: Size, stride: Optional[Size] = None,
               padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The maximum over each window; `return_indices` adds its flat position in the plane.

    >>> import rebours as torch
    >>> torch.nn.functional.max_pool2d(torch.tensor([[[[1., 2.], [4., 3.]]]]), 2).item()
    4.0
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size: Size, stride: Optional[Size] = None,
               padding: Size = 0, dilation: Size = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(nd: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any,
              ceil_mode: bool, count_include_pad: bool, divisor_override: Optional[int]) -> Tensor:
    args = _pool_args(input, nd, kernel_size, stride, padding, 1, ceil_mode, f"avg_pool{nd}d")
    del args["dilation"]
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return apply(OPS["avg_pool"], input, count_include_pad=count_include_pad,
                 divisor_override=divisor_override, **args)


def avg_pool1d(input: Tensor, kernel_size: Size, stride: Optional[Size] = None,
               padding: Size = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    _check_input(input, 1, "avg_pool1d")
    two = lambda v, fill: (fill,) + _tup(v, 1)  # noqa: E731
    st = None if stride is None or stride == [] else two(stride, 1)
    return _avg_pool(2, input.unsqueeze(-2), two(kernel_size, 1), st, two(padding, 0),
                     ceil_mode, count_include_pad, None).squeeze(-2)


def avg_pool2d(input: Tensor, kernel_size: Size, stride: Optional[Size] = None,
               padding: Size = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> Tensor:
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input: Tensor, kernel_size: Size, stride: Optional[Size] = None,
               padding: Size = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> Tensor:
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_size(input: Tensor, nd: int, output_size: Any, name: str) -> tuple:
    _check_input(input, nd, name)
    sizes = list(output_size) if isinstance(output_size, (tuple, list)) else [output_size] * nd
    if len(sizes) != nd:
        raise RuntimeError(f"{name}: internal error: output_size.size() must be {nd}")
    out = tuple(int(s) if s is not None else input.shape[-nd + i] for i, s in enumerate(sizes))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {list(out)}")
    return out


def _adaptive_avg(nd: int, input: Tensor, output_size: Any) -> Tensor:
    out = _adaptive_size(input, nd, output_size, f"adaptive_avg_pool{nd}d")
    if all(o == 1 for o in out):  # torch takes the mean here (MeanBackward1)
        return input.mean(dim=tuple(range(-nd, 0)), keepdim=True)
    return apply(OPS["adaptive_avg_pool"], input, output_size=out)


def adaptive_avg_pool1d(input: Tensor, output_size: Size) -> Tensor:
    _check_input(input, 1, "adaptive_avg_pool1d")
    return _adaptive_avg(2, input.unsqueeze(-2), (1,) + _tup(output_size, 1)).squeeze(-2)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """The mean over torch's adaptive windows (each output cell covers about In/Out inputs)."""
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    return _adaptive_avg(3, input, output_size)


def _adaptive_max(nd: int, input: Tensor, output_size: Any, return_indices: bool) -> Any:
    out = _adaptive_size(input, nd, output_size, f"adaptive_max_pool{nd}d")
    vals, idx = apply(OPS["adaptive_max_pool"], input, output_size=out)
    return (vals, idx) if return_indices else vals


def adaptive_max_pool1d(input: Tensor, output_size: Size, return_indices: bool = False) -> Any:
    _check_input(input, 1, "adaptive_max_pool1d")
    vals, idx = _adaptive_max(2, input.unsqueeze(-2), (1,) + _tup(output_size, 1), True)
    vals, idx = vals.squeeze(-2), idx.squeeze(-2)
    return (vals, idx) if return_indices else vals


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    return _adaptive_max(3, input, output_size, return_indices)
