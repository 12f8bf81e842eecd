"""Tensors on cuda:N live and compute on GPU N, without a GPU: a fake CuPy with two fake GPUs.

The fake is strict where CuPy is loose: every array remembers the GPU it was allocated on, new
arrays go to the current GPU, and any ufunc (operators, reductions, `xp.exp`) or `xp` function
that touches an array of another GPU raises. So a row that ran on the wrong GPU fails the test
instead of being silently copied over, as CuPy's peer access would.
"""

import sys
import threading
import types

import numpy as np
import pytest

import rebours
from rebours.autograd import ops_namespace
from rebours.backends import backend_of
from rebours.backends import cuda as cuda_backend
from rebours.errors import DeviceMismatchError

GPU = types.SimpleNamespace(current=0, count=2, synced=[], seeds=[])  # the fake driver's state


def _set_current(index):
    if not 0 <= index < GPU.count:
        raise RuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    GPU.current = index


class Device:
    """cupy.cuda.Device: `with Device(n):` makes GPU n current, and restores the last one."""

    def __init__(self, device=None):
        self.id = GPU.current if device is None else int(device)
        self._outer = []

    def __enter__(self):
        self._outer.append(GPU.current)
        _set_current(self.id)
        return self

    def __exit__(self, *exc):
        GPU.current = self._outer.pop()

    def use(self):
        _set_current(self.id)

    def synchronize(self):
        GPU.synced.append(self.id)


class FakeArray(np.ndarray):
    """cupy.ndarray: NumPy memory tagged with its GPU. A view lives where its base lives; new
    memory (a ufunc's result, astype, copy) on the current GPU."""

    gpu = None

    def __array_finalize__(self, obj):
        self.gpu = getattr(obj, "gpu", None) if self.base is not None else GPU.current

    @property
    def device(self):
        return Device(self.gpu)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        _check(list(inputs) + list(out or ()), f"{ufunc.__name__}.{method}")
        inputs = [_plain(x) for x in inputs]
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        res = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _new(res)


def _plain(x):
    return x.view(np.ndarray) if isinstance(x, FakeArray) else x


def _arrays(x):
    if isinstance(x, FakeArray):
        yield x
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _arrays(v)


def _check(args, what):
    for a in _arrays(list(args)):
        if a.gpu != GPU.current:
            raise ValueError(f"{what}: an array of fake GPU {a.gpu} used while GPU "
                             f"{GPU.current} is current")


def _new(res, sources=()):
    """A result as a FakeArray: a view of an input stays on its GPU, the rest is on the current."""
    if isinstance(res, tuple):
        return tuple(_new(r, sources) for r in res)
    if isinstance(res, list):
        return [_new(r, sources) for r in res]
    if isinstance(res, np.generic):
        res = np.asarray(res)
    if isinstance(res, np.ndarray) and not isinstance(res, FakeArray):
        out = res.view(FakeArray)
        out.gpu = next((s.gpu for s in sources if np.may_share_memory(res, s)), GPU.current)
        return out
    return res


class _Forward:
    """A NumPy function or ufunc as CuPy's: checked inputs, results on the current GPU."""

    def __init__(self, fn, name, check=True):
        self._fn, self._name, self._check = fn, name, check

    def __call__(self, *args, **kwargs):
        if self._check:
            _check(list(args) + list(kwargs.values()), self._name)
        sources = list(_arrays(list(args)))
        return _new(self._fn(*args, **kwargs), sources)

    def __getattr__(self, name):  # ufunc methods: xp.add.at, xp.maximum.reduce
        attr = getattr(self._fn, name)
        return _Forward(attr, f"{self._name}.{name}") if callable(attr) else attr


def _module(name, np_mod):
    """A fake CuPy (sub)module forwarding to `np_mod`."""
    mod = types.ModuleType(name)
    mod.__file__ = f"<fake {name}>"

    def __getattr__(attr):
        value = getattr(np_mod, attr)
        if isinstance(value, types.ModuleType):
            value = _module(f"{name}.{attr}", value)
        elif callable(value) and not isinstance(value, type):
            # cupy.asarray of another GPU's array hands it back as is: no kernel, no check
            value = _Forward(value, attr, check=attr not in ("asarray", "array", "asanyarray"))
        setattr(mod, attr, value)
        return value

    mod.__getattr__ = __getattr__
    return mod


