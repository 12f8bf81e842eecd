"""rebours.nn layers against torch.nn: the same lambda builds both, torch's weights are loaded into
rebours through load_state_dict, and outputs and every gradient (inputs and parameters) must
match in float32 and float64. Then nn.init's statistics, dropout, and nn.utils.
"""

import math
import warnings

import numpy as np
import pytest
import torch

import rebours
import rebours.nn

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


# name -> (lambda nn: module, input shapes); inputs are N(0, 1) with a few values near kinks
ROWS = {
    "linear": (lambda nn: nn.Linear(4, 3), [(5, 4)]),
    "linear-3d": (lambda nn: nn.Linear(4, 3), [(2, 5, 4)]),
    "linear-1d": (lambda nn: nn.Linear(4, 3), [(4,)]),
    "linear-nobias": (lambda nn: nn.Linear(4, 3, bias=False), [(5, 4)]),
    "bilinear": (lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    "bilinear-3d": (lambda nn: nn.Bilinear(3, 4, 2, bias=False), [(2, 5, 3), (2, 5, 4)]),
    "identity": (lambda nn: nn.Identity(7, key=3), [(3, 2)]),
    "flatten": (lambda nn: nn.Flatten(), [(2, 3, 4)]),
    "flatten-0-1": (lambda nn: nn.Flatten(0, 1), [(2, 3, 4)]),
    "unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), [(4, 6, 2)]),
    "unflatten-neg": (lambda nn: nn.Unflatten(-1, (3, -1)), [(4, 6)]),
    "dropout-eval": (lambda nn: nn.Dropout(0.3).eval(), [(4, 5)]),
    "dropout-p0": (lambda nn: nn.Dropout(0.0), [(4, 5)]),
    "mlp": (lambda nn: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                                     nn.Linear(8, 2), nn.Sigmoid()), [(6, 4)]),
    "relu": (lambda nn: nn.ReLU(), [(4, 5)]),
    "relu-inplace": (lambda nn: nn.Sequential(nn.Linear(5, 5), nn.ReLU(inplace=True)),
                     [(4, 5)]),
    "relu6": (lambda nn: nn.ReLU6(), [(4, 5)]),
    "sigmoid": (lambda nn: nn.Sigmoid(), [(4, 5)]),
    "tanh": (lambda nn: nn.Tanh(), [(4, 5)]),
    "gelu": (lambda nn: nn.GELU(), [(4, 5)]),
    "gelu-tanh": (lambda nn: nn.GELU("tanh"), [(4, 5)]),
    "silu": (lambda nn: nn.SiLU(), [(4, 5)]),
    "mish": (lambda nn: nn.Mish(), [(4, 5)]),
    "elu": (lambda nn: nn.ELU(alpha=0.7), [(4, 5)]),
    "celu": (lambda nn: nn.CELU(alpha=1.5), [(4, 5)]),
    "selu": (lambda nn: nn.SELU(), [(4, 5)]),
    "leaky_relu": (lambda nn: nn.LeakyReLU(0.2), [(4, 5)]),
    "hardtanh": (lambda nn: nn.Hardtanh(-0.5, 0.7), [(4, 5)]),
    "hardsigmoid": (lambda nn: nn.Hardsigmoid(), [(4, 5)]),  # see LOOSE
    "hardswish": (lambda nn: nn.Hardswish(), [(4, 5)]),
    "logsigmoid": (lambda nn: nn.LogSigmoid(), [(4, 5)]),
    "softplus": (lambda nn: nn.Softplus(beta=2.0, threshold=1.0), [(4, 5)]),
    "softmax": (lambda nn: nn.Softmax(dim=1), [(4, 5)]),
    "softmax-neg": (lambda nn: nn.Softmax(dim=-1), [(2, 3, 4)]),
    "log_softmax": (lambda nn: nn.LogSoftmax(dim=0), [(4, 5)]),
    "softmin": (lambda nn: nn.Softmin(dim=1), [(4, 5)]),
    "mse": (lambda nn: nn.MSELoss(), [(4, 5), (4, 5)]),
    "mse-sum": (lambda nn: nn.MSELoss(reduction="sum"), [(4, 5), (4, 5)]),
    "mse-none": (lambda nn: nn.MSELoss(reduction="none"), [(4, 5), (4, 5)]),
    "l1": (lambda nn: nn.L1Loss(), [(4, 5), (4, 5)]),
    "l1-sum": (lambda nn: nn.L1Loss(reduction="sum"), [(4, 5), (4, 5)]),
    "huber": (lambda nn: nn.HuberLoss(delta=0.5), [(4, 5), (4, 5)]),
    "huber-none": (lambda nn: nn.HuberLoss(reduction="none"), [(4, 5), (4, 5)]),
    "smooth_l1": (lambda nn: nn.SmoothL1Loss(beta=0.5), [(4, 5), (4, 5)]),
    "smooth_l1-beta0": (lambda nn: nn.SmoothL1Loss(beta=0.0), [(4, 5), (4, 5)]),
}


