"""A walkthrough of the seed's autograd pitfalls: what PyTorch 2.13 says, then what rebours says.

Run it with `python examples/pitfalls.py` (rebours installed, nothing else needed). Each case runs
the seed's code with rebours and prints, first, PyTorch's message for the same code (a literal
string recorded from torch 2.13.0: this script never imports torch), then rebours's real error
text or its `rebours.explain(...)` report for the tensor whose `.grad` surprised you.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable

import rebours as torch
import rebours.optim as optim


def case(title: str, torch_says: str) -> Callable[[Callable[[], object]], None]:
    """Run the decorated function at once, framed by a title and PyTorch's message."""

    def run(body: Callable[[], object]) -> None:
        print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")
        print(f"PyTorch 2.13 says:\n{textwrap.indent(torch_says, '    ')}")
        print("rebours says:")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                shown = body()
            except Exception as err:  # the point of each case: show the error, keep going
                builtin = next(c for c in type(err).__mro__ if c.__module__ == "builtins")
                shown = f"{builtin.__name__}: {err}"
        for w in caught:
            print(textwrap.indent(f"{w.category.__name__}: {w.message}", "    "))
        if shown is not None:
            print(textwrap.indent(str(shown), "    "))

    return run


@case("1. backward() on a tensor that is not a scalar",
      "RuntimeError: grad can be implicitly created only for scalar outputs")
def nonscalar_backward() -> object:
    x = torch.ones(2, 3, requires_grad=True)
    c = torch.ones(2, 3, requires_grad=True)
    y = torch.exp(x) * (c * 3) + torch.exp(x)
    y.backward()
    return None


@case("2. .grad of a constant (c never required grad)",
      "None   (no error, no warning: c.grad is silently None)")
def grad_of_a_constant() -> object:
    x = torch.tensor(4.0, requires_grad=True)
    c = torch.tensor(8.0)
    y = c * x + 5.0
    y.backward()
    return f"c.grad = {c.grad}\n{torch.explain(c)}"


@case("3. rebinding a leaf (x = torch.exp(x)), then handing it to an optimizer",
      "UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being\n"
      "accessed. Its .grad attribute won't be populated during autograd.backward(). ...\n"
      "ValueError: can't optimize a non-leaf Tensor")
def rebinding_a_leaf() -> object:
    x = torch.tensor(1.0, requires_grad=True)
    x = torch.exp(x)  # noqa: RB003  (the pitfall on purpose)
    c = torch.tensor(1.0, requires_grad=True)
    y = c * 3 * x + 5.0
    y.backward()
    print(f"    x.grad = {x.grad}")
    print(textwrap.indent(str(torch.explain(x)), "    "))
    optim.SGD([x, c], lr=1.0)
    return None


@case("4. sqrt(sum(x**2)) at x = 0: a NaN gradient",
      "tensor([nan, nan, nan])   (no error: the NaN is silent)")
def sqrt_norm_nan() -> object:
    x = torch.tensor([0.0, 0.0, 0.0], requires_grad=True)
    y = torch.sqrt(torch.sum(x ** 2)) * 2.0  # noqa: RB007  (the pitfall on purpose)
    y.backward()
    report = torch.explain(x)  # right after the backward that made the NaN
    z = torch.zeros(3, requires_grad=True)
    (torch.norm(z) * 2.0).backward()
    return f"x.grad = {x.grad}\n{report}\nwith torch.norm instead: z.grad = {z.grad}"


@case("5. an in-place op on a leaf (x += 2.0)",
      "RuntimeError: a leaf Variable that requires grad is being used in an in-place "
      "operation.")
def inplace_on_a_leaf() -> object:
    x = torch.tensor(3.0, requires_grad=True)
    x += 2.0  # noqa: RB005  (the pitfall on purpose)
    return None


@case("6. tensors on two devices (the meta device plays the GPU)",
      "RuntimeError: Tensor on device cpu is not on the expected device meta!")
def device_mismatch() -> object:
    v = torch.ones(3, device="meta")
    w = torch.ones(3)
    return v * w


@case("7. requires_grad on an integer tensor",
      "RuntimeError: Only Tensors of floating point and complex dtype can require gradients")
def integer_requires_grad() -> object:
    torch.tensor(3.0, dtype=torch.int64, requires_grad=True)  # noqa: RB009  (on purpose)
    return None


@case("8. float64 times float32",
      "tensor(6., dtype=torch.float64, grad_fn=<MulBackward0>)   (legal: promoted, silent)")
def float64_mixing() -> object:
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    c = torch.tensor(2.0, requires_grad=True)
    y = x * c  # noqa: RB010  (the pitfall on purpose)
    y.backward()
    return (f"y = {y!r}; x.grad = {x.grad!r}; c.grad = {c.grad!r}\n"
            f"{torch.explain('RB010')}")


@case("9. x[0] = c[0] * x[0] on a leaf",
      "RuntimeError: a view of a leaf Variable that requires grad is being used in an "
      "in-place operation.")
def index_assignment() -> object:
    x = torch.tensor([10.0, 20.0, 30.0], requires_grad=True)
    c = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[0] = c[0] * x[0]  # noqa: RB005  (the pitfall on purpose)
    return None


@case("10. a tensor saved for backward, then modified in place",
      "RuntimeError: one of the variables needed for gradient computation has been modified\n"
      "by an inplace operation: [torch.FloatTensor [3]], which is output 0 of\n"
      "torch::autograd::CopySlices, is at version 1; expected version 0 instead. Hint: ...")
def version_counter() -> object:
    x = torch.tensor([10.0, 20.0, 30.0], requires_grad=True)
    c = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1
    p = c * h
    h[0] = 0.0
    torch.sum(p).backward()
    return None


if __name__ == "__main__":
    print("\nEvery case above has a catalogue entry: `rebours explain RB001` ... "
          "`rebours explain --list`.")
