"""The pitfall catalogue and the exception classes that every layer of rebours raises from.

This module imports nothing from rebours, so the engine, the ops, the linter and the docs can all
read it. A row of the catalogue is one pitfall: a code (``RB0xx``), a title, why it happens, how to
fix it, and a minimal example. Runtime errors, warnings, ``rebours.explain`` and ``rebours lint``
all print the same row, so one wording serves all four.
"""

from __future__ import annotations

import linecache
import os
import re
import textwrap
from dataclasses import dataclass
from types import CodeType
from typing import Optional, Union

Where = Optional[tuple[Union[CodeType, str], int]]


@dataclass(frozen=True)
class Pitfall:
    """One row of the catalogue: what goes wrong, why, and the fix."""

    code: str
    title: str
    why: str
    fix: str
    example: str
    torch_message: str = ""


CATALOGUE: dict[str, Pitfall] = {}


def _row(code: str, title: str, why: str, fix: str, example: str, torch_message: str = "") -> None:
    CATALOGUE[code] = Pitfall(code, title, why, fix, example.strip("\n"), torch_message)


_row(
    "RB001", "backward() on a tensor that is not a scalar",
    "backward() with no `gradient=` starts the chain rule from d(out)/d(out) = 1, which exists "
    "only when `out` holds one number. For a tensor of many values autograd cannot guess how "
    "they combine into the one quantity you differentiate, so you must say it.",
    "reduce first: `out.sum().backward()` adds the values (each input gets the sum of its "
    "partials), `out.mean().backward()` averages them (the same divided by out.numel()); or pass "
    "`out.backward(gradient=w)` with a tensor w of out's shape to weight each value "
    "(a vector-Jacobian product).",
    """
>>> import rebours
>>> x = rebours.ones(2, 3, requires_grad=True)
>>> y = rebours.exp(x) * 3
>>> y.backward()                      # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
rebours.errors.NonScalarBackwardError: grad can be implicitly created only for scalar outputs
  --> ...(backward() on a tensor of shape (2, 3) (6 values))
  ...
>>> y.sum().backward()                # each x gets d(3 e^x)/dx = 3e
>>> x.grad
tensor([[8.1548, 8.1548, 8.1548],
        [8.1548, 8.1548, 8.1548]])
>>> x.grad = None
>>> (rebours.exp(x) * 3).mean().backward()     # the same divided by 6
>>> x.grad
tensor([[1.3591, 1.3591, 1.3591],
        [1.3591, 1.3591, 1.3591]])
>>> x.grad = None
>>> w = rebours.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
>>> (rebours.exp(x) * 3).backward(gradient=w)  # weights: w[i, j] * 3e
>>> x.grad
tensor([[ 8.1548,  0.0000,  0.0000],
        [ 0.0000,  0.0000, 16.3097]])
""",
    "grad can be implicitly created only for scalar outputs",
)
_row(
    "RB002", "`.grad` of a tensor that never required grad, or of a plain number",
    "Autograd fills `.grad` only for leaf tensors created with `requires_grad=True`. A tensor made "
    "without it is a constant: backward computes no gradient for it and its `.grad` stays None. "
    "A plain Python number (`b = 5.0`) is not a tensor at all and has no `.grad` attribute.",
    "create the tensor with `rebours.tensor(..., requires_grad=True)` (or call "
    "`.requires_grad_()` on it before using it); to differentiate with respect to a number, make "
    "it such a tensor: `b = rebours.tensor(5.0, requires_grad=True)`.",
    """
>>> import rebours
>>> x = rebours.tensor(4.0, requires_grad=True)
>>> c = rebours.tensor(8.0)           # no requires_grad: a constant
>>> b = 5.0                           # a Python number
>>> y = c * x + b
>>> y.backward()
>>> x.grad
tensor(8.)
>>> print(c.grad)
None
>>> b.grad
Traceback (most recent call last):
    ...
AttributeError: 'float' object has no attribute 'grad'
>>> rebours.explain(c).code           # rebours.explain says why .grad is None
'RB002'
""",
)
_row(
    "RB003", "a leaf rebound by an op, so `.grad` is None and the optimizer refuses it",
    "`x = rebours.exp(x)` makes a new tensor and rebinds the name x to it. The leaf you created "
    "with requires_grad=True still exists and still receives its gradient, but you no longer hold "
    "it: x now names a non-leaf result, whose `.grad` is None (with a warning) and which an "
    "optimizer refuses to update.",
    "give the result a new name (`ex = rebours.exp(x)`), keep the leaf for the optimizer and "
    "for reading `.grad`.",
    """
>>> import rebours
>>> x = rebours.tensor(1.0, requires_grad=True)
>>> x = rebours.exp(x)                # the name x now holds exp's result
>>> x.is_leaf, x.grad_fn.name()
(False, 'ExpBackward0')
>>> rebours.optim.SGD([x], lr=1.0)    # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
rebours.errors.NonLeafOptimizeError: can't optimize a non-leaf Tensor
  --> ...(params[0] is the output of ExpBackward0, shape (), rebours.float32)
  ...
>>> w = rebours.tensor(1.0, requires_grad=True)
>>> ew = rebours.exp(w)               # a new name: w stays the leaf
>>> ew.backward()
>>> w.grad
tensor(2.7183)
""",
    "can't optimize a non-leaf Tensor",
)
_row(
    "RB004", "a leaf made non-leaf by `.to()`, `.cuda()` or `.double()`",
    "`.to()`, `.cuda()`, `.double()` (and `.float()`, `.half()`, `.type()`) are differentiable "
    "ops: called on a leaf that requires grad, they return a copy made by a ToCopyBackward0 node. "
    "The copy is not a leaf, so its `.grad` stays None and an optimizer refuses it; the gradient "
    "goes to the original leaf, which you no longer hold.",
    "convert first and ask for gradients after: `rebours.tensor(3.0, device=d, "
    "dtype=rebours.float64, requires_grad=True)`, or `x = x.double().detach().requires_grad_()`.",
    """
>>> import rebours
>>> x = rebours.tensor(3.0, requires_grad=True).double()
>>> x.is_leaf, x.grad_fn.name()
(False, 'ToCopyBackward0')
>>> (x * 2).backward()                # x.grad is None here, with a warning
>>> rebours.explain(x).code
'RB004'
>>> x = rebours.tensor(3.0, dtype=rebours.float64, requires_grad=True)   # the fix
>>> (x * 2).backward()
>>> x.grad
tensor(2., dtype=rebours.float64)
""",
)
_row(
    "RB005", "an in-place op on a leaf that requires grad, or on a view of one",
    "A leaf that requires grad is a parameter: autograd accumulates its gradient and the "
    "optimizer updates it. An in-place write into it (`x += 1`, `x.add_(1)`, `x[0] = ...`, or a "
    "write through a view such as `x[0]` or `x.view(...)`) would change its values with no record "
    "in the graph, so the gradient could no longer be computed from them.",
    "write `x = x + 2.0` to make a new tensor, or update it inside `with rebours.no_grad():` "
    "(as optimizers do).",
    """
>>> import rebours
>>> x = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> x += 2.0                          # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.InPlaceOnLeafError: a leaf Variable that requires grad is being used in an in-place
operation.
  --> ...(add_ on a leaf of shape (3,), rebours.float32)
  ...
>>> x[0] = 0.0                        # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.InPlaceOnLeafError: a view of a leaf Variable that requires grad is being used in an
in-place operation.
  ...
>>> y = x + 2.0                       # a new tensor
>>> with rebours.no_grad():           # or an update the graph does not record
...     x += 2.0
>>> x
tensor([3., 4., 5.], requires_grad=True)
""",
    "a leaf Variable that requires grad is being used in an in-place operation.",
)
_row(
    "RB006", "a tensor saved for backward was modified in place",
    "An op saves the values it needs for its derivative (mul saves both factors, exp its "
    "result). If one of them is changed in place afterwards, by `add_`, `+=` or index assignment "
    "`x[i] = ...`, the saved values are stale and the gradient would be wrong, so backward "
    "refuses: each tensor counts its in-place writes (its version), and backward compares. rebours "
    "also refuses when the storage was written through a NumPy array (`.numpy()`, "
    "`from_numpy`), which PyTorch does not notice.",
    "do not write into tensors that the graph still needs: write the results into a fresh tensor "
    "(`w = rebours.zeros(3); w[0] = c[0] * x[0]`), use out-of-place ops (`h = h * 2`), or "
    "`.clone()` before writing.",
    """
>>> import rebours
>>> x = rebours.tensor([10.0, 20.0, 30.0], requires_grad=True)
>>> c = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> h = x * 1
>>> p = c * h                         # mul saves h for the gradient of c
>>> h[0] = 0.0                        # ...then h changes
>>> p.sum().backward()                # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.ModifiedInPlaceError: one of the variables needed for gradient computation has been
modified by an inplace operation: [torch.FloatTensor [3]], which is input 1 of MulBackward0, is at
version 1; expected version 0 instead.
  ...
>>> w = rebours.zeros(3)              # the fix: a fresh tensor for the results
>>> for i in range(3):
...     w[i] = c[i] * x[i]
>>> w.sum().backward()
>>> c.grad
tensor([10., 20., 30.])
""",
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation",
)
_row(
    "RB007", "NaN or inf gradient at a boundary of an op's domain",
    "sqrt, log, pow with an exponent below 1, div and acos have infinite slopes at the edge of "
    "their domain (sqrt, log and x**0.5 at 0, 1/x at 0, acos at 1 and -1). The chain rule "
    "multiplies that inf by the gradient flowing in: times a number it stays inf, times 0 it is "
    "NaN. `sqrt(sum(x**2))` at x = 0 is the classic case: 1/(2*sqrt(0)) = inf, times "
    "d(x**2)/dx = 0, is NaN, although the norm has a well-defined gradient 0 there.",
    "for a norm use `rebours.linalg.vector_norm(x)` (or `x.norm()`), whose gradient at 0 is 0; "
    "otherwise keep the argument off the boundary: `sqrt(s + eps)`, `log(p.clamp(min=eps))`, "
    "`acos(c.clamp(-1 + eps, 1 - eps))`. `rebours run script.py` (anomaly mode) stops at the "
    "first NaN and names the op that started it.",
    """
>>> import rebours
>>> x = rebours.zeros(3, requires_grad=True)
>>> rebours.sqrt(rebours.sum(x ** 2)).backward()
>>> x.grad
tensor([nan, nan, nan])
>>> x.grad = None
>>> rebours.linalg.vector_norm(x).backward()  # the fix: gradient 0 at the zero vector
>>> x.grad
tensor([0., 0., 0.])
>>> a = rebours.tensor(0.0, requires_grad=True)
>>> rebours.log(a).backward()         # slope 1/a at a = 0
>>> a.grad
tensor(inf)
>>> b = rebours.tensor(1.0, requires_grad=True)
>>> rebours.acos(b).backward()        # slope -1/sqrt(1 - b**2) at b = 1
>>> b.grad
tensor(-inf)
""",
)
_row(
    "RB008", "tensors on different devices",
    "An op reads all its inputs from one memory: it cannot multiply a tensor in GPU memory by one "
    "in host memory, and rebours does not copy behind your back. A 0-dim CPU tensor is the one "
    "exception: it is read as a number.",
    "move one side with `.to(other.device)`, or create both on one device (`device=` in the "
    "factory).",
    """
>>> import rebours
>>> x = rebours.ones(3, device="meta")  # the meta device stands in for a GPU here
>>> c = rebours.ones(3)
>>> x * c                             # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
rebours.errors.DeviceMismatchError: Tensor on device cpu is not on the expected device meta!
  --> ...(mul: input 0 on meta shape (3,), input 1 on cpu shape (3,))
  ...
>>> (x * c.to(x.device)).device.type
'meta'
>>> (x * rebours.tensor(2.0)).device.type   # a 0-dim CPU tensor is a number
'meta'
""",
    "Expected all tensors to be on the same device",
)
_row(
    "RB009", "requires_grad on an integer or bool tensor",
    "Gradients are real numbers: an integer tensor cannot hold them, and a step of size lr would "
    "be rounded away, so only floating-point (and complex) tensors may require grad. "
    "`rebours.tensor(3)` is int64 because 3 is an int.",
    "create the tensor as float: `rebours.tensor(3.0, requires_grad=True)` or "
    "`dtype=rebours.float32`.",
    """
>>> import rebours
>>> rebours.tensor(3, requires_grad=True)   # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.IntegerRequiresGradError: Only Tensors of floating point and complex dtype can
require gradients
  --> ...(dtype rebours.int64)
  ...
>>> rebours.tensor(3.0, requires_grad=True)
tensor(3., requires_grad=True)
""",
    "Only Tensors of floating point and complex dtype can require gradients",
)
_row(
    "RB010", "float64 and float32 mixed in one computation",
    "A float64 tensor times a float32 tensor gives float64 (type promotion), which is slower and, "
    "when its gradient reaches a float32 leaf, is cast back. It is legal and the gradients are "
    "right, so there is no runtime warning; `rebours lint` reports it as a note, because it is "
    "rarely intended.",
    "pick one precision: `rebours.set_default_dtype(rebours.float64)`, or `.float()` on the odd "
    "tensor before mixing.",
    """
>>> import rebours
>>> x = rebours.tensor(3.0, dtype=rebours.float64, requires_grad=True)
>>> c = rebours.tensor(2.0, requires_grad=True)    # float32, the default
>>> y = x * c
>>> y.dtype
rebours.float64
>>> y.backward()
>>> c.grad                            # cast back to c's dtype
tensor(3.)
""",
)
_row(
    "RB011", "backward through the same graph twice",
    "backward() frees the values the graph saved (mul's factors, exp's result) as soon as it "
    "has used them, to return memory. A second backward through the same nodes has nothing left "
    "to compute with.",
    "call `backward(retain_graph=True)` the first time if you need a second pass, or recompute "
    "the forward before each backward.",
    """
>>> import rebours
>>> x = rebours.tensor(2.0, requires_grad=True)
>>> y = x * x
>>> y.backward()
>>> y.backward()                      # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.BackwardTwiceError: Trying to backward through the graph a second time (or directly
access saved tensors after they have already been freed). ...
>>> y = x * x
>>> y.backward(retain_graph=True)     # keep the saved values for a second pass
>>> y.backward()
>>> x.grad                            # 4 + 4 + 4: backward adds into .grad
tensor(12.)
""",
    "Trying to backward through the graph a second time",
)
_row(
    "RB012", "a training loop that never zeroes the gradients",
    "backward() adds into `.grad`; it does not overwrite it. Without `optimizer.zero_grad()` each "
    "step uses the sum of all gradients so far, so the steps grow and training diverges. Nothing "
    "fails at runtime: `rebours lint` finds the loop.",
    "call `optimizer.zero_grad()` once per step, before `loss.backward()` (or accumulate on "
    "purpose and zero every k steps).",
    """
>>> import rebours
>>> w = rebours.tensor(1.0, requires_grad=True)
>>> opt = rebours.optim.SGD([w], lr=0.1)
>>> for step in range(3):
...     loss = 2 * w                  # d(loss)/dw = 2 at every step
...     loss.backward()               # no opt.zero_grad() before it
...     opt.step()
...     print(w.grad)
tensor(2.)
tensor(4.)
tensor(6.)
>>> for step in range(3):
...     opt.zero_grad()               # the fix
...     (2 * w).backward()
...     opt.step()
...     print(w.grad)
tensor(2.)
tensor(2.)
tensor(2.)
""",
)
_row(
    "RB013", "optimizer.step() before loss.backward()",
    "step() reads `.grad`: called before backward() it uses the previous iteration's gradients "
    "(or, on the first iteration, none, and does nothing). Nothing fails at runtime: "
    "`rebours lint` finds the order.",
    "order each iteration as `optimizer.zero_grad(); loss.backward(); optimizer.step()`.",
    """
>>> import rebours
>>> w = rebours.tensor(1.0, requires_grad=True)
>>> opt = rebours.optim.SGD([w], lr=0.1)
>>> loss = (w - 3) ** 2
>>> opt.step()                        # .grad is still None: nothing to do
>>> w
tensor(1., requires_grad=True)
>>> loss.backward()                   # the gradient arrives after the step
>>> w.grad
tensor(-4.)
""",
)
_row(
    "RB014", "a running total of the loss that keeps every graph alive",
    "`total += loss` adds tensors, so `total` is the output of an add node that links to every "
    "iteration's graph: memory grows with each step and nothing is freed. Nothing fails at "
    "runtime: `rebours lint` finds the loop.",
    "accumulate numbers: `total += loss.item()` (or `loss.detach()`).",
    """
>>> import rebours
>>> w = rebours.tensor(1.0, requires_grad=True)
>>> total = 0
>>> for i in range(3):
...     loss = (w * i) ** 2
...     total += loss                 # a tensor that holds every iteration's graph
>>> total
tensor(5., grad_fn=<AddBackward0>)
>>> total = 0
>>> for i in range(3):
...     loss = (w * i) ** 2
...     total += loss.item()          # the fix: a number
>>> total
5.0
""",
)
_row(
    "RB015", "parameters kept in a plain list or dict attribute of a Module",
    "Module.parameters() finds parameters and submodules through its attributes; inside a plain "
    "Python list or dict they are invisible, so the optimizer never updates them, `.to()` never "
    "moves them and state_dict() never saves them. Nothing fails: rebours's Module warns when "
    "such an attribute is set, and `rebours lint` finds it without running the code.",
    "use `nn.ModuleList` / `nn.ModuleDict` for submodules and `nn.ParameterList` / "
    "`nn.ParameterDict` for parameters.",
    """
>>> from rebours import nn
>>> class Net(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.layers = [nn.Linear(4, 4) for _ in range(3)]   # a plain list
>>> len(list(Net().parameters()))     # (with a warning that names RB015)
0
>>> class Fixed(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.layers = nn.ModuleList(nn.Linear(4, 4) for _ in range(3))
>>> len(list(Fixed().parameters()))   # 3 weights and 3 biases
6
>>> from rebours.lint import lint_source
>>> source = '''
... import torch.nn as nn
... class Net(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.layers = [nn.Linear(4, 4) for _ in range(3)]
... '''
>>> [(f.line, f.code) for f in lint_source(source)]
[(6, 'RB015')]
""",
)
_row(
    "RB016", "NaN leaking through `where` from the branch not taken",
    "`where(c, a, b)` computes a and b at every position and only then selects. Its gradient "
    "sends 0 to the branch not taken, and the chain rule multiplies that 0 by the branch's own "
    "derivative: where that derivative is inf (sqrt or log at 0, 1/x at 0) the product "
    "0 * inf is NaN, and it reaches x although the value you selected was fine.",
    "make the branch not taken harmless everywhere: give the risky op a safe input before "
    "selecting, `rebours.where(x > 0, rebours.sqrt(rebours.where(x > 0, x, 1.0)), 0.0)`, or clamp "
    "its argument (`x.clamp(min=eps)`).",
    """
>>> import rebours
>>> x = rebours.tensor([0.0, 1.0], requires_grad=True)
>>> y = rebours.where(x > 0, rebours.sqrt(x), 0.0)
>>> y
tensor([0., 1.], grad_fn=<WhereBackward0>)
>>> y.sum().backward()
>>> x.grad
tensor([   nan, 0.5000])
>>> rebours.explain(x).code
'RB016'
>>> x.grad = None
>>> safe = rebours.where(x > 0, x, 1.0)       # sqrt never sees the 0
>>> rebours.where(x > 0, rebours.sqrt(safe), 0.0).sum().backward()
>>> x.grad
tensor([0.0000, 0.5000])
""",
)
_row(
    "RB017", "setting requires_grad on a tensor that is not a leaf",
    "A non-leaf tensor is the output of an op: whether it requires grad follows from its inputs, "
    "so its flag cannot be switched off. Only tensors you created (leaves) can have the flag "
    "set.",
    "to treat a result as a constant use `y.detach()`; to start a new leaf from its values use "
    "`y.detach().requires_grad_()`; to ask for gradients, set the flag on the leaf you created.",
    """
>>> import rebours
>>> x = rebours.tensor(1.0, requires_grad=True)
>>> y = x * 2
>>> y.requires_grad = False           # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.NonLeafRequiresGradError: you can only change requires_grad flags of leaf variables.
...
>>> y.detach().requires_grad
False
""",
    "you can only change requires_grad flags of leaf variables.",
)
_row(
    "RB018", "`.numpy()` on a tensor that requires grad",
    "A NumPy array has no graph: converting would silently drop the gradient path, so PyTorch "
    "asks you to say so.",
    "use `t.detach().numpy()`.",
    """
>>> import rebours
>>> x = rebours.ones(3, requires_grad=True)
>>> x.numpy()                         # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.NumpyRequiresGradError: Can't call numpy() on Tensor that requires grad. Use
tensor.detach().numpy() instead.
  ...
>>> x.detach().numpy()
array([1., 1., 1.], dtype=float32)
""",
    "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
)
_row(
    "RB019", "a gradient whose shape, dtype or device does not match its tensor",
    "`.grad` must be shaped like the tensor it belongs to, with its dtype and on its device; "
    "so must `gradient=` in `backward(gradient=...)`, which weights each value of the output.",
    "build the gradient like its tensor: `rebours.ones_like(t)`, `rebours.zeros_like(t)`, or "
    "check its shape.",
    """
>>> import rebours
>>> x = rebours.ones(3, requires_grad=True)
>>> x.grad = rebours.ones(2)          # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.GradMismatchError: attempting to assign a gradient of size '[2]' to a tensor of size
'[3]'. Please ensure that the gradient and the tensor are the same size
  ...
>>> (x * 2).backward(gradient=rebours.ones(2))    # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.GradMismatchError: Mismatch in shape: grad_output[0] has a shape of rebours.Size([2])
and output[0] has a shape of rebours.Size([3]).
  ...
>>> (x * 2).backward(gradient=rebours.ones_like(x))
>>> x.grad
tensor([2., 2., 2.])
""",
    "attempting to assign a gradient of size '[2]' to a tensor of size '[3]'",
)
_row(
    "RB020", "a CUDA tensor asked for, with no GPU backend",
    "rebours runs on NVIDIA GPUs through CuPy, imported only when a 'cuda' device is first used. "
    "Without CuPy, a driver or a GPU there is no 'cuda' device, and the message says which of "
    "the three is missing.",
    "install the GPU extra (`pip install 'rebours[cuda]'`) on a machine with an NVIDIA GPU, or "
    "stay on the CPU: pick the device once, `device = 'cuda' if rebours.cuda.is_available() else "
    "'cpu'`, and pass `device=device` to the factories.",
    """
>>> import rebours
>>> rebours.tensor(3.0).cuda()  # no CuPy or GPU here  # doctest: +SKIP
Traceback (most recent call last):
    ...
rebours.errors.NoCudaError: Torch not compiled with CUDA enabled: rebours has no GPU backend (CuPy
is not installed; pip install 'rebours[cuda]')
  ...
>>> device = "cuda" if rebours.cuda.is_available() else "cpu"
>>> x = rebours.tensor(3.0, device=device)
>>> x.device.type == device
True
""",
    "Torch not compiled with CUDA enabled",
)
_row(
    "RB021", "a dtype that NumPy cannot hold",
    "bfloat16 has no native NumPy dtype; rebours stores it through the ml_dtypes package, an "
    "optional dependency.",
    "install `pip install 'rebours[bfloat16]'` (ml_dtypes), or use float16 or float32.",
    """
>>> import rebours
>>> rebours.zeros(2, dtype=rebours.bfloat16)     # with ml_dtypes installed
tensor([0., 0.], dtype=rebours.bfloat16)
""",
)
_row(
    "RB022", "backward() on a tensor that has no grad_fn",
    "backward() follows grad_fn links from a tensor back to the leaves that require grad. A "
    "tensor with none is a constant: no leaf it was computed from has requires_grad=True, or it "
    "was computed under `no_grad()`, or through an op that has no derivative (argmax, "
    "comparisons, rounding to integers), whose result carries no graph.",
    "make sure a leaf in this computation was created with requires_grad=True and that the loss "
    "is computed with grad mode on; for argmax or a comparison, differentiate a smooth "
    "surrogate (softmax, sigmoid) instead.",
    """
>>> import rebours
>>> x = rebours.tensor([-1.0, 2.0, 0.5], requires_grad=True)
>>> n = (x > 0).sum()                 # a count: comparisons have no derivative
>>> n.backward()                      # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
rebours.errors.NoGradFnError: element 0 of tensors does not require grad and does not have a grad_fn
  --> ...(shape (), dtype rebours.int64)
  ...
>>> rebours.sigmoid(4 * x).sum().backward()      # a smooth count instead
>>> x.grad
tensor([0.0707, 0.0013, 0.4200])
""",
    "element 0 of tensors does not require grad and does not have a grad_fn",
)
_row(
    "RB023", "an in-place write through `.data`",
    "`.data` gives the same storage without autograd's bookkeeping. In PyTorch a write through it "
    "changes values the graph saved and no version check notices, so the gradient is silently "
    "wrong. rebours shares the version counter, so backward refuses with RB006 instead; the "
    "code still computes wrong gradients under PyTorch.",
    "write under `with rebours.no_grad():` on the tensor itself (`p.mul_(2)`), which keeps the "
    "version counter honest, or after backward.",
    """
>>> import rebours
>>> w = rebours.ones(3, requires_grad=True)
>>> y = (w * w).sum()
>>> w.data.mul_(2)                    # PyTorch: a silently wrong gradient
tensor([2., 2., 2.])
>>> y.backward()                      # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
Traceback (most recent call last):
    ...
rebours.errors.ModifiedInPlaceError: one of the variables needed for gradient computation has been
modified by an inplace operation: ...
>>> with rebours.no_grad():           # the fix: write when no graph needs the values
...     _ = w.mul_(2)
>>> w
tensor([4., 4., 4.], requires_grad=True)
""",
)
_row(
    "RB024", "the graph cut by `.item()`, `.numpy()`, `.detach()`, `float()`, `.data` or `no_grad`",
    "These give values without the graph: a number from `.item()`/`float()`, an array from "
    "`.numpy()`, a tensor from `.detach()`/`.data`, or a result computed under `no_grad()`. "
    "Whatever is computed from them is a constant to autograd, so backward never reaches the "
    "tensor they came from and its `.grad` stays None.",
    "keep the computation in tensor ops with grad mode on (`loss = (x * w).sum()`, not "
    "`w.item() * x`); detach only what you mean to treat as a constant.",
    """
>>> import rebours
>>> w = rebours.tensor(2.0, requires_grad=True)
>>> x = rebours.tensor(3.0, requires_grad=True)
>>> y = rebours.tensor(w.item()) * x  # .item() cuts the graph from w
>>> y.backward()
>>> print(w.grad)
None
>>> rebours.explain(w).code           # its report names the .item() line
'RB024'
>>> y = w * x                         # the fix: stay in tensor ops
>>> y.backward()
>>> w.grad
tensor(3.)
""",
)


