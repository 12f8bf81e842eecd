"""rebours.cuda: whether a GPU backend is present, and its small runtime API."""

from __future__ import annotations

from .backends import cuda as _cuda


def is_available() -> bool:
    """True when CuPy is installed and sees an NVIDIA GPU."""
    return _cuda.available()


def device_count() -> int:
    return _cuda.device_count()


def synchronize(device: object = None) -> None:
    _cuda.backend().xp.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    if is_available():
        _cuda.backend().xp.random.seed(seed)


manual_seed_all = manual_seed
