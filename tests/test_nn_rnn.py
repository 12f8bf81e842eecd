"""rebours.nn's recurrent layers against torch.nn: the same constructor builds both, torch's weights
are loaded through state_dict, and the output, h_n (and c_n) and every gradient (input, initial
state, each parameter) must match for every configuration: layers, directions, batch_first,
bias, initial state, unbatched input. Then cells, dropout between layers, reprs, init, errors.
"""

import itertools
import math
import warnings

import numpy as np
import pytest
import torch

import rebours
import rebours.nn

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
L, N, IN, HID, PROJ = 4, 3, 3, 5, 2
# torch's own notice that its oneDNN path does not project; the reference it falls back to is exact
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

# name -> (lambda nn, **config: module); the config is the keyword arguments of the matrix
MODES = {
    "rnn-tanh": lambda nn, **kw: nn.RNN(IN, HID, **kw),
    "rnn-relu": lambda nn, **kw: nn.RNN(IN, HID, nonlinearity="relu", **kw),
    "lstm": lambda nn, **kw: nn.LSTM(IN, HID, **kw),
    "lstm-proj": lambda nn, **kw: nn.LSTM(IN, HID, proj_size=PROJ, **kw),
    "gru": lambda nn, **kw: nn.GRU(IN, HID, **kw),
}
# (num_layers, bidirectional, batch_first, bias, initial state given, unbatched input)
MATRIX = list(itertools.product([1, 2], [False, True], [False, True], [True, False],
                                [False, True], [False, True]))


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


def _load_from_torch(tm, rm):
    state = {k: rebours.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    assert repr(rm.load_state_dict(state)) == "<All keys matched successfully>"
    assert ([(k, tuple(p.shape)) for k, p in tm.named_parameters()]
            == [(k, tuple(p.shape)) for k, p in rm.named_parameters()])


def _state_shapes(tm, batch):
    """torch's h0 (and c0) shapes for this module, with or without the batch dim."""
    rows = tm.num_layers * (2 if tm.bidirectional else 1)
    sizes = [tm.proj_size or tm.hidden_size]
    if isinstance(tm, torch.nn.LSTM):
        sizes.append(tm.hidden_size)
    return [(rows, batch, s) if batch else (rows, s) for s in sizes]


def _run_both(tm, rm, x, states, dtype, seed=2):
    """Forward both with the same inputs, backward a random-weighted sum of every output;
    return [(outputs, grads)] for torch then rebours."""
    results = []
    for lib, m in ((torch, tm), (rebours, rm)):
        xt = lib.tensor(x, requires_grad=True)
        hs = [lib.tensor(s, requires_grad=True) for s in states]
        hx = None if not hs else hs[0] if len(hs) == 1 else tuple(hs)
        out, h_n = m(xt, hx)
        outs = [out, *(h_n if isinstance(h_n, tuple) else (h_n,))]
        rng = np.random.default_rng(seed)
        loss = sum((o * lib.tensor(rng.normal(size=tuple(o.shape)).astype(dtype))).sum()
                   for o in outs)
        loss.backward()
        grads = [xt.grad, *(h.grad for h in hs), *(p.grad for p in m.parameters())]
        results.append(([_np(o) for o in outs], [_np(g) for g in grads]))
    return results


def _assert_same(results, dtype):
    (touts, tgrads), (routs, rgrads) = results
    assert [o.shape for o in routs] == [o.shape for o in touts]
    for r, t in zip(routs, touts):
        assert r.dtype == t.dtype
        np.testing.assert_allclose(r, t, **TOL[dtype])
    assert len(rgrads) == len(tgrads)
    for r, t in zip(rgrads, tgrads):
        np.testing.assert_allclose(r, t, **TOL[dtype])


def _build_pair(mode, dtype, **config):
    torch.manual_seed(0)
    tm = MODES[mode](torch.nn, **config).to(getattr(torch, dtype))
    rm = MODES[mode](rebours.nn, **config).to(getattr(rebours, dtype))
    _load_from_torch(tm, rm)
    return tm, rm


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", MATRIX, ids=lambda c: "L{}-bi{:d}-bf{:d}-bias{:d}-h0{:d}-"
                         "unb{:d}".format(*c))
