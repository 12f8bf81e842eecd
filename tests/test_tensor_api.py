"""The Tensor surface: construction, factories, NumPy interop, conversions, queries, reprs."""

import numpy as np
import pytest
import torch

import rebours


def same(ours, theirs):
    """Same values, shape and dtype name as the torch tensor."""
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())


@pytest.mark.parametrize("data", [
    3, 2.5, True, [1, 2, 3], [1.0, 2], [[1, 2], [3, 4]], [True, False], [], [[]],
    np.arange(6, dtype=np.int32).reshape(2, 3), np.array([1.5, 2.5]), np.float64(2.0),
])
def test_tensor_infers_dtype_like_torch(data):
    same(rebours.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", ["int32", "float64", "bool", "uint8", "float16"])
def test_tensor_with_dtype(dtype):
    data = [[0.0, 1.7], [-2.2, 3.0]] if dtype != "uint8" else [[0.0, 1.7], [2.2, 3.0]]
    same(rebours.tensor(data, dtype=getattr(rebours, dtype)),
         torch.tensor(data, dtype=getattr(torch, dtype)))


def test_tensor_of_ragged_data_is_refused():
    with pytest.raises((ValueError, TypeError)):
        rebours.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        rebours.tensor(["a"])


@pytest.mark.parametrize("call", [
    lambda t: t.zeros(2, 3), lambda t: t.ones((2, 3)), lambda t: t.zeros([4]),
    lambda t: t.full((2, 2), 7), lambda t: t.full((2,), 1.5), lambda t: t.full((2,), True),
    lambda t: t.arange(5), lambda t: t.arange(1, 4, 0.5), lambda t: t.arange(0.0, 1.0, 0.25),
    lambda t: t.arange(10, 0, -3), lambda t: t.linspace(0, 1, 5), lambda t: t.eye(3),
    lambda t: t.eye(2, 3), lambda t: t.zeros(2, dtype=t.int32),
    lambda t: t.ones_like(t.zeros(2, 3, dtype=t.float64)),
    lambda t: t.zeros_like(t.ones(3, dtype=t.int64)), lambda t: t.full_like(t.ones(2), 4.0),
    lambda t: t.ones(2).new_zeros(3), lambda t: t.ones(2, dtype=t.float64).new_ones((2, 2)),
    lambda t: t.ones(2, dtype=t.int32).new_tensor([1, 2]), lambda t: t.ones(1).new_full((2,), 3.0),
])
def test_factories_match_torch(call):
    same(call(rebours), call(torch))


def test_factory_shape_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        rebours.zeros(2, -1)
    with pytest.raises(TypeError):
        rebours.zeros(2.5)


def test_random_factories_are_reproducible_within_rebours():
    rebours.manual_seed(0)
    a = rebours.randn(3, 4), rebours.rand(2), rebours.randint(0, 10, (5,))
    rebours.manual_seed(0)
    b = rebours.randn(3, 4), rebours.rand(2), rebours.randint(0, 10, (5,))
    for x, y in zip(a, b):
        assert rebours.equal(x, y)
    assert a[0].dtype is rebours.float32 and a[2].dtype is rebours.int64
    g = rebours.Generator().manual_seed(3)
    h = rebours.Generator().manual_seed(3)
    assert rebours.equal(rebours.randn(5, generator=g), rebours.randn(5, generator=h))
    r = rebours.rand(1000)
    assert 0.0 <= r.min().item() and r.max().item() < 1.0
    i = rebours.randint(3, 7, (1000,))
    assert set(i.tolist()) == {3, 4, 5, 6}
    assert rebours.randn_like(rebours.zeros(2, 2, dtype=rebours.float64)).dtype is \
        rebours.float64


def test_from_numpy_shares_memory_and_numpy_is_refused_with_grad():
    arr = np.zeros(3, dtype=np.float32)
    t = rebours.from_numpy(arr)
    arr[0] = 5.0
    assert t[0].item() == 5.0
    assert t.numpy() is arr
    x = rebours.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0, 1.0]
    assert np.asarray(x.detach()).dtype == np.float32
    assert rebours.as_tensor(arr).numpy() is arr


