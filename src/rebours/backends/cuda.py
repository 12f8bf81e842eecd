"""The CUDA backend: CuPy as `xp`, one backend per GPU, imported when a 'cuda' device is first used.

With one visible GPU, 'cuda' and 'cuda:0' get plain CuPy (the fast path: the current device is
the only one). With several, each index gets its own backend whose `xp` runs every CuPy call
inside `cupy.cuda.Device(index)`, and routing to it (`backend(index)`, once per op through
`backend_of`) also makes that GPU CuPy's current one: op rows use array operators and methods
(`a + b`, `a.sum()`), which CuPy runs on the current device, not on the array's. torch's current
device (`current_device()`, what a plain 'cuda' means) is kept apart from the GPU that CuPy was
last switched to, so ops on 'cuda:1' do not move it.
"""

from __future__ import annotations

import threading
import types
from typing import Any

from ..errors import NoCudaError

_BACKEND: Any = None  # plain CuPy (or a test's stand-in, taken as one GPU)
_BY_INDEX: dict[Any, Any] = {}  # with several GPUs: device index (None: current) -> backend
_LOCAL = threading.local()  # .current: torch's current device, once rebours has moved CuPy off it


def _missing(reason: str) -> NoCudaError:
    from ..autograd.graph import user_where

    return NoCudaError(
        f"Torch not compiled with CUDA enabled: rebours has no GPU backend ({reason})",
        where=user_where(2))


def _invalid_ordinal(index: int, count: int) -> RuntimeError:
    return RuntimeError(f"CUDA error: invalid device ordinal\n"
                        f"  cuda:{index} was asked for; this machine has {count} GPU(s), "
                        f"cuda:0 to cuda:{count - 1}")


def _plain() -> Any:
    """Import CuPy and check for a GPU once; raise NoCudaError naming what is missing."""
    global _BACKEND
    if _BACKEND is not None:
        return _BACKEND
    try:
        import cupy  # noqa: PLC0415
    except ImportError:
        raise _missing("CuPy is not installed; pip install 'rebours[cuda]'") from None
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # CuPy raises its own CUDARuntimeError without a driver
        raise _missing(f"CuPy found no CUDA driver: {exc}") from None
    if count == 0:
        raise _missing("no NVIDIA GPU is visible")

    class CudaBackend:
        """CuPy on its current device: all of 'cuda' when one GPU is visible."""

        xp = cupy
        ndarray = cupy.ndarray
        name = "cuda"
        index = None
        device_count = count

        @staticmethod
        def asarray(data: Any, dtype: Any = None) -> Any:
            return cupy.asarray(data, dtype=dtype)

        @staticmethod
        def to_numpy(arr: Any) -> Any:
            return cupy.asnumpy(arr)

        @staticmethod
        def finalize(arr: Any) -> Any:
            return arr

    _BACKEND = CudaBackend
    return _BACKEND


def _count(plain: Any) -> int:
    return getattr(plain, "device_count", 1)


class _OnDevice:
    """CuPy, one of its submodules, functions or ufuncs, with every call run on GPU `index`.

    Classes (`xp.ndarray`, dtypes) and constants pass through unchanged, so type checks hold.
    """

    def __init__(self, obj: Any, index: int, device_cls: Any) -> None:
        self._obj = obj
        self._index = index
        self._device_cls = device_cls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._device_cls(self._index):
            return self._obj(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in ("_obj", "_index", "_device_cls"):
            raise AttributeError(name)
        attr = getattr(self._obj, name)
        if isinstance(attr, types.ModuleType) or (callable(attr) and not isinstance(attr, type)):
            attr = _OnDevice(attr, self._index, self._device_cls)
        self.__dict__[name] = attr  # the next lookup is a plain attribute read
        return attr

    def __repr__(self) -> str:
        return f"<{self._obj!r} on cuda:{self._index}>"


class DeviceBackend:
    """CuPy on one GPU of several (`index`; None: torch's current device at each call)."""

    name = "cuda"

    def __init__(self, cupy: Any, index: int | None) -> None:
        self.index = index
        self.ndarray = cupy.ndarray
        self.xp = cupy if index is None else _OnDevice(cupy, index, cupy.cuda.Device)
        self._cupy = cupy

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        cp = self._cupy
        index = self.index if self.index is not None else current_device()
        with cp.cuda.Device(index):
            if isinstance(data, cp.ndarray) and data.device.id != index:
                data = data.copy()  # CuPy copies an array of another GPU onto the current one
            return cp.asarray(data, dtype=dtype)

    def to_numpy(self, arr: Any) -> Any:
        return self._cupy.asnumpy(arr)  # CuPy reads an array from its own GPU, whichever is current

    @staticmethod
    def finalize(arr: Any) -> Any:
        return arr


def _use(cupy: Any, index: int) -> None:
    """Make GPU `index` CuPy's current device, remembering torch's current device first."""
    runtime = cupy.cuda.runtime
    cur = runtime.getDevice()
    if cur != index:
        if getattr(_LOCAL, "current", None) is None:
            _LOCAL.current = cur
        runtime.setDevice(index)


def backend(index: int | None = None) -> Any:
    """The backend of GPU `index` (None: the current GPU), made current for the op about to run.

    Raises NoCudaError without CuPy or a GPU, and torch's RuntimeError for an index past the last
    GPU.
    """
    plain = _BACKEND if _BACKEND is not None else _plain()
    count = _count(plain)
    if count == 1 and not index:
        return plain
    be = _BY_INDEX.get(index)
    if be is None:
        if index is not None and not 0 <= index < count:
            raise _invalid_ordinal(index, count)
        be = _BY_INDEX[index] = DeviceBackend(plain.xp, index)
    _use(plain.xp, index if index is not None else current_device())
    return be


def available() -> bool:
    try:
        _plain()
    except NoCudaError:
        return False
    return True


def device_count() -> int:
    return _count(_BACKEND) if available() else 0


def current_device() -> int:
    """torch's current device: the one set by `set_device`, or CuPy's before rebours moved it."""
    plain = _plain()
    if _count(plain) == 1:
        return 0
    cur = getattr(_LOCAL, "current", None)
    return cur if cur is not None else int(plain.xp.cuda.runtime.getDevice())


def set_device(index: int) -> None:
    """Make GPU `index` the current device; a negative index does nothing, as in torch."""
    plain = _plain()
    count = _count(plain)
    if index < 0:
        return
    if index >= count:
        raise _invalid_ordinal(index, count)
    if count > 1:
        _LOCAL.current = index
        plain.xp.cuda.runtime.setDevice(index)


def synchronize(index: int) -> None:
    """Wait for every kernel queued on GPU `index`."""
    _plain().xp.cuda.Device(index).synchronize()


def seed(value: int, index: int) -> None:
    """Seed CuPy's random generator of GPU `index` (CuPy keeps one per GPU)."""
    cupy = _plain().xp
    with cupy.cuda.Device(index):
        cupy.random.seed(value)
