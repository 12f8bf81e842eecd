"""Deep graphs and memory: a 100,000-node chain backpropagates without recursion and is freed by
reference counting; training steps leave nothing for the cyclic garbage collector."""

import gc
import sys
import weakref
from collections import Counter

import numpy as np
import pytest

import rebours
import rebours.func
import rebours.optim
import rebours.utils.checkpoint

N = 100_000


def rebours_garbage():
    """Run the cyclic collector with gc.DEBUG_SAVEALL; count what it found, by rebours type
    (an empty Counter means reference counting alone had freed everything)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = Counter(type(o).__qualname__ for o in gc.garbage
                        if type(o).__module__.startswith("rebours"))
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.collect()
    return found


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_backward_through_100k_nodes_needs_no_recursion(no_gc):
    assert sys.getrecursionlimit() < N  # so a recursive walk anywhere would fail
    x = rebours.tensor([1.0, -2.0], dtype=rebours.float64, requires_grad=True)
    y = x
    for _ in range(N):
        y = y * 1.00001
    first = weakref.ref(y.grad_fn)  # the last op; walk to the first
    fn = y.grad_fn
    for _ in range(N - 1):
        fn = fn.next_functions[0][0]
    deepest = weakref.ref(fn)
    assert type(fn.next_functions[0][0]).__name__ == "AccumulateGrad"
    del fn
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.00001 ** N] * 2, rtol=1e-9)
    assert first() is not None and deepest() is not None  # y still holds its graph
    del y
    assert first() is None and deepest() is None  # freed at once, by reference counting
    assert not rebours_garbage()


def test_100k_chain_of_mixed_ops_and_create_graph(no_gc):
    x = rebours.tensor(0.5, dtype=rebours.float64, requires_grad=True)
    y = x
    for i in range(N // 4):
        y = (y * 0.9999).sin() + 0.0001 * i if i % 2 else (y + 0.0001).tanh() * 1.0001
    (g,) = rebours.autograd.grad(y, x, create_graph=True)  # a second graph as deep
    (gg,) = rebours.autograd.grad(g, x)
    assert np.isfinite(g.item()) and np.isfinite(gg.item()) and g.grad_fn is not None
    ref = weakref.ref(g.grad_fn)
    del y, g
    assert ref() is None
    assert not rebours_garbage()


def _mlp():
    rebours.manual_seed(0)
    w1 = (rebours.randn(8, 16) * 0.3).requires_grad_()
    b1 = rebours.zeros(16, requires_grad=True)
    w2 = (rebours.randn(16, 1) * 0.3).requires_grad_()
    x, y = rebours.randn(64, 8), rebours.randn(64, 1)
    return [w1, b1, w2], x, y


def _loss(ps, x, y):
    w1, b1, w2 = ps
    return (((x @ w1 + b1).tanh() @ w2 - y) ** 2).mean()


def _manual_sgd():
    ps, x, y = _mlp()

    def step():
        loss = _loss(ps, x, y)
        loss.backward()
        with rebours.no_grad():
            for p in ps:
                p -= 0.05 * p.grad
                p.grad = None
        return loss.item()
    return step


def _optim_sgd():
    ps, x, y = _mlp()
    opt = rebours.optim.SGD(ps, lr=0.05, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = _loss(ps, x, y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _fresh_leaf_input():
    """Input gradients each step: a new leaf that requires grad per batch."""
    ps, x, y = _mlp()

    def step():
        xi = x.detach().requires_grad_()
        loss = _loss(ps, xi, y)
        loss.backward()
        with rebours.no_grad():
            for p in ps:
                p -= 0.05 * p.grad
                p.grad = None
        return loss.item() + xi.grad.abs().sum().item()
    return step


def _func_grad(plain=True):
    """torch.func style: plain tensors in, gradients out (fresh leaves inside every call)."""
    ps, x, y = _mlp()
    if plain:
        ps = [p.detach() for p in ps]
    g = rebours.func.grad(lambda p: _loss(p, x, y))

    def step():
        gs = g(ps)
        with rebours.no_grad():
            for p, gp in zip(ps, gs):
                p -= 0.05 * gp
        return float(sum(gp.abs().sum().item() for gp in gs))
    return step


def _checkpointed():
    ps, x, y = _mlp()

    w1, b1, w2 = ps

    def step():
        h = (x @ w1 + b1).tanh()  # an activation, checkpointed through the second layer
        out = rebours.utils.checkpoint.checkpoint(lambda a: a @ w2, h)
        loss = ((out - y) ** 2).mean()
        loss.backward()
        with rebours.no_grad():
            for p in ps:
                p -= 0.05 * p.grad
                p.grad = None
        return loss.item()
    return step


class _Tanh(rebours.autograd.Function):
    """Saves its output, as torch's docs recommend for exp/tanh-like functions."""

    @staticmethod
    def forward(ctx, x):
        y = x.tanh()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


def _custom_function():
    ps, x, y = _mlp()
    w1, b1, w2 = ps

    def step():
        loss = ((_Tanh.apply(x @ w1 + b1) @ w2 - y) ** 2).mean()
        loss.backward()
        with rebours.no_grad():
            for p in ps:
                p -= 0.05 * p.grad
                p.grad = None
        return loss.item()
    return step


@pytest.mark.parametrize("make", [
    _manual_sgd,
    _optim_sgd,
    _fresh_leaf_input,
    _func_grad,
    pytest.param(lambda: _func_grad(plain=False), id="func_grad_of_leaves"),
    _checkpointed,
    _custom_function,  # saves its output: kept without grad_fn, reattached weakly
], ids=lambda f: f.__name__.strip("_"))
def test_training_steps_leave_no_cycles(make, no_gc):
    step = make()
    losses = [step() for _ in range(5)]  # warm-up: lazily created, long-lived objects
    rebours_garbage()  # whatever warm-up left is collected here
    losses += [step() for _ in range(200)]
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]  # it trained
    found = rebours_garbage()
    assert not found, f"reference cycles of rebours objects after 200 steps: {dict(found)}"
