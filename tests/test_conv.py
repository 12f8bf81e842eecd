"""Convolutions, pooling and interpolate beyond the op_db rows: random configurations against
torch (hypothesis), second derivatives against torch's, errors with torch's types and words, and
a small conv net's training step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rebours

F_R, F_T = rebours.nn.functional, torch.nn.functional


def _pair(lib: Any, *arrays: np.ndarray) -> list:
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _grads(lib: Any, fn: Any, arrays: list, seed: int = 0) -> tuple:
    xs = _pair(lib, *arrays)
    y = fn(lib.nn.functional, *xs)
    g = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    grads = lib.autograd.grad(y, xs, lib.tensor(g))
    return np.asarray(y.detach()), [np.asarray(gi.detach()) for gi in grads]


def _agree(fn: Any, arrays: list) -> None:
    try:
        yt, gt = _grads(torch, fn, arrays)
    except RuntimeError as e:  # torch refuses: so must we
        with pytest.raises(RuntimeError, match=str(e).split(".")[0].split(":")[0]):
            _grads(rebours, fn, arrays)
        return
    yr, gr = _grads(rebours, fn, arrays)
    np.testing.assert_allclose(yr, yt, rtol=1e-9, atol=1e-9)
    for a, b in zip(gr, gt):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@st.composite
def conv_cases(draw: Any) -> tuple:
    nd = draw(st.integers(1, 2))
    groups = draw(st.sampled_from([1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    size = tuple(d * (kk - 1) + 1 + draw(st.integers(0, 4)) for kk, d in zip(k, dil))
    transposed = draw(st.booleans())
    opad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dil))
    return nd, groups, cin, cout, k, dil, stride, pad, size, transposed, opad


@settings(max_examples=40, deadline=None)
@given(conv_cases(), st.integers(0, 2**31 - 1))
def test_random_convolutions_match_torch(case: tuple, seed: int) -> None:
    nd, groups, cin, cout, k, dil, stride, pad, size, transposed, opad = case
    rng = np.random.default_rng(seed)
    name = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    wshape = (cin, cout // groups) + k if transposed else (cout, cin // groups) + k
    arrays = [rng.standard_normal((2, cin) + size), rng.standard_normal(wshape),
              rng.standard_normal(cout)]
    if transposed:
        fn = lambda F, x, w, b: getattr(F, name)(x, w, b, stride, pad, opad, groups, dil)  # noqa: E731
    else:
        fn = lambda F, x, w, b: getattr(F, name)(x, w, b, stride, pad, dil, groups)  # noqa: E731
    _agree(fn, arrays)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2),
       st.booleans(), st.integers(3, 7), st.integers(0, 2**31 - 1))
def test_random_pools_match_torch(k: int, s: int, p: int, d: int, ceil: bool, n: int,
                                  seed: int) -> None:
    p = min(p, (d * (k - 1) + 1) // 2)
    if d * (k - 1) + 1 > n + 2 * p:
        return
    x = np.random.default_rng(seed).standard_normal((2, 2, n, n + 1))
    _agree(lambda F, x: F.max_pool2d(x, k, s, p, d, ceil), [x])
    _agree(lambda F, x: F.avg_pool2d(x, k, s, p, ceil, bool(seed % 2)), [x])
    _agree(lambda F, x: F.adaptive_max_pool2d(x, (k + 1, s + 1)), [x])
    _agree(lambda F, x: F.adaptive_avg_pool2d(x, (k + 1, s + 1)), [x])


@pytest.mark.parametrize("mode,align", [("nearest", None), ("nearest-exact", None),
                                        ("bilinear", False), ("bilinear", True),
                                        ("bicubic", False), ("bicubic", True), ("area", None)])
@pytest.mark.parametrize("how", [{"size": (7, 3)}, {"scale_factor": 1.6},
                                 {"scale_factor": (0.5, 2.3)}, {"size": (4, 5)}])
def test_interpolate_matches_torch(mode: str, align: Any, how: dict) -> None:
    x = np.random.default_rng(1).standard_normal((2, 2, 4, 5))
    _agree(lambda F, x: F.interpolate(x, mode=mode, align_corners=align, **how), [x])


def test_second_derivatives_match_torch() -> None:
    """d/dx and d/dw of <grad_x(conv), v>: the backward rows differentiated again."""
    rng = np.random.default_rng(0)
    xs, ws, v = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2)), None
    out = []
    for lib in (rebours, torch):
        x, w = _pair(lib, xs, ws)
        y = lib.nn.functional.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
        gx, gw = lib.autograd.grad(y.square().sum(), (x, w), create_graph=True)
        v = rng.standard_normal(tuple(gx.shape)) if v is None else v
        hx, hw = lib.autograd.grad((gx * lib.tensor(v)).sum() + gw.sum(), (x, w))
        out.append([np.asarray(t.detach()) for t in (gx, gw, hx, hw)])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


ERRORS = [
    ("channels", lambda F, t: F.conv2d(t.ones(1, 3, 5, 5), t.ones(2, 2, 3, 3))),
    ("groups", lambda F, t: F.conv2d(t.ones(1, 4, 5, 5), t.ones(3, 2, 3, 3), groups=2)),
    ("same_strided", lambda F, t: F.conv2d(t.ones(1, 1, 5, 5), t.ones(1, 1, 3, 3), stride=2,
                                          padding="same")),
    ("bad_padding_string", lambda F, t: F.conv1d(t.ones(1, 1, 5), t.ones(1, 1, 3),
                                                padding="full")),
    ("kernel_too_big", lambda F, t: F.conv2d(t.ones(1, 1, 2, 2), t.ones(1, 1, 3, 3))),
    ("conv_dims", lambda F, t: F.conv2d(t.ones(5, 5), t.ones(1, 1, 3, 3))),
    ("bias_size", lambda F, t: F.conv1d(t.ones(1, 1, 5), t.ones(2, 1, 3), t.ones(3))),
    ("output_padding", lambda F, t: F.conv_transpose2d(t.ones(1, 1, 3, 3), t.ones(1, 1, 3, 3),
                                                       stride=2, output_padding=2)),
    ("pool_pad", lambda F, t: F.max_pool2d(t.ones(1, 1, 5, 5), 2, padding=2)),
    ("pool_too_small", lambda F, t: F.avg_pool2d(t.ones(1, 1, 2, 2), 3)),
    ("align_nearest", lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), scale_factor=2,
                                                 align_corners=True)),
    ("size_and_scale", lambda F, t: F.interpolate(t.ones(1, 1, 3, 3), size=4, scale_factor=2)),
    ("neither", lambda F, t: F.interpolate(t.ones(1, 1, 3, 3))),
    ("bilinear_3d", lambda F, t: F.interpolate(t.ones(1, 1, 3), size=4, mode="bilinear")),
]


@pytest.mark.parametrize("call", [c for _, c in ERRORS], ids=[n for n, _ in ERRORS])
def test_errors_are_torchs(call: Any) -> None:
    with pytest.raises(Exception) as theirs:
        call(F_T, torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(F_R, rebours)
    assert str(ours.value).split(",")[0][:30] == str(theirs.value).split(",")[0][:30]


def test_node_names_of_wrappers_are_torchs() -> None:
    """1-d pools and unbatched convolutions run the batched/2-d row and squeeze, as torch."""
    calls = [lambda F, x: F.max_pool1d(x[0], 2), lambda F, x: F.avg_pool1d(x[0], 2),
             lambda F, x: F.conv2d(x, x.new_ones(2, 3, 2, 2)),
             lambda F, x: F.conv2d(x[0], x.new_ones(2, 3, 2, 2)),
             lambda F, x: F.conv1d(x[0], x.new_ones(2, 4, 2)),
             lambda F, x: F.adaptive_avg_pool2d(x, 1), lambda F, x: F.max_pool2d(x, 2),
             lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear"),
             lambda F, x: F.interpolate(x[0], scale_factor=2, mode="linear")]
    xs = np.ones((2, 3, 4, 5))
    for call in calls:
        names = [type(call(lib.nn.functional, lib.tensor(xs, requires_grad=True)).grad_fn).__name__
                 for lib in (rebours, torch)]
        assert names[0] == names[1]


def test_a_small_conv_net_trains_like_torch() -> None:
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 1, 10, 10)).astype(np.float32)
    params = [rng.standard_normal(s).astype(np.float32) * 0.3
              for s in [(4, 1, 3, 3), (4,), (3, 4 * 4 * 4), (3,)]]
    losses = []
    for lib in (rebours, torch):
        F = lib.nn.functional
        ps = [lib.tensor(p, requires_grad=True) for p in params]
        opt = lib.optim.SGD(ps, lr=0.1)
        trace = []
        for _ in range(3):
            h = F.max_pool2d(F.relu(F.conv2d(lib.tensor(xs), ps[0], ps[1])), 2)
            h = F.interpolate(h, size=(4, 4), mode="bilinear")
            loss = (h.flatten(1) @ ps[2].T + ps[3]).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            trace.append(loss.item())
        losses.append(trace)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def test_meta_device_gives_shapes() -> None:
    x = rebours.empty(2, 3, 9, 8, device="meta")
    w = rebours.empty(4, 3, 3, 3, device="meta")
    assert tuple(F_R.conv2d(x, w, stride=2, padding=1).shape) == (2, 4, 5, 4)
    assert tuple(F_R.max_pool2d(x, 2, ceil_mode=True).shape) == (2, 3, 5, 4)
    assert tuple(F_R.interpolate(x, scale_factor=1.5).shape) == (2, 3, 13, 12)