def explain(code: str) -> str:
    """Return the catalogue row for `code` (``"RB001"``) as readable text."""
    row = CATALOGUE.get(code.upper())
    if row is None:
        known = ", ".join(sorted(CATALOGUE))
        raise KeyError(f"unknown pitfall code {code!r}; known codes: {known}")

    def para(label: str, text: str) -> str:
        return textwrap.fill(text, 100, initial_indent=label, subsequent_indent=" " * len(label),
                             break_long_words=False, break_on_hyphens=False)

    parts = [f"{row.code}: {row.title}", "", para("why: ", row.why), para("fix: ", row.fix)]
    if row.torch_message:
        parts.append(para("PyTorch says: ", row.torch_message))
    # the example is a doctest; its `# doctest:` directives are for the test runner, not for you
    example = [_DIRECTIVE.sub("", line) for line in row.example.splitlines()]
    parts += ["", "example:", *("    " + line for line in example)]
    return "\n".join(parts)


_DIRECTIVE = re.compile(r"\s*# doctest:.*$")


# --------------------------------------------------------------------------------------------
# Provenance: where in the user's program something happened.


def where_text(where: Where) -> str:
    """`file:line   source` for a recorded ``(code_or_filename, lineno)``, or '' if unknown."""
    if where is None:
        return ""
    code, lineno = where
    filename = code if isinstance(code, str) else code.co_filename
    source = linecache.getline(filename, lineno).strip()
    shown = _short_path(filename)
    return f"{shown}:{lineno}   {source}" if source else f"{shown}:{lineno}"