# torch's CPU hardsigmoid backward multiplies by the float32 constant 1/6 even in float64;
# rebours computes g / 6 exactly, so the two differ by ~3e-8 relative there.
LOOSE = {("hardsigmoid", "float64"): dict(rtol=1e-7, atol=1e-12)}


def _load_from_torch(tm, rm, dtype):
    state = {k: rebours.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    result = rm.load_state_dict(state)
    assert repr(result) == "<All keys matched successfully>"
    assert [k for k, _ in tm.named_parameters()] == [k for k, _ in rm.named_parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ROWS))
def test_layer_matches_torch(name, dtype):
    build, shapes = ROWS[name]
    torch.manual_seed(0)
    tm = build(torch.nn).to(getattr(torch, dtype))
    rm = build(rebours.nn).to(getattr(rebours, dtype))
    assert repr(rm) == repr(tm).replace("torch.", "rebours.")
    _load_from_torch(tm, rm, dtype)
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=s).astype(dtype) for s in shapes]
    arrays[0].reshape(-1)[:2] = [0.0, 1e-3]  # at and near the kinks
    outs, grads = [], []
    for lib, m in ((torch, tm), (rebours, rm)):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = m(*xs)
        g = lib.tensor(np.random.default_rng(2).normal(size=tuple(out.shape)).astype(dtype))
        (out * g).sum().backward()
        outs.append(_np(out))
        grads.append([_np(x.grad) for x in xs] + [_np(p.grad) for p in m.parameters()])
    np.testing.assert_allclose(outs[1], outs[0], **TOL[dtype])
    assert outs[1].dtype == outs[0].dtype
    assert len(grads[0]) == len(grads[1])
    for gr, gt in zip(grads[1], grads[0]):
        np.testing.assert_allclose(gr, gt, **LOOSE.get((name, dtype), TOL[dtype]))


@pytest.mark.parametrize("name", list(ROWS))
def test_layer_repr_and_training_flag(name):
    build, _ = ROWS[name]
    tm, rm = build(torch.nn), build(rebours.nn)
    assert repr(rm) == repr(tm)
    assert [m.training for m in rm.modules()] == [m.training for m in tm.modules()]


def test_activation_reprs_with_options():
    rows = [lambda nn: nn.ReLU(inplace=True), lambda nn: nn.LeakyReLU(0.1, inplace=True),
            lambda nn: nn.ELU(inplace=True), lambda nn: nn.Hardtanh(inplace=True),
            lambda nn: nn.ReLU6(True), lambda nn: nn.SiLU(True), lambda nn: nn.Hardswish(True),
            lambda nn: nn.Hardsigmoid(True), lambda nn: nn.SELU(True), lambda nn: nn.Mish(True),
            lambda nn: nn.Softmax(), lambda nn: nn.Dropout(0.25, inplace=True),
            lambda nn: nn.Bilinear(2, 3, 4, bias=False), lambda nn: nn.GELU("tanh")]
    for build in rows:
        assert repr(build(rebours.nn)) == repr(build(torch.nn))


def test_softmax_implicit_dim_warns_like_torch():
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    for lib in (torch, rebours):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            out = lib.nn.Softmax()(lib.tensor(x))
        np.testing.assert_allclose(_np(out).sum(1), 1.0, rtol=1e-6)


def test_loss_warns_on_broadcast_target():
    for lib in (torch, rebours):
        with pytest.warns(UserWarning, match="Using a target size"):
            lib.nn.MSELoss()(lib.zeros(3, 1), lib.zeros(3))
        with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
            lib.nn.L1Loss(reduction="foo")(lib.zeros(3), lib.zeros(3))


def test_linear_default_init_bounds():
    rebours.manual_seed(0)
    fc = rebours.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(in), 1/sqrt(in))
    w = fc.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    b = fc.bias.detach().numpy()
    assert np.abs(b).max() <= bound
    assert fc.weight.is_leaf and fc.weight.requires_grad and fc.weight.grad_fn is None
    assert rebours.nn.Linear(2, 3, dtype=rebours.float64).weight.dtype == rebours.float64


