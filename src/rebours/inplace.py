"""In-place ops (`add_`, `+=`, `x[i] = v`): refuse leaves, write through views, bump versions,
and rebase the graph (CopySlices on the base when a view is written), as torch does.

An in-place op is its out-of-place row, then a write into the tensor's storage. What makes it
in-place is only this: the checks before writing, the version counter after, and where the
result's Node is attached.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes as D
from .autograd.grad_mode import STATE
from .autograd.graph import user_where
from .dispatch import apply, record
from .errors import InPlaceOnLeafError
from .ops.indexing import is_basic
from .ops.registry import OPS
from .tensor import Tensor, new_tensor_raw


def check_writable(t: Tensor, op_name: str, where: Any) -> None:
    """Refuse an in-place write into a leaf that requires grad, or into a view of one."""
    if not STATE.enabled:
        return
    if t._requires_grad and t._grad_fn is None and t._base is None:
        raise InPlaceOnLeafError(
            "a leaf Variable that requires grad is being used in an in-place operation.",
            where=where, what=f"{op_name} on a leaf of shape {tuple(t.shape)}, {t.dtype!r}")
    base = t._base
    if base is not None and base._requires_grad and base._grad_fn is None:
        raise InPlaceOnLeafError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation.", where=where,
            what=f"{op_name} on a view {tuple(t.shape)} of a leaf {tuple(base.shape)}",
            fix="build the result in a new tensor (`w = rebours.zeros(3); w[0] = ...`, or "
                "`rebours.stack`/`rebours.cat`), or write under `with rebours.no_grad():` if this "
                "is a parameter update.")


def _stand_in(t: Tensor) -> Tensor:
    """A copy of t's values at t's place in the graph: what a row may save before t changes."""
    s = new_tensor_raw(t._data.copy(), t._dtype, t._device, t._requires_grad, t._grad_fn,
                       t._out_nr)
    if t._grad_fn is None and t._requires_grad:
        acc = t._accumulator()
        s._acc = lambda: acc  # the stand-in feeds t's own AccumulateGrad
    return s


def _write(t: Tensor, value: Any, op_name: str, where: Any) -> None:
    """Copy `value` into t's storage (views and base see it) and bump the shared version."""
    if t._device.type != "meta":
        try:
            t._data[...] = value
        except ValueError as err:
            if "read-only" not in str(err):
                raise
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation.") from None
    vc = t._version_counter()
    vc.value += 1
    vc.where = where
    vc.op = op_name


def _check_result(t: Tensor, r: Tensor) -> None:
    if tuple(r.shape) != tuple(t.shape):
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast shape "
                           f"{list(r.shape)}")
    if r._dtype is not t._dtype and r._dtype.category > t._dtype.category:
        raise RuntimeError(f"result type {_torch_name(r._dtype)} can't be cast to the desired "
                           f"output type {_torch_name(t._dtype)}")


def _torch_name(dt: D.dtype) -> str:
    from .tensor import _TYPE_NAMES

    return _TYPE_NAMES[dt.name].removesuffix("Tensor")


def apply_(op_name: str, t: Tensor, *args: Any, **params: Any) -> Tensor:
    """`t.<op>_(*args)`: the row `op_name` computed out of place, written into t."""
    where = user_where(2)
    name = op_name + "_"
    check_writable(t, name, where)
    op = OPS[op_name]
    tracked = STATE.enabled and (t._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))
    src = t
    if tracked and 0 in op.saves:
        # the row saves t's old values and t is about to change: save a copy, as torch does
        # for self. (t passed again as another argument stays t: `y *= y` then fails at
        # backward with the version error, as in torch.)
        src = _stand_in(t)
    if STATE.enabled:
        r = apply(op, src, *args, **params)
    else:  # an update under no_grad (an optimizer step, an init) is not a cut of t's graph
        meta = t._meta
        cut = meta.cut if meta is not None else None
        r = apply(op, src, *args, **params)
        if t._meta is not None:
            t._meta.cut = cut
    _check_result(t, r)
    _write(t, r._data, name, where)
    if tracked and r._requires_grad:
        _rebase(t, r)
    return t


def _rebase(t: Tensor, r: Tensor) -> None:
    """t now holds r's values: give t r's place in the graph (through its base if a view)."""
    node = r._grad_fn
    vc = t._version_counter()
    node.versions = [(vc, vc.value, k) if k < 0 and c is r._vc else (c, v, k)
                     for c, v, k in node.versions]
    if t._base is None:
        t._grad_fn, t._out_nr, t._requires_grad = node, r._out_nr, True
        return
    base = t._base
    chain = t.__dict__.get("_view_fn", ())
    # the base after the write is a CopySlices of its old self and r; t is a view of that
    record(OPS["copy_slices"], (base, r), [base._data, r._data], {"chain": chain}, [0, 1],
           (base,))
    record(OPS["as_view"], (base,), [base._data], {"chain": chain}, [0], (t,))


