"""What the doctor remembers: the last backward (leaves reached, first non-finite gradient) and
where graphs were cut (`.detach()`, `.item()`, `.numpy()`, `no_grad`, ...).

The engine and the Tensor call these few functions; each is cheap, and the per-node check only
runs for rows whose derivative is infinite somewhere (sqrt, log, div, pow, acos, ...).
"""

from __future__ import annotations

import sys
from math import isfinite as _isfinite
from typing import Any, Optional

import numpy as np


class LastBackward:
    """Facts about one backward pass, kept for `rebours.explain` after it returns."""

    def __init__(self, site: Any) -> None:
        self.site = site  # the user's backward() line
        # the leaves whose .grad it wrote carry it as `_reached` (a stamp, not a set to fill)
        self.first_nonfinite: Optional[dict] = None  # the first singular node that made inf/nan
        self.root_names: list[str] = []


LAST: list[Optional[LastBackward]] = [None]


def begin(site: Any, roots: list) -> LastBackward:
    last = LastBackward(site)
    last.root_names = [r._grad_fn.name() if r._grad_fn is not None else "leaf" for r in roots]
    LAST[0] = last
    return last


def check_singular(last: Optional[LastBackward], fn: Any, i: int, g: Any) -> None:
    """After a singular row's backward: remember it if its input `i`'s gradient `g` holds the
    first inf/nan of this backward."""
    if last is None or last.first_nonfinite is not None or g is None:
        return
    v = getattr(g, "_data", g)
    if v.dtype.kind not in "fc" or v.size == 0:
        return
    xp = np if isinstance(v, np.ndarray) else sys.modules[type(v).__module__.partition(".")[0]]
    # float32/64: one BLAS call, as a sum of squares is finite when every value is (it can
    # overflow for huge values, and the exact test below decides then)
    if v.dtype.char in "fd" and _isfinite(float(xp.vdot(v, v))):
        return
    if bool(xp.isfinite(v).all()):
        return
    last.first_nonfinite = {
        "node": fn.name(), "op": fn.op.name, "where": fn.where, "input": i,
        "kind": "nan" if bool(xp.isnan(v).any()) else "inf",
        "shape": tuple(fn.in_meta[i][0]) if fn.in_meta[i] else (),
    }


def note_cut(t: Any, how: str, where: Any) -> None:
    """t (which requires grad) was used in a way that cuts the graph: remember the latest."""
    t._extra().cut = (how, where)


def note_exposed(vc: Any, how: str, where: Any, arr: Any = None) -> None:
    """t's storage was handed to NumPy: writes there bypass the version counter. A checksum
    taken now lets backward notice a write into a tensor some node had already saved."""
    vc.exposed = (how, where)
    if arr is not None and (vc.exposed_crc is None or vc.exposed_crc[0] != vc.value):
        # the first hand-over at this version: later ones may see a temporary NumPy write
        # (gradcheck perturbs and restores), which must not become the reference
        vc.exposed_crc = (vc.value, fingerprint(arr))


def fingerprint(arr: Any) -> int:
    """A cheap checksum of an array's bytes (only taken for storage shared with NumPy)."""
    import zlib

    return zlib.crc32(np.ascontiguousarray(arr).view(np.uint8))
