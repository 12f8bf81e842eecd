"""rebours.nn's conv, pooling, normalisation, embedding, attention and transformer layers against
torch.nn: the same lambda builds both, torch's weights (perturbed, and random running statistics)
are loaded into rebours through load_state_dict, and outputs, every gradient (inputs and
parameters) and every buffer after the forward must match, in float32 and float64, in train and
eval mode. Then reprs, default init, BatchNorm's running statistics over several steps,
Embedding's padding row and from_pretrained, the encoder's deep copies, and torch's errors.
"""

import re
import warnings

import numpy as np
import pytest
import torch

import rebours
import rebours.nn

TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-11)}
E, L, S, N = 8, 5, 6, 3  # embed dim, target length, source length, batch
pytestmark = [  # both libraries say these, for rows that mix mask types or use an even kernel
    pytest.mark.filterwarnings("ignore:Support for mismatched"),
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel"),
]


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach())


def _self(m, xs, lib, **kw):
    return m(xs[0], xs[0], xs[0], **kw)


def _mask(lib, shape, seed=5, kind="bool"):
    """A boolean (True = masked) or float (-inf/0/random) mask; row 0 of a bool one keeps all."""
    rng = np.random.default_rng(seed)
    if kind == "bool":
        m = rng.random(shape) < 0.3
        m[..., 0] = False  # every query keeps at least one key
        return lib.tensor(m)
    return lib.tensor(rng.normal(size=shape))


def _fmask(lib, shape, xs):
    return _mask(lib, shape, kind="float").to(xs[0].dtype)


def _causal(lib, n):
    return lib.nn.Transformer.generate_square_subsequent_mask(n)


