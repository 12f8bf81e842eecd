"""In-place ops, views and version counters, checked against torch 2.13 on the same code."""

import numpy as np
import pytest
import torch

import rebours


def run_both(fn):
    return fn(rebours), fn(torch)


def test_inplace_arithmetic_on_non_leaf_rebases_the_graph():
    def f(t):
        x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y += 1
        y *= x
        y.sub_(0.5).div_(2.0)
        y.sum().backward()
        return y.detach().numpy().tolist(), x.grad.numpy().tolist(), type(y.grad_fn).__name__
    ours, theirs = run_both(f)
    assert ours == theirs


@pytest.mark.parametrize("method,args", [
    ("add_", (1.0,)), ("sub_", (2.0,)), ("mul_", (3.0,)), ("div_", (4.0,)), ("pow_", (2.0,)),
    ("neg_", ()), ("abs_", ()), ("exp_", ()), ("sqrt_", ()), ("tanh_", ()), ("sigmoid_", ()),
    ("relu_", ()), ("clamp_", (0.2, 0.8)), ("zero_", ()), ("fill_", (5.0,)), ("sin_", ()),
    ("log_", ()), ("floor_", ()), ("round_", ()),
])
def test_inplace_methods_match_torch(method, args):
    data = np.array([0.3, 0.9, 0.5], dtype=np.float32)

    def f(t):
        x = t.tensor(data, requires_grad=True)
        y = x * 1
        out = getattr(y, method)(*args)
        assert out is y
        y.sum().backward()
        return y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__
    (yo, go, no), (yt, gt, nt) = run_both(f)
    np.testing.assert_allclose(yo, yt, rtol=1e-6)
    np.testing.assert_allclose(go, gt, rtol=1e-6)
    assert no == nt


def test_inplace_on_leaf_is_refused_before_writing():
    x = rebours.tensor(3.0, requires_grad=True)
    with pytest.raises(RuntimeError) as err:
        x += 2.0
    assert str(err.value).startswith("a leaf Variable that requires grad is being used in an "
                                     "in-place operation.")
    assert "test_inplace.py" in str(err.value) and "x += 2.0" in str(err.value)
    assert x.item() == 3.0 and x._version == 0  # nothing written


def test_inplace_on_leaf_is_allowed_under_no_grad():
    for t in (rebours, torch):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        with t.no_grad():
            x -= 0.5
            x.mul_(2)
        assert x.tolist() == [1.0, 3.0] and x.is_leaf and x._version == 2


def test_view_of_leaf_is_refused():
    for t in (rebours, torch):
        x = t.tensor([10.0, 20.0, 30.0], requires_grad=True)
        c = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[0] = c[0] * x[0]
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[1:].add_(1)


def test_seed_index_assignment_into_fresh_tensor_records_copyslices():
    def f(t):
        x = t.tensor([10.0, 20.0, 30.0], requires_grad=True)
        c = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = t.zeros(3)
        w[0] = c[0] * x[0]
        w[1] = c[1] * x[1]
        w[2] = c[2] * x[2]
        y = t.sum(w)
        y.backward()
        return (y.item(), type(w.grad_fn).__name__, w._version, x.grad.tolist(),
                c.grad.tolist())
    ours, theirs = run_both(f)
    assert ours == theirs
    assert ours[3:] == ([1.0, 2.0, 3.0], [10.0, 20.0, 30.0])


def test_write_through_a_view_updates_base_and_graph():
    def f(t):
        x = t.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        z = x * 1
        v = z[1:3]
        v.mul_(x[:2])
        v2 = z.view(2, 2).t()
        v2[0] = 7.0
        (z * z).sum().backward()
        return (z.detach().tolist(), x.grad.tolist(), type(v.grad_fn).__name__,
                type(z.grad_fn).__name__, z._version)
    ours, theirs = run_both(f)
    assert ours == theirs


