"""Module hook plumbing: removable handles, and the identity Function behind backward hooks.

`register_full_backward_hook` works as torch's does: the module's tensor inputs and outputs pass
through an identity autograd Function (`BackwardHookFunction`). Its backward on the outputs
records grad_output (and runs backward pre-hooks, which may replace it); its backward on the
inputs calls the hooks with (module, grad_input, grad_output), and a hook may replace grad_input.

Limitations: only positional Tensor arguments and a Tensor or tuple-of-Tensors output are
wrapped (keyword tensors and nested outputs are not seen by the hooks); an output that the loss
does not use gets a zero grad_output rather than None.
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Optional

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """What `register_*_hook` returns: `handle.remove()` unregisters; also a context manager."""

    def __init__(self, hooks_dict: dict, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = hooks_dict
        self.id = next(_ids)
        extra = extra_dict if isinstance(extra_dict, (list, tuple)) else (
            [] if extra_dict is None else [extra_dict])
        self.extra_dict_ref = list(extra)

    def remove(self) -> None:
        for d in (self.hooks_dict_ref, *self.extra_dict_ref):
            if isinstance(d, dict):
                d.pop(self.id, None)
            elif self.id in d:
                d.discard(self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def add_hook(hooks: OrderedDict, hook: Callable, prepend: bool, extra: Any = None
             ) -> RemovableHandle:
    handle = RemovableHandle(hooks, extra_dict=extra)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class BackwardHookFunction(Function):
    """Identity on tensors; its backward hands the incoming gradients to `on_grad`."""

    @staticmethod
    def forward(ctx: Any, on_grad: Callable, *tensors: Tensor) -> tuple:
        ctx.on_grad = on_grad
        return tensors

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        return (None, *ctx.on_grad(grads))


class BackwardHook:
    """One forward call's backward hooks: wraps its inputs and outputs (see the module doc)."""

    def __init__(self, module: Any, hooks: list, pre_hooks: list) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs: Optional[tuple] = None
        self.n_inputs = 0
        self.input_index: Optional[list[int]] = None

    def _wrap(self, values: tuple, on_grad: Callable) -> Optional[tuple]:
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not (is_grad_enabled() and index):
            return None
        tensors = [values[i] for i in index]
        new = list(values)
        for i, t in zip(index, BackwardHookFunction.apply(on_grad, *tensors)):
            new[i] = t
        return tuple(new), index

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        wrapped = self._wrap(args, self._on_grad_input)
        if wrapped is None:
            return args
        args, self.input_index = wrapped
        return args

    def setup_output_hook(self, result: Any) -> Any:
        single = isinstance(result, Tensor)
        values = (result,) if single else result
        if not isinstance(values, tuple):
            return result
        self.n_outputs = len(values)
        wrapped = self._wrap(values, self._on_grad_output)
        if wrapped is None:
            return result
        self.output_index = wrapped[1]
        return wrapped[0][0] if single else wrapped[0]

    def _on_grad_output(self, grads: tuple) -> tuple:
        packed = _pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            res = hook(self.module, packed)
            if res is not None:
                res = res if isinstance(res, tuple) else (res,)
                if len(res) != len(packed):
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(res)}, but expected "
                                       f"{len(packed)}")
                packed = res
        self.grad_outputs = packed
        if self.input_index is None:  # no input needs grad: call the hooks now
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients. See https://docs."
                          "pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module."
                          "register_full_backward_hook for more details.", UserWarning,
                          stacklevel=2)
            nones = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, nones, packed)
                if res is not None and not (isinstance(res, tuple)
                                            and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(packed[i] for i in self.output_index)

    def _on_grad_input(self, grads: tuple) -> tuple:
        assert self.input_index is not None
        res = _pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            out = out if isinstance(out, tuple) else (out,)
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)


def _pack(index: list[int], values: tuple, n: int) -> tuple:
    out: list[Any] = [None] * n
    for i, v in zip(index, values):
        out[i] = v
    return tuple(out)


class HooksMixin:
    """Forward (pre-)hooks, full backward (pre-)hooks, and `__call__`, which runs them."""

    _forward_pre_hooks: OrderedDict
    _forward_pre_hooks_with_kwargs: dict
    _forward_hooks: OrderedDict
    _forward_hooks_with_kwargs: dict
    _backward_hooks: OrderedDict
    _backward_pre_hooks: OrderedDict
    forward: Callable[..., Any]

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """hook(module, args) -> None or new args, before forward (with_kwargs: args, kwargs)."""
        handle = add_hook(self._forward_pre_hooks, hook, prepend,
                          self._forward_pre_hooks_with_kwargs)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False
                              ) -> RemovableHandle:
        """hook(module, args, output) -> None or a new output, after forward."""
        handle = add_hook(self._forward_hooks, hook, prepend, self._forward_hooks_with_kwargs)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        return handle

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> RemovableHandle:
        """hook(module, grad_input, grad_output) -> None or new grad_input (see _hooks.py)."""
        return add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> RemovableHandle:
        """hook(module, grad_output) -> None or a new grad_output."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            bw_hook = BackwardHook(self, list(self._backward_hooks.values()),
                                   list(self._backward_pre_hooks.values()))
            args = bw_hook.setup_input_hook(args)
        result = self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                res = hook(self, args, kwargs, result)
            else:
                res = hook(self, args, result)
            if res is not None:
                result = res
        if bw_hook is not None:
            result = bw_hook.setup_output_hook(result)
        return result
