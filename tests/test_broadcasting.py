"""Property tests where shapes are the bug surface: broadcasting binary ops, and reductions."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rebours

SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True)

# op -> (lambda on a library, d out/d a, d out/d b) with the local derivatives written by hand
BINARY = {
    "add": (lambda t, a, b: t.add(a, b), lambda a, b: np.ones_like(a + b),
            lambda a, b: np.ones_like(a + b)),
    "sub": (lambda t, a, b: a - b, lambda a, b: np.ones_like(a + b),
            lambda a, b: -np.ones_like(a + b)),
    "mul": (lambda t, a, b: a * b, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (lambda t, a, b: t.div(a, b), lambda a, b: 1 / b + 0 * a, lambda a, b: -a / (b * b)),
    "maximum": (lambda t, a, b: t.maximum(a, b),
                lambda a, b: np.where(a == b, 0.5, (a > b) * 1.0),
                lambda a, b: np.where(a == b, 0.5, (b > a) * 1.0)),
}


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo broadcasting: sum the leading dims, then the dims that were 1 in `shape`."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=dims, keepdims=True).reshape(shape)


def values(rng: np.random.Generator, shape: tuple, away_from_zero: bool = False) -> np.ndarray:
    x = rng.uniform(-2, 2, shape)
    if away_from_zero:
        x = np.where(np.abs(x) < 0.2, 0.5, x)
    return x


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                 min_side=0, max_side=3),
       name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**32 - 1))
def test_binary_broadcasting(shapes, name: str, seed: int) -> None:
    fn, da, db = BINARY[name]
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a, b = values(rng, sa), values(rng, sb, away_from_zero=name == "div")
    ra = rebours.tensor(a, requires_grad=True)
    rb = rebours.tensor(b, requires_grad=True)
    out = fn(rebours, ra, rb)
    assert tuple(out.shape) == np.broadcast_shapes(sa, sb) == shapes.result_shape
    g = rng.standard_normal(tuple(out.shape))
    out.backward(rebours.tensor(g))
    assert tuple(ra.grad.shape) == sa and tuple(rb.grad.shape) == sb
    np.testing.assert_allclose(np.asarray(ra.grad), sum_to(da(a, b) * g, sa), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(np.asarray(rb.grad), sum_to(db(a, b) * g, sb), rtol=1e-10,
                               atol=1e-12)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tout = fn(torch, ta, tb)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(out.detach()), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ra.grad), ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(rb.grad), tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                 min_side=0, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_where_broadcasting(shapes, seed: int) -> None:
    sc, sa, sb = shapes.input_shapes
    rng = np.random.default_rng(seed)
    c, a, b = rng.random(sc) > 0.5, values(rng, sa), values(rng, sb)
    ra = rebours.tensor(a, requires_grad=True)
    rb = rebours.tensor(b, requires_grad=True)
    out = rebours.where(rebours.tensor(c), ra, rb)
    assert tuple(out.shape) == np.broadcast_shapes(sc, sa, sb)
    g = rng.standard_normal(tuple(out.shape))
    out.backward(rebours.tensor(g))
    full = np.broadcast_to(c, out.shape)
    np.testing.assert_array_equal(np.asarray(ra.grad), sum_to(np.where(full, g, 0), sa))
    np.testing.assert_array_equal(np.asarray(rb.grad), sum_to(np.where(full, 0, g), sb))
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    torch.where(torch.tensor(c), ta, tb).backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(ra.grad), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(rb.grad), tb.grad.numpy(), rtol=1e-12)


REDUCTIONS = {
    "sum": lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim),
    "mean": lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim),
    "amax": lambda x, dim, keepdim: x.amax(dim=dim, keepdim=keepdim),
    "prod": lambda x, dim, keepdim: x.prod(dim=dim[0], keepdim=keepdim),
    "var": lambda x, dim, keepdim: x.var(dim=dim, keepdim=keepdim),
    "vector_norm": lambda x, dim, keepdim: x.norm(dim=dim, keepdim=keepdim),
}


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
       name=st.sampled_from(sorted(REDUCTIONS)), keepdim=st.booleans(), data=st.data())
def test_reduction_shapes_and_gradients(shape, name: str, keepdim: bool, data) -> None:
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                              unique_by=lambda d: d % nd), label="dims")
    dim = tuple(dims)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    fn = REDUCTIONS[name]
    rx = rebours.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, tout = fn(rx, dim, keepdim), fn(tx, dim, keepdim)
    assert tuple(out.shape) == tuple(tout.shape)
    reduced = {d % nd for d in (dim[:1] if name == "prod" else dim)}
    expect = tuple(1 if i in reduced else s for i, s in enumerate(shape) if keepdim
                   or i not in reduced)
    assert tuple(out.shape) == expect
    np.testing.assert_allclose(np.asarray(out.detach()), tout.detach().numpy(), rtol=1e-10,
                               atol=1e-12, equal_nan=True)
    g = rng.standard_normal(tuple(out.shape))
    out.backward(rebours.tensor(g))
    tout.backward(torch.tensor(g))
    assert tuple(rx.grad.shape) == shape
    np.testing.assert_allclose(np.asarray(rx.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12,
                               equal_nan=True)
    if name == "sum":  # by hand: each input gets the gradient of the sum it fell into
        gk = g if keepdim else np.expand_dims(g, tuple(sorted(reduced)))
        np.testing.assert_array_equal(np.asarray(rx.grad), np.broadcast_to(gk, shape))