# -- dropout ------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_mask_and_scale(p):
    rebours.manual_seed(3)
    x = rebours.ones(200, 100, requires_grad=True)
    out = rebours.nn.Dropout(p)(x)
    vals = out.detach().numpy()
    kept = vals != 0
    np.testing.assert_allclose(vals[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(kept.mean() - (1 - p)) < 0.02
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)


def test_dropout_is_seeded_and_validates_p():
    rebours.manual_seed(5)
    a = rebours.nn.Dropout()(rebours.ones(50)).numpy()
    rebours.manual_seed(5)
    b = rebours.nn.Dropout()(rebours.ones(50)).numpy()
    np.testing.assert_array_equal(a, b)
    assert rebours.nn.Dropout(1.0)(rebours.ones(4)).tolist() == [0.0] * 4
    for lib in (torch, rebours):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                             "but got 1.5"):
            lib.nn.Dropout(1.5)
    x = rebours.ones(10)
    y = rebours.nn.Dropout(0.5, inplace=True)(x)
    assert y is x and x._version == 1


# -- nn.init ------------------------------------------------------------------------------------

def test_calculate_gain_matches_torch():
    for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("selu",),
                 ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 3)]:
        assert rebours.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    for lib in (torch, rebours):
        with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
            lib.nn.init.calculate_gain("foo")
        with pytest.raises(ValueError, match="negative_slope True not a valid number"):
            lib.nn.init.calculate_gain("leaky_relu", True)


def _stats(fn, shape, **kw):
    rebours.manual_seed(0)
    t = rebours.empty(*shape)
    out = fn(t, **kw)
    assert out is t
    return t.numpy()


# name -> (fn name, shape, kwargs, expected (mean, std), bound or None)
INIT_ROWS = {
    "uniform": ("uniform_", (300, 200), dict(a=-2.0, b=4.0), (1.0, 6 / math.sqrt(12)), (-2, 4)),
    "normal": ("normal_", (300, 200), dict(mean=1.5, std=0.5), (1.5, 0.5), None),
    "xavier_uniform": ("xavier_uniform_", (300, 200), dict(gain=2.0),
                       (0.0, 2.0 * math.sqrt(2 / 500)), (-2 * math.sqrt(6 / 500),
                                                         2 * math.sqrt(6 / 500))),
    "xavier_normal": ("xavier_normal_", (300, 200), {}, (0.0, math.sqrt(2 / 500)), None),
    "kaiming_uniform": ("kaiming_uniform_", (300, 200), dict(nonlinearity="relu"),
                        (0.0, math.sqrt(2 / 200)), (-math.sqrt(6 / 200), math.sqrt(6 / 200))),
    "kaiming_uniform-fan_out": ("kaiming_uniform_", (300, 200),
                                dict(mode="fan_out", nonlinearity="relu"),
                                (0.0, math.sqrt(2 / 300)), None),
    "kaiming_normal": ("kaiming_normal_", (300, 200), dict(a=0.5),
                       (0.0, math.sqrt(2 / 1.25) / math.sqrt(200)), None),
    "kaiming_normal-4d": ("kaiming_normal_", (64, 16, 3, 3), dict(nonlinearity="relu"),
                          (0.0, math.sqrt(2 / 144)), None),
    "trunc_normal": ("trunc_normal_", (300, 200), {}, None, (-2, 2)),
    "trunc_normal-narrow": ("trunc_normal_", (300, 200), dict(mean=0.0, std=1.0, a=2.0, b=3.0),
                            None, (2, 3)),
}


def _truncated_moments(a, b):
    """Mean and std of N(0, 1) truncated to [a, b]."""
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    z = 0.5 * (math.erf(b / math.sqrt(2)) - math.erf(a / math.sqrt(2)))
    mean = (pdf(a) - pdf(b)) / z
    var = 1 + (a * pdf(a) - b * pdf(b)) / z - mean ** 2
    return mean, math.sqrt(var)


@pytest.mark.parametrize("name", list(INIT_ROWS))
def test_init_statistics(name):
    fn, shape, kw, moments, bounds = INIT_ROWS[name]
    mean, std = moments or _truncated_moments(kw.get("a", -2.0), kw.get("b", 2.0))
    vals = _stats(getattr(rebours.nn.init, fn), shape, **kw)
    assert abs(vals.mean() - mean) < 0.02 * max(std, 0.1) * 5
    assert abs(vals.std() - std) < 0.02 * std
    if bounds is not None:
        assert vals.min() >= bounds[0] and vals.max() <= bounds[1]


