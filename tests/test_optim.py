"""rebours.optim against torch.optim: the same lambdas on the same data, step by step.

Each row builds a small least-squares problem with three parameters in both libraries, runs a few
steps, and compares the parameters after every step, the state_dict (layout and values), the
round trip through state_dict, the errors (type and first sentence) and the repr.
"""

import doctest
import pathlib
import warnings

import numpy as np
import pytest
import torch

import rebours
import rebours.optim

LIBS = (torch, rebours)
TOL = {"float32": 1e-6, "float64": 1e-12}
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "optim.md"


def _data(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3)).astype(dtype)
    Y = rng.normal(size=(8, 2)).astype(dtype)
    W = rng.normal(size=(3, 2)).astype(dtype)
    b = rng.normal(size=(2,)).astype(dtype)
    s = np.asarray(1.5, dtype=dtype)
    return X, Y, [W, b, s]


def _loss(lib, params, X, Y):
    W, b, s = params
    return ((X @ W + b) * s - Y).pow(2).mean() + 0.1 * (s - 2.0) ** 2


# name -> (optimizer class name, lambda(params) -> params argument, kwargs)
ROWS = {
    "sgd": ("SGD", None, dict(lr=0.05)),
    "sgd-momentum": ("SGD", None, dict(lr=0.05, momentum=0.9)),
    "sgd-dampening": ("SGD", None, dict(lr=0.05, momentum=0.9, dampening=0.3)),
    "sgd-nesterov": ("SGD", None, dict(lr=0.05, momentum=0.8, nesterov=True)),
    "sgd-weight_decay": ("SGD", None, dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    "sgd-maximize": ("SGD", None, dict(lr=0.01, momentum=0.9, maximize=True)),
    "sgd-groups": ("SGD", lambda p: [{"params": p[:2]}, {"params": [p[2]], "lr": 0.01,
                                                          "momentum": 0.5}],
                   dict(lr=0.05, momentum=0.9)),
    "adam": ("Adam", None, dict(lr=0.05)),
    "adam-weight_decay": ("Adam", None, dict(lr=0.05, weight_decay=0.1)),
    "adam-amsgrad": ("Adam", None, dict(lr=0.05, amsgrad=True, betas=(0.8, 0.9))),
    "adam-maximize": ("Adam", None, dict(lr=0.05, maximize=True)),
    "adam-decoupled": ("Adam", None, dict(lr=0.05, weight_decay=0.1,
                                          decoupled_weight_decay=True)),
    "adam-groups": ("Adam", lambda p: [{"params": [p[0]]}, {"params": p[1:], "lr": 0.2,
                                                             "betas": (0.5, 0.99)}],
                    dict(lr=0.05, amsgrad=True)),
}


def _make(lib, row, dtype):
    cls, groups, kwargs = ROWS[row]
    X, Y, init = _data(dtype)
    params = [lib.tensor(a, requires_grad=True) for a in init]
    opt = getattr(lib.optim, cls)(groups(params) if groups else params, **kwargs)
    return opt, params, lib.tensor(X), lib.tensor(Y)


def _train(lib, opt, params, X, Y, steps):
    trace = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params, X, Y).backward()
        opt.step()
        trace.append([p.detach().numpy().copy() for p in params])
    return trace


def _close(a, b, dtype):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("row", list(ROWS))
def test_steps_match_torch(row, dtype):
    traces = [_train(lib, *_make(lib, row, dtype), steps=6) for lib in LIBS]
    for step, (t, r) in enumerate(zip(*traces)):
        for i, (pt, pr) in enumerate(zip(t, r)):
            assert pr.dtype == pt.dtype
            _close(pr, pt, dtype), f"step {step}, parameter {i}"


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("row", list(ROWS))
def test_update_math_matches_torch_on_the_same_gradients(row, dtype):
    """The gradients are fed in directly, so only the optimizer's arithmetic is compared."""
    rng = np.random.default_rng(1)
    shapes = [(3, 2), (2,), ()]

    def draw(shape):
        a = rng.normal(size=shape)
        return (a + 1j * rng.normal(size=shape) if dtype == "complex128" else a).astype(dtype)

    init = [draw(s) for s in shapes]
    grads = [[draw(s) for s in shapes] for _ in range(8)]
    cls, groups, kwargs = ROWS[row]
    traces = []
    for lib in LIBS:
        params = [lib.tensor(a, requires_grad=True) for a in init]
        opt = getattr(lib.optim, cls)(groups(params) if groups else params, **kwargs)
        trace = []
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = lib.tensor(g)
            opt.step()
            trace.append([p.detach().numpy().copy() for p in params])
        traces.append(trace)
    for t, r in zip(*traces):
        for pt, pr in zip(t, r):
            _close(pr, pt, "float32" if dtype == "float32" else "float64")