# name -> (lambda nn: module, input shapes, optional call(m, xs, lib)); inputs are N(0, 1)
ROWS = {
    "conv1d": (lambda nn: nn.Conv1d(3, 4, 3), [(2, 3, 10)]),
    "conv1d-opts": (lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
                    [(2, 4, 11)]),
    "conv1d-circular": (lambda nn: nn.Conv1d(2, 3, 3, padding=2, padding_mode="circular"),
                        [(2, 2, 7)]),
    "conv1d-unbatched": (lambda nn: nn.Conv1d(2, 3, 2, bias=False), [(2, 7)]),
    "conv2d": (lambda nn: nn.Conv2d(3, 4, 3), [(2, 3, 7, 7)]),
    "conv2d-rect": (lambda nn: nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0),
                                         bias=False), [(2, 2, 7, 6)]),
    "conv2d-depthwise": (lambda nn: nn.Conv2d(4, 8, 3, dilation=2, groups=4, padding=2),
                         [(2, 4, 6, 6)]),
    "conv2d-same": (lambda nn: nn.Conv2d(2, 3, (4, 3), padding="same", dilation=(1, 2)),
                    [(2, 2, 6, 7)]),
    "conv2d-valid": (lambda nn: nn.Conv2d(2, 3, 3, padding="valid"), [(1, 2, 5, 5)]),
    "conv2d-reflect": (lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                       [(2, 2, 5, 5)]),
    "conv2d-replicate": (lambda nn: nn.Conv2d(2, 3, 3, padding=(2, 1),
                                              padding_mode="replicate"), [(2, 2, 5, 5)]),
    "conv2d-circular": (lambda nn: nn.Conv2d(2, 3, 3, stride=2, padding=1,
                                             padding_mode="circular"), [(2, 2, 6, 6)]),
    "conv2d-unbatched": (lambda nn: nn.Conv2d(3, 2, 3), [(3, 5, 5)]),
    "conv3d": (lambda nn: nn.Conv3d(2, 3, 2, stride=(1, 2, 1)), [(2, 2, 4, 5, 4)]),
    "convT1d": (lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1), [(2, 3, 5)]),
    "convT2d": (lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
                [(2, 3, 4, 4)]),
    "convT2d-opts": (lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2, dilation=2,
                                                   bias=False), [(2, 4, 3, 3)]),
    "convT2d-output_size": (lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=3), [(2, 2, 3, 3)],
                            lambda m, xs, lib: m(xs[0], output_size=[10, 11])),
    "maxpool1d": (lambda nn: nn.MaxPool1d(3, 2), [(2, 3, 9)]),
    "maxpool2d": (lambda nn: nn.MaxPool2d(2), [(2, 3, 6, 6)]),
    "maxpool2d-opts": (lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), [(2, 2, 8, 7)]),
    "maxpool2d-dilation": (lambda nn: nn.MaxPool2d((2, 3), stride=1, dilation=2), [(1, 2, 7, 8)]),
    "maxpool2d-indices": (lambda nn: nn.MaxPool2d(2, return_indices=True), [(2, 2, 5, 6)]),
    "avgpool1d": (lambda nn: nn.AvgPool1d(3, 2, 1), [(2, 3, 8)]),
    "avgpool2d": (lambda nn: nn.AvgPool2d(2), [(2, 3, 6, 6)]),
    "avgpool2d-nopad": (lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
                        [(2, 2, 7, 6)]),
    "avgpool2d-divisor": (lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=4),
                          [(2, 2, 6, 6)]),
    "adaptiveavg1d": (lambda nn: nn.AdaptiveAvgPool1d(3), [(2, 3, 7)]),
    "adaptiveavg2d": (lambda nn: nn.AdaptiveAvgPool2d((2, 3)), [(2, 3, 7, 5)]),
    "adaptiveavg2d-1": (lambda nn: nn.AdaptiveAvgPool2d(1), [(2, 3, 4, 5)]),
    "adaptiveavg2d-none": (lambda nn: nn.AdaptiveAvgPool2d((None, 2)), [(2, 3, 4, 5)]),
    "adaptivemax2d": (lambda nn: nn.AdaptiveMaxPool2d((3, 2)), [(2, 3, 7, 5)]),
    "bn1d": (lambda nn: nn.BatchNorm1d(4), [(6, 4)]),
    "bn1d-3d": (lambda nn: nn.BatchNorm1d(3, momentum=0.3), [(4, 3, 5)]),
    "bn2d": (lambda nn: nn.BatchNorm2d(3), [(4, 3, 3, 3)]),
    "bn2d-cumulative": (lambda nn: nn.BatchNorm2d(3, momentum=None), [(4, 3, 2, 3)]),
    "bn2d-noaffine": (lambda nn: nn.BatchNorm2d(3, affine=False, eps=1e-3), [(4, 3, 2, 2)]),
    "bn2d-nobias": (lambda nn: nn.BatchNorm2d(3, bias=False), [(4, 3, 2, 2)]),
    "bn2d-untracked": (lambda nn: nn.BatchNorm2d(3, track_running_stats=False), [(4, 3, 2, 2)]),
    "bn3d": (lambda nn: nn.BatchNorm3d(2), [(3, 2, 2, 2, 3)]),
    "layernorm": (lambda nn: nn.LayerNorm(5), [(3, 4, 5)]),
    "layernorm-2d": (lambda nn: nn.LayerNorm((4, 5), eps=1e-3), [(3, 4, 5)]),
    "layernorm-noaffine": (lambda nn: nn.LayerNorm(5, elementwise_affine=False), [(3, 5)]),
    "layernorm-nobias": (lambda nn: nn.LayerNorm([5], bias=False), [(2, 3, 5)]),
    "groupnorm": (lambda nn: nn.GroupNorm(2, 4), [(2, 4, 3, 3)]),
    "groupnorm-1": (lambda nn: nn.GroupNorm(1, 4, eps=1e-3), [(3, 4, 5)]),
    "groupnorm-noaffine": (lambda nn: nn.GroupNorm(4, 4, affine=False), [(3, 4, 5)]),
    "embedding": (lambda nn: nn.Embedding(10, 4), [],
                  lambda m, xs, lib: m(lib.tensor([[1, 2, 2], [9, 0, 1]]))),
    "embedding-padding": (lambda nn: nn.Embedding(10, 4, padding_idx=2), [],
                          lambda m, xs, lib: m(lib.tensor([[1, 2, 2], [9, 0, 1]]))),
    "embedding-padding-neg": (lambda nn: nn.Embedding(6, 3, padding_idx=-1), [],
                              lambda m, xs, lib: m(lib.tensor([5, 0, 5, 3]))),
    "embedding-maxnorm": (lambda nn: nn.Embedding(10, 4, max_norm=1.0), [],
                          lambda m, xs, lib: m(lib.tensor([[1, 2, 2], [9, 0, 1]]))),
    "mha": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E)], _self),
    "mha-batch_first": (lambda nn: nn.MultiheadAttention(E, 4, batch_first=True), [(N, L, E)],
                        _self),
    "mha-cross": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E), (S, N, E)],
                  lambda m, xs, lib: m(xs[0], xs[1], xs[1])),
    "mha-qkv": (lambda nn: nn.MultiheadAttention(E, 2, batch_first=True),
                [(N, L, E), (N, S, E), (N, S, E)], lambda m, xs, lib: m(*xs)),
    "mha-kdim-vdim": (lambda nn: nn.MultiheadAttention(E, 2, kdim=5, vdim=3),
                      [(L, N, E), (S, N, 5), (S, N, 3)], lambda m, xs, lib: m(*xs)),
    "mha-no-weights": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E)],
                       lambda m, xs, lib: _self(m, xs, lib, need_weights=False)),
    "mha-per-head": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E)],
                     lambda m, xs, lib: _self(m, xs, lib, average_attn_weights=False)),
    "mha-key-padding": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E)],
                        lambda m, xs, lib: _self(m, xs, lib,
                                                 key_padding_mask=_mask(lib, (N, L)))),
    "mha-key-padding-sdpa": (lambda nn: nn.MultiheadAttention(E, 2, batch_first=True),
                             [(N, L, E)], lambda m, xs, lib: _self(
                                 m, xs, lib, key_padding_mask=_mask(lib, (N, L)),
                                 need_weights=False)),
    "mha-attn-mask-float": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E)],
                            lambda m, xs, lib: _self(m, xs, lib,
                                                     attn_mask=_fmask(lib, (L, L), xs))),
    "mha-attn-mask-3d": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E), (S, N, E)],
                         lambda m, xs, lib: m(xs[0], xs[1], xs[1], need_weights=False,
                                              attn_mask=_mask(lib, (N * 2, L, S)))),
    "mha-both-masks": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E)],
                       lambda m, xs, lib: _self(m, xs, lib, attn_mask=_mask(lib, (L, L), 6),
                                                key_padding_mask=_mask(lib, (N, L)))),
    "mha-causal": (lambda nn: nn.MultiheadAttention(E, 2), [(L, N, E)],
                   lambda m, xs, lib: _self(m, xs, lib, attn_mask=_causal(lib, L),
                                            is_causal=True, need_weights=False)),
    "mha-nobias": (lambda nn: nn.MultiheadAttention(E, 2, bias=False), [(L, N, E)], _self),
    "mha-bias-kv-zero-attn": (lambda nn: nn.MultiheadAttention(E, 2, add_bias_kv=True,
                                                               add_zero_attn=True),
                              [(L, N, E)], lambda m, xs, lib: _self(
                                  m, xs, lib, key_padding_mask=_mask(lib, (N, L)))),
    "mha-unbatched": (lambda nn: nn.MultiheadAttention(E, 2), [(L, E)], _self),
    "encoder-layer": (lambda nn: nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0), [(L, N, E)]),
    "encoder-layer-opts": (lambda nn: nn.TransformerEncoderLayer(
        E, 4, 12, dropout=0.0, activation="gelu", batch_first=True, norm_first=True,
        layer_norm_eps=1e-4), [(N, L, E)],
        lambda m, xs, lib: m(xs[0], src_mask=_causal(lib, L), is_causal=True,
                             src_key_padding_mask=_mask(lib, (N, L)))),
    "encoder-layer-module-act": (lambda nn: nn.TransformerEncoderLayer(
        E, 2, 16, dropout=0.0, activation=nn.GELU(), bias=False), [(L, N, E)]),
    "encoder": (lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, batch_first=True), 2,
        norm=nn.LayerNorm(E)), [(N, L, E)],
        lambda m, xs, lib: m(xs[0], mask=_causal(lib, L))),
    "decoder-layer": (lambda nn: nn.TransformerDecoderLayer(E, 2, 16, dropout=0.0),
                      [(L, N, E), (S, N, E)],
                      lambda m, xs, lib: m(xs[0], xs[1], tgt_mask=_causal(lib, L),
                                           memory_key_padding_mask=_mask(lib, (N, S)))),
    "decoder-layer-norm-first": (lambda nn: nn.TransformerDecoderLayer(
        E, 2, 16, dropout=0.0, norm_first=True, batch_first=True), [(N, L, E), (N, S, E)],
        lambda m, xs, lib: m(*xs)),
    "transformer": (lambda nn: nn.Transformer(E, 2, 1, 2, 16, dropout=0.0, batch_first=True),
                    [(N, S, E), (N, L, E)],
                    lambda m, xs, lib: m(*xs, tgt_mask=_causal(lib, L))),
}


