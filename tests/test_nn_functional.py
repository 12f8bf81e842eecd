"""nn.functional beyond op_db: cross_entropy's option matrix, batch_norm's running statistics
over several steps, embedding's padding_idx, attention masks and dropout, the loss modules, and
errors, each against torch on the same lambda."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch

import rebours

TOL = dict(rtol=1e-10, atol=1e-12)


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


def _both(fn, *arrays, grad=(0,)):
    """fn(lib, *tensors) in both libraries: outputs and the gradients of the inputs in `grad`."""
    res = []
    for lib in (torch, rebours):
        xs = [lib.tensor(a) for a in arrays]
        for i in grad:
            xs[i].requires_grad_()
        out = fn(lib, *xs)
        g = np.random.default_rng(7).standard_normal(tuple(out.shape))
        (out * lib.tensor(g)).sum().backward()
        res.append((_np(out), [_np(xs[i].grad) for i in grad]))
    (ot, gt), (orb, grb) = res
    np.testing.assert_allclose(orb, ot, **TOL)
    for a, b in zip(grb, gt):
        np.testing.assert_allclose(a, b, **TOL)


# -- cross_entropy: every combination of the options -------------------------------------------

_SHAPES = {"2d": ((6, 4), (6,)), "1d": ((4,), ()), "kd": ((3, 4, 2, 3), (3, 2, 3))}


@pytest.mark.parametrize("shape", list(_SHAPES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,ignore,smoothing",
                         list(itertools.product([False, True], [-100, 1], [0.0, 0.25])))
def test_cross_entropy_indices_matrix(shape, reduction, weighted, ignore, smoothing):
    xs, ts = _SHAPES[shape]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs)
    t = rng.integers(0, 4, ts)

    def fn(lib, x, t):
        w = lib.tensor([0.5, 2.0, 1.0, 3.0], dtype=lib.float64) if weighted else None
        return lib.nn.functional.cross_entropy(x, t, weight=w, ignore_index=ignore,
                                               reduction=reduction, label_smoothing=smoothing)
    _both(fn, x, t)


@pytest.mark.parametrize("shape", ["2d", "1d", "kd"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,smoothing", list(itertools.product([False, True], [0, 0.3])))
def test_cross_entropy_probabilities_matrix(shape, reduction, weighted, smoothing):
    xs = _SHAPES[shape][0]
    rng = np.random.default_rng(1)
    x, p = rng.standard_normal(xs), rng.random(xs)

    def fn(lib, x, p):
        w = lib.tensor([0.5, 2.0, 1.0, 3.0], dtype=lib.float64) if weighted else None
        return lib.nn.functional.cross_entropy(x, p, weight=w, reduction=reduction,
                                               label_smoothing=smoothing)
    _both(fn, x, p, grad=(0, 1))


def test_cross_entropy_errors_match_torch():
    for lib in (torch, rebours):
        F = lib.nn.functional
        x = lib.zeros(3, 4)
        with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
            F.cross_entropy(x, lib.tensor([0, 1, 2]), label_smoothing=1.5)
        with pytest.raises(RuntimeError, match="ignore_index is not supported for floating"):
            F.cross_entropy(x, lib.zeros(3, 4), ignore_index=1)
        with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target"):
            F.cross_entropy(x, lib.tensor([0, 1]))
        with pytest.raises(IndexError, match="Target 7 is out of bounds."):
            F.nll_loss(x, lib.tensor([0, 7, 1]))


# -- batch_norm: running statistics after several steps ----------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_running_stats_follow_torch(shape):
    rng = np.random.default_rng(2)
    w, b = rng.random(3), rng.standard_normal(3)
    stats = {}
    for lib in (torch, rebours):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        wt = lib.tensor(w, requires_grad=True)
        outs = []
        for step in range(5):
            x = lib.tensor(np.random.default_rng(step).standard_normal(shape) * 2 + step)
            training = step != 3
            y = lib.nn.functional.batch_norm(x, rm, rv, wt, lib.tensor(b), training=training,
                                             momentum=0.2, eps=1e-4)
            (y * y).sum().backward()
            outs.append(_np(y))
        stats[lib.__name__] = (_np(rm), _np(rv), _np(wt.grad), outs)
    for a, c in zip(stats["rebours"][:3], stats["torch"][:3]):
        np.testing.assert_allclose(a, c, **TOL)
    for a, c in zip(stats["rebours"][3], stats["torch"][3]):
        np.testing.assert_allclose(a, c, **TOL)


def test_batch_norm_needs_more_than_one_value_per_channel():
    for lib in (torch, rebours):
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when "
                                             "training"):
            lib.nn.functional.batch_norm(lib.zeros(1, 3), None, None, training=True)


# -- embedding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_padding_idx_gets_no_gradient(padding_idx):
    idx = np.array([[0, 3, 3, 5], [5, 1, 0, 3]])
    w = np.random.default_rng(3).standard_normal((6, 4))
    _both(lambda lib, w, i: lib.nn.functional.embedding(i, w, padding_idx=padding_idx), w, idx)
    x = rebours.tensor(w, requires_grad=True)
    rebours.nn.functional.embedding(rebours.tensor(idx), x, padding_idx=padding_idx).sum() \
        .backward()
    if padding_idx is not None:
        assert not x.grad[padding_idx].any()


# -- scaled_dot_product_attention ------------------------------------------------------------------

_Q = np.random.default_rng(4).standard_normal((2, 2, 3, 4))
_K = np.random.default_rng(5).standard_normal((2, 2, 5, 4))
_V = np.random.default_rng(6).standard_normal((2, 2, 5, 3))
_MASKS = {"none": None, "bool": np.random.default_rng(8).random((3, 5)) > 0.4,
          "float": np.random.default_rng(9).standard_normal((2, 1, 3, 5)),
          "dead_row": np.array([[True] * 5, [False] * 5, [True, False] * 2 + [True]])}


@pytest.mark.parametrize("mask", list(_MASKS))
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_masks_match_torch(mask, scale):
    m = _MASKS[mask]
    args = (_Q, _K, _V) if m is None else (_Q, _K, _V, m)

    def fn(lib, q, k, v, *mask):
        return lib.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[0] if mask else None, scale=scale)
    if mask == "dead_row":  # a row with every key masked gives 0s (torch's _safe_softmax)
        out = fn(rebours, *[rebours.tensor(a) for a in args])
        np.testing.assert_allclose(_np(out), _np(fn(torch, *[torch.tensor(a) for a in args])),
                                   **TOL)
        assert not _np(out)[..., 1, :].any()
        return
    _both(fn, *args, grad=(0, 1, 2))


def test_sdpa_causal_gqa_and_float32():
    _both(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True), _Q, _K, _V, grad=(0, 1, 2))
    q4 = np.random.default_rng(10).standard_normal((1, 4, 3, 2))
    _both(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, enable_gqa=True), q4, _K[:1, :, :, :2], _V[:1], grad=(0, 1, 2))
    # float32 4-d: torch's fused CPU kernel; rebours composes rows, so the values agree to 1e-5
    args = [a.astype(np.float32) for a in (_Q, _K, _V)]
    outs = [_np(lib.nn.functional.scaled_dot_product_attention(
        *[lib.tensor(a) for a in args], is_causal=True)) for lib in (torch, rebours)]
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)
    for lib in (torch, rebours):
        with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when "
                                               "is_causal=True"):
            lib.nn.functional.scaled_dot_product_attention(
                *[lib.tensor(a) for a in args], attn_mask=lib.ones(3, 5, dtype=lib.bool),
                is_causal=True)


def test_sdpa_dropout_is_seeded_and_scaled():
    q, k, v = (rebours.tensor(a) for a in (_Q, _K, np.ones((2, 2, 5, 3))))
    F = rebours.nn.functional
    rebours.manual_seed(11)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    rebours.manual_seed(11)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(_np(a), _np(b))
    # v = 1: each output is Σ of the kept weights / (1 - p); on average 1
    rebours.manual_seed(12)
    big = F.scaled_dot_product_attention(rebours.zeros(200, 8, 4), rebours.zeros(200, 50, 4),
                                         rebours.ones(200, 50, 1), dropout_p=0.25)
    assert abs(float(big.mean()) - 1.0) < 0.02


def test_dropout_statistics_and_identity():
    F = rebours.nn.functional
    x = rebours.ones(300, 300, requires_grad=True)
    rebours.manual_seed(13)
    y = F.dropout(x, 0.3)
    kept = _np(y) != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(_np(y)[kept], 1 / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x
    for lib in (torch, rebours):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            lib.nn.functional.dropout(lib.ones(3), -0.1)


# -- modules and the rest ------------------------------------------------------------------------

_MODULES = {
    "ce": (lambda nn, t: nn.CrossEntropyLoss(weight=t.tensor([1.0, 2.0, 0.5], dtype=t.float64),
                                            label_smoothing=0.1), "idx"),
    "nll": (lambda nn, t: nn.NLLLoss(ignore_index=2, reduction="sum"), "idx"),
    "bce": (lambda nn, t: nn.BCELoss(), "prob"),
    "bce_logits": (lambda nn, t: nn.BCEWithLogitsLoss(
        pos_weight=t.tensor([1.0, 3.0, 0.5], dtype=t.float64)), "prob"),
    "kl": (lambda nn, t: nn.KLDivLoss(reduction="batchmean"), "prob"),
    "mse": (lambda nn, t: nn.MSELoss(), "float"),
    "smooth_l1": (lambda nn, t: nn.SmoothL1Loss(beta=0.5), "float"),
}


@pytest.mark.parametrize("name", list(_MODULES))
def test_loss_modules_match_torch(name):
    build, kind = _MODULES[name]
    rng = np.random.default_rng(14)
    x = rng.random((4, 3)) * 0.8 + 0.1
    y = {"idx": np.array([0, 2, 1, 2]), "prob": rng.random((4, 3)),
         "float": rng.standard_normal((4, 3))}[kind]
    assert repr(build(rebours.nn, rebours)) == repr(build(torch.nn, torch))
    _both(lambda lib, x, y: build(lib.nn, lib)(x, y), x, y)


def test_softmax_is_stable_and_sums_to_one():
    x = rebours.tensor([[1000.0, 0.0, -1000.0], [3.0, 3.0, 3.0]])
    s = rebours.softmax(x, 1)
    np.testing.assert_allclose(_np(s.sum(1)), 1.0)
    assert np.isfinite(_np(x.log_softmax(1))).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isclose(float(x.softmax(dim=-1)[1, 0]), 1 / 3, rel_tol=1e-6)


def test_layer_and_group_norm_shape_errors():
    for lib in (torch, rebours):
        F = lib.nn.functional
        with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input "
                                               r"with shape \[\*, 5\]"):
            F.layer_norm(lib.zeros(2, 4), [5])
        with pytest.raises(RuntimeError, match="Expected number of channels in input to be "
                                               "divisible by num_groups"):
            F.group_norm(lib.zeros(2, 5, 3), 2)
        with pytest.raises(RuntimeError, match="Padding size should be less than the "
                                               "corresponding input dimension"):
            F.pad(lib.zeros(1, 2, 3), (3, 3), mode="reflect")
