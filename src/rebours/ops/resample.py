"""Resampling rows: `upsample` (interpolate's nearest, nearest-exact, linear/bilinear/trilinear and
bicubic modes over the last len(size) dims) and its adjoint `upsample_backward`.

Every mode is separable: along each dim, output i reads a few input positions ("taps") with
weights, computed with torch's index formulas in torch's precision (float32 indices for nearest,
the input's dtype for the weights). The forward applies the dims innermost first (torch's order
of the sums), the backward scatters the same taps back, so each row is the other's vjp.
"""

from __future__ import annotations

import numpy as np

from .registry import KEEP, defop


def _scale(size, out, align_corners, scale, dt):
    """torch's area_pixel_compute_scale, in dtype `dt`."""
    if align_corners:
        return dt(size - 1) / dt(out - 1) if out > 1 else dt(0)
    return dt(1.0 / scale) if scale is not None and scale > 0 else dt(size) / dt(out)


def taps(xp, mode, size, out, align_corners=False, scale=None, dtype=np.float32):
    """(index (out, K), weight (out, K) or None) of one dim for one mode."""
    i = xp.arange(out)
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest" and out == size:  # torch's shortcuts in nearest_idx, kept as torch
            return i[:, None], None
        if mode == "nearest" and out == 2 * size:
            return (i >> 1)[:, None], None
        sc = np.float32(1.0 / scale) if scale is not None and scale > 0 \
            else np.float32(size) / np.float32(out)
        if mode == "nearest":
            src = xp.floor(i.astype(np.float32) * sc)
        else:  # (dst + 0.5) * scale in double, floored as a float
            src = xp.floor(((i + 0.5) * np.float64(sc)).astype(np.float32))
        return xp.minimum(src.astype(np.int64), size - 1)[:, None], None
    dt = np.dtype(dtype).type
    if mode == "linear" and out == size:  # torch copies when the size does not change
        return xp.stack([i, i], 1), xp.stack([xp.ones(out, dt), xp.zeros(out, dt)], 1)
    sc = _scale(size, out, align_corners, scale, dt)
    fi = i.astype(dt)
    src = sc * fi if align_corners else sc * (fi + dt(0.5)) - dt(0.5)
    if mode == "linear" and not align_corners:
        src = xp.maximum(src, dt(0))
    i0 = xp.minimum(xp.floor(src).astype(np.int64), size - 1)
    t = xp.clip(src - i0.astype(dt), dt(0), dt(1))
    if mode == "linear":
        i1 = xp.minimum(i0 + 1, size - 1)
        return xp.stack([i0, i1], 1), xp.stack([dt(1) - t, t], 1)
    a = dt(-0.75)  # bicubic: Keys' cubic convolution with A = -0.75, indices clamped
    x1, x2 = t + dt(1), dt(1) - t
    w = [((a * x1 - dt(5) * a) * x1 + dt(8) * a) * x1 - dt(4) * a,
         ((a + dt(2)) * t - (a + dt(3))) * t * t + dt(1),
         ((a + dt(2)) * x2 - (a + dt(3))) * x2 * x2 + dt(1)]
    x3 = dt(2) - t
    w.append(((a * x3 - dt(5) * a) * x3 + dt(8) * a) * x3 - dt(4) * a)
    idx = xp.stack([xp.clip(i0 - 1 + j, 0, size - 1) for j in range(4)], 1)
    return idx, xp.stack(w, 1)


def _all_taps(xp, shape, size, mode, align_corners, scales, dtype):
    nd = len(size)
    scales = tuple(scales) if scales else (None,) * nd
    return [taps(xp, mode, shape[-nd + k], size[k], align_corners, scales[k], dtype)
            for k in range(nd)]


def _upsample(xp, x, size=(), mode="nearest", align_corners=False, scales=None):
    nd = len(size)
    y = x
    for k, (idx, w) in reversed(list(enumerate(_all_taps(xp, x.shape, size, mode,
                                                         align_corners, scales, x.dtype)))):
        a = x.ndim - nd + k
        if w is None:
            y = xp.take(y, idx[:, 0], axis=a)
            continue
        bshape = (-1,) + (1,) * (x.ndim - 1 - a)
        acc = None
        for j in range(idx.shape[1]):
            term = xp.take(y, idx[:, j], axis=a) * xp.reshape(w[:, j], bshape)
            acc = term if acc is None else acc + term
        y = acc
    return y if y is not x else y.copy()


def _upsample_backward(xp, g, shape=(), size=(), mode="nearest", align_corners=False,
                       scales=None):
    nd = len(size)
    z = g
    for k, (idx, w) in enumerate(_all_taps(xp, shape, size, mode, align_corners, scales,
                                           g.dtype)):
        a = len(shape) - nd + k
        zm = xp.moveaxis(z, a, 0)
        acc = xp.zeros((shape[a],) + zm.shape[1:], dtype=g.dtype)
        bshape = (-1,) + (1,) * (zm.ndim - 1)
        for j in range(idx.shape[1]):
            xp.add.at(acc, idx[:, j], zm if w is None else zm * xp.reshape(w[:, j], bshape))
        z = xp.moveaxis(acc, 0, a)
    return z


_KIND = {"nearest": "Nearest", "nearest-exact": "NearestExact", "cubic": "Bicubic"}
_LINEAR = {1: "Linear", 2: "Bilinear", 3: "Trilinear"}


def _name(args, p, suffix="Backward0"):
    nd = len(p["size"])
    kind = _KIND.get(p["mode"]) or _LINEAR[nd]
    return f"Upsample{kind}{nd}D{suffix}"


defop("upsample", _upsample,
      lambda ops, g, out, x, **p: ops.upsample_backward(g, shape=tuple(x.shape), **p),
      dtypes=KEEP, saves=(), method=False, function=False, node=_name)
defop("upsample_backward", _upsample_backward,
      lambda ops, g, out, gy, shape=(), **p: ops.upsample(g, **p),
      dtypes=KEEP, saves=(), method=False, function=False,
      node=lambda args, p: _name(args, p, "BackwardBackward0"))
