"""Tensor construction: `tensor`, `as_tensor`, `from_numpy`, the factories, and random numbers."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from . import dtypes as D
from .autograd.graph import user_where
from .backends import CPU, backend_of, concrete, device
from .doctor.watch import note_exposed
from .tensor import Tensor, check_requires_grad, new_tensor_raw


def _dev(d: Any) -> device:
    return CPU if d is None else concrete(device(d))


def _leaf(arr: np.ndarray, dt: D.dtype, dev: Any, requires_grad: bool) -> Tensor:
    """Put a host array on `dev` as a new leaf, remembering where the user made it."""
    dev = _dev(dev)
    if dev is not CPU:
        arr = backend_of(dev).asarray(arr)
    t = new_tensor_raw(arr, dt, dev)
    if requires_grad:
        check_requires_grad(dt)
        t._requires_grad = True
    t._extra().where = user_where(3)  # errors (device mismatch, RB009) name where it was made
    return t


def _infer_dtype(arr: np.ndarray, from_python: bool) -> D.dtype:
    if not from_python:
        return D.from_numpy(arr.dtype)
    k = arr.dtype.kind
    if k == "f":
        return D.get_default_dtype()
    if k in "iu":
        return D.int64
    if k == "b":
        return D.bool_
    if k == "c":
        return D.complex128 if D.get_default_dtype() is D.float64 else D.complex64
    raise TypeError(f"Could not infer dtype of {arr.dtype}")


def _from_data(data: Any) -> tuple[np.ndarray, bool]:
    """Host array of `data`, and whether its dtype came from Python numbers (so gets defaults)."""
    if isinstance(data, Tensor):
        return np.asarray(data.detach().__array__()), False
    if isinstance(data, np.ndarray):
        return data, False
    if isinstance(data, np.generic):
        return np.asarray(data), False
    if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
        return np.array(_unwrap_nested(data)), True
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise ValueError(f"could not build a tensor from {type(data).__name__}: {exc}") from None
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(_first(data)).__name__}")
    return arr, True


def _flat(data: Any):
    for v in data:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _first(data: Any) -> Any:
    for v in _flat(data) if isinstance(data, (list, tuple)) else [data]:
        if not isinstance(v, (int, float, complex, bool)):
            return v
    return data


def _unwrap_nested(data: Any) -> Any:
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(v) for v in data]
    if isinstance(data, Tensor):
        return data.tolist()
    return data


def tensor(data: Any, *, dtype: Optional[D.dtype] = None, device: Any = None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data` (a number, nested lists, an array, a tensor).

    >>> rebours.tensor([1.0, 2.0]), rebours.tensor(3), rebours.tensor(3.5, dtype=rebours.int32)
    (tensor([1., 2.]), tensor(3), tensor(3, dtype=rebours.int32))
    """
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than rebours.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        if device is None:
            device = data.device
    arr, from_python = _from_data(data)
    dt = D.to_dtype(dtype) if dtype is not None else _infer_dtype(arr, from_python)
    arr = np.array(arr, dtype=D.np_dtype(dt), copy=True)
    return _leaf(arr, dt, device, requires_grad)


