"""Sections 4-2 and 4-3 of the seed, and its failure cases, run with rebours and PyTorch 2.13."""

import contextlib
import io
import textwrap

import pytest

import rebours

SECTIONS = {
    "4-2": """
        x = torch.tensor(4.0, requires_grad = True)
        c = torch.tensor(8.0)
        b = 5.0
        y = c*x + b
        print(y)
        y.backward()
        print(x)
        print(x.grad)
        print(c.grad)
    """,
    "4-3": """
        x = torch.ones(2,3, requires_grad = True)
        c = torch.ones(2,3, requires_grad = True)
        y = torch.exp(x)*(c*3) + torch.exp(x)
        print(torch.exp(x))
        print(c*3)
        print(y)
        try:
            y.backward()
        except RuntimeError as e:
            print(type(e).__mro__[-3].__name__, str(e).splitlines()[0])
        s = torch.sum(y)
        print(s)
        s.backward()
        print(x.grad)
        print(c.grad)
    """,
    "5-3 rebinding": """
        x = torch.tensor(1.0, requires_grad = True)
        x = torch.exp(x)
        c = torch.tensor(1.0, requires_grad = True)
        c = c*3
        y = c*x + 5.0
        print(y)
        y.backward()
        print(x.is_leaf, c.is_leaf, x.grad_fn.name(), c.grad_fn.name())
        x = torch.tensor(1.0, requires_grad = True)
        c = torch.tensor(1.0, requires_grad = True)
        y = c*3*torch.exp(x)
        y = y + 5.0
        y.backward()
        print(x.grad)
        print(c.grad)
    """,
    "5-4 norm": """
        for v in ([2.0, 5.0, 3.0], [0.0, 0.0, 0.0]):
            x = torch.tensor(v, requires_grad = True)
            c = torch.tensor(2.0)
            y = torch.sqrt(torch.sum(x**2))
            y = y*c
            y.backward()
            print(x.grad)
            x = torch.tensor(v, requires_grad = True)
            y = torch.norm(x)*c
            y.backward()
            print(x.grad)
    """,
    "5-7 dtypes": """
        a = torch.tensor(2)
        b = torch.tensor(2.134)
        c = torch.tensor(3.5)
        c = c.type(torch.int32)
        d = torch.tensor(3.1514, dtype = torch.float64)
        print(a); print(b); print(c); print(d)
        print(a.dtype); print(b.dtype); print(c.dtype); print(d.dtype)
        try:
            torch.tensor(3.0, dtype = torch.int64, requires_grad = True)
        except RuntimeError as e:
            print("RuntimeError")
        x = torch.tensor(3.0, dtype = torch.float64, requires_grad = True)
        c = torch.tensor(2.0, requires_grad = True)
        y = x*c
        print(y)
        y.backward()
        print(x.grad, c.grad, x.grad.dtype, c.grad.dtype)
    """,
    "5-8 index assignment into a fresh tensor": """
        x = torch.tensor([10.0,20.0,30.0], requires_grad = True)
        c = torch.tensor([1.0,2.0,3.0], requires_grad = True)
        w = torch.stack([c[0]*x[0], c[1]*x[1], c[2]*x[2]])
        y = torch.sum(w)
        print(y)
        y.backward()
        print(x.grad)
        print(c.grad)
    """,
}


def _run(lib, code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(textwrap.dedent(code), {"torch": lib})
    return out.getvalue()


@pytest.mark.parametrize("name", SECTIONS)
def test_seed_section_prints_what_torch_prints(name):
    import torch
    ours = _run(rebours, SECTIONS[name])
    theirs = _run(torch, SECTIONS[name]).replace("torch.", "rebours.")
    assert ours == theirs


def test_seed_4_2_values_by_hand():
    x = rebours.tensor(4.0, requires_grad=True)
    y = rebours.tensor(8.0) * x + 5.0
    assert y.item() == 37.0
    y.backward()
    assert x.grad.item() == 8.0
