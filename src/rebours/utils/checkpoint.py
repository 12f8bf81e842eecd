"""Activation checkpointing: keep a segment's inputs, recompute its activations during backward.

`checkpoint(fn, *args)` returns `fn(*args)` with one custom node (an `autograd.Function`) in
place of the graph `fn` would record. That node keeps the inputs only; when backward reaches
it, it reruns `fn` with grad enabled (and the random state of the first run) and backprops
through the fresh graph. Gradients equal those without checkpointing.

- `use_reentrant=True` is torch's reentrant variant: the first run is under `no_grad`, and
  backward calls `autograd.backward` on the recomputed outputs, so tensors `fn` reads from its
  closure (parameters) get `.grad` by accumulation; `autograd.grad` cannot reach them.
- `use_reentrant=False` (the default here; torch warns and picks True when it is not passed)
  also gives the node an edge to every leaf the function reads from its closure, so
  `autograd.grad(loss, params)` and `inputs=` work. To find those leaves the first run records
  a graph, which is dropped as soon as `fn` returns: peak memory is one segment's activations,
  as with torch's non-reentrant variant. A closure tensor that is itself the output of a graph
  is differentiated through, to its leaves.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..autograd import backward, engine
from ..autograd.function import Function
from ..autograd.grad_mode import STATE, enable_grad
from ..autograd.graph import AccumulateGrad
from ..factories import default_generator
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Segment:
    """What the node keeps: the function, its non-tensor args, kwargs, and the random state."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, preserve: bool) -> None:
        self.function = function
        self.args = [None if isinstance(a, Tensor) else a for a in args]
        self.tpos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.kwargs = kwargs
        self.rng = default_generator.get_state() if preserve else None
        self.outputs: Any = None
        self.closure: list = []

    def run(self, tensors: Sequence[Tensor], connect: bool = False) -> tuple[list, Any]:
        """Run the function on new tensors of the same storage, recording a graph; they are
        detached, unless `connect` (a double backward) asks for a way back to `tensors`."""
        fresh = [t.view_as(t) if connect and t.requires_grad
                 else t.detach().requires_grad_(t.requires_grad) for t in tensors]
        args = list(self.args)
        for i, t in zip(self.tpos, fresh):
            args[i] = t
        with enable_grad():
            return fresh, self.function(*args, **self.kwargs)

    def rerun(self, tensors: Sequence[Tensor], connect: bool = False) -> tuple[list, Any]:
        """`run` again, with the random state of the first run; the caller's is kept."""
        outer = default_generator.get_state()
        if self.rng is not None:
            default_generator.set_state(self.rng)
        try:
            return self.run(tensors, connect)
        finally:
            default_generator.set_state(outer)


def _differentiable(outs: Any, grads: tuple) -> tuple[list, list]:
    outs = outs if isinstance(outs, tuple) else (outs,)
    pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad]
    if not pairs:
        raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                           "necessary")
    return [o for o, _ in pairs], [g for _, g in pairs]


class _Reentrant(Function):
    @staticmethod
    def forward(ctx: Any, seg: _Segment, *tensors: Tensor) -> Any:
        ctx.seg = seg
        ctx.save_for_backward(*tensors)
        args = list(seg.args)
        for i, t in zip(seg.tpos, tensors):
            args[i] = t
        return seg.function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple:
        fresh, outs = ctx.seg.rerun(ctx.saved_tensors)
        outs, grads = _differentiable(outs, grads)
        backward(outs, list(grads), create_graph=STATE.enabled)
        return (None,) + tuple(t.grad for t in fresh)


class _NonReentrant(Function):
    @staticmethod
    def forward(ctx: Any, seg: _Segment, n: int, *tensors: Tensor) -> Any:
        ctx.seg, ctx.n = seg, n
        ctx.save_for_backward(*tensors[:n])  # the closure leaves are kept by the edges
        out, seg.outputs = seg.outputs, None
        return out

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple:
        seg = ctx.seg
        fresh, outs = seg.rerun(ctx.saved_tensors, connect=STATE.enabled)
        outs, grads = _differentiable(outs, grads)
        targets = [t for t in fresh if t.requires_grad] + seg.closure
        got = iter(engine.grad(outs, targets, list(grads), retain_graph=True,
                               create_graph=STATE.enabled, allow_unused=True))
        res = [next(got) if t.requires_grad else None for t in fresh]
        return (None, None) + tuple(res) + tuple(got)


def _closure_leaves(outs: tuple, own: set) -> list:
    """Leaves that require grad, reached from `outs`, other than the fresh inputs."""
    found, seen = [], set()
    stack = [o.grad_fn for o in outs if isinstance(o, Tensor) and o.grad_fn is not None]
    while stack:
        fn = stack.pop()
        for e in fn.edges:
            if e is None or e[0] in seen:
                continue
            seen.add(e[0])
            if type(e[0]) is AccumulateGrad:
                if id(e[0].variable) not in own:
                    found.append(e[0].variable)
            else:
                stack.append(e[0])
    return found


def checkpoint(function: Callable, *args: Any, use_reentrant: bool = False,
               preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)`, recomputed during backward instead of stored.

    >>> from rebours.utils.checkpoint import checkpoint
    >>> w = rebours.tensor([1.0, 2.0], requires_grad=True)
    >>> x = rebours.tensor([3.0, 4.0], requires_grad=True)
    >>> checkpoint(lambda h: (h * w).tanh() * w, x).sum().backward()
    >>> w.grad  # the same as without checkpoint
    tensor([1.0247, 1.0000])
    """
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if not STATE.enabled:
        return function(*args, **kwargs)
    seg = _Segment(function, args, kwargs, preserve_rng_state)
    tensors = [a for a in args if isinstance(a, Tensor)]
    if use_reentrant:
        if not any(t.requires_grad for t in tensors):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        return _Reentrant.apply(seg, *tensors)
    fresh, out = seg.run(tensors)  # the first run: record, find the closure, drop the graph
    outs = out if isinstance(out, tuple) else (out,)
    seg.closure = _closure_leaves(outs, {id(t) for t in fresh})
    plain = tuple(o.detach() if isinstance(o, Tensor) else o for o in outs)
    seg.outputs = plain if isinstance(out, tuple) else plain[0]
    del fresh, out, outs
    if not any(t.requires_grad for t in tensors) and not seg.closure:
        out, seg.outputs = seg.outputs, None
        return out
    return _NonReentrant.apply(seg, len(tensors), *tensors, *seg.closure)


def checkpoint_sequential(functions: Any, segments: int, input: Any,
                          use_reentrant: bool = False, **kwargs: Any) -> Any:
    """Run `functions` in order, checkpointing all but the last of `segments` chunks.

    >>> from rebours.utils.checkpoint import checkpoint_sequential
    >>> x = rebours.tensor([0.5], requires_grad=True)
    >>> checkpoint_sequential([rebours.sin, rebours.exp, rebours.tanh], 2, x)
    tensor([0.9239], grad_fn=<TanhBackward0>)
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if hasattr(functions, "children"):
        functions = list(functions.children())
    functions = list(functions)

    def run(start: int, end: int) -> Callable:
        def forward(h: Any) -> Any:
            for j in range(start, end + 1):
                h = functions[j](h)
            return h
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
