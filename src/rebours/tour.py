"""The 30-second tour that `rebours demo` runs until the training demo lands."""

from __future__ import annotations

import rebours as torch


def _section(title: str) -> None:
    print(f"\n== {title} ==")


def main() -> int:
    """Run the tour: the seed's examples 4-2 and 4-3, then three failures explained."""
    _section("y = c*x + b, and dy/dx")
    x = torch.tensor(4.0, requires_grad=True)
    c = torch.tensor(8.0)
    y = c * x + 5.0
    print(">>> y =", y)
    y.backward()
    print(">>> x.grad =", x.grad, "  c.grad =", c.grad, "(c never required grad)")

    _section("a matrix, and backward on a non-scalar")
    x = torch.ones(2, 3, requires_grad=True)
    c = torch.ones(2, 3, requires_grad=True)
    y = torch.exp(x) * (c * 3) + torch.exp(x)
    try:
        y.backward()
    except RuntimeError as err:
        print(f"RuntimeError: {err}")
    s = torch.sum(y)
    s.backward()
    print(">>> s =", s)
    print(">>> x.grad =", x.grad)

    _section("sqrt(sum(x**2)) at zero is NaN; norm is not")
    x = torch.zeros(3, requires_grad=True)
    torch.sqrt(torch.sum(x ** 2)).backward()
    print(">>> x.grad via sqrt:", x.grad)
    x = torch.zeros(3, requires_grad=True)
    torch.norm(x).backward()
    print(">>> x.grad via norm:", x.grad)
    print(torch.errors.explain("RB007"))

    _section("an integer tensor cannot require grad")
    try:
        torch.tensor(3.0, dtype=torch.int64, requires_grad=True)
    except RuntimeError as err:
        print(f"RuntimeError: {err}")
    print("\nMore: `rebours explain RB001` ... `RB023`, and `rebours lint your_script.py`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
