"""Autograd on functions: vjp, jvp, jacobian, hessian, hvp, vhp (torch.autograd.functional).

Everything is built on `autograd.grad`. Forward-mode products (`jvp`, `hvp`, and
`strategy="forward-mode"`) use the double-backward trick, as torch does: the vjp
`u ↦ uᵀJ` is linear in `u`, so differentiating it with respect to a dummy `u` gives `J v`.
`vectorize=True` is accepted and computes the same numbers with a loop over output elements.
Inputs are tuples of Tensors or a single Tensor; results keep that structure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from . import engine
from .grad_mode import STATE, enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# -- helpers (torch's, in the same order) -------------------------------------------------------

def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    from ..tensor import Tensor

    is_tuple = isinstance(inp, tuple)
    tup = inp if is_tuple else (inp,)
    for i, el in enumerate(tup):
        if not isinstance(el, Tensor):
            what = (f"the value at index {i} has type {type(el)}" if is_tuple
                    else f"the given {arg_name} has type {type(el)}")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but {what}.")
    return is_tuple, tup


def _unpack(res: tuple, to_unpack: Any) -> Any:
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Always new Tensor objects, so inputs are told apart from tensors the function captured."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(need_graph) for t in inputs)


def _postprocess(res: tuple, create_graph: bool) -> tuple:
    from ..tensor import Tensor

    if res and isinstance(res[0], Tensor):
        return res if create_graph else tuple(t.detach() for t in res)
    return tuple(_postprocess(r, create_graph) for r in res)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.size() != b.size():
            pre = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{pre}v has invalid size: should be {b.size()} but got "
                               f"{a.size()}.")


def _check_requires_grad(ts: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(ts):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError({
                "outputs": f"Output {i} of the user-provided function does not require "
                           "gradients. The outputs must be computed in a differentiable manner "
                           "from the input when running in strict mode.",
                "grad_inputs": f"The gradient with respect to input {i} is independent of the "
                               "inputs of the user-provided function. This is not allowed in "
                               "strict mode.",
                "jacobian": "While computing the hessian, found that the jacobian of the "
                            f"user-provided function with respect to input {i} is independent "
                            "of the input. This is not allowed in strict mode. You should "
                            "ensure that your function is twice differentiable and that the "
                            "jacobian depends on the inputs (this would be violated by a linear "
                            "function for example).",
                "hessian": f"The hessian of the user-provided function with respect to input {i}"
                           " is independent of the input. This is not allowed in strict mode. "
                           "You should ensure that your function is thrice differentiable and "
                           "that the hessian depends on the inputs.",
            }[kind])


def _grad(outputs: tuple, inputs: tuple, grad_outputs: Optional[tuple] = None,
          create_graph: bool = False, retain_graph: Optional[bool] = None) -> tuple:
    """`autograd.grad` that skips outputs which are None or need no grad; None for unused."""
    gos = grad_outputs if grad_outputs is not None else (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, gos) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return engine.grad([o for o, _ in pairs], list(inputs),
                       [g for _, g in pairs] if grad_outputs is not None else None,
                       retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


_ZERO_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                   stage: str) -> tuple:
    from ..factories import zeros_like

    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_MSG[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _v_or_default(v: Any, ref: tuple, is_ref_tuple: bool, name: str, create_graph: bool,
                  what: str) -> Optional[tuple]:
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _preprocess(v, create_graph, need_graph=False)
        _validate_v(v, ref, is_ref_tuple)
        return v
    if len(ref) != 1 or ref[0].nelement() != 1:
        raise RuntimeError(f"The vector v can only be None if the {what} a single Tensor with "
                           "a single element.")
    return None


# -- the public API -----------------------------------------------------------------------------

def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ J): the vector-Jacobian product at `inputs`.

    >>> from rebours.autograd.functional import vjp
    >>> vjp(lambda x: x ** 2, rebours.tensor([1.0, 2.0]), rebours.tensor([1.0, 1.0]))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _v_or_default(v, outputs, is_out_tuple, "vjp", create_graph,
                          "user-provided function returns")
    with set_grad_enabled(True if create_graph else STATE.enabled):
        res = _grad(outputs, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "back")
    return (_unpack(_postprocess(outputs, create_graph), is_out_tuple),
            _unpack(_postprocess(res, create_graph), is_in_tuple))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick.

    >>> from rebours.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, rebours.tensor([1.0, 2.0]), rebours.tensor([1.0, 1.0]))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    from ..factories import zeros_like

    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _v_or_default(v, inputs, is_in_tuple, "jvp", create_graph,
                          "input to the user-provided function is")
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # the vjp is linear in u, so u's value never enters the result: zeros are safe (no NaN)
        us = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else STATE.enabled):
        res = _grad(grad_inputs, us, v, create_graph=create_graph)
        res = _fill_in_zeros(res, outputs, strict, create_graph, "back_trick")
    return (_unpack(_postprocess(outputs, create_graph), is_out_tuple),
            _unpack(_postprocess(res, create_graph), is_out_tuple))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of `func` at `inputs`: shape `out.shape + in.shape` per (output, input).

    One backward per output element (`vectorize` is accepted; the loop is the same).
    `strategy="forward-mode"` gives the same numbers, computed in reverse mode.

    >>> from rebours.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, rebours.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    from ..factories import zeros_like
    from ..functions import stack

    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `create_graph=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                "implemented for `vectorize=True`.")
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either set "
                               "`strict=False` or `vectorize=False`.")
        jac = []
        for i, out in enumerate(outputs):
            rows: list[list] = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out.nelement()):
                vj = _grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
                for k, (row, g, inp) in enumerate(zip(rows, vj, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {k}. This is not "
                                               "allowed in strict mode.")
                        g = zeros_like(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError("The jacobian of the user-provided function is "
                                           f"independent of input {i}. This is not allowed in "
                                           "strict mode when create_graph=True.")
                    row.append(g)
            jac.append(tuple(
                (stack(row) if row else zeros_like(out).reshape(0, *inp.shape))
                .reshape(*out.shape, *inp.shape) for row, inp in zip(rows, inputs)))
        return _unpack(_postprocess(tuple(jac), create_graph), (is_out_tuple, is_in_tuple))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar `func` at `inputs` (the Jacobian of its gradient).

    >>> from rebours.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), rebours.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp: Any) -> Any:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jac_func(*inp: Any) -> Any:
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (is_in_tuple, is_in_tuple))


def _scalar_outputs(func: Callable, inputs: tuple, strict: bool, name: str) -> tuple:
    outputs = func(*inputs)
    is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict)
    if is_out_tuple:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain "
                           "a single element")
    return outputs


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ H) for a scalar `func`: two backward passes.

    >>> from rebours.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), rebours.tensor([1.0, 2.0]), rebours.tensor([1.0, 1.0]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _v_or_default(v, inputs, is_in_tuple, "vhp", create_graph,
                          "input to the user-provided function is")
        outputs = _scalar_outputs(func, inputs, strict, "vhp")
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else STATE.enabled):
        res = _grad(jac, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "double_back")
    return (_unpack(_postprocess(outputs, create_graph), False),
            _unpack(_postprocess(res, create_graph), is_in_tuple))


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v) for a scalar `func`, by the double-backward trick (three passes).

    >>> from rebours.autograd.functional import hvp
    >>> hvp(lambda x: (x ** 3).sum(), rebours.tensor([1.0, 2.0]), rebours.tensor([1.0, 1.0]))
    (tensor(9.), tensor([ 6., 12.]))
    """
    from ..factories import zeros_like

    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _v_or_default(v, inputs, is_in_tuple, "hvp", create_graph,
                          "input to the user-provided function is")
        outputs = _scalar_outputs(func, inputs, strict, "hvp")
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        us = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _grad(jac, inputs, us, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else STATE.enabled):
        res = _grad(double_back, us, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "double_back_trick")
    return (_unpack(_postprocess(outputs, create_graph), False),
            _unpack(_postprocess(res, create_graph), is_in_tuple))