def _same_state_dict(sd_r, sd_t, dtype):
    assert list(sd_r) == list(sd_t) == ["state", "param_groups"]
    assert list(sd_r["state"]) == list(sd_t["state"])
    for k, st in sd_t["state"].items():
        sr = sd_r["state"][k]
        assert list(sr) == list(st)
        for key, vt in st.items():
            vr = sr[key]
            assert isinstance(vr, rebours.Tensor)
            assert vr.dtype.name == str(vt.dtype).removeprefix("torch.") and vr.shape == vt.shape
            _close(vr.numpy(), vt.numpy(), dtype)
    assert sd_r["param_groups"] == sd_t["param_groups"]


@pytest.mark.parametrize("row", ["sgd-groups", "sgd-nesterov", "adam-groups", "adam-maximize"])
def test_state_dict_layout_and_values_match_torch(row):
    runs = []
    for lib in LIBS:
        opt, params, X, Y = _make(lib, row, "float64")
        _train(lib, opt, params, X, Y, steps=3)
        runs.append(opt.state_dict())
    _same_state_dict(runs[1], runs[0], "float64")


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("row", ["sgd-groups", "sgd-dampening", "adam-groups", "adam-amsgrad"])
def test_state_dict_round_trip(lib, row):
    opt, params, X, Y = _make(lib, row, "float64")
    whole = _train(lib, opt, params, X, Y, steps=6)

    opt, params, X, Y = _make(lib, row, "float64")
    _train(lib, opt, params, X, Y, steps=3)
    saved = opt.state_dict()
    if lib is torch:  # torch's state_dict holds the live tensors; snapshot them as a user would
        saved = {"state": {k: {n: v.clone() for n, v in s.items()}
                           for k, s in saved["state"].items()},
                 "param_groups": saved["param_groups"]}
    fresh = [lib.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    cls, groups, _ = ROWS[row]
    opt2 = getattr(lib.optim, cls)(groups(fresh) if groups else fresh, lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] != 123.0
    rest = _train(lib, opt2, fresh, X, Y, steps=3)
    for a, b in zip(whole[3:], rest):
        for pa, pb in zip(a, b):
            np.testing.assert_array_equal(pa, pb)


def test_load_state_dict_copies_and_casts_to_the_parameter_dtype():
    p = rebours.tensor([1.0, 2.0], requires_grad=True)
    opt = rebours.optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    q = rebours.tensor([1.0, 2.0], dtype=rebours.float64, requires_grad=True)
    opt2 = rebours.optim.Adam([q])
    opt2.load_state_dict(opt.state_dict())
    s1, s2 = opt.state[p], opt2.state[q]
    assert s2["exp_avg"].dtype is rebours.float64
    assert s2["step"].dtype is rebours.float32  # the step count is never cast, as torch
    assert s2["exp_avg_sq"]._data is not s1["exp_avg_sq"]._data
    assert s2["step"]._data is not s1["step"]._data


def test_parameters_without_grad_are_skipped_and_get_no_state():
    runs = []
    for lib in LIBS:
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        unused = lib.tensor([3.0], requires_grad=True)
        opt = lib.optim.Adam([unused, a], lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            (a * a).sum().backward()
            opt.step()
        assert unused.grad is None and unused.tolist() == [3.0]
        runs.append((a.tolist(), list(opt.state_dict()["state"])))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-6)
    assert runs[1][1] == runs[0][1] == [1]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    out = []
    for lib in LIBS:
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        (p * p).sum().backward()
        g = p.grad
        opt.zero_grad(set_to_none=set_to_none)
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad is g and p.grad.tolist() == [0.0, 0.0]
            assert not p.grad.requires_grad
        out.append(p.grad is None)
    assert out[0] == out[1]


def test_closure_runs_with_grad_enabled_and_returns_the_loss():
    results = []
    for lib in LIBS:
        X, Y, init = _data("float64")
        params = [lib.tensor(a, requires_grad=True) for a in init]
        X, Y = lib.tensor(X), lib.tensor(Y)
        opt = lib.optim.SGD(params, lr=0.05, momentum=0.9)

        def closure():
            opt.zero_grad()
            loss = _loss(lib, params, X, Y)
            loss.backward()
            return loss

        with lib.no_grad():  # step must turn grad mode back on for the closure
            losses = [float(opt.step(closure)) for _ in range(3)]
        results.append((losses, [p.detach().numpy().copy() for p in params]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    for a, b in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("row", ["sgd-momentum", "adam", "adam-decoupled"])
def test_update_is_in_place_and_bumps_the_version_as_torch(row):
    versions = []
    for lib in LIBS:
        arr = np.array([1.0, -2.0], dtype=np.float32)
        p = lib.from_numpy(arr).requires_grad_()
        view = p.detach()
        opt = getattr(lib.optim, ROWS[row][0])([p], **ROWS[row][2])
        before = p._version
        (p * p).sum().backward()
        opt.step()
        assert arr.tolist() == p.tolist() == view.tolist() != [1.0, -2.0]
        versions.append(p._version - before)
    assert versions[1] == versions[0]


def test_a_saved_parameter_changed_by_step_names_the_optimizer():
    for lib in LIBS:
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        (p * p).sum().backward()
        y = (p * p).sum()
        opt.step()  # the line that changed p
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
            y.backward()
    assert "SGD.step() changed it at" in str(info.value)
    assert "opt.step()  # the line that changed p" in str(info.value)


def test_retained_non_leaf_is_accepted_as_torch():
    for lib in LIBS:
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        lib.optim.SGD([y], lr=0.1)


# -- errors: the same lambda in both libraries, same type and first sentence -------------------

ERRORS = {
    "empty": lambda lib: lib.optim.SGD([], lr=0.1),
    "empty-adam": lambda lib: lib.optim.Adam([]),
    "bare-tensor": lambda lib: lib.optim.SGD(lib.ones(3, requires_grad=True), lr=0.1),
    "bare-double": lambda lib: lib.optim.Adam(lib.ones(3, dtype=lib.float64)),
    "not-a-tensor": lambda lib: lib.optim.SGD([1.0], lr=0.1),
    "not-a-tensor-array": lambda lib: lib.optim.SGD([np.ones(2)], lr=0.1),
    "set": lambda lib: lib.optim.SGD([{"params": {lib.ones(1, requires_grad=True)}}]),
    "group-not-dict": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)])
    .add_param_group([lib.ones(1)]),
    "lr": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=-1.0),
    "momentum": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)], momentum=-0.5),
    "weight_decay": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)],
                                              weight_decay=-1e-4),
    "nesterov-no-momentum": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)],
                                                      nesterov=True),
    "nesterov-dampening": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)],
                                                    momentum=0.9, dampening=0.1, nesterov=True),
    "adam-lr": lambda lib: lib.optim.Adam([lib.ones(1, requires_grad=True)], lr=-1.0),
    "adam-eps": lambda lib: lib.optim.Adam([lib.ones(1, requires_grad=True)], eps=-1e-8),
    "adam-beta0": lambda lib: lib.optim.Adam([lib.ones(1, requires_grad=True)],
                                             betas=(1.0, 0.999)),
    "adam-beta1": lambda lib: lib.optim.Adam([lib.ones(1, requires_grad=True)],
                                             betas=(0.9, -0.1)),
    "adam-int-beta": lambda lib: lib.optim.Adam([lib.ones(1, requires_grad=True)],
                                                betas=(0, 0.999)),
    "adam-weight_decay": lambda lib: lib.optim.Adam([lib.ones(1, requires_grad=True)],
                                                    weight_decay=-1.0),
    "duplicate-across-groups": lambda lib: (lambda p: lib.optim.SGD(
        [{"params": [p]}, {"params": [p], "lr": 0.1}]))(lib.ones(1, requires_grad=True)),
    "names-mixed": lambda lib: lib.optim.SGD([("a", lib.ones(1, requires_grad=True)),
                                              lib.ones(1, requires_grad=True)]),
    "load-groups": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)])
    .load_state_dict({"state": {}, "param_groups": []}),
    "load-sizes": lambda lib: lib.optim.SGD([lib.ones(1, requires_grad=True)])
    .load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}),
    "non-leaf": lambda lib: lib.optim.SGD([lib.exp(lib.ones(1, requires_grad=True))]),
}


