"""Custom autograd Functions and anomaly detection, against torch 2.13."""

import numpy as np
import pytest
import torch

import rebours


def make_cube(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return 3 * x ** 2 * g * ctx.k, None
    return Cube


def test_custom_function_forward_backward_and_name():
    def f(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = make_cube(lib).apply(x, 2.0)
        y.sum().backward()
        return y.detach().tolist(), x.grad.tolist(), type(y.grad_fn).__name__
    assert f(rebours) == f(torch)


def test_custom_function_gradcheck_and_gradgradcheck():
    cube = make_cube(rebours)
    x = rebours.tensor([0.7, -1.3], dtype=rebours.float64, requires_grad=True)
    assert rebours.autograd.gradcheck(lambda t: cube.apply(t, 2.0), (x,))
    assert rebours.autograd.gradgradcheck(lambda t: cube.apply(t, 2.0), (x,))


def test_wrong_custom_backward_fails_gradcheck():
    class Bad(rebours.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.sin()  # should be cos

    x = rebours.tensor([0.5], dtype=rebours.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        rebours.autograd.gradcheck(Bad.apply, (x,))


def test_saved_tensor_modified_is_caught_and_second_backward_refused():
    cube = make_cube(rebours)
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = cube.apply(h, 1.0)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = cube.apply(x * 1, 1.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_mark_non_differentiable_and_wrong_gradient_count():
    def f(lib):
        class ArgSort(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = lib.argmax(x)
                ctx.mark_non_differentiable(idx)
                return x * 2, idx

            @staticmethod
            def backward(ctx, g, gi):
                return g * 2

        x = lib.tensor([1.0, 3.0], requires_grad=True)
        y, i = ArgSort.apply(x)
        y.sum().backward()
        return i.requires_grad, x.grad.tolist()
    assert f(rebours) == f(torch)

    class TooMany(rebours.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        TooMany.apply(rebours.ones(2, requires_grad=True)).sum().backward()


def test_mark_dirty():
    def f(lib):
        class AddOne(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        c = AddOne.apply(b)
        (c * c).sum().backward()
        return c is b, b._version, a.grad.tolist()
    assert f(rebours) == f(torch)


def test_detect_anomaly_names_the_node_torch_names_then_the_root_cause():
    msgs = []
    for lib in (rebours, torch):
        x = lib.tensor([0.0, 0.0, 0.0], requires_grad=True)
        c = lib.tensor(2.0)
        with pytest.warns(UserWarning), lib.autograd.detect_anomaly():
            y = lib.sqrt(lib.sum(x ** 2)) * c
            with pytest.raises(RuntimeError) as err:
                y.backward()
        msgs.append(str(err.value))
    assert msgs[0].splitlines()[0] == msgs[1].splitlines()[0] == \
        "Function 'PowBackward0' returned nan values in its 0th output."
    assert "root cause: SqrtBackward0" in msgs[0] and "vector_norm" in msgs[0]
    assert "test_function.py" in msgs[0]


def test_anomaly_flags():
    assert not rebours.autograd.is_anomaly_enabled()
    with rebours.autograd.set_detect_anomaly(True):
        assert rebours.autograd.is_anomaly_enabled()
    assert not rebours.autograd.is_anomaly_enabled()
    x = rebours.zeros(3, requires_grad=True)
    rebours.sqrt((x ** 2).sum()).backward()  # without anomaly mode: NaN, no error
    assert np.isnan(x.grad.numpy()).all()


def test_a_saved_output_keeps_its_graph_for_double_backward_and_makes_no_cycle():
    import gc
    import weakref

    classes = {}
    got = {}
    for lib in (rebours, torch):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

        classes[lib.__name__] = Exp
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = Exp.apply(x)
        (gx,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.sum(), x)  # d2/dx2 exp = exp: needs the saved y's graph
        got[lib.__name__] = (gx.detach().numpy(), ggx.numpy())
    np.testing.assert_allclose(got["rebours"][0], got["torch"][0])
    np.testing.assert_allclose(got["rebours"][1], got["torch"][1])
    np.testing.assert_allclose(got["rebours"][1], np.exp([0.5, -1.0]))
    gc.disable()
    try:  # the output, its node and ctx go by reference counting alone: no cycle
        x = rebours.tensor([1.0], requires_grad=True)
        y = classes["rebours"].apply(x)
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
    finally:
        gc.enable()
