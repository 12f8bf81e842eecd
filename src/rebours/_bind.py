"""Bind the op table to the public surface: module functions, Tensor methods and operators.

Run once when the package loads. After it, the table is read-only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes as D
from . import functions as F
from .autograd.grad_mode import is_grad_enabled
from .backends import CPU, backend_of, concrete, device
from .dispatch import apply, record
from .ops.registry import OPS
from .tensor import Tensor, new_tensor_raw

# Functions written out in functions.py win over the generated ones of the same name.
_WRITTEN = {name: getattr(F, name) for name in (
    "reshape", "view", "flatten", "permute", "expand", "broadcast_to", "expand_as", "view_as",
    "reshape_as", "sum_to_size", "cat", "concat", "concatenate", "stack", "split", "chunk",
    "unbind", "narrow", "t", "max", "min", "var", "std", "clamp", "clip", "div", "divide",
    "true_divide", "where", "norm", "type_as", "allclose", "isclose", "equal", "numel")}


def public_functions() -> dict[str, Any]:
    """name → function for every row that torch exposes as `torch.<name>`."""
    out: dict[str, Any] = {}
    for op in OPS.values():
        if op.function:
            name = op.function if isinstance(op.function, str) else op.name
            out[name] = F.from_row(op)
    out.update(_WRITTEN)
    out.update(_more_functions())
    out.update(multiply=out["mul"], subtract=out["sub"], absolute=out["abs"],
               negative=out["neg"], greater=out["gt"], less=out["lt"], greater_equal=out["ge"],
               less_equal=out["le"], not_equal=out["ne"])
    return out


def _more_functions() -> dict[str, Any]:
    """The written-out functions of written.py and linalg.py, by their torch names."""
    from . import linalg as L
    from . import written as W

    out = {n: getattr(W, n) for n in (
        "square", "lerp", "selu", "celu", "median", "nanmean", "nonzero", "unique", "gather",
        "scatter", "scatter_add", "index_select", "index_add", "masked_fill", "take_along_dim",
        "flip", "fliplr", "flipud", "tile", "movedim", "repeat_interleave")}
    out.update({n: getattr(L, n) for n in ("einsum", "outer", "tensordot", "inner", "kron",
                                           "diag", "meshgrid", "det", "slogdet")})
    out.update(moveaxis=W.movedim, ger=L.outer, cross=L.cross_, inverse=L.inv,
               zero_=lambda input: input.zero_())
    return out


# Tensor methods that are written-out functions (torch's method has the function's signature)
_MORE_METHODS = ("square", "lerp", "median", "nanmean", "nonzero", "unique", "gather", "scatter",
                 "scatter_add", "index_select", "index_add", "masked_fill", "take_along_dim",
                 "flip", "fliplr", "flipud", "tile", "movedim", "moveaxis", "repeat_interleave",
                 "outer", "ger", "inner", "kron", "diag", "det", "slogdet", "inverse", "cross")


def _other(x: Any) -> Any:
    """An operand as the ops see it: a Tensor or a Python number (NotImplemented otherwise)."""
    if isinstance(x, (Tensor, int, float, complex)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return new_tensor_raw(x, D.from_numpy(x.dtype), CPU)
    return NotImplemented


# `2 * t` is `t.__rmul__(2)`: for these rows torch computes `mul(t, 2)`, so the node's first edge
# is t's (as `next_functions` shows), and the common case (a tensor, then a number) runs inline.
_COMMUTATIVE = frozenset({"add", "mul", "bitwise_and", "bitwise_or", "bitwise_xor"})


def _binary(op_name: str, reflected: bool = False) -> Any:
    op = OPS[op_name]
    if reflected and op_name not in _COMMUTATIVE:
        def method(self: Tensor, other: Any) -> Any:
            other = _other(other)
            if other is NotImplemented:
                return other
            return apply(op, other, self)
    else:
        def method(self: Tensor, other: Any) -> Any:
            cls = type(other)
            if cls is not float and cls is not Tensor and cls is not int:  # common: no call
                other = _other(other)
                if other is NotImplemented:
                    return other
            return apply(op, self, other)
    return method


def _rsub(self: Tensor, other: Any) -> Any:
    other = _other(other)
    return other if other is NotImplemented else apply(OPS["rsub"], self, other)


def _eq(self: Tensor, other: Any) -> Any:
    if other is None:
        return False
    other = _other(other)
    return other if other is NotImplemented else apply(OPS["eq"], self, other)


def _ne(self: Tensor, other: Any) -> Any:
    if other is None:
        return True
    other = _other(other)
    return other if other is NotImplemented else apply(OPS["ne"], self, other)


def _to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """`.to(dtype)`, `.to(device)`, `.to(device, dtype)`, `.to(other)`: self if nothing changes."""
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dt, dev = a.dtype, a.device
        elif isinstance(a, D.dtype):
            dt = a
        elif isinstance(a, (str, device, int)):
            dev = a
        elif a is not None and not isinstance(a, bool):
            dt = D.to_dtype(a)
    out = self
    if dev is not None and concrete(device(dev)) is not self._device:
        out = _to_device(out, concrete(device(dev)))
    if dt is not None and D.to_dtype(dt) is not out._dtype:
        out = apply(OPS["to_dtype"], out, dtype=D.to_dtype(dt))
    if copy and out is self:
        out = apply(OPS["clone"], self)
    return out


def _to_device(t: Tensor, dev: device) -> Tensor:
    """Copy to another device; recorded as ToCopyBackward0, so the gradient comes back."""
    if t._device.type == "meta":
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")
    arr = backend_of(dev).asarray(backend_of(t._device).to_numpy(t._data))
    out = new_tensor_raw(arr, t._dtype, dev)
    if t._requires_grad and is_grad_enabled():
        record(OPS["to_device"], (t,), [t._data], {}, [0], (out,))
    else:
        from .autograd.graph import user_where

        out._extra().where = user_where(3)  # where it arrived on `dev`
    return out


def _dtype_method(dt: D.dtype) -> Any:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return _to(self, dt)
    method.__name__ = dt.name
    return method


def _contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    if self._data.flags.c_contiguous:
        return self
    return apply(OPS["contiguous_copy"], self)


def _cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    return _to(self, CPU)


def _cuda(self: Tensor, device_: Any = None, non_blocking: bool = False, **_: Any) -> Tensor:
    """`.cuda()` (torch's current device), `.cuda(n)`, `.cuda('cuda:n')`."""
    if isinstance(device_, (str, device)):
        return _to(self, device(device_))
    if not isinstance(device_, int):
        from .backends.cuda import current_device  # raises, naming what is missing, without CuPy

        device_ = current_device()
    return _to(self, device("cuda", device_))


def _new(fn_name: str) -> Any:
    from . import factories

    fn = getattr(factories, fn_name)

    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:
        return fn(*size, dtype=dtype or self._dtype, device=device or self._device,
                  requires_grad=requires_grad, **kw)
    return method


def _new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
              device: Any = None, requires_grad: bool = False) -> Tensor:
    from .factories import full

    return full(size, fill_value, dtype=dtype or self._dtype, device=device or self._device,
                requires_grad=requires_grad)


