"""Custom autograd functions: `class F(rebours.autograd.Function)` with forward and backward.

`F.apply(*args)` runs `forward(ctx, *args)` without recording, then records one Node whose
backward calls `F.backward(ctx, *grad_outputs)`. The Node is a row of its own (made once per
class), so the engine treats it like any op.
"""

from __future__ import annotations

import weakref
from typing import Any

from .. import dtypes as D
from .. import tensor as T  # (partly initialized while the package loads: read at call time)
from ..errors import InPlaceOnLeafError
from .grad_mode import STATE, no_grad, set_grad_enabled
from .graph import user_where
from .ops_namespace import tensor_ops


class FunctionCtx:
    """What forward leaves for backward: saved tensors and flags, as torch's `ctx`."""

    def __init__(self) -> None:
        self.needs_input_grad: tuple[bool, ...] = ()
        self.materialize_grads = True
        self._saved: tuple = ()
        self._non_differentiable: set[int] = set()
        self._dirty: set[int] = set()
        self._device: Any = None
        self._outputs: dict[int, int] = {}  # saved position -> output number, for saved outputs
        self._node: Any = None  # weak reference to the node, once an output is saved

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for backward; an in-place change before backward is an error there."""
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if not self._outputs:
            return self._saved
        node = self._node() if self._node is not None else None
        out = list(self._saved)
        for i, k in self._outputs.items():  # an output saved: its graph, through the node
            alias = out[i]
            if node is not None:
                t = T.new_tensor_raw(alias._data, alias._dtype, alias._device, True, node, k)
                t._vc = alias._vc
                out[i] = t
        return tuple(out)

    def _unlink_outputs(self, node: Any, outputs: list) -> None:
        """Outputs saved for backward are kept without their grad_fn, which is reattached on
        `saved_tensors` through a weak reference (as torch's SavedVariable): otherwise output
        -> grad_fn -> ctx -> output would be a reference cycle holding every saved value."""
        saved = list(self._saved)
        for i, s in enumerate(saved):
            for o in outputs:
                if s is o and o._grad_fn is node:
                    alias = T.new_tensor_raw(o._data, o._dtype, o._device)
                    alias._vc = o._version_counter()
                    saved[i] = alias
                    self._outputs[i] = o._out_nr
                    break
        if self._outputs:
            self._saved = tuple(saved)
            self._node = weakref.ref(node)

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class Function:
    """Base class of custom differentiable functions.

    >>> class Cube(rebours.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> x = rebours.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward(); x.grad
    tensor(12.)
    """

    _row: Any = None

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @classmethod
    def _op(cls) -> Any:
        if cls.__dict__.get("_row") is None:
            from ..ops.registry import OpDef

            row = OpDef(f"{cls.__name__}", _no_forward, (_make_rule(cls),),
                        f"{cls.__name__}Backward", None, -1, (), (), False, -1, None, False,
                        (), None, cls.__doc__ or "", None, False, False)
            cls._row = row
        return cls._row

    @classmethod
    def apply(cls, *args: Any) -> Any:
        from ..dispatch import record
        from ..tensor import Tensor

        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        tracked = STATE.enabled and any(ctx.needs_input_grad)
        with no_grad():
            result = cls.forward(ctx, *args)
        single = not isinstance(result, tuple)
        outs = (result,) if single else tuple(result)
        if not tracked:
            return result
        ids = {id(a): a for a in args if isinstance(a, Tensor)}
        wrapped = []
        for o in outs:
            if isinstance(o, Tensor) and id(o) in ids and id(o) not in ctx._dirty:
                marked = id(o) in ctx._non_differentiable
                o = o.detach()  # an input returned as is: a new tensor on the same storage
                if marked:
                    ctx._non_differentiable.add(id(o))
            wrapped.append(o)
        for i in ctx._dirty:
            t = ids.get(i)
            if t is not None and t._requires_grad and t._grad_fn is None:
                raise InPlaceOnLeafError(
                    "a leaf Variable that requires grad has been used in an in-place operation.",
                    where=user_where(2), what=f"{cls.__name__}.forward marked it dirty")
            if t is not None:
                vc = t._version_counter()
                vc.value += 1
                vc.where, vc.op = user_where(2), f"{cls.__name__}.forward"
        tensors = [o for o in wrapped if isinstance(o, Tensor)]
        diff = tuple(k for k, o in enumerate(tensors)
                     if id(o) not in ctx._non_differentiable and o._dtype.category >= 2)
        tpos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        ctx._device = tensors[0]._device if tensors else None
        record(cls._op(), args, arrays, {"ctx": ctx}, tpos, tuple(tensors), diff=diff)
        node = tensors[0]._grad_fn if tensors and diff else None
        if node is not None and ctx._saved:
            node.versions = [(t._version_counter(), t._version_counter().value, i)
                             for i, t in enumerate(ctx._saved) if isinstance(t, Tensor)]
            ctx._unlink_outputs(node, tensors)
        out = tuple(wrapped)
        return out[0] if single else out


def _no_forward(xp: Any, *args: Any, **params: Any) -> Any:
    raise RuntimeError("a custom Function's row has no forward of its own; use .apply()")


def _make_rule(cls: type) -> Any:
    def rule(ops: Any, g: Any, out: Any, *args: Any, ctx: Any = None) -> tuple:
        from ..tensor import Tensor, new_tensor_raw

        create_graph = ops is tensor_ops
        gs = g if isinstance(g, tuple) else (g,)
        if not create_graph:
            gs = tuple(new_tensor_raw(x, D.from_numpy(x.dtype), ctx._device) for x in gs)
        with set_grad_enabled(create_graph):
            res = cls.backward(ctx, *gs)
        res = res if isinstance(res, tuple) else (res,)
        if len(res) != len(args):
            raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of "
                               f"gradients (expected {len(args)}, got {len(res)})")
        if create_graph:
            return res
        return tuple(r._data if isinstance(r, Tensor) else r for r in res)
    return rule


class once_differentiable:  # noqa: N801  (torch's name)
    """Decorator for a backward that is not itself differentiable (kept for compatibility)."""

    def __new__(cls, fn: Any) -> Any:
        return fn
