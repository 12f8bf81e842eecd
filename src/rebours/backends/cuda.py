"""The CUDA backend: CuPy as `xp`, imported only when a 'cuda' device is first used."""

from __future__ import annotations

from typing import Any

from ..errors import NoCudaError

_BACKEND: Any = None


def _missing(reason: str) -> NoCudaError:
    from ..autograd.graph import user_where

    return NoCudaError(
        f"Torch not compiled with CUDA enabled: rebours has no GPU backend ({reason})",
        where=user_where(2))


def available() -> bool:
    try:
        backend()
    except NoCudaError:
        return False
    return True


def backend() -> Any:
    """Import CuPy and check for a GPU once; raise NoCudaError naming what is missing."""
    global _BACKEND
    if _BACKEND is not None:
        return _BACKEND
    try:
        import cupy  # noqa: PLC0415
    except ImportError:
        raise _missing("CuPy is not installed; pip install 'rebours[cuda]'") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CuPy raises its own CUDARuntimeError without a driver
        raise _missing(f"CuPy found no CUDA driver: {exc}") from None
    if count == 0:
        raise _missing("no NVIDIA GPU is visible")

    class CudaBackend:
        xp = cupy
        ndarray = cupy.ndarray
        name = "cuda"

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


def device_count() -> int:
    if not available():
        return 0
    import cupy  # noqa: PLC0415

    return int(cupy.cuda.runtime.getDeviceCount())