def _short_path(filename: str) -> str:
    try:
        rel = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return rel if not rel.startswith("..") else filename


# --------------------------------------------------------------------------------------------
# Exception classes: each subclasses the builtin that PyTorch raises, so `except RuntimeError`
# keeps working, and carries the catalogue code.


class ReboursError(Exception):
    """Base of rebours's diagnostics: a PyTorch first sentence, then where, what, why and fix."""

    code: str = ""

    def __init__(self, headline: str, *, code: str = "", where: Where = None, what: str = "",
                 why: Optional[str] = None, fix: Optional[str] = None,
                 notes: tuple[str, ...] = ()) -> None:
        self.headline = headline
        self.code = code or type(self).code
        self.where = where
        row = CATALOGUE.get(self.code)
        lines = [headline]
        loc = where_text(where)
        if loc or what:
            lines.append(f"  --> {loc}" + (f"   ({what})" if what and loc else what))
        lines.extend(f"  note: {n}" for n in notes)
        why = why if why is not None else (row.why if row else "")
        fix = fix if fix is not None else (row.fix if row else "")
        if why:
            lines.append(f"  why: {why}")
        if fix:
            lines.append(f"  fix: {fix}")
        if self.code:
            lines.append(f"  see: rebours explain {self.code}")
        super().__init__("\n".join(lines))


