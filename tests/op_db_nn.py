"""op_db rows for issue 7: nn.functional softmax, losses, distances, linear layers,
normalisation, dropout, embedding, pad, one_hot and attention. Same helpers as op_db.py.

Constant inputs that torch does not differentiate (class weights, running statistics) are built
inside the lambda from fixed values, so they do not require grad in either library.
"""

from __future__ import annotations

import numpy as np
from tests.op_db import NONEMPTY_DIM, UNARY, A, Idx, Mask, S, T, V, row


def F(t):
    return t.nn.functional


def _w(t, x, n, lo=0.5, hi=1.5):
    return t.linspace(lo, hi, n, dtype=x.dtype, device=x.device)


def _tgt(*shape, high):
    return Idx(*shape, high=high, data=np.arange(int(np.prod(shape))).reshape(shape) % high)


# -- softmax ---------------------------------------------------------------------------------------

for _n in ("softmax", "log_softmax"):
    row(_n, lambda t, x, n=_n: getattr(t, n)(x, 1), NONEMPTY_DIM + (S(A(0, 3)),))
    row(f"F.{_n}", lambda t, x, n=_n: getattr(F(t), n)(x, dim=-1), UNARY[:4], covers=(_n,))
    row(f"Tensor.{_n}", lambda t, x, n=_n: getattr(x, n)(0), NONEMPTY_DIM[:1], covers=(_n,))
    row(f"{_n}_dtype", lambda t, x, n=_n: getattr(F(t), n)(x, 1, dtype=t.float64),
        NONEMPTY_DIM[:2], covers=(_n,))
    row(f"{_n}_inf", lambda t, x, n=_n: getattr(t, n)(x, -1),
        (S(V([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]]), grad=False),), covers=(_n,))
    row(f"{_n}_large", lambda t, x, n=_n: getattr(t, n)(x * 1e4, 0), NONEMPTY_DIM[:1],
        covers=(_n,), gradgrad=False)
row("softmin", lambda t, x: F(t).softmin(x, 1), NONEMPTY_DIM[:2], covers=("softmax",))

# -- losses ----------------------------------------------------------------------------------------

_CE = (S(A(4, 5), _tgt(4, high=5)), S(A(5), Idx(high=5, data=np.array(3))),
       S(A(2, 3, 4), _tgt(2, 4, high=3)), S(A(2, 3, 2, 2), _tgt(2, 2, 2, high=3)),
       S(T(5, 4), _tgt(5, high=4)))
for _red in ("mean", "sum", "none"):
    row(f"cross_entropy_{_red}", lambda t, x, y, r=_red: F(t).cross_entropy(x, y, reduction=r),
        _CE, covers=("log_softmax", "nll_loss"))
    row(f"nll_loss_{_red}", lambda t, x, y, r=_red: F(t).nll_loss(x, y, reduction=r), _CE,
        covers=("nll_loss",))
row("cross_entropy_weight_ignore",
    lambda t, x, y: (F(t).cross_entropy(x, y, weight=_w(t, x, x.shape[1]), ignore_index=2),
                     F(t).nll_loss(x, y, weight=_w(t, x, x.shape[1]), ignore_index=0,
                                   reduction="sum")),
    (_CE[0], _CE[2], _CE[3]), covers=("log_softmax", "nll_loss"))
row("cross_entropy_all_ignored", lambda t, x, y: F(t).cross_entropy(x, y, ignore_index=1),
    (S(A(2, 3), Idx(2, high=3, data=np.array([1, 1])), grad=False),), covers=("nll_loss",))
row("cross_entropy_label_smoothing",
    lambda t, x, y: (F(t).cross_entropy(x, y, label_smoothing=0.2),
                     F(t).cross_entropy(x, y, label_smoothing=0.1, weight=_w(t, x, x.shape[1]),
                                        ignore_index=1, reduction="none"),
                     F(t).cross_entropy(x, y, label_smoothing=0.3, weight=_w(t, x, x.shape[1]),
                                        ignore_index=0)),
    (_CE[0], _CE[2]), covers=("log_softmax", "nll_loss"), meta=False)  # a masked_select
_PROBS = (S(A(4, 5), A(4, 5, domain=(0.0, 1.0))), S(A(2, 3, 2), A(2, 3, 2, domain=(0.0, 1.0))),
          S(A(3), A(3, domain=(0.0, 1.0))))