def _new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    from .factories import tensor

    return tensor(data, dtype=dtype or self._dtype, device=device or self._device,
                  requires_grad=requires_grad)


def _getitem(self: Tensor, idx: Any) -> Tensor:
    return F.getitem(self, idx)


def _T(self: Tensor) -> Tensor:
    if self.ndim != 2:
        if self.ndim > 2:
            import warnings

            warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                          "shape is deprecated and it will throw an error in a future release.",
                          UserWarning, stacklevel=2)
        return apply(OPS["permute"], self, dims=tuple(range(self.ndim - 1, -1, -1)))
    return apply(OPS["permute"], self, dims=(1, 0))


def _mT(self: Tensor) -> Tensor:
    return apply(OPS["transpose"], self, dim0=-2, dim1=-1)


def bind(namespace: dict[str, Any]) -> None:
    """Install the functions into `namespace` (the package) and the methods on Tensor."""
    funcs = public_functions()
    namespace.update(funcs)
    for op in OPS.values():
        if op.method and op.function:
            name = op.method if isinstance(op.method, str) else op.name
            setattr(Tensor, name, funcs[op.function if isinstance(op.function, str)
                                        else op.name])
    for name in ("reshape", "view", "flatten", "permute", "expand", "expand_as", "view_as",
                 "reshape_as", "sum_to_size", "split", "chunk", "unbind", "narrow", "t", "max",
                 "min", "var", "std", "clamp", "clip", "div", "divide", "true_divide",
                 "norm", "type_as", "add", "sub", "mul", "multiply", "subtract", "where",
                 "broadcast_to", "equal", "allclose", "isclose", "absolute", "negative",
                 "greater", "less", "greater_equal", "less_equal", "not_equal"):
        setattr(Tensor, name, funcs[name])
    Tensor.where = lambda self, condition, other: funcs["where"](condition, self, other)
    from . import written as W

    for name in _MORE_METHODS:
        setattr(Tensor, name, funcs[name])
    for name in ("repeat", "unfold", "scatter_", "scatter_add_", "index_add_", "masked_fill_",
                 "lerp_", "square_"):
        setattr(Tensor, name, getattr(W, name))
    ops = (("__add__", "add", False), ("__radd__", "add", True), ("__sub__", "sub", False),
           ("__mul__", "mul", False), ("__rmul__", "mul", True), ("__truediv__", "div", False),
           ("__rtruediv__", "div", True), ("__floordiv__", "floor_divide", False),
           ("__rfloordiv__", "floor_divide", True), ("__mod__", "remainder", False),
           ("__rmod__", "remainder", True), ("__pow__", "pow", False),
           ("__rpow__", "pow", True), ("__matmul__", "matmul", False),
           ("__rmatmul__", "matmul", True), ("__lt__", "lt", False), ("__le__", "le", False),
           ("__gt__", "gt", False), ("__ge__", "ge", False), ("__and__", "bitwise_and", False),
           ("__rand__", "bitwise_and", True), ("__or__", "bitwise_or", False),
           ("__ror__", "bitwise_or", True), ("__xor__", "bitwise_xor", False),
           ("__rxor__", "bitwise_xor", True))
    for dunder, op_name, reflected in ops:
        setattr(Tensor, dunder, _binary(op_name, reflected))
    Tensor.__rsub__ = _rsub
    Tensor.__eq__ = _eq
    Tensor.__ne__ = _ne
    Tensor.__neg__ = lambda self: apply(OPS["neg"], self)
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = lambda self: apply(OPS["abs"], self)
    Tensor.__invert__ = lambda self: apply(OPS["bitwise_not"], self)
    Tensor.__getitem__ = _getitem
    Tensor.T = property(_T)
    Tensor.mT = property(_mT)
    Tensor.mH = property(_mT)  # real dtypes: the adjoint is the transpose
    Tensor.H = property(_T)
    Tensor.to = _to
    for dt, names in ((D.float32, ("float",)), (D.float64, ("double",)),
                      (D.float16, ("half",)), (D.bfloat16, ("bfloat16",)),
                      (D.int64, ("long",)), (D.int32, ("int",)), (D.int16, ("short",)),
                      (D.int8, ("char",)), (D.uint8, ("byte",)), (D.bool_, ("bool",))):
        for n in names:
            setattr(Tensor, n, _dtype_method(dt))
    Tensor.contiguous = _contiguous
    Tensor.cpu = _cpu
    Tensor.cuda = _cuda
    Tensor.new_zeros = _new("zeros")
    Tensor.new_ones = _new("ones")
    Tensor.new_empty = _new("empty")
    Tensor.new_full = _new_full
    Tensor.new_tensor = _new_tensor
    Tensor.dot = funcs["dot"]
