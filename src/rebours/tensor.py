"""The Tensor: an array on a device, its dtype, and its autograd metadata.

Ops are not written here: their methods (`exp`, `__mul__`, `sum`, ...) are bound from the op table
when the package loads (see `_bind.py`). What lives here is what every tensor is: its storage,
dtype, device, whether it requires grad, its `grad_fn` and `.grad`, and the conversions that read
or describe it.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterator
from typing import Any, Optional

import numpy as np

from . import dtypes as D
from .autograd.graph import AccumulateGrad, VersionCounter, user_where
from .backends import CPU, backend_of, device
from .doctor.watch import note_cut, note_exposed
from .errors import (
    GradMismatchError,
    IntegerRequiresGradError,
    NonLeafGradWarning,
    NonLeafRequiresGradError,
    NumpyRequiresGradError,
)

_new_object = object.__new__
_weakref = weakref.ref


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as `rebours.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"rebours.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item: Any) -> Any:
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))


def new_tensor_raw(data: Any, dtype: D.dtype, dev: device, requires_grad: bool = False,
                   grad_fn: Any = None, out_nr: int = 0) -> Tensor:
    """Wrap a backend array as a Tensor without checks or copies (the dispatch fast path)."""
    t = object.__new__(Tensor)
    t._data = data
    t._dtype = dtype
    t._device = dev
    t._requires_grad = requires_grad
    t._grad_fn = grad_fn
    t._out_nr = out_nr
    t._vc = None  # the version counter, made when something first needs it
    return t


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
               "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
               "complex128": "ComplexDoubleTensor"}
_FROM_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


class _TensorMeta:
    """Rarely set per-tensor facts, kept off the hot path: hooks, retain_grad, creation site."""

    __slots__ = ("hooks", "retains_grad", "where", "name", "cut")

    def __init__(self) -> None:
        self.hooks: Optional[list] = None
        self.retains_grad = False
        self.where = None
        self.name: Optional[str] = None
        self.cut: Optional[tuple] = None  # (how, where) the graph was last cut from here


class Tensor:
    """A multi-dimensional array with autograd, as `torch.Tensor`.

    >>> import rebours
    >>> x = rebours.tensor(4.0, requires_grad=True)
    >>> y = rebours.tensor(8.0) * x + 5.0
    >>> y.backward(); x.grad
    tensor(8.)
    """

    # Hot attributes are slots, set for every tensor. Rare ones live in the instance dict, which
    # CPython creates only when first written; until then the class defaults below answer.
    __slots__ = ("_data", "_dtype", "_device", "_requires_grad", "_grad_fn", "_out_nr", "_vc",
                 "__dict__", "__weakref__")
    _grad: Optional[Tensor] = None
    _base: Optional[Tensor] = None
    _acc: Any = None  # weak reference to the AccumulateGrad node
    _meta: Optional[_TensorMeta] = None
    _inference = False  # made under inference_mode
    _reached: Any = None  # the last backward (doctor.watch.LastBackward) that wrote .grad
    __array_priority__ = 1000
    __array_ufunc__ = None  # NumPy defers to our reflected operators: np.float32(2) * t

    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        """`Tensor(data)` builds a float tensor from data; `Tensor(2, 3)` an uninitialized one."""
        from .factories import empty, tensor

        dev = kwargs.pop("device", None)
        if len(args) == 1 and not isinstance(args[0], int):
            src = args[0]
            if isinstance(src, Tensor):
                return src
            out = tensor(src, dtype=D.get_default_dtype(), device=dev)
        else:
            out = empty(*args, device=dev)
        if cls is not Tensor:
            out.__class__ = cls
        return out

    # -- what it is ------------------------------------------------------------------------

    @property
    def dtype(self) -> D.dtype:
        return self._dtype

    @property
    def device(self) -> device:
        return self._device

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: Optional[int] = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._dtype.itemsize

    def is_floating_point(self) -> bool:
        return self._dtype.category == 2

    def is_complex(self) -> bool:
        return self._dtype.category == 3

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_meta(self) -> bool:
        return self._device.type == "meta"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    @property
    def layout(self) -> str:
        return "rebours.strided"

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: Optional[int] = None) -> Any:
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        return int(self._data.__array_interface__["data"][0]) if self._device is CPU else 0

    def is_inference(self) -> bool:
        return self._inference

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    # -- autograd attributes ---------------------------------------------------------------

    @property
    def grad_fn(self) -> Any:
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def output_nr(self) -> int:
        return self._out_nr

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self._grad_fn is not None and not flag:
            raise NonLeafRequiresGradError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().",
                where=user_where(2), what=f"grad_fn={self._grad_fn.name()}")
        if self._grad_fn is not None:
            return
        if flag:
            check_requires_grad(self._dtype, "only Tensors of floating point and complex dtype "
                                "can require gradients")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._grad_fn is None:  # torch words the method's refusal so
            check_requires_grad(self._dtype, "only Tensors of floating point dtype can "
                                "require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> Optional[Tensor]:
        if self._grad_fn is not None and self._grad is None and not self.retains_grad:
            _warn_nonleaf_grad(self)
        return self._grad

    @grad.setter
    def grad(self, value: Optional[Tensor]) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.shape != self.shape:
                raise GradMismatchError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size", where=user_where(2),
                    what=f"tensor shape {tuple(self.shape)}, grad shape {tuple(value.shape)}")
            if value._dtype is not self._dtype:
                raise GradMismatchError("assigned grad has data of a different type",
                                        where=user_where(2),
                                        what=f"tensor {self._dtype}, grad {value._dtype}")
            if value._device != self._device:
                raise GradMismatchError("assigned grad has data located on a different device",
                                        where=user_where(2),
                                        what=f"tensor on {self._device}, grad on {value._device}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._meta is not None and self._meta.retains_grad

    @property
    def _version(self) -> int:
        return 0 if self._vc is None else self._vc.value

    def _version_counter(self) -> VersionCounter:
        vc = self._vc
        if vc is None:
            vc = self._vc = _new_object(VersionCounter)
            vc.value = 0
        return vc

    def _accumulator(self) -> AccumulateGrad:
        """The AccumulateGrad node of this leaf. The graph holds it; the tensor only has a weak
        reference, so a leaf and its node form no reference cycle (as torch does)."""
        ref = self._acc
        if ref is not None:
            acc = ref()
            if acc is not None:
                return acc
        acc = AccumulateGrad(self)
        self._acc = _weakref(acc)
        return acc

    def _extra(self) -> _TensorMeta:
        if self._meta is None:
            self._meta = _TensorMeta()
        return self._meta

    def retain_grad(self) -> None:
        """Keep `.grad` of this non-leaf tensor after backward (a leaf always keeps it)."""
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        from .autograd.engine import retain_slot

        self._extra().retains_grad = True
        retain_slot(self)

    def register_hook(self, hook: Any) -> Any:
        """hook(grad) runs when this tensor's gradient is computed; it may return a new grad."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.engine import retain_slot
        from .autograd.graph import _RemovableHandle

        if self._grad_fn is not None:  # runs when the node's output gradient is ready
            hooks = retain_slot(self)[1]
        else:  # runs before the gradient is added into .grad
            meta = self._extra()
            if meta.hooks is None:
                meta.hooks = []
            hooks = meta.hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient: Optional[Tensor] = None, retain_graph: Optional[bool] = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad` (implicit only for scalars)."""
        from .autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    # -- storage sharing -------------------------------------------------------------------

    def detach(self) -> Tensor:
        """The same storage, cut from the graph (shares the version counter)."""
        if self._requires_grad:
            note_cut(self, ".detach()", user_where(2))
        out = new_tensor_raw(self._data, self._dtype, self._device)
        out._vc = self._version_counter()  # not a view for autograd, but one storage
        return out

    def detach_(self) -> Tensor:
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """The same storage without the graph. Unlike torch, it shares the version counter: an
        in-place write through `.data` into a tensor that backward still needs is caught."""
        if self._requires_grad:
            note_cut(self, ".data", user_where(2))
        out = new_tensor_raw(self._data, self._dtype, self._device)
        out._vc = self._version_counter()
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data
        self._dtype = value._dtype
        self._device = value._device

    # -- conversions -----------------------------------------------------------------------

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._device is CPU:
            note_exposed(self._version_counter(), ".numpy()", user_where(2), self._data)
        if self._requires_grad and not force:
            raise NumpyRequiresGradError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.", where=user_where(2))
        if self._device is not CPU:
            if force:
                return backend_of(self._device).to_numpy(self._data)
            raise TypeError(f"can't convert {self._device.type} device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._device is CPU and not copy:
            note_exposed(self._version_counter(), "np.asarray()", user_where(2), self._data)
        arr = self._data if self._device is CPU else backend_of(self._device).to_numpy(self._data)
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return np.array(arr, copy=True) if copy else arr

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        if self._device.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        if self._requires_grad:
            note_cut(self, ".item()", user_where(2))
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return np.asarray(self.__array__()).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __index__(self) -> int:
        if self._dtype.category > 1 or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        from ._printing import format_tensor

        fn = self._grad_fn
        return format_tensor(
            self._data if self._device is CPU or self._device.type == "meta"
            else backend_of(self._device).to_numpy(self._data),
            dtype_name=self._dtype.name,
            is_default_dtype=self._dtype is D.get_default_dtype(),
            device=None if self._device is CPU else str(self._device),
            requires_grad=self._requires_grad and fn is None,
            grad_fn=fn.name() if fn is not None else None)

    __str__ = __repr__

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        """With no argument, the type string ('torch.FloatTensor'); else a cast to `dtype`."""
        if dtype is None:
            name = _TYPE_NAMES[self._dtype.name]
            return f"torch.{name}" if self._device.type != "cuda" else f"torch.cuda.{name}"
        if isinstance(dtype, str):
            short = dtype.split(".")[-1]
            if short in _FROM_TYPE_NAME:
                dtype = _FROM_TYPE_NAME[short]
        return self.to(D.to_dtype(dtype))

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy of a leaf (data, dtype, device, requires_grad, .grad), as torch allows."""
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        out = new_tensor_raw(self._data.copy(), self._dtype, self._device, self._requires_grad)
        if type(self) is not Tensor:
            out.__class__ = type(self)
        memo[id(self)] = out
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        return out

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("rebours tensors are not pickled; use rebours.save (safetensors) instead")


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def check_requires_grad(dt: D.dtype, headline: str = "Only Tensors of floating point and "
                        "complex dtype can require gradients") -> None:
    """Only floating (and complex) dtypes can require grad; RB009 otherwise. (torch words the
    factory's refusal and the setter's differently; `headline` carries each.)"""
    if dt.category < 2:
        raise IntegerRequiresGradError(
            headline,
            where=user_where(3), what=f"dtype {dt!r}",
            fix=f"create it as a float: dtype=rebours.float32 (or .float()); {dt!r} cannot hold "
                "a gradient.")


def _warn_nonleaf_grad(t: Tensor) -> None:
    """torch's warning, then which op made t, where, and the leaf that gets the gradient."""
    from .errors import where_text

    fn = t._grad_fn
    site = f" It is the output of {fn.name()} at {where_text(fn.where)}." if fn.where else ""
    edges = [e for e in fn.edges if e is not None and type(e[0]) is AccumulateGrad]
    if edges:
        leaf = edges[0][0].variable
        made = leaf._meta.where if leaf._meta is not None else None
        site += (" The gradient goes to the leaf it was computed from"
                 + (f" (made at {where_text(made)})" if made else "") + ".")
    code = "RB004" if fn.name() == "ToCopyBackward0" else "RB003"
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor."
        " If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
        "instead." + site + f" See: rebours explain {code}", NonLeafGradWarning, stacklevel=3)