row("cross_entropy_probs",
    lambda t, x, p: (F(t).cross_entropy(x, p), F(t).cross_entropy(x, p, reduction="sum"),
                     F(t).cross_entropy(x, p, reduction="none", label_smoothing=0.2),
                     F(t).cross_entropy(x, p, weight=_w(t, x, x.shape[-1 if x.ndim == 1 else 1]),
                                        label_smoothing=0.1)),
    _PROBS, covers=("log_softmax", "div_scalar"))

_PAIR = (S(A(3, 4), A(3, 4)), S(A(), A()), S(T(4, 3), A(4, 3)), S(A(2, 3), A(3)))
for _n in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
    for _red in ("mean", "sum", "none"):
        row(f"{_n}_{_red}", lambda t, x, y, n=_n, r=_red: getattr(F(t), n)(x, y, reduction=r),
            _PAIR[:3], covers=(_n,) if _n != "l1_loss" else ("abs",), away=(0.0,))
row("mse_loss_broadcast", lambda t, x, y: F(t).mse_loss(x, y), _PAIR[3:], covers=("mse_loss",))
row("smooth_l1_loss_beta", lambda t, x, y: (F(t).smooth_l1_loss(x, y, beta=0.5),
                                            F(t).smooth_l1_loss(x, y, beta=0.0)),
    _PAIR[:1], covers=("smooth_l1_loss",), away=(0.0,))
row("huber_loss_delta", lambda t, x, y: F(t).huber_loss(x, y, delta=0.3, reduction="sum"),
    _PAIR[:1], covers=("huber_loss",))
row("loss_weight", lambda t, x, y: (F(t).mse_loss(x, y, weight=_w(t, x, 4).expand(3, 4)),
                                    F(t).l1_loss(x, y, weight=_w(t, x, 4).expand(3, 4)),
                                    F(t).huber_loss(x, y, weight=_w(t, x, 4).expand(3, 4))),
    _PAIR[:1], covers=("mse_loss", "huber_loss"), away=(0.0,))
_PROB = (0.1, 0.9)
_BCE = (S(A(3, 4, domain=_PROB), A(3, 4, domain=_PROB)), S(A(domain=_PROB), A(domain=_PROB)),
        S(T(4, 3, domain=_PROB), A(4, 3, domain=_PROB)))
for _red in ("mean", "sum", "none"):
    row(f"binary_cross_entropy_{_red}",
        lambda t, p, y, r=_red: F(t).binary_cross_entropy(p, y, reduction=r), _BCE,
        covers=("binary_cross_entropy",))
    row(f"binary_cross_entropy_with_logits_{_red}",
        lambda t, x, y, r=_red: F(t).binary_cross_entropy_with_logits(x, y, reduction=r),
        ((S(A(3, 4), A(3, 4, domain=_PROB)), S(A(), A(domain=_PROB)))),
        covers=("binary_cross_entropy_with_logits",), domain=(-30.0, 30.0))
row("binary_cross_entropy_weight",
    lambda t, p, y: F(t).binary_cross_entropy(p, y, weight=_w(t, p, p.shape[-1])), _BCE[::2],
    covers=("binary_cross_entropy",))
row("binary_cross_entropy_edges", lambda t, p, y: F(t).binary_cross_entropy(p, y),
    (S(V([0.0, 1.0, 0.5]), V([0.3, 0.6, 1.0]), grad=False),), covers=("binary_cross_entropy",))
row("binary_cross_entropy_with_logits_weights",
    lambda t, x, y: (F(t).binary_cross_entropy_with_logits(x, y, pos_weight=_w(t, x, 4, 0.5, 3)),
                     F(t).binary_cross_entropy_with_logits(x, y, weight=_w(t, x, 4),
                                                           pos_weight=_w(t, x, 4, 2, 3),
                                                           reduction="none")),
    (S(A(3, 4), A(3, 4, domain=_PROB)),), covers=("binary_cross_entropy_with_logits",))
row("binary_cross_entropy_with_logits_large", lambda t, x, y:
    F(t).binary_cross_entropy_with_logits(x * 100, y, reduction="none"),
    (S(A(3, 4), A(3, 4, domain=_PROB)),), covers=("binary_cross_entropy_with_logits",))
row("kl_div", lambda t, x, y: (F(t).kl_div(x, y, reduction="batchmean"),
                               F(t).kl_div(x, y, reduction="sum"),
                               F(t).kl_div(x, y, reduction="none")),
    (S(A(3, 4), A(3, 4, domain=(0.1, 1.0))), S(T(4, 3), A(4, 3, domain=(0.1, 1.0)))),
    covers=("xlogy", "mul"))
