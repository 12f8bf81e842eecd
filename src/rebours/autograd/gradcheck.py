"""gradcheck / gradgradcheck: compare backward's vector-Jacobian products with central differences.

As `torch.autograd.gradcheck`: for each input that requires grad, perturb each of its elements by
±eps in place (float64, central differences) to get a column of the numerical Jacobian, and ask
the engine (`autograd.grad`, one one-hot `grad_outputs` per output element) for the analytical
one. A mismatch raises `GradcheckError` with torch's first sentence and both matrices, laid out
as torch's: one row per input element, one column per output element.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Optional

import numpy as np

from .engine import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Error raised by `gradcheck` and `gradgradcheck`."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _is_tensor(x: Any) -> bool:
    from ..tensor import Tensor

    return isinstance(x, Tensor)


def _host(t: Any) -> np.ndarray:
    """A float64 NumPy copy of a tensor's values."""
    # a copy read without handing the storage to NumPy: gradcheck perturbs inputs in place and
    # restores them, which must not look like a user's NumPy write to the doctor
    return np.array(t.__array__(copy=True), dtype=np.float64, copy=True)


def _as_tensor(a: np.ndarray) -> Any:
    from ..factories import tensor

    return tensor(a)


def _check_inputs(inputs: tuple) -> None:
    found = False
    for idx, x in enumerate(inputs):
        if not (_is_tensor(x) and x.requires_grad):
            continue
        if x.dtype.name not in ("float64", "complex128"):
            warnings.warn(
                f"Input #{idx} requires gradient and is not a double precision floating point "
                "or complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ", UserWarning, stacklevel=3)
        if x.numel() and any(st == 0 and sz > 1 for st, sz in zip(x.stride(), x.shape)):
            raise RuntimeError(
                f"The {idx}th input has a dimension with stride 0. gradcheck only supports "
                "inputs that are non-overlapping to be able to compute the numerical gradients "
                "correctly. You should call .contiguous on the input before passing it to "
                "gradcheck.")
        found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")


def _float_outputs(out: Any) -> list:
    return [o for o in _as_tuple(out) if _is_tensor(o) and o.dtype.is_floating_point]


def _numerical(func: Callable, inputs: tuple, idx: int, outputs: list, eps: float) -> list:
    """d outputs / d inputs[idx] by central differences: one (in numel, out numel) per output."""
    x = inputs[idx]
    arr = x._data  # perturbed in place and restored, so views of one base see the change
    jac = [np.zeros((x.numel(), o.numel())) for o in outputs]
    for k in range(x.numel()):
        pos = np.unravel_index(k, arr.shape)
        orig = arr[pos].copy()
        arr[pos] = orig - eps
        lo = [_host(o) for o in _float_outputs(func(*inputs))]  # copy now: func may return x
        arr[pos] = orig + eps
        hi = [_host(o) for o in _float_outputs(func(*inputs))]
        arr[pos] = orig
        for o, (a, b) in enumerate(zip(lo, hi)):
            if a.shape != b.shape:
                raise AssertionError(
                    f"Expected `func` to return outputs with the same shape when inputs are "
                    f"perturbed by {eps}, but got: shapes {a.shape} and {b.shape}.")
            jac[o][k] = ((b - a) / (2 * eps)).reshape(-1)
    return jac


def _analytical(output: Any, diff: list, check_grad_dtypes: bool) -> list:
    """d output / d each of `diff` from one vector-Jacobian product per output element."""
    from ..factories import zeros_like

    jac = [np.zeros((x.numel(), output.numel())) for x in diff]
    for k in range(output.numel()):
        v = zeros_like(output)
        v._data.reshape(-1)[k] = 1  # a fresh contiguous array: reshape is a view
        got = _grad(output, diff, v, retain_graph=True, allow_unused=True)
        for i, (g, x) in enumerate(zip(got, diff)):
            if g is None:
                continue
            if tuple(g.shape) != tuple(x.shape):
                raise GradcheckError("Analytical gradient has incorrect size")
            if check_grad_dtypes and g.dtype is not x.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            jac[i][:, k] = _host(g).reshape(-1)
    return jac


def _notallclose_msg(a: np.ndarray, n: np.ndarray, o: int, i: int) -> str:
    return (f"Jacobian mismatch for output {o:d} with respect to input {i:d},\n"
            f"numerical:{_as_tensor(n)}\nanalytical:{_as_tensor(a)}\n")


def _close(a: np.ndarray, n: np.ndarray, rtol: float, atol: float) -> bool:
    return bool(np.all(np.abs(a - n) <= atol + rtol * np.abs(n)))


