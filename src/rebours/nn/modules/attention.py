"""MultiheadAttention and its functional form, `multi_head_attention_forward`, as torch computes
them on its reference (non-fast) path.

Inputs are (L, N, E) (or (N, L, E) with batch_first, or unbatched (L, E)). One packed projection
`in_proj_weight` (3E, E) gives q, k and v (or `q/k/v_proj_weight` when kdim/vdim differ); each
head attends with softmax(q kᵀ / √head_dim + mask) v; `out_proj` mixes the heads. Boolean masks
mark the positions to *ignore* (True = masked), the opposite of scaled_dot_product_attention's;
float masks are added to the scores. With need_weights=False the heads go through
F.scaled_dot_product_attention, as torch's do.

>>> import rebours, rebours.nn as nn
>>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
>>> out, w = mha(*[rebours.ones(3, 5, 8)] * 3)
>>> out.shape, w.shape
(rebours.Size([3, 5, 8]), rebours.Size([3, 5, 5]))
>>> [name for name, _ in mha.named_parameters()]
['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Optional

from ... import dtypes as D
from ...factories import empty, zeros, zeros_like
from ...functions import cat
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear",
           "multi_head_attention_forward"]

_T = Optional[Tensor]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under another name: torch's MultiheadAttention.out_proj prints it."""


def _canonical_mask(mask: _T, mask_name: str, other: _T, other_name: str,
                    target_type: Any) -> _T:
    """A float mask as is; a bool mask as 0 where False and -inf where True (torch's rule)."""
    if mask is None:
        return None
    if mask.dtype is not D.bool_ and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if other is not None and mask.dtype is not other.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if mask.is_floating_point():
        return mask
    return zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))


def _project(query: Tensor, key: Tensor, value: Tensor, e: int, w: Optional[Tensor],
             b: _T, ws: tuple) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v: one packed linear for self-attention (as torch), else one per input."""
    if w is not None and key is value and query is key:
        proj = F.linear(query, w, b)
        proj = proj.reshape(*proj.shape[:-1], 3, e).unsqueeze(0).transpose(0, -2).squeeze(-2)
        return proj[0], proj[1], proj[2]
    ws = ws if w is None else tuple(w.chunk(3))
    bs = (None, None, None) if b is None else tuple(b.chunk(3))
    if w is not None and key is value:  # torch: one linear for k and v together
        kv = F.linear(key, w[e:], None if b is None else b[e:])
        kv = kv.reshape(*kv.shape[:-1], 2, e).unsqueeze(0).transpose(0, -2).squeeze(-2)
        return F.linear(query, ws[0], bs[0]), kv[0], kv[1]
    return (F.linear(query, ws[0], bs[0]), F.linear(key, ws[1], bs[1]),
            F.linear(value, ws[2], bs[2]))


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: _T, in_proj_bias: _T, bias_k: _T, bias_v: _T, add_zero_attn: bool,
        dropout_p: float, out_proj_weight: Tensor, out_proj_bias: _T, training: bool = True,
        key_padding_mask: _T = None, need_weights: bool = True, attn_mask: _T = None,
        use_separate_proj_weight: bool = False, q_proj_weight: _T = None,
        k_proj_weight: _T = None, v_proj_weight: _T = None, static_k: _T = None,
        static_v: _T = None, average_attn_weights: bool = True, is_causal: bool = False
) -> tuple[Tensor, _T]:
    """torch.nn.functional.multi_head_attention_forward (sequence-first layout)."""
    batched = query.dim() == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        is_causal = is_causal and key_padding_mask is None
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    q, k, v = _project(query, key, value, embed_dim,
                       None if use_separate_proj_weight else in_proj_weight, in_proj_bias,
                       (q_proj_weight, k_proj_weight, v_proj_weight))
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, key.shape[0]):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, key.shape[0])}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() != 3:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        k, v = cat([k, bias_k.repeat(1, bsz, 1)]), cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else F.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask, (0, 1))
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_v is None else static_v)
    if add_zero_attn:
        k = cat([k, zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)], 1)
        v = cat([v, zeros((bsz * num_heads, 1, head_dim), dtype=v.dtype, device=v.device)], 1)
        attn_mask = None if attn_mask is None else F.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        for d, want in enumerate((bsz, src_len)):
            if key_padding_mask.shape[d] != want:
                raise AssertionError(f"Expected key_padded_mask.shape[{d}] to be {want}, but "
                                     f"got {key_padding_mask.shape[d]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = (q * math.sqrt(1.0 / float(head_dim))).bmm(k.transpose(-2, -1))
        weights = F.softmax(scores if attn_mask is None else attn_mask + scores, dim=-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        out = weights.bmm(v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return (out, weights) if batched else (out.squeeze(1), weights.squeeze(0))
    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                     else attn_mask.reshape(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    return (out, None) if batched else (out.squeeze(1), None)


class MultiheadAttention(Module):
    """Attention with `num_heads` heads of size embed_dim / num_heads (torch's parameters,
    names, init: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v).

    >>> import rebours, rebours.nn as nn
    >>> mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=5)
    >>> out, _ = mha(rebours.ones(2, 1, 4), rebours.ones(6, 1, 3), rebours.ones(6, 1, 5))
    >>> out.shape, mha.in_proj_weight is None, tuple(mha.k_proj_weight.shape)
    (rebours.Size([2, 1, 4]), True, (4, 3))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: Optional[int] = None, vdim: Optional[int] = None,
                 batch_first: bool = False, device: Any = None, dtype: Any = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **kw))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: _T = None,
                need_weights: bool = True, attn_mask: _T = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, _T]:
        """(attn_output, attn_weights): weights averaged over heads unless told otherwise,
        None when need_weights=False."""
        batched = query.dim() == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                           "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if self.batch_first and batched:  # keep `is` identities: they pick the packed path
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            return out.transpose(1, 0), weights
        return out, weights
