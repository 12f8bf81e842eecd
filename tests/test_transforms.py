"""rebours.func and rebours.autograd.functional against torch.func / torch.autograd.functional:
the same lambda run with both libraries, values, structures and requires_grad compared."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import rebours
import rebours.autograd.functional as RF
import rebours.func

LIBS = {"torch": torch, "rebours": rebours}


def both(*shapes, seed=0, requires_grad=False):
    """The same float64 data as (torch tensors, rebours tensors)."""
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s) for s in shapes]
    return (tuple(torch.tensor(a, requires_grad=requires_grad) for a in arrs),
            tuple(rebours.tensor(a, requires_grad=requires_grad) for a in arrs))


def same(t, r, grad_flag=True):
    """Equal structure (tuple/list/dict nesting), shapes, values and requires_grad."""
    if isinstance(t, (tuple, list)):
        assert type(r) is type(t) and len(r) == len(t), (type(t), type(r))
        for a, b in zip(t, r):
            same(a, b, grad_flag)
    elif isinstance(t, dict):
        assert isinstance(r, dict) and list(r) == list(t)
        for k in t:
            same(t[k], r[k], grad_flag)
    elif isinstance(t, float):
        assert r == t
    else:
        assert isinstance(r, rebours.Tensor), type(r)
        assert tuple(r.shape) == tuple(t.shape), (tuple(t.shape), tuple(r.shape))
        np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-7, atol=1e-10)
        if grad_flag:
            assert r.requires_grad == t.requires_grad, (t.requires_grad, r.requires_grad)


# Functions of one input, written once for both libraries.
UNARY = {
    "poly": lambda L: lambda x: 3 * x ** 3 - 2 * x ** 2 + x,
    "sin_exp_tanh": lambda L: lambda x: (x.sin() * x.exp()).tanh(),
    "matmul": lambda L: lambda x: (x @ x.T).tanh() @ x,
    "reduce": lambda L: lambda x: (x.exp() / x.exp().sum()).log(),
}
SCALAR = {
    "poly": lambda L: lambda x: (x ** 4 - x ** 2).sum(),
    "sin_exp": lambda L: lambda x: (x.sin() * x.cos().exp()).sum(),
    "matmul": lambda L: lambda x: (x @ x.T).tanh().sum(),
    "logsumexp": lambda L: lambda x: x.exp().sum().log(),
}
BINARY = {  # two inputs, two outputs
    "mix": lambda L: lambda x, y: ((x * y.sin()).tanh(), (x @ y.exp()).sum()),
    "mm": lambda L: lambda x, y: (x @ y, x.sum() * y),
}


# -- torch.autograd.functional ----------------------------------------------------------------

@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(UNARY))
def test_functional_vjp_jvp_jacobian_unary(name, create_graph):
    (tx,), (rx,) = both((3, 3))
    (tv,), (rv,) = both((3, 3), seed=1)
    tf, rf = UNARY[name](torch), UNARY[name](rebours)
    same(TF.vjp(tf, tx, tv, create_graph=create_graph),
         RF.vjp(rf, rx, rv, create_graph=create_graph))
    same(TF.jvp(tf, tx, tv, create_graph=create_graph),
         RF.jvp(rf, rx, rv, create_graph=create_graph))
    same(TF.jacobian(tf, tx, create_graph=create_graph),
         RF.jacobian(rf, rx, create_graph=create_graph))
    same(TF.jacobian(tf, tx, vectorize=True), RF.jacobian(rf, rx, vectorize=True))
    same(TF.jacobian(tf, tx, vectorize=True, strategy="forward-mode"),
         RF.jacobian(rf, rx, vectorize=True, strategy="forward-mode"))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(SCALAR))
def test_functional_hessian_hvp_vhp(name, create_graph):
    (tx,), (rx,) = both((2, 3))
    (tv,), (rv,) = both((2, 3), seed=1)
    tf, rf = SCALAR[name](torch), SCALAR[name](rebours)
    same(TF.hessian(tf, tx, create_graph=create_graph),
         RF.hessian(rf, rx, create_graph=create_graph))
    same(TF.hvp(tf, tx, tv, create_graph=create_graph),
         RF.hvp(rf, rx, rv, create_graph=create_graph))
    same(TF.vhp(tf, tx, tv, create_graph=create_graph),
         RF.vhp(rf, rx, rv, create_graph=create_graph))
    same(TF.vjp(tf, tx), RF.vjp(rf, rx))  # v may be omitted for a one-element output


@pytest.mark.parametrize("name", list(BINARY))
def test_functional_tuples_of_inputs_and_outputs(name):
    tx, rx = both((2, 2), (2, 2))
    tf, rf = BINARY[name](torch), BINARY[name](rebours)
    tout = tf(*tx)
    _, rv = both(*[tuple(o.shape) for o in tout], seed=3)
    tv = tuple(torch.tensor(v.numpy()) for v in rv)
    same(TF.vjp(tf, tx, tv), RF.vjp(rf, rx, rv))
    same(TF.jvp(tf, tx, tx), RF.jvp(rf, rx, rx))
    same(TF.jacobian(tf, tx), RF.jacobian(rf, rx))
    g_t = lambda x, y: tf(x, y)[1].sum() + (x * y).sum() ** 2
    g_r = lambda x, y: rf(x, y)[1].sum() + (x * y).sum() ** 2
    same(TF.hessian(g_t, tx), RF.hessian(g_r, rx))
    same(TF.hvp(g_t, tx, tx), RF.hvp(g_r, rx, rx))
    same(TF.vhp(g_t, tx, tx), RF.vhp(g_r, rx, rx))


def test_functional_unused_input_gives_zeros_or_strict_error():
    tx, rx = both((3,), (3,))
    for F, x in ((TF, tx), (RF, rx)):
        f = lambda a, b: a.exp()
        _, (ga, gb) = F.vjp(f, x, x[0])
        assert (gb.detach().numpy() == 0).all()
        with pytest.raises(RuntimeError, match="independent of input 1"):
            F.vjp(f, x, x[0], strict=True)
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                               "independent of input 1"):
            F.jacobian(f, x, strict=True)
    same(TF.jacobian(lambda a, b: a.exp(), tx), RF.jacobian(lambda a, b: a.exp(), rx))


def test_functional_errors_match_torch():
    (tx,), (rx,) = both((3,))
    for F, x in ((TF, tx), (RF, rx)):
        with pytest.raises(RuntimeError, match="v can only be None"):
            F.vjp(lambda a: a * 2, x)
        with pytest.raises(RuntimeError, match="v has invalid size"):
            F.jvp(lambda a: a * 2, x, x[:2])
        with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
            F.jacobian(lambda a: a, [x])
        with pytest.raises(RuntimeError, match="should return a single Tensor"):
            F.hessian(lambda a: (a.sum(), a.sum()), x)
        with pytest.raises(RuntimeError, match="does not require gradients"):
            F.vjp(lambda a: a.detach(), x, x, strict=True)


def test_functional_create_graph_result_is_differentiable():
    (tx,), (rx,) = both((3,), requires_grad=True)
    res = {}
    for L, F, x in ((torch, TF, tx), (rebours, RF, rx)):
        _, h = F.hvp(lambda a: (a ** 3).sum(), x, x, create_graph=True)
        (g,) = L.autograd.grad(h.sum(), x)
        res[L.__name__] = g
    same(res["torch"], res["rebours"])


def test_functional_leaves_inputs_untouched():
    (rx,) = both((3,), requires_grad=True)[1]
    RF.jacobian(lambda a: a.sin(), rx)
    RF.hessian(lambda a: a.sin().sum(), rx)
    assert rx.grad is None and rx.is_leaf


# -- torch.func ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(SCALAR))
def test_func_grad_and_nested_grad(name):
    (tx,), (rx,) = both((2, 3))
    tf, rf = SCALAR[name](torch), SCALAR[name](rebours)
    same(torch.func.grad(tf)(tx), rebours.func.grad(rf)(rx))
    same(torch.func.grad_and_value(tf)(tx), rebours.func.grad_and_value(rf)(rx))
    # second derivative: the gradient of a scalar projection of the gradient
    tg = torch.func.grad(lambda x: torch.func.grad(tf)(x).sin().sum())
    rg = rebours.func.grad(lambda x: rebours.func.grad(rf)(x).sin().sum())
    same(tg(tx), rg(rx))
    assert rx.grad is None and not rx.requires_grad  # the caller's tensor is untouched


def test_func_grad_third_order_scalar():
    f = lambda L: lambda x: (x.sin() * x ** 2)
    tx, rx = torch.tensor(0.7, dtype=torch.float64), rebours.tensor(0.7, dtype=rebours.float64)
    tg, rg = f(torch), f(rebours)
    for _ in range(3):
        tg, rg = torch.func.grad(tg), rebours.func.grad(rg)
        same(tg(tx), rg(rx))


def test_func_grad_argnums_has_aux_and_pytrees():
    tx, rx = both((3,), (3,), (2,))
    def f(L):
        def fn(a, b, d):
            loss = (a * b.exp()).sum() + (d["w"] ** 2).sum() * d["v"][0].sum()
            return loss, {"loss": loss, "a2": a * 2}
        return fn
    tf, rf = f(torch), f(rebours)
    td = {"w": tx[2], "v": [tx[0]]}
    rd = {"w": rx[2], "v": [rx[0]]}
    for argnums in (0, 1, 2, (0, 1), (2, 0), -1):
        tr = torch.func.grad(tf, argnums=argnums, has_aux=True)(tx[0], tx[1], td)
        rr = rebours.func.grad(rf, argnums=argnums, has_aux=True)(rx[0], rx[1], rd)
        same(tr, rr)
    same(torch.func.grad_and_value(tf, (0, 2), has_aux=True)(tx[0], tx[1], td),
         rebours.func.grad_and_value(rf, (0, 2), has_aux=True)(rx[0], rx[1], rd))


def test_func_grad_unused_input_is_zero_and_errors_match():
    tx, rx = both((3,), (3,))
    same(torch.func.grad(lambda a, b: a.sum(), argnums=1)(*tx),
         rebours.func.grad(lambda a, b: a.sum(), argnums=1)(*rx))
    for L, x in ((torch, tx), (rebours, rx)):
        with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar"):
            L.func.grad(lambda a: a * 2)(x[0])
        with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
            L.func.grad(lambda a: a.sum(), argnums=[0])(x[0])
        with pytest.raises(RuntimeError, match="should be a tuple: \\(output, aux\\)"):
            L.func.grad(lambda a: a.sum(), has_aux=True)(x[0])


def test_func_grad_composes_with_outer_autograd_and_closures():
    tx, rx = both((3,), (3,), requires_grad=True)
    res = {}
    for L, (x, w) in (("torch", tx), ("rebours", rx)):
        lib = LIBS[L]
        g = lib.func.grad(lambda a: (a.sin() * w).sum())(x)  # depends on x and closure w
        g.pow(2).sum().backward()
        res[L] = (g, x.grad, w.grad)
    same(res["torch"], res["rebours"])


@pytest.mark.parametrize("name", list(UNARY))
def test_func_vjp_jvp_jacrev_jacfwd(name):
    (tx,), (rx,) = both((2, 3))
    (tv,), (rv,) = both((2, 3), seed=5)
    tf, rf = UNARY[name](torch), UNARY[name](rebours)
    tout, tfn = torch.func.vjp(tf, tx)
    rout, rfn = rebours.func.vjp(rf, rx)
    same(tout, rout)
    same(tfn(tv), rfn(rv))
    same(tfn(tv * 2), rfn(rv * 2))  # vjp_fn can be called again
    same(torch.func.jvp(tf, (tx,), (tv,)), rebours.func.jvp(rf, (rx,), (rv,)))
    same(torch.func.jacrev(tf)(tx), rebours.func.jacrev(rf)(rx))
    same(torch.func.jacfwd(tf)(tx), rebours.func.jacfwd(rf)(rx))


@pytest.mark.parametrize("name", list(BINARY))
def test_func_jacobians_of_many_inputs_and_outputs(name):
    tx, rx = both((2, 2), (2, 2))
    tf, rf = BINARY[name](torch), BINARY[name](rebours)
    for argnums in (0, 1, (0, 1), (1, 0)):
        same(torch.func.jacrev(tf, argnums)(*tx), rebours.func.jacrev(rf, argnums)(*rx))
        same(torch.func.jacfwd(tf, argnums)(*tx), rebours.func.jacfwd(rf, argnums)(*rx))
    tout, tfn = torch.func.vjp(tf, *tx)
    rout, rfn = rebours.func.vjp(rf, *rx)
    same(tfn(tout), rfn(rout))
    same(torch.func.jvp(tf, tx, tx), rebours.func.jvp(rf, rx, rx))


def test_func_hessians_by_composition():
    (tx,), (rx,) = both((4,))
    tf, rf = SCALAR["sin_exp"](torch), SCALAR["sin_exp"](rebours)
    want = torch.func.hessian(tf)(tx)
    for compose in ("jacfwd(jacrev)", "jacrev(jacrev)", "jacfwd(jacfwd)", "jacrev(grad)"):
        outer, inner = compose.rstrip(")").split("(")
        got = getattr(rebours.func, outer)(getattr(rebours.func, inner)(rf))(rx)
        same(want, got)
    same(TF.hessian(tf, tx), got)
    same(want, rebours.func.hessian(rf)(rx))
    tx2, rx2 = both((3,), (2,))
    g = lambda a, b: (a.sin().sum() * b.exp()).sum()
    for argnums in (0, 1, (0, 1)):
        same(torch.func.hessian(g, argnums)(*tx2), rebours.func.hessian(g, argnums)(*rx2))


def test_func_has_aux_for_vjp_jvp_jacrev_jacfwd():
    (tx,), (rx,) = both((3,))
    f = lambda x: (x.sin(), {"c": x.cos()})
    same(torch.func.jacrev(f, has_aux=True)(tx), rebours.func.jacrev(f, has_aux=True)(rx))
    same(torch.func.jacfwd(f, has_aux=True)(tx), rebours.func.jacfwd(f, has_aux=True)(rx))
    same(torch.func.jvp(f, (tx,), (tx,), has_aux=True),
         rebours.func.jvp(f, (rx,), (rx,), has_aux=True))
    to, tfn, ta = torch.func.vjp(f, tx, has_aux=True)
    ro, rfn, ra = rebours.func.vjp(f, rx, has_aux=True)
    same((to, ta, tfn(tx)), (ro, ra, rfn(rx)))


# -- vmap ---------------------------------------------------------------------------------------

VMAP_CASES = [  # (function, in_dims, out_dims, input shapes)
    (lambda x: x.sin() * 2, 0, 0, [(4, 3)]),
    (lambda x: x @ x, 1, 0, [(3, 5)]),
    (lambda x, y: x * y, (0, None), 0, [(4, 3), (3,)]),
    (lambda x, y: (x + y, x.sum()), (1, 0), (1, 0), [(3, 4), (4, 3)]),
    (lambda x, y: x @ y, (None, 0), -1, [(2, 3), (5, 3, 2)]),
    (lambda x, y: (x * y).sum(), (-1, -2), 0, [(3, 6), (6, 3)]),
    (lambda x, y: {"p": x * y, "s": [x.exp(), 1.5]}, (0, 0), {"p": 1, "s": [0, None]},
     [(4, 2), (4, 2)]),
]


@pytest.mark.parametrize("case", range(len(VMAP_CASES)))
def test_vmap(case):
    f, in_dims, out_dims, shapes = VMAP_CASES[case]
    tx, rx = both(*shapes)
    same(torch.func.vmap(f, in_dims, out_dims)(*tx), rebours.func.vmap(f, in_dims, out_dims)(*rx))


def test_vmap_pytree_inputs_and_kwargs():
    tx, rx = both((4, 3), (3, 4), (3,))
    f = lambda d, scale=1.0: (d["a"] @ d["b"][0] + d["b"][1]) * scale
    tin = {"a": tx[0], "b": (tx[1], tx[2])}
    rin = {"a": rx[0], "b": (rx[1], rx[2])}
    dims = ({"a": 0, "b": (1, None)},)
    same(torch.func.vmap(f, dims)(tin, scale=3.0), rebours.func.vmap(f, dims)(rin, scale=3.0))


def test_vmap_nested():
    tx, rx = both((3, 4, 5), (5,))
    f = lambda a, b: (a * b).sum()
    same(torch.func.vmap(torch.func.vmap(f, (0, None)), (0, None))(*tx),
         rebours.func.vmap(rebours.func.vmap(f, (0, None)), (0, None))(*rx))
    tx, rx = both((3, 4, 5), (3,))
    same(torch.func.vmap(torch.func.vmap(f, (1, None)), (2, None), out_dims=1)(*tx),
         rebours.func.vmap(rebours.func.vmap(f, (1, None)), (2, None), out_dims=1)(*rx))
    tx, rx = both((4, 2), (5, 3))
    same(torch.func.vmap(torch.func.vmap(torch.outer, (0, None)), (None, 0))(*tx),
         rebours.func.vmap(rebours.func.vmap(rebours.outer, (0, None)), (None, 0))(*rx))


def test_vmap_of_grad_and_jacrev_of_vmap():
    tx, rx = both((5, 3), (3,))
    f = lambda x, w: (x * w).sin().sum()
    # per-example gradients
    same(torch.func.vmap(torch.func.grad(f), (0, None))(*tx),
         rebours.func.vmap(rebours.func.grad(f), (0, None))(*rx))
    same(torch.func.vmap(torch.func.grad(f, argnums=1), (0, None))(*tx),
         rebours.func.vmap(rebours.func.grad(f, argnums=1), (0, None))(*rx))
    same(torch.func.jacrev(torch.func.vmap(f, (0, None)), argnums=1)(*tx),
         rebours.func.jacrev(rebours.func.vmap(f, (0, None)), argnums=1)(*rx))
    same(torch.func.vmap(torch.func.jacrev(torch.sin))(tx[0]),
         rebours.func.vmap(rebours.func.jacrev(rebours.sin))(rx[0]))


def test_vmap_output_is_differentiable():
    tx, rx = both((4, 3), (3,), requires_grad=True)
    for L, (x, w) in ((torch, tx), (rebours, rx)):
        L.func.vmap(lambda a: (a * w).tanh().sum())(x).pow(2).sum().backward()
    same((tx[0].grad, tx[1].grad), (rx[0].grad, rx[1].grad))


def test_vmap_errors_match_torch():
    tx, rx = both((4, 3), (5, 3))
    for L, x in ((torch, tx), (rebours, rx)):
        with pytest.raises(ValueError, match="same size in the mapped dimension"):
            L.func.vmap(lambda a, b: a)(*x)
        with pytest.raises(ValueError, match="expected in_dim to satisfy -2 <= in_dim < 2"):
            L.func.vmap(lambda a: a, in_dims=2)(x[0])
        with pytest.raises(ValueError, match="at least one Tensor to vmap over"):
            L.func.vmap(lambda a: a, in_dims=(None,))(x[0])
        with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
            L.func.vmap(lambda a, b: a, in_dims=(0, 0))(x[0], 1.0)
        with pytest.raises(ValueError, match="not compatible with the structure"):
            L.func.vmap(lambda a, b: a, in_dims=(0, 0, 0))(*x)
        with pytest.raises(ValueError, match="must only return Tensors"):
            L.func.vmap(lambda a: 1.0)(x[0])


def test_second_order_through_a_dtype_cast():
    x64 = np.array([1.0, 2.0])
    f = lambda a: (a.float() ** 3).sum()  # float64 input, float32 compute
    want = TF.hvp(f, torch.tensor(x64), torch.ones(2, dtype=torch.float64))
    got = RF.hvp(f, rebours.tensor(x64), rebours.ones(2, dtype=rebours.float64))
    same(want, got)
