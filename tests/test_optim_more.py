"""AdamW, RMSprop and Adagrad (and SGD, Adam over long runs) against torch.optim.

Each trajectory row trains the same small problem (least squares or logistic regression, three
parameters, weights and data from NumPy) for 100 steps in both libraries, each computing its loss
with its own autograd, and compares the parameters at several checkpoints. The rest compares
state_dict layouts and values, round trips, defaults, reprs and errors with torch's.
"""

import numpy as np
import pytest
import torch

import rebours
import rebours.optim

LIBS = (torch, rebours)
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-9, atol=1e-12)}
CHECKPOINTS = (1, 2, 5, 10, 25, 50, 100)


def _data(dtype):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(16, 3)).astype(dtype)
    Y = rng.normal(size=(16, 2)).astype(dtype)
    labels = (rng.random(16) < 0.5).astype(dtype)
    init = [rng.normal(size=(3, 2)).astype(dtype), rng.normal(size=(2,)).astype(dtype),
            np.asarray(0.7, dtype=dtype)]
    return X, Y, labels, init


def _least_squares(lib, params, X, Y, labels):
    W, b, s = params
    return ((X @ W + b) * s - Y).pow(2).mean() + 0.1 * (s - 2.0) ** 2


def _logistic(lib, params, X, Y, labels):
    W, b, s = params
    z = (X @ W).sum(1) * s + b.sum()
    # -[y log σ(z) + (1 − y) log(1 − σ(z))], written with each library's own ops
    return (lib.log(1 + lib.exp(-z)) + (1 - labels) * z).mean() + 0.01 * (W * W).sum()


PROBLEMS = {"lsq": _least_squares, "logistic": _logistic}

# name -> (class name, lambda(params) -> params argument or None, kwargs)
ROWS = {
    "sgd-momentum": ("SGD", None, dict(lr=0.05, momentum=0.9)),
    "sgd-nesterov": ("SGD", None, dict(lr=0.05, momentum=0.9, nesterov=True,
                                       weight_decay=0.01)),
    "adam": ("Adam", None, dict(lr=0.02)),
    "adam-amsgrad": ("Adam", None, dict(lr=0.02, amsgrad=True, weight_decay=0.05)),
    "adamw": ("AdamW", None, dict(lr=0.02)),
    "adamw-amsgrad-maximize": ("AdamW", None, dict(lr=0.02, weight_decay=0.1, amsgrad=True,
                                                   maximize=True)),
    "rmsprop": ("RMSprop", None, dict(lr=0.01)),
    "rmsprop-centered": ("RMSprop", None, dict(lr=0.005, centered=True, alpha=0.9)),
    "rmsprop-momentum": ("RMSprop", None, dict(lr=0.005, momentum=0.9, weight_decay=0.01)),
    "rmsprop-centered-momentum": ("RMSprop", None, dict(lr=0.002, momentum=0.5,
                                                        centered=True)),
    "adagrad": ("Adagrad", None, dict(lr=0.1)),
    "adagrad-decay": ("Adagrad", None, dict(lr=0.1, lr_decay=0.05, weight_decay=0.02,
                                            initial_accumulator_value=0.1, eps=1e-6)),
    "adagrad-groups": ("Adagrad", lambda p: [{"params": p[:2]}, {"params": [p[2]], "lr": 0.01}],
                       dict(lr=0.1, maximize=False)),
    "rmsprop-groups": ("RMSprop", lambda p: [{"params": [p[0]], "momentum": 0.3},
                                             {"params": p[1:], "centered": True}],
                       dict(lr=0.01)),
    "adamw-groups": ("AdamW", lambda p: [{"params": [p[0]], "weight_decay": 0.0},
                                         {"params": p[1:], "betas": (0.8, 0.95)}],
                     dict(lr=0.02)),
}


def _make(lib, row, dtype):
    cls, groups, kwargs = ROWS[row]
    X, Y, labels, init = _data(dtype)
    params = [lib.tensor(a, requires_grad=True) for a in init]
    opt = getattr(lib.optim, cls)(groups(params) if groups else params, **kwargs)
    return opt, params, (lib.tensor(X), lib.tensor(Y), lib.tensor(labels))


def _train(lib, opt, params, data, steps, problem="lsq"):
    trace = {}
    for step in range(1, steps + 1):
        opt.zero_grad()
        PROBLEMS[problem](lib, params, *data).backward()
        opt.step()
        if step in CHECKPOINTS:
            trace[step] = [p.detach().numpy().copy() for p in params]
    return trace


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row", list(ROWS))
def test_100_steps_match_torch(row, dtype, problem):
    traces = [_train(lib, *_make(lib, row, dtype), steps=100, problem=problem) for lib in LIBS]
    assert list(traces[0]) == list(traces[1]) == list(CHECKPOINTS)
    moved = False
    for step in CHECKPOINTS:
        for i, (pt, pr) in enumerate(zip(traces[0][step], traces[1][step])):
            assert pr.dtype == pt.dtype
            np.testing.assert_allclose(pr, pt, **TOL[dtype], err_msg=f"step {step}, param {i}")
            moved |= not np.allclose(pt, _data(dtype)[3][i])
    assert moved


