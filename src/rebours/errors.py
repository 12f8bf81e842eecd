"""The pitfall catalogue and the exception classes that every layer of rebours raises from.

This module imports nothing from rebours, so the engine, the ops, the linter and the docs can all
read it. A row of the catalogue is one pitfall: a code (``RB0xx``), a title, why it happens, how to
fix it, and a minimal example. Runtime errors, warnings, ``rebours.explain`` and ``rebours lint``
all print the same row, so one wording serves all four.
"""

from __future__ import annotations

import linecache
import os
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
    "backward() without `gradient=` seeds the chain rule with d(out)/d(out) = 1, which only "
    "exists when `out` holds one number. For a tensor of many values you must say how they "
    "combine into the quantity you differentiate.",
    "reduce first: `out.sum().backward()` adds the values (each input gets the sum of its "
    "partials), `out.mean().backward()` averages them (the same divided by out.numel()); or pass "
    "`out.backward(gradient=w)` with a tensor w of out's shape to weight each value "
    "(a vector-Jacobian product).",
    """
x = rebours.ones(2, 3, requires_grad=True)
y = rebours.exp(x) * 3
y.backward()          # RuntimeError: shape (2, 3)
y.sum().backward()    # fine
""",
    "grad can be implicitly created only for scalar outputs",
)
_row(
    "RB002", "`.grad` of a tensor that never required grad",
    "Gradients are only accumulated into leaf tensors created with `requires_grad=True`. A tensor "
    "made without it is a constant to autograd, so its `.grad` stays None; a plain Python number "
    "has no `.grad` at all.",
    "create the tensor with `rebours.tensor(..., requires_grad=True)` (or call "
    "`.requires_grad_()` on it) before using it, and make numbers you differentiate tensors.",
    """
c = rebours.tensor(8.0)          # no requires_grad
y = c * rebours.tensor(4.0, requires_grad=True)
y.backward()
c.grad                           # None: c is a constant
""",
)
_row(
    "RB003", "a leaf rebound by an op, so `.grad` is None and the optimizer refuses it",
    "`x = rebours.exp(x)` makes a new tensor and binds the name x to it. The leaf you created "
    "with requires_grad=True still exists and still gets its gradient, but the name now points "
    "at a non-leaf result, whose `.grad` is None and which an optimizer cannot update.",
    "give the result a new name (`ex = rebours.exp(x)`), keep the leaf for the optimizer and "
    "for reading `.grad`.",
    """
x = rebours.tensor(1.0, requires_grad=True)
x = rebours.exp(x)                  # x is no longer the leaf
optim.SGD([x], lr=1.0)              # ValueError: can't optimize a non-leaf Tensor
""",
    "can't optimize a non-leaf Tensor",
)
_row(
    "RB004", "a leaf made non-leaf by `.to()`, `.cuda()` or `.double()`",
    "`.to()`, `.cuda()`, `.double()` and friends are differentiable ops: called on a leaf that "
    "requires grad, they return a copy that is the output of a ToCopyBackward0 node. The "
    "gradient goes to the original leaf, which you no longer hold.",
    "convert first and ask for gradients after: `rebours.tensor(3.0, device=d, "
    "dtype=rebours.float64, requires_grad=True)`, or `x = x.double().detach().requires_grad_()`.",
    """
x = rebours.tensor(3.0, requires_grad=True).double()
(x * 2).backward()
x.grad                              # None, with a warning: x is not a leaf
""",
)
_row(
    "RB005", "an in-place op on a leaf that requires grad, or on a view of one",
    "A leaf that requires grad is a parameter that autograd and the optimizer own. Writing into it "
    "in place would change values that gradients are computed from, without a record in the graph.",
    "write `x = x + 2.0` to make a new tensor, or update it inside `with rebours.no_grad():` "
    "(as optimizers do).",
    """
x = rebours.tensor(3.0, requires_grad=True)
x += 2.0            # RuntimeError
""",
    "a leaf Variable that requires grad is being used in an in-place operation.",
)
_row(
    "RB006", "a tensor saved for backward was modified in place",
    "An op saves the values it needs for its derivative (mul saves both factors). If one of them "
    "is changed in place afterwards, including by index assignment `x[i] = ...`, the saved value "
    "is stale and the gradient would be wrong, so backward refuses.",
    "do not write into tensors that the graph still needs: write the results into a fresh tensor "
    "(`w = rebours.zeros(3); w[0] = c[0] * x[0]`) or use out-of-place ops (`x = x * 2`).",
    """
x = rebours.tensor([10.0, 20.0, 30.0], requires_grad=True)
h = x * 1
y = h * h
h[0] = 0.0          # modifies a tensor that mul saved
y.sum().backward()  # RuntimeError: ... modified by an inplace operation
""",
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation",
)
_row(
    "RB007", "NaN or inf gradient at a boundary of an op's domain",
    "sqrt, log, pow with a fractional exponent, div and acos have infinite slopes at the edge of "
    "their domain. `sqrt(sum(x**2))` at x = 0 gives 0 * inf = NaN, although the norm itself has a "
    "well-defined subgradient 0 there.",
    "use `rebours.linalg.vector_norm(x)` (or `x.norm()`), which defines the gradient at 0 as 0; "
    "for sqrt, log and div, keep the argument off the boundary (`sqrt(s + eps)`, `clamp_min`).",
    """
x = rebours.zeros(3, requires_grad=True)
rebours.sqrt(rebours.sum(x ** 2)).backward()
x.grad              # tensor([nan, nan, nan]); rebours.norm(x) gives zeros
""",
)
_row(
    "RB008", "tensors on different devices",
    "An op reads all its inputs from one memory: it cannot multiply a tensor in GPU memory by one "
    "in host memory. A 0-dim CPU tensor is the one exception, treated as a number.",
    "move one side with `.to(other.device)`, or create both on one device (`device=` in the "
    "factory).",
    """
x = rebours.tensor(3.0, device="cuda")
c = rebours.tensor([2.0, 1.0])
x * c                # RuntimeError: Expected all tensors to be on the same device
""",
    "Expected all tensors to be on the same device",
)
_row(
    "RB009", "requires_grad on an integer or bool tensor",
    "Gradients are real numbers: an integer tensor cannot hold them, and a step of size lr would "
    "be rounded away, so only floating-point tensors may require grad.",
    "create the tensor as float: `rebours.tensor(3.0, requires_grad=True)` or "
    "`dtype=rebours.float32`.",
    """
x = rebours.tensor(3, dtype=rebours.int64, requires_grad=True)   # RuntimeError
""",
    "Only Tensors of floating point and complex dtype can require gradients",
)
_row(
    "RB010", "float64 and float32 mixed in one computation",
    "A float64 tensor times a float32 tensor gives float64 (promotion), which is slower and, once "
    "it reaches a float32 parameter, is cast back. It is legal, and the gradient is cast to each "
    "leaf's dtype, but it is rarely intended.",
    "pick one precision: `rebours.set_default_dtype(rebours.float64)` or `.float()` on the odd "
    "tensor.",
    """
x = rebours.tensor(3.0, dtype=rebours.float64, requires_grad=True)
c = rebours.tensor(2.0, requires_grad=True)
y = x * c            # float64
""",
)
_row(
    "RB011", "backward through the same graph twice",
    "backward() frees the values the graph saved, to return memory as soon as possible. A second "
    "backward through the same nodes has nothing left to compute with.",
    "call `backward(retain_graph=True)` the first time if you need a second pass, or recompute "
    "the forward before each backward.",
    """
x = rebours.tensor(2.0, requires_grad=True)
y = x * x
y.backward()
y.backward()        # RuntimeError: Trying to backward through the graph a second time
""",
    "Trying to backward through the graph a second time",
)
_row(
    "RB012", "a training loop that never zeroes the gradients",
    "backward() adds into `.grad`; it does not overwrite. Without `optimizer.zero_grad()` each "
    "step uses the sum of all gradients so far.",
    "call `optimizer.zero_grad()` once per step, before `loss.backward()` (or accumulate on "
    "purpose and zero every k steps).",
    """
for xb, yb in data:
    loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()       # gradients keep accumulating
""",
)
_row(
    "RB013", "optimizer.step() before loss.backward()",
    "step() reads `.grad`; called before backward() it uses last iteration's gradients (or none).",
    "order the step as `zero_grad(); loss.backward(); step()`.",
    """
opt.step()
loss.backward()
""",
)
_row(
    "RB014", "a running total of the loss that keeps every graph alive",
    "`total += loss` adds tensors, so `total` carries a graph that links every iteration's graph: "
    "memory grows each step and nothing is freed.",
    "accumulate numbers: `total += loss.item()` (or `loss.detach()`).",
    """
total = 0
for xb, yb in data:
    loss = loss_fn(model(xb), yb)
    total += loss      # keeps every graph alive
""",
)
_row(
    "RB015", "parameters kept in a plain list or dict attribute of a Module",
    "Module.parameters() finds parameters and submodules by their attributes; inside a plain "
    "Python list or dict they are invisible, so the optimizer never updates them and "
    "state_dict() never saves them.",
    "use `nn.ModuleList` / `nn.ModuleDict` for submodules and `nn.ParameterList` / "
    "`nn.ParameterDict` for parameters.",
    """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(4, 4) for _ in range(3)]   # invisible to parameters()
""",
)
_row(
    "RB016", "NaN leaking through `where` from the branch not taken",
    "`where(c, a, b)` computes both a and b everywhere; its gradient multiplies the branch not "
    "taken by 0, and 0 * inf or 0 * nan is NaN.",
    "make both branches safe: compute the risky branch on a safe input "
    "(`sqrt(where(x > 0, x, 1))`) before selecting.",
    """
x = rebours.tensor([0.0, 1.0], requires_grad=True)
y = rebours.where(x > 0, rebours.sqrt(x), 0.0)
y.sum().backward()
x.grad               # tensor([nan, 0.5])
""",
)
_row(
    "RB017", "setting requires_grad on a tensor that is not a leaf",
    "A non-leaf tensor is the output of an op: whether it requires grad follows from its inputs. "
    "Only tensors you created can have the flag set.",
    "call `.requires_grad_()` on the leaf you created, or use `y = y.detach().requires_grad_()` "
    "to start a new leaf from y's values.",
    """
x = rebours.tensor(1.0, requires_grad=True)
y = x * 2
y.requires_grad = False     # RuntimeError
""",
    "you can only change requires_grad flags of leaf variables.",
)
_row(
    "RB018", "`.numpy()` on a tensor that requires grad",
    "A NumPy array has no graph: converting would silently drop the gradient path, so PyTorch "
    "asks you to say so.",
    "use `t.detach().numpy()`.",
    """
x = rebours.ones(3, requires_grad=True)
x.numpy()           # RuntimeError
""",
    "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
)
_row(
    "RB019", "a gradient whose shape, dtype or device does not match its tensor",
    "`.grad` must be shaped like the tensor it belongs to, and so must `gradient=` in backward.",
    "build the gradient with `rebours.ones_like(t)` or check its shape.",
    """
x = rebours.ones(3, requires_grad=True)
x.grad = rebours.ones(2)     # RuntimeError
""",
    "attempting to assign a gradient of size '[2]' to a tensor of size '[3]'",
)
_row(
    "RB020", "a CUDA tensor asked for, with no GPU backend",
    "rebours runs on NVIDIA GPUs through CuPy, imported only when needed. Without CuPy or a GPU, "
    "there is no 'cuda' device.",
    "install the GPU extra (`pip install 'rebours[cuda]'`) on a machine with an NVIDIA GPU, or "
    "stay on the CPU (drop `.cuda()` / `device='cuda'`).",
    """
x = rebours.tensor(3.0).cuda()    # RuntimeError when no GPU backend is present
""",
    "Torch not compiled with CUDA enabled",
)
_row(
    "RB021", "a dtype that NumPy cannot hold",
    "bfloat16 has no native NumPy dtype; rebours stores it through the ml_dtypes package.",
    "install `pip install 'rebours[bfloat16]'` (ml_dtypes), or use float16 or float32.",
    """
x = rebours.zeros(3, dtype=rebours.bfloat16)
""",
)
_row(
    "RB022", "an op that is not differentiable, on a tensor that requires grad",
    "Some ops (argmax, comparisons, rounding to integers) have no useful derivative: their outputs "
    "carry no graph, so backward through them is impossible.",
    "differentiate a smooth surrogate (softmax instead of argmax), or detach on purpose.",
    """
x = rebours.randn(3, requires_grad=True)
i = x.argmax()       # an integer: no grad_fn
""",
    "element 0 of tensors does not require grad and does not have a grad_fn",
)