def test_conversions_and_queries_match_torch():
    for lib in (rebours, torch):
        x = lib.tensor([[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]])
        assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
        assert x.dim() == x.ndim == 2 and x.numel() == 6 and len(x) == 2
        assert x.tolist() == [[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]]
        assert [row.tolist() for row in x] == x.tolist()
        assert x[1, 2].item() == 6.25 and float(x[0, 0]) == 1.5 and int(x[0, 1]) == -2
        assert bool(lib.tensor(1)) and not bool(lib.tensor(0.0))
        assert x.T.shape == (3, 2) and x.T.tolist() == [[1.5, 4.0], [-2.0, 5.0], [3.0, 6.25]]
        with pytest.raises(RuntimeError):
            bool(x)
        with pytest.raises(RuntimeError):
            x.item()
    assert repr(rebours.zeros(2, 3).shape) == "rebours.Size([2, 3])"
    with pytest.raises(TypeError):
        len(rebours.tensor(1.0))


@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "bool", "short",
                                    "byte", "char"])
def test_dtype_methods(method):
    data = [[-1.5, 0.0], [2.7, 3.0]]
    same(getattr(rebours.tensor(data), method)(), getattr(torch.tensor(data), method)())


def test_to_and_cpu():
    x = rebours.tensor([1.0, 2.0])
    assert x.to(rebours.float32) is x and x.cpu() is x and x.to("cpu") is x
    y = x.to(rebours.float64)
    assert y.dtype is rebours.float64 and y is not x
    assert x.to("cpu", rebours.int32).dtype is rebours.int32
    assert x.to(rebours.zeros(1, dtype=rebours.float16)).dtype is rebours.float16
    assert x.to(rebours.float32, copy=True) is not x
    assert x.type_as(rebours.zeros(1, dtype=rebours.int64)).dtype is rebours.int64


def test_to_on_a_leaf_gives_a_non_leaf_that_warns_on_grad():
    x = rebours.tensor(3.0, requires_grad=True).double()
    assert not x.is_leaf and type(x.grad_fn).__name__ == "ToCopyBackward0"
    (x * 2).backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert x.grad is None


def test_clone_detach_contiguous():
    x = rebours.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    c = x.clone()
    assert type(c.grad_fn).__name__ == "CloneBackward0"
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.numpy(), x.detach().numpy())
    assert x.contiguous() is x
    t = x.t()
    assert not t.is_contiguous()
    tc = t.contiguous()
    assert tc.is_contiguous() and type(tc.grad_fn).__name__ == "CloneBackward0"
    tc.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_comparisons_allclose_isclose_equal():
    a = rebours.tensor([1.0, 2.0, float("nan")])
    b = rebours.tensor([1.0, 2.0 + 1e-7, float("nan")])
    assert not rebours.allclose(a, b) and rebours.allclose(a, b, equal_nan=True)
    assert rebours.isclose(a, b).tolist() == torch.isclose(
        torch.tensor([1.0, 2.0, float("nan")]), torch.tensor([1.0, 2.0 + 1e-7, float("nan")])
    ).tolist()
    assert rebours.equal(rebours.tensor([1, 2]), rebours.tensor([1, 2]))
    assert not rebours.equal(rebours.tensor([1, 2]), rebours.tensor([[1, 2]]))


def test_is_tensor_and_Tensor_constructor():
    assert rebours.is_tensor(rebours.zeros(1)) and not rebours.is_tensor([1])
    same(rebours.Tensor([1, 2]), torch.Tensor([1, 2]))
    assert rebours.Tensor(2, 3).shape == (2, 3)
    assert isinstance(rebours.zeros(1), rebours.Tensor)


@pytest.mark.parametrize("make", [
    lambda t: t.tensor(37.0, requires_grad=True) * 1 + 0,
    lambda t: t.tensor(4.0, requires_grad=True),
    lambda t: t.tensor(3, dtype=t.int32),
    lambda t: t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True).sum(),
    lambda t: t.arange(12.0).reshape(3, 4),
    lambda t: t.tensor([[True, False]]),
    lambda t: t.zeros(0, 3),
    lambda t: t.tensor([1e-8, 1e8, float("inf"), float("nan")]),
])
def test_tensor_repr_matches_torch(make):
    assert repr(make(rebours)) == repr(make(torch)).replace("torch.", "rebours.")


def test_set_printoptions_changes_repr():
    rebours.set_printoptions(precision=2)
    assert repr(rebours.tensor([1.23456])) == "tensor([1.23])"


def test_num_threads():
    rebours.set_num_threads(1)
    assert rebours.get_num_threads() == 1
