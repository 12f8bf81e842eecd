"""dtype objects, the default dtype, and torch's type-promotion rules (Python scalars are weak)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .errors import UnsupportedDtypeError

# Category order of promotion: bool < integer < floating < complex.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, as `torch.dtype`: `rebours.float32`, `rebours.int64`, ..."""

    __slots__ = ("name", "np", "category", "is_signed", "itemsize", "_rank")

    def __init__(self, name: str, np_dtype: Any, category: int, rank: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self.category = category
        self.is_signed = name not in ("bool", "uint8")
        self.itemsize = self.np.itemsize if self.np is not None else 2
        self._rank = rank

    @property
    def is_floating_point(self) -> bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> bool:
        return self.category == _COMPLEX

    def to_complex(self) -> dtype:
        return complex128 if self is float64 else complex64

    def to_real(self) -> dtype:
        return float64 if self is complex128 else float32 if self is complex64 else self

    def __repr__(self) -> str:
        return f"rebours.{self.name}"

    def __reduce__(self) -> str:
        return self.name


def _bfloat16_np() -> Any:
    try:
        import ml_dtypes
    except ImportError:
        return None
    return ml_dtypes.bfloat16


bool_ = dtype("bool", np.bool_, _BOOL, 0)
uint8 = dtype("uint8", np.uint8, _INT, 1)
int8 = dtype("int8", np.int8, _INT, 1)
int16 = dtype("int16", np.int16, _INT, 2)
int32 = dtype("int32", np.int32, _INT, 3)
int64 = dtype("int64", np.int64, _INT, 4)
float16 = dtype("float16", np.float16, _FLOAT, 1)
bfloat16 = dtype("bfloat16", _bfloat16_np(), _FLOAT, 1)
float32 = dtype("float32", np.float32, _FLOAT, 2)
float64 = dtype("float64", np.float64, _FLOAT, 3)
complex64 = dtype("complex64", np.complex64, _COMPLEX, 2)
complex128 = dtype("complex128", np.complex128, _COMPLEX, 3)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
       complex64, complex128)
_FROM_NP: dict[Any, dtype] = {d.np: d for d in ALL if d.np is not None}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"bool": bool_, "half": float16, "float": float32, "double": float64,
                 "short": int16, "int": int32, "long": int64, "cfloat": complex64,
                 "cdouble": complex128})


def from_numpy(np_dtype: Any) -> dtype:
    """The rebours dtype of a NumPy dtype (raises TypeError for ones torch has no match for)."""
    d = _FROM_NP.get(np_dtype)
    if d is None:
        d = _FROM_NP.get(np.dtype(np_dtype))
        if d is None:
            raise TypeError(
                f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types "
                "are: float64, float32, float16, complex64, complex128, int64, int32, int16, "
                "int8, uint8, and bool.")
    return d


def to_dtype(obj: Any) -> dtype:
    """Accept a rebours dtype, a NumPy dtype/type, a Python type, or a name like 'float32'."""
    if isinstance(obj, dtype):
        return obj
    if obj is float:
        return float64
    if obj is int:
        return int64
    if obj is bool:
        return bool_
    if isinstance(obj, str):
        d = _BY_NAME.get(obj.removeprefix("torch.").removeprefix("rebours."))
        if d is not None:
            return d
    return from_numpy(obj)


def np_dtype(d: dtype) -> Any:
    """The NumPy dtype that stores `d`; names the alternative when NumPy cannot hold it."""
    if d.np is None:
        raise UnsupportedDtypeError(
            f"{d!r} needs the ml_dtypes package, which is not installed",
            fix="install it with `pip install 'rebours[bfloat16]'`, or use rebours.float16 "
                "(same size) or rebours.float32 (same range).")
    return d.np


# --------------------------------------------------------------------------------------------
# The default dtype, thread-local like torch's.

_state = threading.local()


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return getattr(_state, "default", float32)


def set_default_dtype(d: dtype) -> None:
    """Set the dtype for Python floats; only float32 and float64 are allowed, as in torch."""
    d = to_dtype(d)
    if d not in (float32, float64, float16, bfloat16):
        raise TypeError("only floating-point types are supported as the default type")
    _state.default = d


# --------------------------------------------------------------------------------------------
# Promotion. torch promotes within three groups: tensors with dims, 0-dim tensors, and Python
# numbers ("wrapped" scalars), then lets a lower group win only when it has a higher category.

def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both a and b convert to without loss, as `torch.promote_types`."""
    if a is b:
        return a
    ca, cb = a.category, b.category
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi.category == _COMPLEX and lo.category == _FLOAT and lo is float64:
            return complex128
        return hi
    if ca == _INT:
        if a is uint8 or b is uint8:  # uint8 with a signed int needs a wider signed type
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank >= b._rank else b
    if ca == _FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a._rank >= b._rank else b
    return a if a._rank >= b._rank else b


def scalar_dtype(value: Any) -> dtype:
    """The dtype a Python number takes when it stands alone (`tensor(2.0)` is float32)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, complex):
        return complex64 if get_default_dtype() is not float64 else complex128
    return get_default_dtype()


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    if higher is None:
        return lower
    if lower is None or higher.category >= _FLOAT:
        if lower is not None and higher.category == _FLOAT and lower.category == _COMPLEX:
            return higher.to_complex()
        return higher
    if lower.category > higher.category:
        return promote_types(higher, lower)
    if higher is bool_:
        return promote_types(higher, lower)
    return higher


def result_type(tensors: list[Any], scalars: list[Any] = ()) -> dtype:
    """torch.result_type over tensors (anything with `.dtype` and `.ndim`) and Python numbers."""
    dim = zero = None
    for t in tensors:
        d = t.dtype
        if t.ndim:
            dim = d if dim is None else promote_types(dim, d)
        else:
            zero = d if zero is None else promote_types(zero, d)
    wrapped = None
    for s in scalars:
        d = scalar_dtype(s)
        wrapped = d if wrapped is None else promote_types(wrapped, d)
    out = _combine(dim, _combine(zero, wrapped))
    return out if out is not None else get_default_dtype()


class finfo:
    """Machine limits of a floating dtype, as `torch.finfo`."""

    def __init__(self, type: dtype | None = None) -> None:
        d = to_dtype(type) if type is not None else get_default_dtype()
        if not d.is_floating_point:
            raise TypeError(f"finfo() requires a floating point input type, got {d!r}")
        if d is bfloat16:
            np_dtype(d)  # names the extra to install when ml_dtypes is missing
            import ml_dtypes  # np.finfo does not know bfloat16

            info = ml_dtypes.finfo(d.np)
        else:
            info = np.finfo(d.np)
        self.dtype = d.name
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype, as `torch.iinfo`."""

    def __init__(self, type: dtype) -> None:
        d = to_dtype(type)
        if d.category not in (_INT, _BOOL):
            raise TypeError(f"iinfo() requires an integer input type, got {d!r}")
        info = np.iinfo(np.uint8 if d is bool_ else d.np)
        self.dtype = d.name
        self.bits = info.bits
        self.max = int(info.max)
        self.min = int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
