"""Devices and the backends behind them: each device names an array namespace `xp` that ops run on.

A backend is a small object: `xp` (NumPy's API on that device), conversions to and from host
memory, and `finalize` for results. Ops only ever call `xp`, so CuPy plugs in without touching
a row. The CUDA backend is imported lazily, the first time a 'cuda' device is asked for.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from ..errors import NoCudaError


class device:
    """Where a tensor lives, as `torch.device`: `device('cpu')`, `device('cuda', 0)`, `'meta'`."""

    __slots__ = ("type", "index", "_hash")

    def __new__(cls, type: Union[str, device], index: int | None = None) -> device:
        if isinstance(type, device):
            return type
        if isinstance(type, int):  # device(0) means cuda:0, as in torch
            type, index = "cuda", type
        kind, _, num = str(type).partition(":")
        if num:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            if not num.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(num)
        if kind not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                "Expected one of cpu, cuda, meta device type at start of device string: "
                f"{type}")
        if kind != "cuda":
            index = None
        key = (kind, index)
        cached = _DEVICES.get(key)
        if cached is None:
            cached = object.__new__(cls)
            object.__setattr__(cached, "type", kind)
            object.__setattr__(cached, "index", index)
            object.__setattr__(cached, "_hash", hash(key))
            _DEVICES[key] = cached
        return cached

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("device objects are immutable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple:
        return (device, (str(self),))


_DEVICES: dict[tuple, device] = {}

# NumPy warns on 1/0 and log(0); torch does not. Backward runs with NumPy's floating-point
# errors ignored, through the context variable that np.errstate sets (once per backward);
# forward rows are covered by a warnings filter on rebours's modules (see rebours/__init__.py).
try:
    from numpy._core import _ufunc_config as _uc

    _CV = _uc._extobj_contextvar
    QUIET = _uc._make_extobj(all="ignore")
    QUIET_SET, QUIET_RESET = _CV.set, _CV.reset
except (ImportError, AttributeError):  # another NumPy layout: the public, slower context manager
    QUIET = np.errstate(all="ignore")

    def QUIET_SET(ctx: Any) -> Any:
        ctx.__enter__()
        return ctx

    def QUIET_RESET(ctx: Any) -> None:
        ctx.__exit__(None, None, None)
CPU = device("cpu")
META = device("meta")


class CpuBackend:
    """NumPy on the host."""

    xp = np
    ndarray = np.ndarray
    name = "cpu"

    @staticmethod
    def asarray(data: Any, dtype: Any = None) -> Any:
        return np.asarray(data, dtype=dtype)

    @staticmethod
    def to_numpy(arr: Any) -> np.ndarray:
        return arr

    @staticmethod
    def finalize(arr: Any) -> Any:
        return arr


class MetaBackend:
    """Shape and dtype only, as torch's meta device: data is one broadcast zero, never read."""

    xp = np
    ndarray = np.ndarray
    name = "meta"

    @staticmethod
    def asarray(data: Any, dtype: Any = None) -> Any:
        arr = np.asarray(data, dtype=dtype)
        return np.broadcast_to(np.zeros((), dtype=arr.dtype), arr.shape)

    @staticmethod
    def to_numpy(arr: Any) -> np.ndarray:
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    @staticmethod
    def finalize(arr: Any) -> Any:
        arr = np.asarray(arr)
        return np.broadcast_to(np.zeros((), dtype=arr.dtype), arr.shape)


def cuda_backend(index: int | None = None) -> Any:
    """The CuPy backend of GPU `index` (None: the current GPU), or an error saying what is wrong:
    what is missing (no CuPy, no GPU), or torch's 'invalid device ordinal' past the last GPU."""
    from . import cuda  # noqa: PLC0415  (lazy: CuPy is an optional extra)

    return cuda.backend(index)


def concrete(dev: device) -> device:
    """The device a new tensor lives on: plain 'cuda' is the current GPU, as torch fills in
    (`torch.ones(2, device='cuda').device` is `cuda:0`), so it meets 'cuda:0' tensors."""
    if dev.type == "cuda" and dev.index is None:
        from . import cuda  # noqa: PLC0415  (lazy: CuPy is an optional extra)

        return device("cuda", cuda.current_device())
    return dev


def backend_of(dev: device) -> Any:
    if dev is CPU:
        return CpuBackend
    if dev.type == "meta":
        return MetaBackend
    if dev.type == "cuda":
        return cuda_backend(dev.index)
    raise NoCudaError(f"unknown device {dev}")