def test_init_deterministic_fills_match_torch():
    for fn, args in [("constant_", (0.3,)), ("ones_", ()), ("zeros_", ()), ("eye_", ())]:
        t = getattr(torch.nn.init, fn)(torch.empty(3, 4), *args)
        r = getattr(rebours.nn.init, fn)(rebours.empty(3, 4), *args)
        np.testing.assert_array_equal(r.numpy(), t.numpy())
    for lib in (torch, rebours):
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            lib.nn.init.eye_(lib.empty(3))
        with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
            lib.nn.init.xavier_uniform_(lib.empty(3))
        with pytest.raises(ValueError, match="Mode fan_foo not supported"):
            lib.nn.init.kaiming_normal_(lib.empty(3, 3), mode="fan_foo")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    rebours.manual_seed(1)
    w = rebours.nn.init.orthogonal_(rebours.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-5)


def test_init_on_a_parameter_stays_a_leaf_and_bumps_the_version():
    p = rebours.nn.Parameter(rebours.zeros(3, 4))
    v = p._version
    rebours.nn.init.normal_(p)
    assert p.is_leaf and p.requires_grad and p._version == v + 1
    gen = rebours.Generator().manual_seed(7)
    a = rebours.nn.init.uniform_(rebours.empty(5), generator=gen).numpy().copy()
    b = rebours.nn.init.uniform_(rebours.empty(5), generator=rebours.Generator().manual_seed(7))
    np.testing.assert_array_equal(a, b.numpy())


def test_init_kaiming_on_empty_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        rebours.nn.init.kaiming_uniform_(rebours.empty(0, 3))


# -- nn.utils -----------------------------------------------------------------------------------

def _with_grads(lib, dtype="float32"):
    rng = np.random.default_rng(4)
    ps = []
    for shape in [(3, 4), (4,), (2, 2)]:
        p = lib.nn.Parameter(lib.tensor(rng.normal(size=shape).astype(dtype)))
        p.grad = lib.tensor(rng.normal(size=shape).astype(dtype) * 3)
        ps.append(p)
    ps.append(lib.nn.Parameter(lib.zeros(2)))  # no grad: skipped
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    nt = float(norm_type)
    res = []
    for lib in (torch, rebours):
        ps = _with_grads(lib)
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=nt, foreach=None)
        res.append((_np(total), [_np(p.grad) for p in ps[:3]]))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6)
    for a, b in zip(res[1][1], res[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_clip_grad_norm_nonfinite_and_value():
    for lib in (torch, rebours):
        ps = _with_grads(lib)
        ps[0].grad[0, 0] = float("nan")
        with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "):
            lib.nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    res = []
    for lib in (torch, rebours):
        ps = _with_grads(lib)
        lib.nn.utils.clip_grad_value_(ps, 0.7)
        res.append([_np(p.grad) for p in ps[:3]])
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)
    single = rebours.nn.Parameter(rebours.ones(2))
    single.grad = rebours.tensor([3.0, 4.0])
    assert rebours.nn.utils.clip_grad_norm_(single, 1.0).item() == 5.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        rebours.nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_parameters_vector_round_trip():
    tm, rm = torch.nn.Linear(3, 2), rebours.nn.Linear(3, 2)
    _load_from_torch(tm, rm, "float32")
    tv = torch.nn.utils.parameters_to_vector(tm.parameters())
    rv = rebours.nn.utils.parameters_to_vector(rm.parameters())
    np.testing.assert_array_equal(_np(rv), _np(tv))
    assert rv.requires_grad and rv.grad_fn is not None
    weight = rm.weight
    rebours.nn.utils.vector_to_parameters(rebours.arange(8.0), rm.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(8.0), tm.parameters())
    assert rm.weight is weight
    for (_, a), (_, b) in zip(rm.named_parameters(), tm.named_parameters()):
        np.testing.assert_array_equal(_np(a), _np(b))
    for lib in (torch, rebours):
        with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
            lib.nn.utils.vector_to_parameters([1.0], [])


def test_training_loop_with_optimizer():
    rebours.manual_seed(0)
    net = rebours.nn.Sequential(rebours.nn.Linear(2, 16), rebours.nn.Tanh(),
                                rebours.nn.Linear(16, 1))
    opt = rebours.optim.Adam(net.parameters(), lr=0.05)
    X = rebours.randn(64, 2)
    y = (X[:, :1] * 2 - X[:, 1:]).detach()
    loss_fn = rebours.nn.MSELoss()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(200):
            opt.zero_grad()
            loss = loss_fn(net(X), y)
            loss.backward()
            rebours.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
    assert loss.item() < 0.01
