"""rebours.utils.checkpoint: gradients equal plain backward and torch.utils.checkpoint, the first
run keeps no graph, random state is replayed, and torch's warnings and errors are kept."""

import gc
import weakref

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import rebours
import rebours.utils.checkpoint as rcp

LIBS = {"torch": (torch, tcp), "rebours": (rebours, rcp)}
MODES = [False, True]  # use_reentrant


def params(seed=0, width=4, depth=3):
    """The same float64 MLP weights and input for both libraries."""
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal((width, width)) / 2 for _ in range(depth)]
    arrs += [rng.standard_normal(width) for _ in range(depth)]
    x = rng.standard_normal((5, width))
    return {name: ([L.tensor(a, requires_grad=True) for a in arrs], L.tensor(x, requires_grad=True))
            for name, (L, _) in LIBS.items()}


def layer(w, b):
    return lambda h: (h @ w + b).tanh()


def run(lib, ws, x, use_reentrant=None, split=1):
    """Loss of the MLP; every `split` layers a checkpoint (None: no checkpoint)."""
    L, C = LIBS[lib]
    depth = len(ws) // 2
    h = x
    for i in range(depth):
        f = layer(ws[i], ws[depth + i])
        h = f(h) if use_reentrant is None else C.checkpoint(f, h, use_reentrant=use_reentrant)
    return (h.sin() * h).sum()


def grads(ts):
    return [t.grad.detach().numpy().copy() for t in ts]


@pytest.mark.parametrize("use_reentrant", MODES)
def test_gradients_equal_plain_and_torch(use_reentrant):
    p = params()
    ws, x = p["rebours"]
    run("rebours", ws, x).backward()
    plain = grads(ws + [x])
    for t in ws + [x]:
        t.grad = None
    run("rebours", ws, x, use_reentrant).backward()
    ckpt = grads(ws + [x])
    tws, tx = p["torch"]
    run("torch", tws, tx, use_reentrant).backward()
    want = grads(tws + [tx])
    for a, b, c in zip(plain, ckpt, want):
        np.testing.assert_allclose(b, a, rtol=1e-12)
        np.testing.assert_allclose(b, c, rtol=1e-10)


def test_autograd_grad_reaches_closure_params_non_reentrant():
    p = params(1)
    got = {}
    for lib in LIBS:
        L, _ = LIBS[lib]
        ws, x = p[lib]
        got[lib] = [g.detach().numpy() for g in
                    L.autograd.grad(run(lib, ws, x, use_reentrant=False), ws + [x])]
    for a, b in zip(got["rebours"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_inputs_that_need_no_grad():
    p = params(2)
    got = {}
    for lib in LIBS:
        L, C = LIBS[lib]
        ws, x = p[lib]
        x = x.detach()
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. "
                                             "Gradients will be None"):
            y = C.checkpoint(layer(ws[0], ws[3]), x, use_reentrant=True)
        assert not y.requires_grad  # reentrant: the closure's weights are not reached
        y = C.checkpoint(layer(ws[0], ws[3]), x, use_reentrant=False)
        assert y.requires_grad  # non-reentrant: they are
        y.sum().backward()
        got[lib] = ws[0].grad.numpy()
    np.testing.assert_allclose(got["rebours"], got["torch"], rtol=1e-10)


def test_first_run_keeps_no_graph():
    ws, x = params(3)["rebours"]
    seen = []

    def f(h):
        a = (h @ ws[0]).exp()
        seen.append(weakref.ref(a.grad_fn) if a.grad_fn is not None else None)
        return a.sum(dim=1)

    for use_reentrant in MODES:
        seen.clear()
        y = rcp.checkpoint(f, x, use_reentrant=use_reentrant)
        gc.collect()
        assert seen[0] is None or seen[0]() is None  # the first run's nodes are gone
        assert type(y.grad_fn).__name__ in ("_NonReentrantBackward", "_ReentrantBackward")
        nxt = [type(fn).__name__ for fn, _ in y.grad_fn.next_functions if fn is not None]
        assert set(nxt) == {"AccumulateGrad"}  # straight to x (and the closure's weight)
        y.sum().backward()
        assert len(seen) == 2 and seen[1] is not None  # recomputed once, with a graph


@pytest.mark.parametrize("use_reentrant", MODES)
def test_random_state_is_replayed(use_reentrant):
    x = rebours.randn(50, requires_grad=True)
    f = lambda h: h * rebours.rand_like(h) + h.exp() * (rebours.rand(50) > 0.5)
    rebours.manual_seed(7)
    f(x).sum().backward()
    plain = x.grad.numpy().copy()
    x.grad = None
    rebours.manual_seed(7)
    rcp.checkpoint(f, x, use_reentrant=use_reentrant).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), plain)
    x.grad = None
    rebours.manual_seed(7)
    rcp.checkpoint(f, x, use_reentrant=use_reentrant, preserve_rng_state=False).sum().backward()
    assert not np.array_equal(x.grad.numpy(), plain)