@pytest.mark.parametrize("mode", list(MODES))
def test_rnn_matches_torch(mode, config, dtype):
    layers, bidirectional, batch_first, bias, with_state, unbatched = config
    tm, rm = _build_pair(mode, dtype, num_layers=layers, bidirectional=bidirectional,
                         batch_first=batch_first, bias=bias)
    assert repr(rm) == repr(tm)
    rng = np.random.default_rng(1)
    shape = (L, IN) if unbatched else (N, L, IN) if batch_first else (L, N, IN)
    x = rng.normal(size=shape).astype(dtype)
    states = ([rng.normal(size=s).astype(dtype) for s in _state_shapes(tm, 0 if unbatched else N)]
              if with_state else [])
    _assert_same(_run_both(tm, rm, x, states, dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", list(MODES))
def test_dropout_between_layers_in_eval_is_identity(mode, dtype):
    tm, rm = _build_pair(mode, dtype, num_layers=3, dropout=0.5, bidirectional=True)
    tm.eval()
    rm.eval()
    x = np.random.default_rng(1).normal(size=(L, N, IN)).astype(dtype)
    _assert_same(_run_both(tm, rm, x, [], dtype), dtype)
    plain = MODES[mode](rebours.nn, num_layers=3, bidirectional=True).to(getattr(rebours, dtype))
    plain.load_state_dict(rm.state_dict())
    out, ref = rm(rebours.tensor(x))[0], plain(rebours.tensor(x))[0]
    np.testing.assert_array_equal(_np(out), _np(ref))


@pytest.mark.parametrize("mode", list(MODES))
def test_dropout_between_layers_in_training(mode):
    # p = 1 zeroes every layer's input but the first: deterministic, so torch must agree
    tm, rm = _build_pair(mode, "float64", num_layers=2, dropout=1.0)
    x = np.random.default_rng(1).normal(size=(L, N, IN))
    _assert_same(_run_both(tm, rm, x, [], "float64"), "float64")
    # 0 < p < 1: the last layer's input is masked (seeded), so training differs from eval
    rm = MODES[mode](rebours.nn, num_layers=2, dropout=0.5).double()
    xr = rebours.tensor(x)
    rebours.manual_seed(7)
    a = rm(xr)[0].detach().numpy()
    rebours.manual_seed(7)
    np.testing.assert_array_equal(rm(xr)[0].detach().numpy(), a)
    assert not np.allclose(a, rm.eval()(xr)[0].detach().numpy())


CELLS = {
    "rnncell-tanh": lambda nn, bias: nn.RNNCell(IN, HID, bias=bias),
    "rnncell-relu": lambda nn, bias: nn.RNNCell(IN, HID, bias, "relu"),
    "lstmcell": lambda nn, bias: nn.LSTMCell(IN, HID, bias=bias),
    "grucell": lambda nn, bias: nn.GRUCell(IN, HID, bias=bias),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", list(itertools.product([True, False], repeat=3)),
                         ids=lambda c: "bias{:d}-batched{:d}-hx{:d}".format(*c))
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_matches_torch(name, config, dtype):
    bias, batched, with_state = config
    torch.manual_seed(0)
    tm = CELLS[name](torch.nn, bias).to(getattr(torch, dtype))
    rm = CELLS[name](rebours.nn, bias).to(getattr(rebours, dtype))
    _load_from_torch(tm, rm)
    assert repr(rm) == repr(tm)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, IN) if batched else (IN,)).astype(dtype)
    n_states = 2 if name == "lstmcell" else 1
    states = [rng.normal(size=(N, HID) if batched else (HID,)).astype(dtype)
              for _ in range(n_states if with_state else 0)]
    results = []
    for lib, m in ((torch, tm), (rebours, rm)):
        xt = lib.tensor(x, requires_grad=True)
        hs = [lib.tensor(s, requires_grad=True) for s in states]
        out = m(xt, None if not hs else hs[0] if len(hs) == 1 else tuple(hs))
        outs = list(out) if isinstance(out, tuple) else [out]
        rng2 = np.random.default_rng(2)
        sum((o * lib.tensor(rng2.normal(size=tuple(o.shape)).astype(dtype))).sum()
            for o in outs).backward()
        grads = [xt.grad, *(h.grad for h in hs), *(p.grad for p in m.parameters())]
        results.append(([_np(o) for o in outs], [_np(g) for g in grads]))
    _assert_same(results, dtype)