class NonScalarBackwardError(ReboursError, RuntimeError):
    code = "RB001"


class NonLeafOptimizeError(ReboursError, ValueError):
    code = "RB003"


class InPlaceOnLeafError(ReboursError, RuntimeError):
    code = "RB005"


class ModifiedInPlaceError(ReboursError, RuntimeError):
    code = "RB006"


class DeviceMismatchError(ReboursError, RuntimeError):
    code = "RB008"


class IntegerRequiresGradError(ReboursError, RuntimeError):
    code = "RB009"


class BackwardTwiceError(ReboursError, RuntimeError):
    code = "RB011"


class NonLeafRequiresGradError(ReboursError, RuntimeError):
    code = "RB017"


class NumpyRequiresGradError(ReboursError, RuntimeError):
    code = "RB018"


class GradMismatchError(ReboursError, RuntimeError):
    code = "RB019"


class NoCudaError(ReboursError, AssertionError, RuntimeError):  # torch raises AssertionError
    code = "RB020"


class UnsupportedDtypeError(ReboursError, TypeError):
    code = "RB021"


class NoGradFnError(ReboursError, RuntimeError):
    code = "RB022"


class AnomalyError(ReboursError, RuntimeError):
    """detect_anomaly: a backward function returned nan (torch's sentence, then the root cause)."""

    code = "RB007"


class UnfinishedReductionError(ReboursError, RuntimeError):
    """DistributedDataParallel: parameters of the previous iteration got no gradient, so their
    buckets never reduced."""


class ReboursWarning(UserWarning):
    """A warning that names a catalogue row."""


class NonLeafGradWarning(ReboursWarning):
    """`.grad` read on a non-leaf tensor (RB003, RB004)."""


class HiddenParametersWarning(ReboursWarning):
    """Parameters or Modules kept in a plain list/dict attribute of a Module (RB015)."""