def test_double_backward_through_checkpoint():
    got = {}
    for lib in LIBS:
        L, C = LIBS[lib]
        x = L.tensor([0.3, -1.2, 2.0], dtype=L.float64, requires_grad=True)
        w = L.tensor([1.5, 0.5, -0.7], dtype=L.float64, requires_grad=True)
        y = C.checkpoint(lambda h: (h * w).sin() * h, x, use_reentrant=False).sum()
        (gx,) = L.autograd.grad(y, x, create_graph=True)
        gxx, gw = L.autograd.grad(gx.pow(2).sum(), (x, w))
        got[lib] = (gx.detach().numpy(), gxx.numpy(), gw.numpy())
    for a, b in zip(got["rebours"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("use_reentrant", MODES)
def test_tuples_numbers_and_kwargs(use_reentrant):
    got = {}
    for lib in LIBS:
        L, C = LIBS[lib]
        a = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        b = L.tensor([0.5, -1.0], dtype=L.float64, requires_grad=True)
        f = lambda u, k, v, scale=1.0: ((u * v).exp() * k * scale, u.sin(), v.detach())
        kw = {} if use_reentrant else {"scale": 3.0}
        p, q, r = C.checkpoint(f, a, 2.0, b, use_reentrant=use_reentrant, **kw)
        (p.sum() + q.prod()).backward()
        got[lib] = (a.grad.numpy(), b.grad.numpy())
    for x, y in zip(got["rebours"], got["torch"]):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_nested_checkpoint_and_sequential():
    got = {}
    for lib in LIBS:
        L, C = LIBS[lib]
        x = L.tensor([[0.1, 0.2], [0.3, -0.4]], dtype=L.float64, requires_grad=True)
        w = L.tensor([[1.0, -0.5], [0.25, 2.0]], dtype=L.float64, requires_grad=True)
        fs = [lambda h: h @ w, L.tanh, L.exp, lambda h: h @ w.T, L.sin, L.sigmoid]
        inner = lambda h: C.checkpoint(lambda u: (u @ w).tanh(), h, use_reentrant=False) * 2
        y = C.checkpoint_sequential(fs, 3, x, use_reentrant=False)
        z = C.checkpoint(inner, y, use_reentrant=False)
        z.sum().backward()
        got[lib] = (z.detach().numpy(), x.grad.numpy(), w.grad.numpy())
    for a, b in zip(got["rebours"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_no_grad_mode_and_errors():
    x = rebours.ones(3, requires_grad=True)
    with rebours.no_grad():
        y = rcp.checkpoint(lambda h: h * 2, x)
    assert y.grad_fn is None and not y.requires_grad
    for L, C in LIBS.values():
        with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
            C.checkpoint(lambda h, scale: h, L.ones(2), use_reentrant=True, scale=2)
    y = rcp.checkpoint(lambda h: (h.detach(), h * 2), x, use_reentrant=True)[1]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