def _check_zero_grads(outputs: list, diff: list, what: str) -> None:
    """Backward with zero grad_outputs must give zero (or no) input gradients."""
    from ..factories import zeros_like

    for o in outputs:
        got = _grad(o, diff, zeros_like(o), retain_graph=True, allow_unused=True)
        for g, x in zip(got, diff):
            if g is None:
                continue
            if np.any(_host(g) != 0):
                raise GradcheckError(what)
            if g.dtype is not x.dtype:
                raise GradcheckError("grad is incorrect type")
            if tuple(g.shape) != tuple(x.shape):
                raise GradcheckError("grad is incorrect size")


def _gradcheck(func: Callable, inputs: tuple, eps: float, atol: float, rtol: float,
               nondet_tol: float, check_undefined_grad: bool, check_grad_dtypes: bool) -> None:
    _check_inputs(inputs)
    idxs = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    diff = [inputs[i] for i in idxs]
    out = _float_outputs(func(*inputs))
    outputs = [o for o in out if o.requires_grad]
    if not outputs:  # nothing to differentiate: the function must then be locally constant
        for i in idxs:
            if any(np.any(j != 0) for j in _numerical(func, inputs, i, out, eps)):
                raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    numerical = [_numerical(func, inputs, i, out, eps) for i in idxs]  # [input][output]
    keep = [k for k, o in enumerate(out) if o.requires_grad]
    for oi, o in enumerate(outputs):
        first = _analytical(o, diff, check_grad_dtypes)
        again = _analytical(o, diff, check_grad_dtypes)  # backward must be deterministic
        for ii, (a, a2) in enumerate(zip(first, again)):
            n = numerical[ii][keep[oi]]
            if not _close(a, n, rtol, atol):
                raise GradcheckError(_notallclose_msg(a, n, oi, ii))
            if np.any(np.abs(a - a2) > nondet_tol):
                raise GradcheckError(
                    "Backward is not reentrant, i.e., running backward with same input and "
                    "grad_output multiple times gives different values, although analytical "
                    f"gradient matches numerical gradient.The tolerance for nondeterminism was "
                    f"{nondet_tol}.")
    _check_zero_grads(outputs, diff, "backward not multiplied by grad_output")
    if check_undefined_grad and len(outputs) > 1:
        # each output alone: the engine treats the others' gradients as undefined (zeros)
        _check_zero_grads(outputs, diff,
                          "Expected all input grads to be undefined or zero when all output "
                          "grads are undefined or zero.")


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: Optional[bool] = None) -> bool:
    """Check the gradients of `func` at `inputs` against central differences, as torch's.

    Use float64 inputs with `requires_grad=True`. Returns True, or raises `GradcheckError` (or
    returns False when `raise_exception=False`). `fast_mode` is accepted and runs the full check.

    >>> import rebours as torch
    >>> x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> torch.autograd.gradcheck(lambda x: (x.sin() * x).sum(), (x,))
    True
    """
    if check_forward_ad or check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: forward-mode AD and batched gradients are not "
                                  "supported by rebours; leave check_forward_ad, "
                                  "check_batched_grad and check_batched_forward_grad False")
    if not check_backward_ad:
        return True
    try:
        _gradcheck(func, _as_tuple(inputs), eps, atol, rtol, nondet_tol, check_undefined_grad,
                   check_grad_dtypes)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Any,
                  grad_outputs: Optional[Sequence[Any]] = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, v) -> v·J built with create_graph.

    Random `grad_outputs` in [-1, 1) are drawn when none are given.

    >>> import rebours as torch
    >>> x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> torch.autograd.gradgradcheck(lambda x: x.sin() * x, (x,))
    True
    """
    from ..factories import rand

    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = [o for o in _as_tuple(func(*inputs)) if _is_tensor(o) and o.requires_grad]
        grad_outputs = tuple(
            (rand(*o.shape, dtype=o.dtype, device=o.device) * 2 - 1).requires_grad_()
            for o in outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n = len(grad_outputs)
    diff_in = {i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad}

    def vjp(*args: Any) -> tuple:
        xs = args[:len(args) - n]
        outs = [o for o in _as_tuple(func(*xs)) if _is_tensor(o) and o.requires_grad]
        got = _grad(outs, [xs[i] for i in sorted(diff_in)], list(args[len(args) - n:]),
                    create_graph=True, allow_unused=True)
        return tuple(g for g in got if g is not None)

    return gradcheck(vjp, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev,
                     fast_mode=fast_mode)