def fake_cupy():
    cupy = _module("cupy", np)
    cupy.ndarray = FakeArray
    cupy.asnumpy = lambda a: np.array(a).view(np.ndarray)  # CuPy reads from the array's own GPU
    cupy.cuda = types.ModuleType("cupy.cuda")
    cupy.cuda.Device = Device
    cupy.cuda.runtime = types.SimpleNamespace(
        getDeviceCount=lambda: GPU.count, getDevice=lambda: GPU.current, setDevice=_set_current)
    cupy.random = types.ModuleType("cupy.random")
    cupy.random.seed = lambda s: GPU.seeds.append((GPU.current, s))
    return cupy


def _install(monkeypatch, count):
    GPU.current, GPU.count, GPU.synced, GPU.seeds = 0, count, [], []
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy())
    monkeypatch.setattr(cuda_backend, "_BACKEND", None)
    monkeypatch.setattr(cuda_backend, "_BY_INDEX", {})
    monkeypatch.setattr(cuda_backend, "_LOCAL", threading.local())
    monkeypatch.setattr(ops_namespace, "_RAW", {})  # backward's per-device rows, cached by device
    return GPU


@pytest.fixture
def gpus(monkeypatch):
    return _install(monkeypatch, 2)


@pytest.fixture
def one_gpu(monkeypatch):
    return _install(monkeypatch, 1)


def _on(t, index):
    assert t.device == f"cuda:{index}", t.device
    assert type(t._data) is FakeArray and t._data.gpu == index, (type(t._data), t._data.gpu)


def test_two_fake_gpus_are_seen(gpus):
    assert rebours.cuda.is_available() is True
    assert rebours.cuda.device_count() == 2
    assert rebours.cuda.current_device() == 0


def test_factory_on_cuda1_allocates_on_gpu1(gpus):
    x = rebours.ones(3, device="cuda:1")
    _on(x, 1)
    assert rebours.cuda.current_device() == 0  # torch's current device does not follow ops
    xp = backend_of(rebours.device("cuda:1")).xp
    rebours.ones(1, device="cuda:0")
    assert gpus.current == 0  # CuPy is on GPU 0 now; cuda:1's xp still runs each call on GPU 1
    assert xp.ndarray is FakeArray and type(xp.zeros(2)) is FakeArray
    assert xp.zeros(2).gpu == 1 and xp.exp(x._data).gpu == 1
    assert xp.linalg.inv(np.eye(2)).gpu == 1 and xp.add.reduce(x._data).gpu == 1
    assert gpus.current == 0


def test_op_on_cuda1_computes_on_gpu1(gpus):
    x = rebours.tensor([1.0, 2.0, 3.0], device="cuda:1")
    rebours.ones(2, device="cuda:0")
    assert gpus.current == 0  # the fake raises if an op on x ran here
    y = x + x
    _on(y, 1)
    np.testing.assert_array_equal(y.cpu().numpy(), [2.0, 4.0, 6.0])
    z = (x.exp() * 2) @ rebours.ones(3, device="cuda:1")
    _on(z, 1)
    np.testing.assert_allclose(z.item(), 2 * np.exp([1.0, 2.0, 3.0]).sum())
    _on(x * rebours.tensor(3.0), 1)  # a 0-dim CPU tensor joins the op on GPU 1


def test_to_moves_between_gpus(gpus):
    x = rebours.tensor([1.0, 2.0], device="cuda:1")
    y = x.to("cuda:0")
    _on(y, 0)
    _on(x, 1)
    assert not np.may_share_memory(x._data, y._data)
    np.testing.assert_array_equal(y.cpu().numpy(), [1.0, 2.0])
    moved = cuda_backend.backend(0).asarray(x._data)  # device to device, no host round trip
    assert type(moved) is FakeArray and moved.gpu == 0 and x._data.gpu == 1


def test_mixing_gpus_in_one_op_is_a_device_mismatch(gpus):
    a = rebours.ones(3, device="cuda:0")
    b = rebours.ones(3, device="cuda:1")
    with pytest.raises(RuntimeError) as err:
        a + b
    assert isinstance(err.value, DeviceMismatchError)
    assert str(err.value).startswith(
        "Expected all tensors to be on the same device, but found at least two devices, "
        "cuda:0 and cuda:1!")


def _chain(lib, device):
    w = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, device=device)
    v = lib.tensor([1.0, -2.0], requires_grad=True, device=device)
    loss = ((w @ v).tanh() * w.sum(0)).exp().sum()
    loss.backward()
    return w, v