row("kl_div_log_target", lambda t, x, y: (F(t).kl_div(x, y, reduction="batchmean",
                                                      log_target=True),
                                          F(t).kl_div(x, y, reduction="none", log_target=True)),
    (S(A(3, 4), A(3, 4)),), covers=("exp",))

# -- distances ------------------------------------------------------------------------------------

_VEC = (S(A(3, 4), A(3, 4)), S(A(3, 4), A(4)), S(T(4, 3), A(4, 3)))
row("cosine_similarity", lambda t, x, y: (F(t).cosine_similarity(x, y),
                                          F(t).cosine_similarity(x, y, dim=-1, eps=0.5)),
    _VEC[::2], covers=("vector_norm",))
row("cosine_similarity_broadcast", lambda t, x, y: F(t).cosine_similarity(x, y, dim=1),
    _VEC[1:2], covers=("vector_norm",))
row("pairwise_distance", lambda t, x, y: (F(t).pairwise_distance(x, y),
                                          F(t).pairwise_distance(x, y, p=1.0, keepdim=True),
                                          F(t).pairwise_distance(x, y, p=3.0)),
    _VEC, covers=("norm_dim",), away=(0.0,))
row("normalize", lambda t, x: (F(t).normalize(x), F(t).normalize(x, p=1.0, dim=0)),
    NONEMPTY_DIM, covers=("vector_norm",), away=(0.0,))

# -- linear layers --------------------------------------------------------------------------------

row("linear", lambda t, x, w, b: F(t).linear(x, w, b),
    (S(A(4, 5), A(3, 5), A(3)), S(A(2, 4, 5), A(3, 5), A(3)), S(A(5), A(3, 5), A(3)),
     S(T(4, 5), A(3, 5), A(3)), S(A(2, 2, 2, 5), A(3, 5), A())),
    covers=("addmm",))
row("linear_nobias", lambda t, x, w: F(t).linear(x, w),
    (S(A(4, 5), A(3, 5)), S(A(2, 4, 5), A(3, 5)), S(A(5), T(3, 5))), covers=("matmul",))
row("bilinear", lambda t, x, y, w, b: (F(t).bilinear(x, y, w, b), F(t).bilinear(x, y, w)),
    (S(A(4, 3), A(4, 2), A(5, 3, 2), A(5)), S(A(2, 4, 3), A(2, 4, 2), A(5, 3, 2), A(5))),
    covers=("einsum",))

# -- normalisation --------------------------------------------------------------------------------


def _bn(t, x, w, b, training):
    c = x.shape[1]
    rm, rv = _w(t, x, c, -0.5, 0.5), _w(t, x, c, 0.5, 2.0)
    return F(t).batch_norm(x, rm, rv, w, b, training=training, momentum=0.3, eps=1e-3), rm, rv


_BN = (S(A(4, 3), A(3), A(3)), S(A(2, 3, 5), A(3), A(3)), S(A(2, 3, 2, 2), A(3), A(3)),
       S(T(5, 3), A(3), A(3)))
row("batch_norm", lambda t, x, w, b: _bn(t, x, w, b, True), _BN)
row("batch_norm_eval", lambda t, x, w, b: _bn(t, x, w, b, False), _BN, covers=("batch_norm",))
row("batch_norm_no_affine", lambda t, x: F(t).batch_norm(x, None, None, training=True),
    (S(A(4, 3)), S(A(2, 3, 4))), covers=("batch_norm",))
row("layer_norm", lambda t, x, w, b: (F(t).layer_norm(x, w.shape, w, b),
                                      F(t).layer_norm(x, w.shape, eps=0.1)),
    (S(A(3, 4), A(4), A(4)), S(A(2, 3, 4), A(3, 4), A(3, 4)), S(T(4, 3), A(3), A(3)),
     S(A(4), A(4), A(4))))
row("group_norm", rtol32=1e-4,
    fn=lambda t, x, w, b: (F(t).group_norm(x, 2, w, b), F(t).group_norm(x, 1)),
    samples=(S(A(3, 4), A(4), A(4)), S(A(2, 4, 3), A(4), A(4)), S(A(2, 6, 2, 2), A(6), A(6))))

# -- dropout, embedding, pad, one_hot ------------------------------------------------------------

