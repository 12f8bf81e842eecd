"""The hot-path shortcuts give the same answers as the plain way, and keep their promises.

Each shortcut of the performance work is checked here against an oracle it does not use: the
bit-masked `where` against NumPy's `where` and torch's; gradient layouts against torch's; the
collector pause against `gc.isenabled()`; provenance by call site against the source lines.
"""

from __future__ import annotations

import gc
import inspect

import numpy as np
import pytest
import torch

import rebours
from rebours.doctor import watch
from rebours.ops.registry import OPS

WHERE = OPS["where"].fwd


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"i{a.dtype.itemsize}")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("zero_side", ["b", "a"])
def test_where_with_a_zero_branch_is_numpys_where_bit_for_bit(dtype: type, zero_side: str):
    rng = np.random.default_rng(0)
    v = rng.standard_normal((6, 7)).astype(dtype)
    v[0, :5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    mask = rng.random((6, 7)) > 0.5
    mask[0, :5] = [True, False, True, True, False]
    for m, x in [(mask, v), (mask[:, :1], v), (mask, v[:1]), (mask.T, v.T)]:
        args = (m, x, 0) if zero_side == "b" else (m, 0, x)
        got, want = WHERE(np, *args), np.where(*args)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(_bits(got), _bits(want))  # +0.0 (not -0.0), nan and inf kept


def test_where_with_minus_zero_or_a_number_takes_numpys_way():
    m = np.array([True, False])
    v = np.array([1.5, -2.5], dtype=np.float32)
    assert np.array_equal(_bits(WHERE(np, m, v, -0.0)), _bits(np.where(m, v, -0.0)))
    assert WHERE(np, m, v, 3.0).tolist() == [1.5, 3.0]


def test_relu_backward_masks_an_infinite_gradient_to_zero_as_torch():
    x = np.array([-1.0, 2.0, -3.0, 4.0], dtype=np.float32)
    g = np.array([np.inf, np.inf, np.nan, 1.0], dtype=np.float32)
    grads = []
    for lib in (rebours, torch):
        t = lib.tensor(x, requires_grad=True)
        lib.relu(t).backward(lib.tensor(g))
        grads.append(t.grad.numpy())
    assert np.array_equal(_bits(grads[0]), _bits(grads[1]))
    assert grads[0].tolist()[0] == 0.0 and np.signbit(grads[0][0]) == np.False_


@pytest.mark.parametrize("how", ["linear", "matmul_T", "mm_T"])
def test_weight_gradient_is_contiguous_like_the_weight_as_in_torch(how: str):
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((5, 4), (3, 4), (3,)))
    out = {}
    for lib in (rebours, torch):
        W = lib.tensor(w, requires_grad=True)
        X = lib.tensor(x)
        if how == "linear":
            y = lib.nn.functional.linear(X, W, lib.tensor(b))
        elif how == "matmul_T":
            y = X @ W.T
        else:
            y = lib.mm(X, W.t())
        (y * y).sum().backward()
        out[lib.__name__] = (W.grad.numpy(), W.grad.is_contiguous())
    assert out["rebours"][1] is True and out["torch"][1] is True
    np.testing.assert_allclose(out["rebours"][0], out["torch"][0], rtol=1e-5)


def test_plain_matmul_weight_gradient_keeps_its_value_and_layout():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    W = rebours.tensor(w, requires_grad=True)
    (rebours.tensor(x) @ W).sum().backward()
    np.testing.assert_allclose(W.grad.numpy(), x.T @ np.ones((5, 3)))
    assert W.grad.is_contiguous()


def _chain() -> rebours.Tensor:
    x = rebours.tensor([0.5, -0.25], requires_grad=True)
    y = x
    for _ in range(50):
        y = (y * 1.01).tanh()
    return y.sum()


