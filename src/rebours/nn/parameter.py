"""`Parameter` and `Buffer`: tensors that a Module registers when they are assigned to it.

A Parameter is a leaf tensor that requires grad by default; assigning one to a Module attribute
puts it in `parameters()` and `state_dict()`. A Buffer is a plain tensor (running statistics, a
mask) that `state_dict()` saves and `.to()` moves but the optimizer never sees.

>>> import rebours, rebours.nn as nn
>>> nn.Parameter(rebours.tensor([1.0, 2.0]))
Parameter containing:
tensor([1., 2.], requires_grad=True)
"""

from __future__ import annotations

from typing import Any, Optional

from ..tensor import Tensor, check_requires_grad, new_tensor_raw

__all__ = ["Parameter", "Buffer"]


def _share(data: Optional[Tensor], cls: type, requires_grad: bool) -> Tensor:
    """A new leaf of class `cls` on `data`'s storage (and version counter), as `data.detach()`."""
    if data is None:
        from ..factories import empty

        data = empty(0)
    if not isinstance(data, Tensor):
        raise TypeError(f"Expected a Tensor as data, but got {type(data).__name__}")
    out = new_tensor_raw(data._data, data._dtype, data._device)
    out._vc = data._version_counter()
    out.__class__ = cls
    if requires_grad:
        check_requires_grad(data._dtype)
        out._requires_grad = True
    return out


class Parameter(Tensor):
    """A tensor that is a module parameter: a leaf, `requires_grad=True` unless told otherwise.

    It shares storage with `data` (as torch: no copy). Results of ops on a Parameter are plain
    Tensors.
    """

    def __new__(cls, data: Optional[Tensor] = None, requires_grad: bool = True) -> Parameter:
        return _share(data, cls, requires_grad)  # type: ignore[return-value]

    def __init__(self, data: Optional[Tensor] = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


class Buffer(Tensor):
    """Marks a tensor as a buffer when assigned to a Module (`self.running = nn.Buffer(t)`).

    The Module stores a plain Tensor on the same storage; `persistent=False` keeps it out of
    `state_dict()`.
    """

    def __new__(cls, data: Optional[Tensor] = None, *, persistent: bool = True) -> Buffer:
        out = _share(data, cls, False)
        out.persistent = persistent
        return out  # type: ignore[return-value]

    def __init__(self, data: Optional[Tensor] = None, *, persistent: bool = True) -> None:
        pass


def as_plain(t: Any) -> Any:
    """The plain Tensor a Buffer marker stands for (same storage and version counter)."""
    if isinstance(t, Buffer):
        out = new_tensor_raw(t._data, t._dtype, t._device)
        out._vc = t._version_counter()
        return out
    return t