@pytest.mark.parametrize("row", ["adamw", "rmsprop-centered-momentum", "adagrad-decay"])
def test_update_math_on_complex_parameters_matches_torch(row):
    """Gradients fed in directly: complex parameters go through torch's view_as_real."""
    rng = np.random.default_rng(3)
    shapes = [(3, 2), (2,), ()]

    def draw(shape):
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype("complex128")

    init = [draw(s) for s in shapes]
    grads = [[draw(s) for s in shapes] for _ in range(6)]
    cls, _, kwargs = ROWS[row]
    out = []
    for lib in LIBS:
        params = [lib.tensor(a, requires_grad=True) for a in init]
        opt = getattr(lib.optim, cls)(params, **kwargs)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = lib.tensor(g)
            opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    for pt, pr in zip(*out):
        np.testing.assert_allclose(pr, pt, rtol=1e-12, atol=1e-12)


def _same_state_dict(sd_r, sd_t):
    assert list(sd_r) == list(sd_t) == ["state", "param_groups"]
    assert list(sd_r["state"]) == list(sd_t["state"])
    for k, st in sd_t["state"].items():
        sr = sd_r["state"][k]
        assert list(sr) == list(st)
        for key, vt in st.items():
            vr = sr[key]
            assert isinstance(vr, rebours.Tensor)
            assert vr.dtype.name == str(vt.dtype).removeprefix("torch.")
            assert tuple(vr.shape) == tuple(vt.shape)
            np.testing.assert_allclose(vr.numpy(), vt.numpy(), rtol=1e-12)
    assert sd_r["param_groups"] == sd_t["param_groups"]


@pytest.mark.parametrize("row", ["adamw-groups", "rmsprop-groups", "rmsprop-centered-momentum",
                                 "adagrad-groups", "adagrad-decay"])
def test_state_dict_layout_and_values_match_torch(row):
    sds = []
    for lib in LIBS:
        opt, params, data = _make(lib, row, "float64")
        _train(lib, opt, params, data, steps=3)
        sds.append(opt.state_dict())
    _same_state_dict(sds[1], sds[0])


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("row", ["adamw-groups", "rmsprop-groups", "rmsprop-momentum",
                                 "adagrad-decay"])
def test_state_dict_round_trip(lib, row):
    opt, params, data = _make(lib, row, "float64")
    whole = _train(lib, opt, params, data, steps=10)

    opt, params, data = _make(lib, row, "float64")
    _train(lib, opt, params, data, steps=5)
    saved = opt.state_dict()
    if lib is torch:  # torch's state_dict holds the live tensors; snapshot them
        saved = {"state": {k: {n: v.clone() for n, v in s.items()}
                           for k, s in saved["state"].items()},
                 "param_groups": saved["param_groups"]}
    fresh = [lib.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    cls, groups, _ = ROWS[row]
    opt2 = getattr(lib.optim, cls)(groups(fresh) if groups else fresh, lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] != 123.0
    rest = _train(lib, opt2, fresh, data, steps=5)
    for a, b in zip(whole[10], rest[5]):
        np.testing.assert_array_equal(a, b)


def test_adamw_stays_decoupled_after_loading_an_adam_state_dict():
    for lib in LIBS:
        p = lib.ones(2, requires_grad=True)
        adam = lib.optim.Adam([p], lr=0.1, weight_decay=0.1)
        opt = lib.optim.AdamW([lib.ones(2, requires_grad=True)])
        opt.load_state_dict(adam.state_dict())
        assert opt.param_groups[0]["decoupled_weight_decay"] is True
        assert opt.param_groups[0]["weight_decay"] == 0.1


@pytest.mark.parametrize("cls", ["AdamW", "RMSprop", "Adagrad"])
def test_defaults_and_repr_match_torch(cls):
    opts = [getattr(lib.optim, cls)([lib.ones(2, requires_grad=True)]) for lib in LIBS]
    assert opts[1].defaults == opts[0].defaults
    assert repr(opts[1]) == repr(opts[0])
    assert opts[1].param_groups[0].keys() == opts[0].param_groups[0].keys()


def test_adagrad_creates_state_eagerly_and_skips_params_without_grad():
    runs = []
    for lib in LIBS:
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        unused = lib.tensor([3.0], requires_grad=True)
        opt = lib.optim.Adagrad([unused, a], lr=0.1, initial_accumulator_value=0.5)
        assert list(opt.state_dict()["state"]) == [0, 1]  # before any step
        for _ in range(3):
            opt.zero_grad()
            (a * a).sum().backward()
            opt.step()
        sd = opt.state_dict()["state"]
        assert unused.tolist() == [3.0] and float(sd[0]["step"]) == 0.0
        assert float(sd[1]["step"]) == 3.0 and sd[0]["sum"].tolist() == [0.5]
        late = lib.tensor([1.0], requires_grad=True)
        opt.add_param_group({"params": [late], "initial_accumulator_value": 9.0})
        assert late not in opt.state  # state comes at its first step, from the defaults
        (late * late).sum().backward()
        opt.step()
        runs.append((a.tolist(), late.tolist(), opt.state[late]["sum"].tolist()))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-6)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-6)
    assert runs[1][2] == runs[0][2] == [4.5]


