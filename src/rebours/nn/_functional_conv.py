"""rebours.nn.functional, spatial part: convolutions here; pooling (_functional_pool.py) and
interpolate (_functional_resample.py) re-exported, so functional.py imports this one module.

Each function checks and normalizes torch's arguments (ints or tuples, 'same'/'valid', unbatched
inputs) and calls one row (ops/conv.py). An unbatched input runs the batched row and is squeezed,
as torch does (so its node is SqueezeBackward1, as torch's).

>>> import rebours as torch
>>> import rebours.nn.functional as F
>>> F.conv1d(torch.ones(1, 1, 4), torch.ones(1, 1, 2)).tolist()
[[[2.0, 2.0, 2.0]]]
"""

from __future__ import annotations

from typing import Any, Optional, Union

from ..dispatch import apply
from ..ops.conv import conv_out_size
from ..ops.registry import OPS
from ..tensor import Tensor
from . import _functional_pool, _functional_resample
from ._functional_pool import *  # noqa: F403  (pooling)
from ._functional_resample import *  # noqa: F403  (interpolate)

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", *_functional_pool.__all__, *_functional_resample.__all__]

Size = Union[int, tuple[int, ...], list[int]]


def tup(v: Any, n: int, what: str = "") -> tuple:
    """torch's `_single/_pair/_triple`: an int repeated n times, or a sequence of n ints."""
    if isinstance(v, (tuple, list)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise RuntimeError(f"expected {what or 'argument'} to be a single integer value or a "
                               f"list of {n} values to match the convolution dimensions, but got "
                               f"{what or 'argument'}={list(v)}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


def batched(input: Tensor, nd: int, name: str) -> tuple[Tensor, bool]:
    """(input with a batch dim, whether one was added): torch accepts unbatched (C, *S) inputs."""
    if input.ndim == nd + 2:
        return input, False
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, "
                       f"but got input of size: {list(input.shape)}")


def _conv_padding(padding: Any, nd: int, weight: Tensor, stride: tuple, dilation: tuple) -> tuple:
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: {padding!r}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        out = []
        for k, d in zip(weight.shape[2:], dilation):  # an odd total puts the extra one last
            total = d * (k - 1)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    p = tup(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _check(input: Tensor, weight: Tensor, bias: Optional[Tensor], groups: int, nd: int,
           transposed: bool) -> None:
    if weight.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional "
                           f"input {list(input.shape)}, but got {weight.ndim}-dimensional "
                           f"weight of size {list(weight.shape)} instead")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    c = input.shape[1]
    if transposed:
        if weight.shape[0] != c:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, "
                               f"expected input{list(input.shape)} to have {weight.shape[0]} "
                               f"channels, but got {c} channels instead")
        out_c = weight.shape[1] * groups
    else:
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size "
                               f"[{list(weight.shape)}] instead")
        if weight.shape[1] * groups != c:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                               f"expected input{list(input.shape)} to have "
                               f"{weight.shape[1] * groups} channels, but got {c} channels "
                               "instead")
        out_c = weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_c,):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_c} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _conv(nd: int, input: Tensor, weight: Tensor, bias: Optional[Tensor], stride: Any,
          padding: Any, dilation: Any, groups: int) -> Tensor:
    name = f"conv{nd}d"
    x, unbatched = batched(input, nd, name)
    st, dil = tup(stride, nd, "stride"), tup(dilation, nd, "dilation")
    if any(s <= 0 for s in st):
        raise RuntimeError("non-positive stride is not supported")
    pads = _conv_padding(padding, nd, weight, st, dil)
    _check(x, weight, bias, groups, nd, False)
    out = conv_out_size(x.shape[2:], weight.shape[2:], st, pads, dil)
    if any(o <= 0 for o in out):
        padded = " x ".join(str(s + lo + hi) for s, (lo, hi) in zip(x.shape[2:], pads))
        span = " x ".join(str(d * (k - 1) + 1) for k, d in zip(weight.shape[2:], dil))
        raise RuntimeError(f"Calculated padded input size per channel: ({padded}). Kernel size: "
                           f"({span}). Kernel size can't be greater than actual input size")
    y = apply(OPS["convolution"], x, weight, bias, stride=st, padding=pads, dilation=dil,
              transposed=False, output_padding=(0,) * nd, groups=groups)
    return y.squeeze(0) if unbatched else y


def conv1d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Size = 1,
           padding: Union[Size, str] = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    """1-d cross-correlation over (N, C, L) (or unbatched (C, L)) inputs."""
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Size = 1,
           padding: Union[Size, str] = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    """2-d cross-correlation over (N, C, H, W) (or unbatched (C, H, W)) inputs.

    >>> import rebours as torch
    >>> torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).tolist()
    [[[[4.0, 4.0], [4.0, 4.0]]]]
    """
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Size = 1,
           padding: Union[Size, str] = 0, dilation: Size = 1, groups: int = 1) -> Tensor:
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(nd: int, input: Tensor, weight: Tensor, bias: Optional[Tensor], stride: Any,
            padding: Any, output_padding: Any, groups: int, dilation: Any) -> Tensor:
    x, unbatched = batched(input, nd, f"conv_transpose{nd}d")
    st, dil = tup(stride, nd, "stride"), tup(dilation, nd, "dilation")
    p, op = tup(padding, nd, "padding"), tup(output_padding, nd, "output_padding")
    _check(x, weight, bias, groups, nd, True)
    for o, s, d in zip(op, st, dil):
        if o >= s and o >= d:
            names = ("depth", "height", "width")[3 - nd:] if nd > 1 else ("width",)
            got = " ".join(f"{what}_{n}: {v}" for what, vals in (("output_padding", op),
                           ("stride", st), ("dilation", dil)) for n, v in zip(names, vals))
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                               f"but got {got}")
    out = [(s - 1) * ss - 2 * pp + d * (k - 1) + o + 1
           for s, ss, pp, d, k, o in zip(x.shape[2:], st, p, dil, weight.shape[2:], op)]
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}"
                           f"). Calculated output size per channel: "
                           f"({' x '.join(map(str, out))}). Output size is too small")
    y = apply(OPS["convolution"], x, weight, bias, stride=st, padding=tuple((v, v) for v in p),
              dilation=dil, transposed=True, output_padding=op, groups=groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None,
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0,
                     groups: int = 1, dilation: Size = 1) -> Tensor:
    """The adjoint of conv1d in its input (weight (C_in, C_out / groups, K))."""
    return _conv_t(1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None,
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0,
                     groups: int = 1, dilation: Size = 1) -> Tensor:
    """The adjoint of conv2d in its input (weight (C_in, C_out / groups, kH, kW))."""
    return _conv_t(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None,
                     stride: Size = 1, padding: Size = 0, output_padding: Size = 0,
                     groups: int = 1, dilation: Size = 1) -> Tensor:
    return _conv_t(3, input, weight, bias, stride, padding, output_padding, groups, dilation)