def test_cell_unrolled_equals_sequence_module():
    # the torch docs' loop: LSTMCell over the steps is LSTM with the same weights
    rebours.manual_seed(0)
    lstm, cell = rebours.nn.LSTM(IN, HID).double(), rebours.nn.LSTMCell(IN, HID).double()
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = rebours.randn(L, N, IN, dtype=rebours.float64)
    out, (h_n, c_n) = lstm(x)
    h = c = rebours.zeros(N, HID, dtype=rebours.float64)
    for t in range(L):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.detach().numpy(), c_n[0].detach().numpy(), rtol=1e-12)


REPRS = [
    lambda nn: nn.LSTM(4, 8, num_layers=2, batch_first=True),
    lambda nn: nn.RNN(4, 8),
    lambda nn: nn.RNN(4, 8, 2, "relu", False, True, 0.25, True),
    lambda nn: nn.GRU(4, 8, bias=False, bidirectional=True),
    lambda nn: nn.LSTM(4, 8, proj_size=3, dropout=0.1, num_layers=3),
    lambda nn: nn.RNNCell(4, 8, False, "relu"),
    lambda nn: nn.LSTMCell(4, 8),
    lambda nn: nn.GRUCell(4, 8, bias=False),
]


@pytest.mark.parametrize("build", REPRS)
def test_repr_names_shapes_and_flags_match_torch(build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm, rm = build(torch.nn), build(rebours.nn)
    assert repr(rm) == repr(tm)
    assert ([(k, tuple(p.shape)) for k, p in rm.named_parameters()]
            == [(k, tuple(p.shape)) for k, p in tm.named_parameters()])
    assert list(rm.state_dict()) == list(tm.state_dict())
    for attr in ("input_size", "hidden_size", "bias", "num_layers", "batch_first", "dropout",
                 "bidirectional", "proj_size", "nonlinearity", "mode"):
        assert getattr(rm, attr, None) == getattr(tm, attr, None), attr
    if hasattr(tm, "all_weights"):
        assert ([[tuple(p.shape) for p in ws] for ws in rm.all_weights]
                == [[tuple(p.shape) for p in ws] for ws in tm.all_weights])
        assert rm._flat_weights_names == tm._flat_weights_names
        rm.flatten_parameters()


@pytest.mark.parametrize("build", [lambda nn: nn.GRU(50, 400, num_layers=2),
                                   lambda nn: nn.LSTMCell(50, 400)])
def test_default_init_is_uniform_one_over_sqrt_hidden(build):
    rebours.manual_seed(0)
    m = build(rebours.nn)
    bound = 1 / math.sqrt(400)
    for p in m.parameters():
        w = p.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
        assert p.is_leaf and p.requires_grad
    w = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound


def test_dtype_and_device_arguments():
    m = rebours.nn.LSTM(2, 3, dtype=rebours.float64)
    assert {p.dtype for p in m.parameters()} == {rebours.float64}
    out, (h, c) = m(rebours.ones(4, 2, dtype=rebours.float64))
    assert out.dtype == h.dtype == c.dtype == rebours.float64
    assert rebours.nn.GRUCell(2, 3, dtype=rebours.float64).weight_ih.dtype == rebours.float64


def _raises_like_torch(exc, match, build, call=None):
    for lib in (torch, rebours):
        with pytest.raises(exc, match=match):
            m = build(lib.nn)
            if call is not None:
                call(lib, m)


def test_constructor_errors_match_torch():
    _raises_like_torch(ValueError, "Unknown nonlinearity 'gelu'. Select from 'tanh' or 'relu'",
                       lambda nn: nn.RNN(2, 3, nonlinearity="gelu"))
    _raises_like_torch(ValueError, "proj_size argument is only supported for LSTM",
                       lambda nn: nn.GRU(2, 3, proj_size=1))
    _raises_like_torch(ValueError, "proj_size has to be smaller than hidden_size",
                       lambda nn: nn.LSTM(2, 3, proj_size=3))
    _raises_like_torch(ValueError, "dropout should be a number in range",
                       lambda nn: nn.LSTM(2, 3, dropout=1.5))
    _raises_like_torch(ValueError, "hidden_size must be greater than zero",
                       lambda nn: nn.GRU(2, 0))
    _raises_like_torch(ValueError, "num_layers must be greater than zero",
                       lambda nn: nn.GRU(2, 3, 0))
    _raises_like_torch(TypeError, "batch_first should be of type bool, got: int",
                       lambda nn: nn.GRU(2, 3, batch_first=1))
    for lib in (torch, rebours):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater "
                                             "than 1, but got dropout=0.5 and num_layers=1"):
            lib.nn.LSTM(2, 3, dropout=0.5)