def _raised(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.value


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_type_and_first_sentence_match_torch(name):
    et, er = (_raised(ERRORS[name], lib) for lib in LIBS)
    assert type(et) in type(er).__mro__
    assert str(er).splitlines()[0] == str(et).splitlines()[0]


def test_non_leaf_from_exp_says_where_and_why():
    """The seed's 5-3: `x = torch.exp(x)` rebinds the name of the leaf."""
    x = rebours.tensor(1.0, requires_grad=True)
    x = rebours.exp(x)  # the line that made x a non-leaf
    c = rebours.tensor(2.0, requires_grad=True)
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor") as info:
        rebours.optim.SGD([c, x], lr=1.0)
    err = info.value
    assert isinstance(err, rebours.errors.NonLeafOptimizeError) and err.code == "RB003"
    text = str(err)
    assert "params[1]" in text and "ExpBackward0" in text
    assert "x = rebours.exp(x)  # the line that made x a non-leaf" in text
    assert "rebours.optim.SGD([c, x], lr=1.0)" in text  # the optimizer's line
    assert "test_optim.py:" in text and "see: rebours explain RB003" in text


def test_non_leaf_from_double_names_to_copy():
    w = rebours.tensor([1.0, 2.0], requires_grad=True).double()
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor") as info:
        rebours.optim.Adam([{"params": [rebours.ones(1, requires_grad=True)]}, {"params": [w]}])
    text = str(info.value)
    assert "ToCopyBackward0" in text and "RB004" in text
    assert "param_groups[1]['params'][0]" in text
    assert "w = rebours.tensor([1.0, 2.0], requires_grad=True).double()" in text
    assert rebours.errors.CATALOGUE["RB004"].fix in text


def test_duplicate_parameter_in_a_group_warns_as_torch():
    messages = []
    for lib in LIBS:
        p = lib.ones(1, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.optim.SGD([p, p], lr=0.1)
        messages.append([(w.category, str(w.message)) for w in caught])
    assert messages[1] == messages[0] and len(messages[0]) == 1


# -- the public surface -----------------------------------------------------------------------

@pytest.mark.parametrize("row", ["sgd-groups", "adam-groups"])
def test_repr_and_param_groups_match_torch(row):
    opts = [_make(lib, row, "float32")[0] for lib in LIBS]
    assert repr(opts[1]) == repr(opts[0])
    assert opts[1].defaults == opts[0].defaults
    for gr, gt in zip(opts[1].param_groups, opts[0].param_groups):
        assert list(gr) == list(gt)


def test_named_parameters_are_kept_as_param_names():
    for lib in LIBS:
        opt = lib.optim.SGD([("w", lib.ones(2, requires_grad=True))], lr=0.1)
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]


def test_add_param_group_fills_defaults():
    opts = []
    for lib in LIBS:
        opt = lib.optim.Adam([lib.ones(1, requires_grad=True)], lr=0.1)
        opt.add_param_group({"params": lib.ones(2, requires_grad=True), "eps": 1e-6})
        opts.append(opt.state_dict()["param_groups"])
    assert opts[1] == opts[0]


def test_docs_page_runs():
    assert DOCS.exists(), "docs/optim.md is part of the package's documentation"
    result = doctest.testfile(str(DOCS), module_relative=False, globs={"rebours": rebours},
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