_row(
    "RB023", "an in-place write through `.data`",
    "`.data` gives the same storage without autograd's bookkeeping: writing through it changes "
    "values that the graph may have saved, and no version check can notice.",
    "write under `with rebours.no_grad():` on the tensor itself (`p.add_(...)`), which keeps the "
    "version counter honest.",
    """
w = rebours.ones(3, requires_grad=True)
y = (w * w).sum()
w.data.mul_(2)      # silently corrupts the gradient of y
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
w = rebours.tensor(2.0, requires_grad=True)
y = rebours.tensor(w.item()) * 3     # .item() cuts the graph
y.requires_grad                      # False: backward cannot reach w
""",
)


def explain(code: str) -> str:
    """Return the catalogue row for `code` (``"RB001"``) as readable text."""
    row = CATALOGUE.get(code.upper())
    if row is None:
        known = ", ".join(sorted(CATALOGUE))
        raise KeyError(f"unknown pitfall code {code!r}; known codes: {known}")
    parts = [f"{row.code}: {row.title}", "", f"why: {row.why}", f"fix: {row.fix}"]
    if row.torch_message:
        parts.append(f"PyTorch says: {row.torch_message}")
    parts += ["", "example:", *("    " + line for line in row.example.splitlines())]
    return "\n".join(parts)


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


class NoCudaError(ReboursError, RuntimeError):
    code = "RB020"


class UnsupportedDtypeError(ReboursError, TypeError):
    code = "RB021"


class NoGradFnError(ReboursError, RuntimeError):
    code = "RB022"


class ReboursWarning(UserWarning):
    """A warning that names a catalogue row."""


class NonLeafGradWarning(ReboursWarning):
    """`.grad` read on a non-leaf tensor (RB003, RB004)."""