def test_forward_errors_match_torch():
    _raises_like_torch(ValueError, "LSTM: Expected input to be 2D or 3D, got 4D instead",
                       lambda nn: nn.LSTM(2, 3), lambda lib, m: m(lib.zeros(1, 1, 1, 2)))
    _raises_like_torch(ValueError, "RNN: Expected input to be 2D or 3D, got 1D tensor instead",
                       lambda nn: nn.RNN(2, 3), lambda lib, m: m(lib.zeros(2)))
    _raises_like_torch(RuntimeError, "input.size\\(-1\\) must be equal to input_size. Expected "
                       "2, got 5", lambda nn: nn.GRU(2, 3), lambda lib, m: m(lib.zeros(4, 1, 5)))
    _raises_like_torch(RuntimeError, "Expected hidden size \\(2, 1, 3\\), got \\[1, 1, 3\\]",
                       lambda nn: nn.GRU(2, 3, bidirectional=True),
                       lambda lib, m: m(lib.zeros(4, 1, 2), lib.zeros(1, 1, 3)))
    _raises_like_torch(RuntimeError, "Expected hidden\\[1\\] size \\(1, 1, 3\\), got "
                       "\\[1, 1, 2\\]", lambda nn: nn.LSTM(2, 3),
                       lambda lib, m: m(lib.zeros(4, 1, 2), (lib.zeros(1, 1, 3),
                                                             lib.zeros(1, 1, 2))))
    _raises_like_torch(RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got "
                       "3-D tensor", lambda nn: nn.RNN(2, 3),
                       lambda lib, m: m(lib.zeros(4, 2), lib.zeros(1, 1, 3)))
    _raises_like_torch(RuntimeError, "For batched 3-D input, hx and cx should also be 3-D but "
                       "got \\(2-D, 3-D\\) tensors", lambda nn: nn.LSTM(2, 3),
                       lambda lib, m: m(lib.zeros(4, 1, 2), (lib.zeros(1, 3),
                                                             lib.zeros(1, 1, 3))))
    _raises_like_torch(ValueError, "RNN input dtype", lambda nn: nn.RNN(2, 3),
                       lambda lib, m: m(lib.zeros(4, 1, 2, dtype=lib.float64)))
    _raises_like_torch(ValueError, "GRUCell: Expected input to be 1D or 2D, got 3D instead",
                       lambda nn: nn.GRUCell(2, 3), lambda lib, m: m(lib.zeros(1, 1, 2)))
    _raises_like_torch(ValueError, "LSTMCell: Expected hx\\[1\\] to be 1D or 2D, got 3D",
                       lambda nn: nn.LSTMCell(2, 3),
                       lambda lib, m: m(lib.zeros(1, 2), (lib.zeros(1, 3), lib.zeros(1, 1, 3))))
    _raises_like_torch(ValueError, "RNNCell: Expected hidden to be 1D or 2D, got 3D instead",
                       lambda nn: nn.RNNCell(2, 3),
                       lambda lib, m: m(lib.zeros(1, 2), lib.zeros(1, 1, 3)))


def test_training_step_matches_torch():
    # a few SGD steps of a stacked bidirectional LSTM + linear head stay equal to torch's
    results = []
    for lib in (torch, rebours):
        torch.manual_seed(0)
        tm = torch.nn.LSTM(IN, HID, num_layers=2, bidirectional=True, batch_first=True).double()
        head = torch.nn.Linear(2 * HID, 1).double()
        if lib is torch:
            lstm, fc = tm, head
        else:
            lstm = rebours.nn.LSTM(IN, HID, num_layers=2, bidirectional=True,
                                   batch_first=True).double()
            fc = rebours.nn.Linear(2 * HID, 1).double()
            _load_from_torch(tm, lstm)
            _load_from_torch(head, fc)
        opt = lib.optim.SGD([*lstm.parameters(), *fc.parameters()], lr=0.1)
        rng = np.random.default_rng(3)
        x, y = lib.tensor(rng.normal(size=(N, L, IN))), lib.tensor(rng.normal(size=(N, 1)))
        for _ in range(3):
            opt.zero_grad()
            out, _ = lstm(x)
            loss = ((fc(out[:, -1]) - y) ** 2).mean()
            loss.backward()
            opt.step()
        results.append([_np(p) for p in lstm.parameters()] + [float(loss.detach())])
    for r, t in zip(results[1], results[0]):
        np.testing.assert_allclose(r, t, rtol=1e-10, atol=1e-12)