def _build(name, lib, dtype):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "enable_nested_tensor is True")
        return ROWS[name][0](lib.nn).to(getattr(lib, dtype))


def _perturb(tm, seed=3):
    """Move torch's parameters off their init (ones, zeros) and give float buffers values."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in tm.parameters():
            p.add_(torch.tensor(rng.normal(scale=0.3, size=tuple(p.shape)), dtype=p.dtype))
        for b in tm.buffers():
            if b.is_floating_point():
                b.copy_(torch.tensor(rng.uniform(0.5, 1.5, size=tuple(b.shape))))


def _load_from_torch(tm, rm):
    state = {k: rebours.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    assert repr(rm.load_state_dict(state)) == "<All keys matched successfully>"
    assert ([(k, tuple(p.shape)) for k, p in tm.named_parameters()]
            == [(k, tuple(p.shape)) for k, p in rm.named_parameters()])


def _run(lib, m, arrays, call, dtype):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = call(m, xs, lib)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    rng = np.random.default_rng(2)
    loss = sum((o * lib.tensor(rng.normal(size=tuple(o.shape)).astype(dtype))).sum()
               for o in outs if o.is_floating_point())
    loss.backward()
    grads = [x.grad for x in xs] + [p.grad for p in m.parameters()]
    return ([_np(o) for o in outs], [None if g is None else _np(g) for g in grads],
            {k: _np(v) for k, v in m.state_dict().items()})


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ROWS))
def test_layer_matches_torch(name, dtype, mode):
    _, shapes, *rest = ROWS[name]
    call = rest[0] if rest else (lambda m, xs, lib: m(*xs))
    tm, rm = _build(name, torch, dtype), _build(name, rebours, dtype)
    _perturb(tm)
    _load_from_torch(tm, rm)
    tm.train(mode == "train")
    rm.train(mode == "train")
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=s).astype(dtype) for s in shapes]
    (touts, tgrads, tstate), (routs, rgrads, rstate) = (_run(lib, m, arrays, call, dtype)
                                                        for lib, m in ((torch, tm), (rebours, rm)))
    assert [o.shape for o in routs] == [o.shape for o in touts]
    for r, t in zip(routs, touts):
        assert r.dtype == t.dtype
        np.testing.assert_allclose(r, t, **TOL[dtype])
    assert [g is None for g in rgrads] == [g is None for g in tgrads]
    for r, t in zip(rgrads, tgrads):
        if t is not None:
            np.testing.assert_allclose(r, t, **TOL[dtype])
    assert list(rstate) == list(tstate)
    for k in tstate:  # running statistics, and max_norm's in-place renormalisation
        assert rstate[k].dtype == tstate[k].dtype, k
        np.testing.assert_allclose(rstate[k], tstate[k], **TOL[dtype])


@pytest.mark.parametrize("name", list(ROWS))
def test_layer_repr_buffers_and_training_flags(name):
    tm, rm = _build(name, torch, "float32"), _build(name, rebours, "float32")
    assert repr(rm) == repr(tm).replace("torch.", "rebours.")
    assert [m.training for m in rm.modules()] == [m.training for m in tm.modules()]
    tm.eval()
    rm.eval()
    assert [m.training for m in rm.modules()] == [m.training for m in tm.modules()]
    assert ([(k, tuple(b.shape), str(b.dtype)) for k, b in tm.named_buffers()]
            == [(k, tuple(b.shape), str(b.dtype).replace("rebours", "torch"))
                for k, b in rm.named_buffers()])


def test_reprs_with_every_option():
    rows = [
        lambda nn: nn.Conv2d(2, 4, (3, 2), stride=2, padding=1, dilation=2, groups=2,
                             bias=False, padding_mode="reflect"),
        lambda nn: nn.Conv2d(2, 4, 3, padding="same"),
        lambda nn: nn.Conv1d(2, 4, 3, padding="valid"),
        lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1, dilation=3),
        lambda nn: nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True),
        lambda nn: nn.MaxPool1d((2,), return_indices=True),
        lambda nn: nn.AvgPool2d(3, 2, 1, True, False, divisor_override=2),
        lambda nn: nn.AvgPool1d(4, padding=1),
        lambda nn: nn.AdaptiveAvgPool2d((None, 3)),
        lambda nn: nn.AdaptiveMaxPool1d(4, return_indices=True),
        lambda nn: nn.BatchNorm2d(3, momentum=None, affine=False, track_running_stats=False),
        lambda nn: nn.LayerNorm((3, 4), elementwise_affine=False, bias=False),
        lambda nn: nn.GroupNorm(2, 4, affine=False),
        lambda nn: nn.Embedding(10, 3, padding_idx=-2, max_norm=1.5, norm_type=1.0,
                                scale_grad_by_freq=True, sparse=True),
        lambda nn: nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True),
    ]
    for build in rows:
        assert repr(build(rebours.nn)) == repr(build(torch.nn))


def test_default_init_as_torch():
    rebours.manual_seed(0)
    conv = rebours.nn.Conv2d(4, 6, 3)  # fan_in = 36: weight and bias ~ U(-1/6, 1/6)
    w, b = _np(conv.weight), _np(conv.bias)
    assert np.abs(w).max() <= 1 / 6 and np.abs(w).max() > 0.95 / 6
    assert np.abs(b).max() <= 1 / 6 and abs(w.std() - (1 / 6) / np.sqrt(3)) < 0.01
    convt = rebours.nn.ConvTranspose2d(4, 6, 3, groups=2)  # weight (4, 3, 3, 3): fan_in 27
    assert tuple(convt.weight.shape) == (4, 3, 3, 3)
    assert np.abs(_np(convt.bias)).max() <= 1 / np.sqrt(27)
    bn = rebours.nn.BatchNorm1d(3)
    assert _np(bn.weight).tolist() == [1, 1, 1] and _np(bn.bias).tolist() == [0, 0, 0]
    assert _np(bn.running_var).tolist() == [1, 1, 1] and bn.num_batches_tracked.item() == 0
    assert bn.num_batches_tracked.dtype == rebours.int64
    ln, gn = rebours.nn.LayerNorm((2, 3)), rebours.nn.GroupNorm(2, 4)
    assert _np(ln.weight).tolist() == [[1, 1, 1]] * 2 and _np(gn.bias).tolist() == [0] * 4
    emb = rebours.nn.Embedding(2000, 8, padding_idx=3)
    e = _np(emb.weight)
    assert abs(e.std() - 1) < 0.03 and abs(e.mean()) < 0.03 and (e[3] == 0).all()
    mha = rebours.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform_ on (3E, E)
    assert bound * 0.9 < np.abs(_np(mha.in_proj_weight)).max() <= bound
    assert not _np(mha.in_proj_bias).any() and not _np(mha.out_proj.bias).any()
    assert np.abs(_np(mha.out_proj.weight)).max() <= 1 / 4  # Linear's own init
    assert _np(mha.bias_k).std() > 0 and tuple(mha.bias_v.shape) == (1, 1, 16)
    t = rebours.nn.Transformer(8, 2, 1, 1, 16, batch_first=True)
    bound = np.sqrt(6 / (8 + 16))  # every matrix re-initialised by xavier_uniform_
    assert np.abs(_np(t.encoder.layers[0].linear1.weight)).max() <= bound
    assert _np(t.encoder.layers[0].linear1.bias).any()  # vectors keep Linear's init


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_over_training_steps(momentum):
    tm = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    rm = rebours.nn.BatchNorm2d(3, momentum=momentum).double()
    rng = np.random.default_rng(0)
    for step in range(4):
        x = rng.normal(loc=step, scale=1 + step, size=(5, 3, 2, 4))
        tm(torch.tensor(x))
        rm(rebours.tensor(x))
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(_np(rm.state_dict()[k]), _np(v), rtol=1e-12)
    assert rm.num_batches_tracked.item() == 4
    x = rng.normal(size=(2, 3, 2, 2))
    tm.eval()
    rm.eval()
    np.testing.assert_allclose(_np(rm(rebours.tensor(x))), _np(tm(torch.tensor(x))), rtol=1e-12)
    assert rm.num_batches_tracked.item() == 4  # eval leaves the statistics alone


def test_batchnorm_untracked_uses_batch_statistics_in_eval():
    rm = rebours.nn.BatchNorm1d(2, track_running_stats=False).eval()
    out = _np(rm(rebours.tensor([[1.0, 10.0], [3.0, 30.0]])))
    np.testing.assert_allclose(out, [[-1, -1], [1, 1]], atol=1e-4)
    assert rm.running_mean is None and list(rm.state_dict()) == ["weight", "bias"]


def test_embedding_padding_row_gets_no_gradient_and_from_pretrained_shares():
    emb = rebours.nn.Embedding(5, 2, padding_idx=1)
    emb(rebours.tensor([1, 1, 3, 0])).sum().backward()
    assert _np(emb.weight.grad).tolist() == [[1, 1], [0, 0], [0, 0], [1, 1], [0, 0]]
    table = rebours.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = rebours.nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and list(frozen.parameters()) == [frozen.weight]
    table[0, 0] = 7.0  # the Parameter shares the storage, as torch
    assert frozen(rebours.tensor([0])).tolist() == [[7.0, 2.0]]
    trainable = rebours.nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    for lib in (torch, rebours):
        with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2"):
            lib.nn.Embedding.from_pretrained(lib.zeros(3))
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            lib.nn.Embedding(3, 2, padding_idx=3)


def test_transformer_encoder_deep_copies_its_layer():
    layer = rebours.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    enc = rebours.nn.TransformerEncoder(layer, 3)
    a, b = enc.layers[0], enc.layers[1]
    assert a is not layer and a is not b and a.linear1.weight is not b.linear1.weight
    np.testing.assert_array_equal(_np(a.linear1.weight), _np(layer.linear1.weight))
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))
    with rebours.no_grad():
        a.linear1.weight.zero_()
    assert _np(b.linear1.weight).any() and _np(layer.linear1.weight).any()


def test_transformer_encoder_warns_as_torch_about_nested_tensors():
    messages = []
    for lib in (torch, rebours):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 1)
            lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 1, 16, batch_first=True),
                                      1)
            lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                                      1)
        messages.append([str(w.message) for w in caught])
    assert messages[1] == messages[0] and len(messages[0]) == 2


def test_mismatched_mask_types_warn_as_torch():
    for lib in (torch, rebours):
        mha = lib.nn.MultiheadAttention(4, 2)
        x = lib.zeros(3, 1, 4)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                             "attn_mask is deprecated"):
            mha(x, x, x, key_padding_mask=lib.zeros(1, 3, dtype=lib.bool),
                attn_mask=lib.zeros(3, 3))


ERRORS = [  # (lambda lib: the failing call, exception type)
    (lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2), ValueError),
    (lambda lib: lib.nn.Conv2d(4, 3, 3, groups=2), ValueError),
    (lambda lib: lib.nn.Conv2d(4, 4, 3, groups=0), ValueError),
    (lambda lib: lib.nn.Conv2d(2, 2, 3, stride=2, padding="same"), ValueError),
    (lambda lib: lib.nn.Conv2d(2, 2, 3, padding="full"), ValueError),
    (lambda lib: lib.nn.Conv1d(2, 2, 3, padding_mode="mirror"), ValueError),
    (lambda lib: lib.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), ValueError),
    (lambda lib: lib.nn.ConvTranspose2d(2, 2, 3, stride=2)(lib.zeros(1, 2, 4, 4),
                                                           output_size=[12, 9]), ValueError),
    (lambda lib: lib.nn.ConvTranspose2d(2, 2, 3)(lib.zeros(1, 2, 4, 4),
                                                 output_size=[1, 2, 3]), ValueError),
    (lambda lib: lib.nn.GroupNorm(3, 4), ValueError),
    (lambda lib: lib.nn.MultiheadAttention(8, 3), AssertionError),
    (lambda lib: lib.nn.MultiheadAttention(0, 2), ValueError),
    (lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(3, 1, 4), lib.zeros(3, 1, 4),
                                                 lib.zeros(3, 1, 4), is_causal=True),
     RuntimeError),
    (lambda lib: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh"), RuntimeError),
    (lambda lib: lib.nn.Embedding(3, 2, _weight=lib.zeros(2, 2)), AssertionError),
]


def _sorted_sets(text):
    """A set's print order depends on string hashing (and .pyc files): compare sorted."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m[1].split(", "))) + "}",
                  text)


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    build, kind = ERRORS[i]
    messages = []
    for lib in (torch, rebours):
        with pytest.raises(kind) as info:
            build(lib)
        messages.append(_sorted_sets(str(info.value)))
    assert messages[1] == messages[0].replace("torch.", "rebours.")


@pytest.mark.parametrize("build, shape", [
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4)), (lambda nn: nn.BatchNorm1d(3), (2, 3, 4, 5)),
    (lambda nn: nn.BatchNorm3d(3), (2, 3))])
def test_batchnorm_input_dim_errors_match_torch(build, shape):
    messages = []
    for lib in (torch, rebours):
        with pytest.raises(ValueError) as info:
            build(lib.nn)(lib.zeros(*shape))
        messages.append(str(info.value))
    assert messages[1] == messages[0]