def copy_(t: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy src's values into t (broadcast, cast to t's dtype); differentiable to src."""
    if isinstance(src, Tensor) and src._device is not t._device:
        from ._bind import _to_device

        src = _to_device(src, t._device)
    return apply_("copy", t, src)


def setitem(t: Tensor, idx: Any, value: Any) -> None:
    """`t[idx] = value`: a write into the view t[idx] (CopySlices), or an index_put."""
    from .functions import getitem, index_for

    where = user_where(2)
    np_idx = index_for(idx)
    if is_basic(np_idx):
        view = getitem(t, idx)
        check_writable(view, "copy_ (index assignment)", where)
        if not isinstance(value, Tensor):
            value = _as_value(value, t)
        view_copy = apply_("copy", view, value)
        del view_copy
        return
    check_writable(t, "index_put_ (index assignment)", where)
    if not isinstance(value, Tensor):
        value = _as_value(value, t)
    r = apply(OPS["index_put"], t, value, idx=np_idx)
    _write(t, r._data, "index_put_", where)
    if STATE.enabled and r._requires_grad:
        _rebase(t, r)


def _as_value(value: Any, like: Tensor) -> Tensor:
    arr = np.asarray(value.__array__() if hasattr(value, "__array__") else value,
                     dtype=D.np_dtype(like._dtype))
    out = new_tensor_raw(arr, like._dtype, like._device)
    if like._device is not None and like._device.type != "cpu":
        from ._bind import _to_device
        from .backends import CPU

        out._device = CPU
        out = _to_device(out, like._device)
    return out


# Methods: name_ → the row it computes out of place. The arithmetic ones also back += -= *= /=.
INPLACE = {
    "add_": "add", "sub_": "sub", "mul_": "mul", "div_": "div", "pow_": "pow",
    "remainder_": "remainder", "fmod_": "fmod", "floor_divide_": "floor_divide",
    "neg_": "neg", "abs_": "abs", "sign_": "sign", "exp_": "exp", "log_": "log",
    "log2_": "log2", "log10_": "log10", "log1p_": "log1p", "expm1_": "expm1", "sqrt_": "sqrt",
    "rsqrt_": "rsqrt", "sin_": "sin", "cos_": "cos", "tan_": "tan", "tanh_": "tanh",
    "sigmoid_": "sigmoid", "relu_": "relu", "floor_": "floor", "ceil_": "ceil",
    "trunc_": "trunc", "round_": "round", "clamp_": "clamp", "clip_": "clamp",
    "maximum_": "maximum", "minimum_": "minimum", "zero_": "zero", "fill_": "fill",
    "asin_": "asin", "acos_": "acos", "atan_": "atan", "atan2_": "atan2", "sinh_": "sinh",
    "cosh_": "cosh", "asinh_": "asinh", "acosh_": "acosh", "atanh_": "atanh", "erf_": "erf",
    "erfc_": "erfc", "erfinv_": "erfinv", "frac_": "frac", "reciprocal_": "reciprocal",
    "hypot_": "hypot", "logit_": "logit", "xlogy_": "xlogy", "nan_to_num_": "nan_to_num",
    "cumsum_": "cumsum", "cumprod_": "cumprod", "tril_": "tril", "triu_": "triu",
}


def _method(op_name: str) -> Any:
    op = OPS[op_name]
    nin = op.nin

    def method(self: Tensor, *args: Any, **params: Any) -> Tensor:
        if nin > 0 and len(args) > nin - 1:  # positional parameters: x.tril_(1), x.cumsum_(0)
            params.update(zip(op.params, args[nin - 1:]))
            args = args[:nin - 1]
        return apply_(op_name, self, *args, **params)
    method.__name__ = op_name + "_"
    return method


def bind() -> None:
    for name, op_name in INPLACE.items():
        setattr(Tensor, name, _method(op_name))
    Tensor.copy_ = copy_
    Tensor.__setitem__ = setitem
    Tensor.__iadd__ = lambda self, other: apply_("add", self, other)
    Tensor.__isub__ = lambda self, other: apply_("sub", self, other)
    Tensor.__imul__ = lambda self, other: apply_("mul", self, other)
    Tensor.__itruediv__ = lambda self, other: apply_("div", self, other)
    Tensor.__ifloordiv__ = lambda self, other: apply_("floor_divide", self, other)
    Tensor.__imod__ = lambda self, other: apply_("remainder", self, other)
    Tensor.__ipow__ = lambda self, other: apply_("pow", self, other)
    Tensor.clamp_min_ = lambda self, min: apply_("clamp", self, min=min)
    Tensor.clamp_max_ = lambda self, max: apply_("clamp", self, max=max)