row("dropout_identity", lambda t, x: (F(t).dropout(x, 0.0), F(t).dropout(x, 0.7, training=False),
                                      F(t).dropout(x * 2, 1.0)),
    UNARY[:3], covers=("mul",))
_IDX = Idx(2, 3, high=6, data=np.array([[1, 2, 5], [2, 0, 1]]))
row("embedding", lambda t, i, w: (F(t).embedding(i, w), F(t).embedding(i[0], w)),
    (S(_IDX, A(6, 3)), S(_IDX, T(6, 4))))
row("embedding_padding_idx",  # the padding row's gradient is zero by definition: no gradcheck
    lambda t, i, w: (F(t).embedding(i, w, padding_idx=2), F(t).embedding(i[0], w, padding_idx=-1)),
    (S(_IDX, A(6, 3), grad=False), S(_IDX, T(6, 4), grad=False)), covers=("embedding",))
row("embedding_max_norm", lambda t, i, w: F(t).embedding(i, w * 1, max_norm=1.0),
    (S(_IDX, A(6, 3), grad=False),), covers=("embedding",), meta=False)  # renorm: no grad
row("pad", lambda t, x: (F(t).pad(x, (1, 2)), F(t).pad(x, (0, 1, 2, -1), value=-1.5)),
    (S(A(3, 4)), S(A(2, 3, 4)), S(T(4, 3))), covers=("pad_constant",))
row("pad_constant_nd", lambda t, x: F(t).pad(x, (1, 1, -1, 0, 2, 0)), (S(A(2, 3, 4)),),
    covers=("pad_constant",))
row("pad_reflect", lambda t, x: (F(t).pad(x, (2, 1) + (0, 1) * (x.ndim == 4), mode="reflect"),
                                 F(t).pad(x, (1, 0, 1, 2), mode="reflect")),
    (S(A(2, 3, 4)), S(A(1, 2, 3, 4)), S(T(2, 4, 3))), covers=("pad_index",))
row("pad_reflect_3d", lambda t, x: F(t).pad(x, (1, 1, 0, 1, 1, 0), mode="reflect"),
    (S(A(1, 2, 3, 2, 3)),), covers=("pad_index",))
row("pad_replicate", lambda t, x: (F(t).pad(x, (3, 1) + (1, 0) * (x.ndim == 4), "replicate"),
                                   F(t).pad(x, (2, 0, 1, 3), mode="replicate"),
                                   F(t).pad(x, (-1, 2) + (0, 0) * (x.ndim == 4), "replicate")),
    (S(A(2, 3, 4)), S(A(1, 2, 3, 4))), covers=("pad_index",))
row("pad_circular", lambda t, x: F(t).pad(x, (2, 1), mode="circular"),
    (S(A(2, 3, 4)), S(A(1, 2, 4))), covers=("pad_index",))
row("one_hot", lambda t, i: (F(t).one_hot(i), F(t).one_hot(i, 8)),
    (S(_IDX), S(Idx(high=3, data=np.array(2)))), grad=False, meta=False)

# -- attention ------------------------------------------------------------------------------------


def _sdpa(t, q, k, v, **kw):
    return F(t).scaled_dot_product_attention(q, k, v, **kw)


# 3-d only: for 4-d float32 input torch's CPU picks its fused flash kernel, another node name
_QKV = (S(A(2, 3, 4), A(2, 5, 4), A(2, 5, 2)), S(A(3, 2, 4), A(3, 2, 4), A(3, 2, 4)))
row("scaled_dot_product_attention",
    lambda t, q, k, v: (_sdpa(t, q, k, v), _sdpa(t, q, k, v, scale=0.7)), _QKV,
    covers=("softmax",))
row("scaled_dot_product_attention_causal", lambda t, q, k, v: _sdpa(t, q, k, v, is_causal=True),
    _QKV, covers=("softmax",))
row("scaled_dot_product_attention_masks",
    lambda t, q, k, v, m, f: (_sdpa(t, q, k, v, attn_mask=m), _sdpa(t, q, k, v, attn_mask=f)),
    (S(A(2, 3, 4), A(2, 5, 4), A(2, 5, 2), Mask(3, 5, data=np.arange(15).reshape(3, 5) % 3 != 1),
       A(3, 5)),), covers=("softmax",))
row("scaled_dot_product_attention_gqa",
    lambda t, q, k, v: _sdpa(t, q, k, v, enable_gqa=True),
    (S(A(4, 3, 2), A(2, 3, 2), A(2, 3, 2)),), covers=("softmax",))
