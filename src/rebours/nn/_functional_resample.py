"""rebours.nn.functional, resampling: `interpolate` (and the deprecated `upsample*` names).

Sizes, scales and errors follow torch's interpolate(); the modes run one row (ops/resample.py),
except 'area', which is adaptive average pooling, as in torch.

>>> import rebours as torch
>>> torch.nn.functional.interpolate(torch.tensor([[[1.0, 3.0]]]), scale_factor=2).tolist()
[[[1.0, 1.0, 3.0, 3.0]]]
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Optional

from ..dispatch import apply
from ..ops.registry import OPS
from ..tensor import Tensor
from ._functional_pool import _adaptive_avg, adaptive_avg_pool1d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = {"nearest": {1, 2, 3}, "nearest-exact": {1, 2, 3}, "linear": {1}, "bilinear": {2},
          "trilinear": {3}, "bicubic": {2}, "area": {1, 2, 3}}


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: Optional[bool] = None,
                recompute_scale_factor: Optional[bool] = None, antialias: bool = False) -> Tensor:
    """Resize the last 1-3 dims: nearest (torch's legacy floor(dst * in / out)), nearest-exact,
    (bi/tri)linear and bicubic (with or without align_corners), or area (adaptive average)."""
    nd = input.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    scales: Any = None
    if size is not None:
        out = list(size) if isinstance(size, (tuple, list)) else [size] * nd
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(input.shape[2:])} and output size of {list(out)}. Please "
                             "provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                             "size in (o1, o2, ...,oK) format.")
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        scales = list(scale_factor) if isinstance(scale_factor, (tuple, list)) \
            else [scale_factor] * nd
        if len(scales) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(input.shape[2:])} and scale_factor of shape "
                             f"{list(scales)}. Please provide input tensor in (N, C, d1, d2, "
                             "...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
        out = [math.floor(float(s) * float(f)) for s, f in zip(input.shape[2:], scales)]
        if recompute_scale_factor or mode == "area":
            scales = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by rebours")
    if mode not in _MODES or nd not in _MODES[mode]:
        if mode in _MODES and 1 <= nd <= 3:
            raise NotImplementedError(f"Got {nd + 2}D input, but {mode} mode needs "
                                      f"{min(_MODES[mode]) + 2}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode == "area":
        return _adaptive_avg(nd, input, tuple(out)) if nd > 1 else \
            adaptive_avg_pool1d(input, out[0])
    if any(o <= 0 for o in out) or any(s <= 0 for s in input.shape[2:]):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(map(str, input.shape[2:]))}) and output "
                           f"({', '.join(map(str, out))})")
    row_mode = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    return apply(OPS["upsample"], input, size=tuple(int(o) for o in out), mode=row_mode,
                 align_corners=bool(align_corners) if row_mode in ("linear", "cubic") else False,
                 scales=None if scales is None else tuple(float(s) for s in scales))


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: Optional[bool] = None) -> Tensor:
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
