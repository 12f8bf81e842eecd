"""Every op_db row runs through `xp` only: proof, without a GPU, that CuPy can plug in.

The 'cuda' device is served here by a proxy backend: a namespace that forwards to NumPy but is
not the `numpy` module, whose arrays are a distinct ndarray subclass. A row that reached for
NumPy directly (`np.asarray`, `np.zeros`) would hand back a plain ndarray; the test fails on any
result or gradient that is not a proxy array, and compares values with the CPU run.
"""

import types

import numpy as np
import pytest
from tests.op_db import rows
from tests.test_ops import build, draw, float_dtypes, outputs

import rebours
from rebours.backends import cuda as cuda_backend


class ProxyArray(np.ndarray):
    """Arrays of the proxy device: NumPy's, under another type."""


def _wrap(x):
    if isinstance(x, np.ndarray) and not isinstance(x, ProxyArray):
        return x.view(ProxyArray)
    if isinstance(x, np.generic):
        return np.asarray(x).view(ProxyArray)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class ProxyNamespace(types.SimpleNamespace):
    """NumPy's functions, returning ProxyArray; sub-namespaces (linalg, lib...) proxied too."""

    def __init__(self, mod):
        super().__init__()
        object.__setattr__(self, "_mod", mod)

    def __getattr__(self, name):
        attr = getattr(self._mod, name)
        if isinstance(attr, types.ModuleType):
            out = ProxyNamespace(attr)
        elif callable(attr) and not isinstance(attr, type):
            def out(*args, _f=attr, **kwargs):
                return _wrap(_f(*args, **kwargs))
            if isinstance(attr, np.ufunc):  # ufunc methods: np.add.at, np.maximum.reduce
                for m in ("at", "reduce", "accumulate", "outer", "reduceat"):
                    setattr(out, m, getattr(attr, m))
        else:
            out = attr
        object.__setattr__(self, name, out)
        return out


PROXY_XP = ProxyNamespace(np)


class ProxyBackend:
    xp = PROXY_XP
    ndarray = ProxyArray
    name = "cuda"

    @staticmethod
    def asarray(data, dtype=None):
        return np.array(data, dtype=dtype, copy=True).view(ProxyArray)

    @staticmethod
    def to_numpy(arr):
        return np.asarray(arr).view(np.ndarray)

    @staticmethod
    def finalize(arr):
        return arr


@pytest.fixture
def proxy_cuda(monkeypatch):
    monkeypatch.setattr(cuda_backend, "_BACKEND", ProxyBackend)
    yield rebours.device("cuda:0")  # what 'cuda' becomes on a tensor, as in torch


def _check_proxy(t, what):
    assert isinstance(t._data, ProxyArray), f"{what} came back as {type(t._data).__name__}"


@pytest.mark.parametrize("row", rows, ids=lambda r: r.name)
def test_row_runs_through_xp_only(row, proxy_cuda):
    for k, sample in enumerate(row.samples[:2]):
        arrays = draw(row, sample, float_dtypes(sample, "float64"), seed=k)
        cpu_leaves, cpu_in = build(rebours, sample, arrays, requires_grad=row.grad)
        leaves, inputs = build(rebours, sample, arrays, requires_grad=row.grad,
                               device=proxy_cuda)
        for t in inputs:
            if isinstance(t, rebours.Tensor):
                _check_proxy(t, f"sample {k}: input")
        cpu_out = outputs(row.fn(rebours, *cpu_in))
        out = outputs(row.fn(rebours, *inputs))
        for i, (o, c) in enumerate(zip(out, cpu_out)):
            if not isinstance(o, rebours.Tensor):
                continue
            _check_proxy(o, f"sample {k}: output {i}")
            assert o.device == proxy_cuda
            np.testing.assert_allclose(np.asarray(o.cpu().detach()), c.detach().numpy(),
                                       rtol=1e-10, atol=1e-12, equal_nan=True)
        if not row.grad or not sample.grad:
            continue
        diff = [(o, c) for o, c in zip(out, cpu_out) if isinstance(o, rebours.Tensor)
                and o.requires_grad]
        if not diff:
            continue
        sum(o.sum() for o, _ in diff).backward()
        sum(c.sum() for _, c in diff).backward()
        for j, (leaf, cl) in enumerate(zip(leaves, cpu_leaves)):
            if leaf.grad is None:
                assert cl.grad is None
                continue
            _check_proxy(leaf.grad, f"sample {k}: grad of input {j}")
            np.testing.assert_allclose(np.asarray(leaf.grad.cpu()), cl.grad.numpy(),
                                       rtol=1e-9, atol=1e-12, equal_nan=True)


def test_proxy_backend_is_really_not_numpy(proxy_cuda):
    x = rebours.ones(3, device=proxy_cuda, requires_grad=True)
    y = (x * 2).exp().sum()
    y.backward()
    assert type(x._data) is ProxyArray and type(x.grad._data) is ProxyArray
    assert PROXY_XP is not np and rebours.cuda.is_available()