def test_backward_on_cuda1_leaves_grad_on_cuda1_equal_to_cpu(gpus):
    w, v = _chain(rebours, "cuda:1")
    cw, cv = _chain(rebours, "cpu")
    for g, c in ((w.grad, cw.grad), (v.grad, cv.grad)):
        _on(g, 1)
        np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=1e-6)


def test_gradient_comes_back_across_gpus(gpus):
    a = rebours.tensor([1.0, 2.0], requires_grad=True, device="cuda:0")
    b = rebours.tensor([3.0, 4.0], requires_grad=True, device="cuda:1")
    (a.to("cuda:1") * b).sum().backward()
    _on(a.grad, 0)
    _on(b.grad, 1)
    np.testing.assert_array_equal(a.grad.cpu().numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.cpu().numpy(), [1.0, 2.0])


def test_index_past_the_last_gpu_is_an_invalid_ordinal(gpus):
    for make in (lambda: rebours.ones(3, device="cuda:5"),
                 lambda: rebours.tensor([1.0]).to("cuda:2"),
                 lambda: rebours.cuda.set_device(2)):
        with pytest.raises(RuntimeError) as err:
            make()
        assert str(err.value).splitlines()[0] == "CUDA error: invalid device ordinal"


def test_plain_cuda_means_the_current_device(gpus):
    assert rebours.zeros(2, device="cuda")._data.gpu == 0
    rebours.cuda.set_device(1)
    assert rebours.cuda.current_device() == 1
    x = rebours.zeros(2, device="cuda")
    assert x.device == rebours.device("cuda:1") and x._data.gpu == 1  # filled in, as torch
    assert (x + 1)._data.gpu == 1
    rebours.ones(2, device="cuda:0") * 2  # an op on GPU 0 leaves the current device alone
    assert rebours.cuda.current_device() == 1
    assert (x + 1)._data.gpu == 1
    c = rebours.tensor([1.0, 2.0]).cuda()  # .cuda() goes to the current device, as torch
    assert c.device == rebours.device("cuda:1") and c._data.gpu == 1
    assert rebours.tensor([1.0]).cuda(0)._data.gpu == 0
    rebours.cuda.set_device("cuda:0")
    assert rebours.cuda.current_device() == 0 and rebours.zeros(2, device="cuda")._data.gpu == 0
    assert x.device == rebours.device("cuda:1")  # made under cuda:1, it stays there
    z = rebours.zeros(2, device="cuda")  # now cuda:0, and it meets 'cuda:0' tensors
    assert (z + rebours.ones(2, device="cuda:0")).device == rebours.device("cuda:0")


def test_runtime_api_acts_on_the_named_gpu(gpus):
    rebours.cuda.synchronize("cuda:1")
    rebours.cuda.synchronize()
    assert gpus.synced == [1, 0]
    rebours.cuda.set_device(1)
    rebours.cuda.manual_seed(7)
    rebours.cuda.manual_seed_all(8)
    assert gpus.seeds == [(1, 7), (0, 8), (1, 8)]
    with pytest.raises(ValueError, match="Expected a cuda device"):
        rebours.cuda.set_device("cpu")


def test_one_gpu_keeps_plain_cupy(one_gpu):
    plain = backend_of(rebours.device("cuda"))
    assert backend_of(rebours.device("cuda:0")) is plain
    assert plain.xp is sys.modules["cupy"]  # no per-call device wrapper on the fast path
    _on((rebours.ones(2, device="cuda:0") * 3).sum().reshape(1), 0)
    assert rebours.cuda.device_count() == 1 and rebours.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        rebours.ones(1, device="cuda:1")


@pytest.mark.parametrize("opt", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_optimizer_steps_parameters_on_their_own_gpu(gpus, opt):
    w = rebours.nn.Parameter(rebours.tensor([1.0, -2.0], device="cuda:1"))
    ref = rebours.nn.Parameter(rebours.tensor([1.0, -2.0]))
    kwargs = {"lr": 0.1, "momentum": 0.9} if opt == "SGD" else {"lr": 0.1}
    steps = [getattr(rebours.optim, opt)([p], **kwargs) for p in (w, ref)]
    for _ in range(3):
        for p, o in zip((w, ref), steps):
            o.zero_grad()
            (p * p).sum().backward()
            rebours.cuda.set_device(0)  # CuPy's current device is another GPU at each step
            o.step()
    assert w._data.gpu == 1 and w.device == rebours.device("cuda:1")
    np.testing.assert_allclose(w.detach().cpu().numpy(), ref.detach().numpy(), rtol=1e-6)