def test_backward_pauses_the_collector_and_restores_it():
    seen = []

    class Probe(rebours.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1.0

        @staticmethod
        def backward(ctx, g):
            seen.append(gc.isenabled())
            return g

    assert gc.isenabled()
    x = rebours.tensor([1.0], requires_grad=True)
    Probe.apply(x).sum().backward()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        _chain().backward()
        assert not gc.isenabled()  # a user's gc.disable() is left alone
    finally:
        gc.enable()


def test_the_collector_is_back_on_after_a_failing_backward():
    y = _chain()
    y.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    assert gc.isenabled()


def test_provenance_is_per_call_site_with_the_right_lines():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    line = inspect.currentframe().f_lineno + 1
    a, b = x * 2.0, x.exp()  # two call sites on one line
    fns = []
    for _ in range(3):  # one site, visited three times: one shared tuple
        fns.append((x + 1.0).grad_fn)
    loop_line = line + 3
    assert a.grad_fn.where[1] == line and b.grad_fn.where[1] == line
    assert [f.where[1] for f in fns] == [loop_line] * 3
    assert fns[0].where is fns[1].where is fns[2].where
    assert a.grad_fn.where[0] is inspect.currentframe().f_code


def test_a_huge_but_finite_gradient_is_not_reported_as_the_nan_origin():
    x = rebours.tensor([3.0, 1.0], requires_grad=True)
    # the gradient, 1e21 each, is finite in float32 but its sum of squares is not
    (x / 1e-3).backward(rebours.tensor([1e18, 1e18]))
    assert np.isfinite(x.grad.numpy()).all() and x.grad.dtype == rebours.float32
    assert watch.LAST[0].first_nonfinite is None
    z = rebours.tensor([0.0, 1.0], requires_grad=True)
    (rebours.ones(2) / z).sum().backward()
    assert watch.LAST[0].first_nonfinite["node"] == "DivBackward0"


def test_division_by_a_nonzero_number_skips_the_check_and_by_zero_is_found():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    (x / 2.0).sum().backward()
    assert watch.LAST[0].first_nonfinite is None and x.grad.tolist() == [0.5, 0.5]
    y = rebours.tensor([1.0, 2.0], requires_grad=True)
    (y / 0.0).sum().backward()
    found = watch.LAST[0].first_nonfinite
    assert found["node"] == "DivBackward0" and found["kind"] == "inf"


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_in_place_is_the_textbook_formula_bit_for_bit(dtype: type):
    x = np.linspace(-100, 100, 1001).astype(dtype)
    got = OPS["sigmoid"].fwd(np, x)
    with np.errstate(over="ignore"):
        want = 1 / (1 + np.exp(-x))
    assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_in_place_backward_rules_match_torch_and_leave_saved_values_alone(name: str):
    x = np.linspace(-3, 3, 50, dtype=np.float32).reshape(5, 10)
    g = np.linspace(0.5, 1.5, 50, dtype=np.float32).reshape(5, 10)
    out = {}
    for lib in (rebours, torch):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(t, name)()
        before = y.detach().numpy().copy()
        y.backward(lib.tensor(g))
        assert np.array_equal(y.detach().numpy(), before)  # the rule wrote only its temporaries
        out[lib.__name__] = t.grad.numpy()
    np.testing.assert_allclose(out["rebours"], out["torch"], rtol=2e-5, atol=1e-7)
    y = np.tanh(x) if name == "tanh" else 1 / (1 + np.exp(-x))
    formula = g * (1 - y * y) if name == "tanh" else g * (1 - y) * y  # torch's order
    from rebours.autograd.ops_namespace import raw_ops

    rule = OPS[name].vjps[0](raw_ops(rebours.device("cpu")), g, y, x)
    assert np.array_equal(rule, formula)  # in place, the same bits as the textbook formula


@pytest.mark.parametrize("shape", [(128, 10), (64, 3), (7, 5), (40, 40)])
def test_reductions_over_a_short_last_axis_agree_with_numpy(shape: tuple):
    from rebours.ops.reduction import reduce_rows

    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    for keep in (False, True):
        assert np.array_equal(reduce_rows(np, x, "max", (1,), keep), x.max(axis=1, keepdims=keep))
        np.testing.assert_allclose(reduce_rows(np, x, "sum", (1,), keep),
                                   x.sum(axis=1, keepdims=keep), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("expr", [lambda t: 2 * t, lambda t: 0.5 + t, lambda t: t * 2,
                                  lambda t: sum([t, t]), lambda t: t.new_ones(2) * t])
def test_reflected_operators_record_the_graph_as_torch(expr):
    shapes = []
    for lib in (rebours, torch):
        t = lib.tensor([1.0, 2.0], requires_grad=True)
        y = expr(t)
        shapes.append((type(y.grad_fn).__name__,
                       [None if f is None else type(f).__name__.split("::")[-1]
                        for f, _ in y.grad_fn.next_functions]))
        y.sum().backward()
        shapes.append(t.grad.tolist())
    assert shapes[0] == shapes[2] and shapes[1] == shapes[3]


def test_malloc_tune_keeps_large_temporaries_off_fresh_pages(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "faults.py"
    script.write_text(
        "import resource, numpy as np, rebours\n"
        "ok = rebours.utils.malloc.tune()\n"
        "x = np.ones(10**6, np.float32)\n"
        "def g():\n"
        "    y = np.tanh(x); return np.ones_like(y) * (1 - y * y)\n"
        "for _ in range(3): g()\n"
        "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(20): g()\n"
        "print(ok, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0) / 20)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "True"  # glibc on Linux: the CI machine
    assert float(out[1]) < 50  # 4 MB temporaries would fault ~1,000 pages each without it