@pytest.mark.parametrize("row", ["adamw", "rmsprop", "rmsprop-centered-momentum", "adagrad"])
def test_update_is_in_place_and_bumps_the_version_as_torch(row):
    bumps = []
    for lib in LIBS:
        arr = np.array([1.0, -2.0], dtype=np.float32)
        p = lib.from_numpy(arr).requires_grad_()
        opt = getattr(lib.optim, ROWS[row][0])([p], **ROWS[row][2])
        before = p._version
        (p * p).sum().backward()
        opt.step()
        assert arr.tolist() == p.tolist() != [1.0, -2.0]
        bumps.append(p._version - before)
    assert bumps[1] == bumps[0]


def test_rmsprop_and_adagrad_state_keys_follow_options():
    for lib in LIBS:
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.RMSprop([{"params": [p], "momentum": 0.9, "centered": True}])
        (p * p).sum().backward()
        opt.step()
        assert list(opt.state[p]) == ["step", "square_avg", "momentum_buffer", "grad_avg"]
        assert opt.state[p]["step"].dtype == lib.float32


ERRORS = {
    "adamw-lr": lambda lib: lib.optim.AdamW([lib.ones(1, requires_grad=True)], lr=-1.0),
    "adamw-beta": lambda lib: lib.optim.AdamW([lib.ones(1, requires_grad=True)],
                                              betas=(0.9, 1.0)),
    "adamw-empty": lambda lib: lib.optim.AdamW([]),
    "rmsprop-lr": lambda lib: lib.optim.RMSprop([lib.ones(1, requires_grad=True)], lr=-0.1),
    "rmsprop-eps": lambda lib: lib.optim.RMSprop([lib.ones(1, requires_grad=True)], eps=-1.0),
    "rmsprop-momentum": lambda lib: lib.optim.RMSprop([lib.ones(1, requires_grad=True)],
                                                      momentum=-0.1),
    "rmsprop-weight_decay": lambda lib: lib.optim.RMSprop([lib.ones(1, requires_grad=True)],
                                                          weight_decay=-0.1),
    "rmsprop-alpha": lambda lib: lib.optim.RMSprop([lib.ones(1, requires_grad=True)],
                                                   alpha=-0.5),
    "rmsprop-non-leaf": lambda lib: lib.optim.RMSprop([lib.ones(1, requires_grad=True) * 2]),
    "adagrad-lr": lambda lib: lib.optim.Adagrad([lib.ones(1, requires_grad=True)], lr=-0.1),
    "adagrad-lr_decay": lambda lib: lib.optim.Adagrad([lib.ones(1, requires_grad=True)],
                                                      lr_decay=-0.1),
    "adagrad-weight_decay": lambda lib: lib.optim.Adagrad([lib.ones(1, requires_grad=True)],
                                                          weight_decay=-0.1),
    "adagrad-initial": lambda lib: lib.optim.Adagrad([lib.ones(1, requires_grad=True)],
                                                     initial_accumulator_value=-1.0),
    "adagrad-eps": lambda lib: lib.optim.Adagrad([lib.ones(1, requires_grad=True)], eps=-1.0),
    "adagrad-fused-foreach": lambda lib: lib.optim.Adagrad([lib.ones(1, requires_grad=True)],
                                                           foreach=True, fused=True),
    "adagrad-bare-tensor": lambda lib: lib.optim.Adagrad(lib.ones(2, requires_grad=True)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_type_and_first_sentence_match_torch(name):
    raised = []
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            ERRORS[name](lib)
        raised.append(info.value)
    et, er = raised
    assert type(et) in type(er).__mro__
    assert str(er).splitlines()[0] == str(et).splitlines()[0]