def test_advanced_index_assignment():
    def f(t):
        q = t.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        z = q * 1
        z[t.tensor([0, 2])] = t.tensor([5.0, 6.0])
        z[z > 5.5] = 0.0
        (z * q).sum().backward()
        return z.detach().tolist(), q.grad.tolist(), type(z.grad_fn).__name__
    ours, theirs = run_both(f)
    assert ours == theirs


def test_saved_tensor_modified_in_place_names_both_lines():
    a = rebours.tensor([1.0, 2.0], requires_grad=True)
    h = a * 2
    y = h * h
    h.add_(1)
    with pytest.raises(RuntimeError) as err:
        y.sum().backward()
    msg = str(err.value)
    assert msg.startswith("one of the variables needed for gradient computation has been "
                          "modified by an inplace operation")
    assert "y = h * h" in msg and "h.add_(1)" in msg and "MulBackward0" in msg
    assert "is at version 1; expected version 0 instead" in msg


def test_self_times_self_in_place_fails_at_backward_as_in_torch():
    for t in (rebours, torch):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y *= y
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_output_saved_then_modified_is_caught():
    for t in (rebours, torch):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_views_share_the_version_counter():
    x = rebours.zeros(4)
    views = [x[1:], x.view(2, 2), x.reshape(4), x.unsqueeze(0), x.expand(2, 4), x.detach()]
    x.add_(1)
    assert all(v._version == 1 for v in views)
    views[0].mul_(2)
    assert x._version == 2 and x.tolist() == [1.0, 2.0, 2.0, 2.0]
    d = x.data
    d.add_(1)  # unlike torch, .data shares the counter, so such a write is caught (see RB023)
    assert x._version == 3 and x.tolist() == [2.0, 3.0, 3.0, 3.0]


def test_inplace_errors_match_torch():
    cases = [
        lambda t: t.zeros(3, dtype=t.int64).add_(1.5),
        lambda t: t.zeros(3).add_(t.ones(2, 3)),
        lambda t: t.zeros(3).expand(2, 3).add_(1),
    ]
    for case in cases:
        errs = []
        for t in (rebours, torch):
            with pytest.raises(RuntimeError) as err:
                case(t)
            errs.append(str(err.value).splitlines()[0])
        assert errs[0] == errs[1]


def test_copy_casts_and_broadcasts_and_is_differentiable():
    def f(t):
        x = t.tensor([1.5, 2.5], requires_grad=True)
        w = t.zeros(3, 2)
        w.copy_(x * 2)
        (w * w).sum().backward()
        i = t.zeros(2, dtype=t.int32)
        i.copy_(t.tensor([1.7, -2.7]))
        return w.detach().tolist(), x.grad.tolist(), i.tolist(), type(w.grad_fn).__name__
    ours, theirs = run_both(f)
    assert ours == theirs


@pytest.mark.parametrize("when", ["before the op saved it", "after the op saved it"])
def test_write_through_numpy_into_a_saved_tensor_is_refused(when):
    """torch silently computes a wrong gradient here (see docs/differences.md); rebours refuses."""
    x = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
    if when.startswith("before"):
        arr = c.detach().numpy()
        y = (x * c).sum()
    else:
        y = (x * c).sum()
        arr = c.detach().numpy()
    arr[0] = 100.0
    with pytest.raises(RuntimeError, match="written through NumPy after it was saved") as err:
        y.backward()
    assert "c.detach().numpy()" in str(err.value) and "y = (x * c).sum()" in str(err.value)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tc = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ty = (tx * tc).sum()
    tc.detach().numpy()[0] = 100.0
    ty.backward()
    assert tx.grad.tolist() == [100.0, 2.0, 3.0]  # the wrong gradient rebours refuses to give


def test_reading_through_numpy_is_fine():
    x = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * c).sum()
    total = float(c.detach().numpy().sum())
    y.backward()
    assert total == 6.0 and x.grad.tolist() == [1.0, 2.0, 3.0]
