"""rebours.cuda: whether a GPU backend is present, and its small runtime API, as torch.cuda."""

from __future__ import annotations

from typing import Union

from .backends import cuda as _cuda
from .backends import device as _device


def is_available() -> bool:
    """True when CuPy is installed and sees an NVIDIA GPU."""
    return _cuda.available()


def device_count() -> int:
    return _cuda.device_count()


def current_device() -> int:
    """The index of the GPU that a plain 'cuda' means."""
    return _cuda.current_device()


def set_device(device: Union[_device, str, int]) -> None:
    """Make `device` the current GPU (what a plain 'cuda' means from now on)."""
    index = _index(device)
    if index is not None:
        _cuda.set_device(index)


def synchronize(device: Union[_device, str, int, None] = None) -> None:
    """Wait for every kernel queued on `device` (default: the current GPU)."""
    index = _index(device)
    _cuda.synchronize(current_device() if index is None else index)


def manual_seed(seed: int) -> None:
    """Seed the random generator of the current GPU; nothing without one, as torch."""
    if is_available():
        _cuda.seed(int(seed), current_device())


def manual_seed_all(seed: int) -> None:
    """Seed the random generator of every GPU."""
    for index in range(device_count()):
        _cuda.seed(int(seed), index)


def _index(dev: Union[_device, str, int, None]) -> Union[int, None]:
    if dev is None or isinstance(dev, int):
        return dev
    dev = _device(dev)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return dev.index