def as_tensor(data: Any, dtype: Optional[D.dtype] = None, device: Any = None) -> Tensor:
    """Like `tensor`, but shares memory with a tensor or NumPy array when it can."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None and D.to_dtype(dtype) is not data.dtype:
            out = out.to(D.to_dtype(dtype))
        if device is not None and _dev(device) != data.device:
            out = out.to(_dev(device))
        return out
    if isinstance(data, np.ndarray) and (device is None or _dev(device) is CPU):
        dt = D.to_dtype(dtype) if dtype is not None else D.from_numpy(data.dtype)
        arr = data if data.dtype == D.np_dtype(dt) else data.astype(D.np_dtype(dt))
        return new_tensor_raw(arr, dt, CPU)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A CPU tensor that shares memory with `arr`: writes to either show in both."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    t = new_tensor_raw(arr, D.from_numpy(arr.dtype), CPU)
    # No checksum now: no node can have saved this new tensor yet, and a node that saves it
    # later takes one then (a checksum reads every byte: ~1 ms per 4 MB)
    note_exposed(t._version_counter(), "from_numpy()", user_where(2))
    return t


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


# -- shapes and factories -----------------------------------------------------------------------

def _size(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a tuple of ints, but got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _float_dt(dtype: Any) -> D.dtype:
    return D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()


def _filled(fill: Any, size: tuple, dtype: Any, dev: Any, requires_grad: bool) -> Tensor:
    dt = _float_dt(dtype)
    return _leaf(np.full(size, fill, dtype=D.np_dtype(dt)), dt, dev, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **_: Any) -> Tensor:
    """A tensor of zeros: `rebours.zeros(2, 3)` or `rebours.zeros((2, 3))`."""
    return _filled(0, _size(size or _.get("size", ())), dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         **_: Any) -> Tensor:
    """A tensor of ones."""
    return _filled(1, _size(size or _.get("size", ())), dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **_: Any) -> Tensor:
    """A tensor whose values are unspecified (rebours fills zeros)."""
    return _filled(0, _size(size or _.get("size", ())), dtype, device, requires_grad)


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with `fill_value`; its dtype follows the value, as in torch."""
    if dtype is None:
        dtype = D.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor)
                               else fill_value)
    return _filled(fill_value, _size((size,)), dtype, device, requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from `start` up to (not including) `end`, `step` apart."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = (D.get_default_dtype() if any(isinstance(v, float) for v in vals) else D.int64)
    dt = D.to_dtype(dtype)
    n = max(0, int(np.ceil((vals[1] - vals[0]) / vals[2])))
    arr = (vals[0] + np.arange(n, dtype=np.float64 if dt.category >= 2 else np.int64)
           * vals[2]).astype(D.np_dtype(dt))
    return _leaf(arr, dt, device, requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _float_dt(dtype)
    arr = np.linspace(float(start), float(end), int(steps)).astype(D.np_dtype(dt))
    return _leaf(arr, dt, device, requires_grad)


def eye(n: int, m: Optional[int] = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix, n × m."""
    dt = _float_dt(dtype)
    return _leaf(np.eye(n, m, dtype=D.np_dtype(dt)), dt, device, requires_grad)


def _like(fn: Any, input: Tensor, dtype: Any, device: Any, requires_grad: bool,
          *args: Any) -> Tensor:
    return fn(*args, dtype=dtype if dtype is not None else input.dtype,
              device=device if device is not None else input.device,
              requires_grad=requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **_: Any) -> Tensor:
    return _like(zeros, input, dtype, device, requires_grad, tuple(input.shape))


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **_: Any) -> Tensor:
    return _like(ones, input, dtype, device, requires_grad, tuple(input.shape))


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **_: Any) -> Tensor:
    return _like(empty, input, dtype, device, requires_grad, tuple(input.shape))


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **_: Any) -> Tensor:
    return full(tuple(input.shape), fill_value,
                dtype=dtype if dtype is not None else input.dtype,
                device=device if device is not None else input.device,
                requires_grad=requires_grad)


# -- randomness ---------------------------------------------------------------------------------

class Generator:
    """A seeded source of random numbers (NumPy's PCG64), as `torch.Generator`."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = _dev(device)
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self._rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: the same seed gives the same numbers, within rebours."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def _rng(generator: Optional[Generator]) -> np.random.Generator:
    return (generator or default_generator)._rng


def rand(*size: Any, generator: Optional[Generator] = None, dtype: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform numbers in [0, 1)."""
    dt = _float_dt(dtype)
    arr = _rng(generator).random(_size(size)).astype(D.np_dtype(dt))
    return _leaf(arr, dt, device, requires_grad)


def randn(*size: Any, generator: Optional[Generator] = None, dtype: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal numbers."""
    dt = _float_dt(dtype)
    arr = _rng(generator).standard_normal(_size(size)).astype(D.np_dtype(dt))
    return _leaf(arr, dt, device, requires_grad)


def randint(low: Any = 0, high: Any = None, size: Sequence[int] = (), *,
            generator: Optional[Generator] = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers in [low, high): `randint(10, (3,))`, `randint(2, 10, (3,))`, or
    `randint(high=10, size=(3,))`."""
    if isinstance(high, (tuple, list)) or (high is None and size == ()):
        low, high, size = 0, low, (high if high is not None else size)  # randint(high, size)
    elif high is None:
        low, high = 0, low
    dt = D.to_dtype(dtype) if dtype is not None else D.int64
    arr = _rng(generator).integers(low, high, _size((size,))).astype(D.np_dtype(dt))
    return _leaf(arr, dt, device, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _like(rand, input, dtype, device, requires_grad, *input.shape)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _like(randn, input, dtype, device, requires_grad, *input.shape)


def randint_like(input: Tensor, low: int = 0, high: Optional[int] = None, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def randperm(n: int, *, generator: Optional[Generator] = None, dtype: Any = None,
             device: Any = None) -> Tensor:
    dt = D.to_dtype(dtype) if dtype is not None else D.int64
    return _leaf(_rng(generator).permutation(n).astype(D.np_dtype(dt)), dt, device, False)
