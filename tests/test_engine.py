"""The engine: backward's arguments, accumulation, higher order, graph structure, grad modes."""

import threading

import numpy as np
import pytest
import torch

import rebours


def both(fn):
    """Run `fn(lib)` with rebours and with torch; return both results as NumPy."""
    return [np.asarray(fn(lib).detach()) if fn(lib) is not None else None
            for lib in (rebours, torch)]


def test_backward_with_gradient_weights_each_value():
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * x
        y.backward(gradient=lib.tensor([[1.0, 0.5], [0.0, 2.0]]))
        return x.grad
    ours, theirs = both(run)
    np.testing.assert_allclose(ours, theirs)


def test_gradient_of_wrong_shape_is_refused():
    x = rebours.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(gradient=rebours.ones(2))


def test_backward_accumulates_across_calls():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    g = x.grad
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])
    assert x.grad is g  # accumulated in place, as torch does


def test_gradient_not_shared_between_leaves():
    a = rebours.tensor([1.0, 2.0], requires_grad=True)
    b = rebours.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.numpy()[0] = 100.0
    assert b.grad.tolist() == [1.0, 1.0]


def test_retain_graph_allows_a_second_backward():
    x = rebours.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_second_backward_without_retain_graph_names_both_lines():
    x = rebours.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError) as err:
        y.backward()
    msg = str(err.value)
    assert msg.startswith("Trying to backward through the graph a second time")
    assert "test_engine.py" in msg and "y = x * x" in msg and "y.backward()" in msg
    assert isinstance(err.value, rebours.errors.BackwardTwiceError)


def test_second_backward_is_fine_when_nothing_was_saved():
    """torch only refuses when a node saved tensors: add saves none."""
    for lib in (rebours, torch):
        x = lib.tensor(2.0, requires_grad=True)
        y = x + 1
        y.backward()
        y.backward()
        assert x.grad.item() == 2.0


def test_create_graph_gives_higher_order_derivatives():
    def run(lib):
        x = lib.tensor([0.5, -1.5, 2.0], requires_grad=True)
        y = (x ** 3 * lib.sin(x)).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), x)
        return lib.stack([g, h, t])
    ours, theirs = both(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph=True")
def test_backward_create_graph_then_backward_again():
    for lib in (rebours, torch):
        x = lib.tensor(3.0, requires_grad=True)
        y = x ** 3
        y.backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        x.grad = None
        g.backward()
        assert x.grad.item() == pytest.approx(18.0)


def test_inputs_restricts_accumulation():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        (a * b).sum().backward(inputs=[b])
        assert a.grad is None
        return b.grad
    ours, theirs = both(run)
    np.testing.assert_allclose(ours, theirs)


def test_inputs_may_be_a_non_leaf():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    assert x.grad is None


def test_autograd_grad_leaves_grad_alone_and_reports_unused():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    z = rebours.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    (gx,) = rebours.autograd.grad(y, x, retain_graph=True)
    assert gx.tolist() == [2.0, 4.0] and x.grad is None
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        rebours.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = rebours.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None


def test_float64_times_float32_casts_each_gradient_to_its_leaf():
    x = rebours.tensor(3.0, dtype=rebours.float64, requires_grad=True)
    c = rebours.tensor(2.0, requires_grad=True)
    (x * c).backward()
    assert x.grad.dtype is rebours.float64 and c.grad.dtype is rebours.float32
    assert (x.grad.item(), c.grad.item()) == (2.0, 3.0)


def test_broadcast_gradients_are_summed_back_to_each_shape():
    def run(lib):
        a = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        b = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        c = lib.tensor(2.0, requires_grad=True)
        ((a * b + c) ** 2).sum().backward()
        return lib.cat([a.grad.flatten(), b.grad, c.grad.reshape(1)])
    ours, theirs = both(run)
    np.testing.assert_allclose(ours, theirs)


def test_graph_structure_matches_torch():
    def run(lib):
        x = lib.tensor(2.0, requires_grad=True)
        c = lib.tensor(8.0)
        y = lib.exp(x) * c + 1.0
        names = [type(y.grad_fn).__name__]
        nf = y.grad_fn.next_functions
        names.append([type(f).__name__ if f is not None else None for f, _ in nf])
        mul = nf[0][0]
        names.append([type(f).__name__ if f is not None else None for f, _ in mul.next_functions])
        exp = mul.next_functions[0][0]
        names.append([type(f).__name__ for f, _ in exp.next_functions])
        assert exp.next_functions[0][0].variable is x
        return names, x.is_leaf, y.is_leaf, y.requires_grad, c.requires_grad
    assert run(rebours) == run(torch)


def test_no_grad_records_nothing_and_is_a_decorator():
    x = rebours.tensor(1.0, requires_grad=True)
    with rebours.no_grad():
        y = x * 2
        with rebours.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad and z.requires_grad

    @rebours.no_grad()
    def f(t):
        return t * 2

    @rebours.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert rebours.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    x = rebours.tensor(1.0, requires_grad=True)
    rebours.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        rebours.set_grad_enabled(True)
    with rebours.set_grad_enabled(False):
        assert not rebours.is_grad_enabled()
    assert rebours.is_grad_enabled()

    @rebours.set_grad_enabled(False)
    def f():
        return rebours.is_grad_enabled()

    assert rebours.is_grad_enabled() and f() is False


def test_inference_mode():
    x = rebours.tensor(1.0, requires_grad=True)
    with rebours.inference_mode():
        y = x * 2
        assert rebours.is_inference_mode_enabled()
    assert not y.requires_grad and y.is_inference() and not x.is_inference()


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["worker"] = rebours.is_grad_enabled()

    with rebours.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen["main"] = rebours.is_grad_enabled()
    assert seen == {"worker": True, "main": False}


def test_deep_chain_has_no_recursion_limit():
    x = rebours.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 20000, rel=1e-3)


def test_saved_values_are_freed_after_backward():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    node = y.grad_fn
    assert node.args is not None
    y.sum().backward()
    assert node.args is None


def test_requires_grad_only_for_floats_and_only_on_leaves():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        rebours.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        rebours.tensor([1, 2]).requires_grad_()  # torch's wording for the method differs
    x = rebours.tensor(1.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf"):
        y.requires_grad = False
    y.requires_grad = True  # allowed, as in torch: only turning it off is refused
    assert y.requires_grad


def test_grad_of_a_non_leaf_warns_and_names_the_line():
    x = rebours.tensor(1.0, requires_grad=True)
    y = x * 2
    y.backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor") as rec:
        assert y.grad is None
    assert "test_engine.py" in str(rec[0].message)


def test_retain_grad_and_hooks():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [180.0, 360.0]


def test_backward_on_a_tensor_without_grad_fn():
    x = rebours.tensor(1.0)
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        x.backward()


def test_grad_setter_checks_shape():
    x = rebours.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient of size"):
        x.grad = rebours.ones(2)
    x.grad = rebours.ones(3)
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    x.grad = None
    assert x.grad is None


def test_argmax_is_not_differentiable():
    x = rebours.tensor([1.0, 3.0, 2.0], requires_grad=True)
    i = x.argmax()
    assert i.grad_fn is None and not i.requires_grad and i.item() == 1
