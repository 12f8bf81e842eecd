"""Transformer stacks as torch builds them: TransformerEncoder / TransformerDecoder (deep copies
of one layer from transformer_layer.py, then an optional norm) and Transformer (both stacks),
with torch's causal-mask helpers; submodule names, order and defaults are torch's.

torch's inference fast paths (nested tensors, fused kernels) are not reproduced: this is its
reference path, which gives the same numbers except at padded positions under the nested-tensor
path (torch writes 0 there).

>>> import rebours, rebours.nn as nn
>>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
>>> enc = nn.TransformerEncoder(layer, num_layers=2)
>>> enc(rebours.randn(3, 5, 8)).shape, len(enc.layers), enc.layers[0] is layer
(rebours.Size([3, 5, 8]), 2, False)
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, Optional

from ...factories import full
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from .attention import _canonical_mask
from .container import ModuleList
from .normalization import LayerNorm
from .transformer_layer import Activation, TransformerDecoderLayer, TransformerEncoderLayer

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]

_T = Optional[Tensor]


def _generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
    """-inf above the diagonal, 0 elsewhere: position i attends to positions ≤ i."""
    return full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(diagonal=1)


def _detect_is_causal_mask(mask: _T, is_causal: Optional[bool], size: Optional[int]) -> bool:
    """is_causal as given; when None, whether `mask` is the square subsequent mask."""
    if is_causal is None and mask is not None:
        causal = _generate_square_subsequent_mask(size if size is not None else mask.size(-2),
                                                  device=mask.device, dtype=mask.dtype)
        return mask.size() == causal.size() and bool((mask == causal).all())
    return is_causal is True


def _why_no_nested(layer: Module) -> str:
    """torch's reason, at construction, why the nested-tensor fast path is off (it warns)."""
    e = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{e} was not TransformerEncoderLayer"
    attn = layer.self_attn
    checks = [(layer.norm_first, f"{e}.norm_first was True"),
              (not attn.batch_first, f"{e}.self_attn.batch_first was not True(use batch_first "
                                     "for better inference performance)"),
              (not attn._qkv_same_embed_dim, f"{e}.self_attn._qkv_same_embed_dim was not True"),
              (attn.in_proj_bias is None, f"{e}.self_attn was passed bias=False"),
              (not layer.activation_relu_or_gelu, f"{e}.activation_relu_or_gelu was not True"),
              (layer.norm1.eps != layer.norm2.eps, f"{e}.norm1.eps was not equal to "
                                                   f"{e}.norm2.eps"),
              (attn.num_heads % 2 == 1, f"{e}.self_attn.num_heads is odd")]
    return next((why for failed, why in checks if failed), "")


class TransformerEncoder(Module):
    """`num_layers` deep copies of `encoder_layer`, applied in turn, then `norm` if given."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Optional[Module] = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_no_nested(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn("enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask: _T = None, src_key_padding_mask: _T = None,
                is_causal: Optional[bool] = None) -> Tensor:
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               mask, "mask", src.dtype)
        mask = _canonical_mask(mask, "mask", None, "", src.dtype)
        first = self.layers[0]
        seq_len = src.size(0 if src.dim() == 2 or not first.self_attn.batch_first else 1)
        is_causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        return self.norm(output) if self.norm is not None else output


class TransformerDecoder(Module):
    """`num_layers` deep copies of `decoder_layer` over (tgt, memory), then `norm` if given."""

    def __init__(self, decoder_layer: Module, num_layers: int,
                 norm: Optional[Module] = None) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: _T = None, memory_mask: _T = None,
                tgt_key_padding_mask: _T = None, memory_key_padding_mask: _T = None,
                tgt_is_causal: Optional[bool] = None, memory_is_causal: bool = False) -> Tensor:
        first = self.layers[0]
        seq_len = tgt.size(0 if tgt.dim() == 2 or not first.self_attn.batch_first else 1)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self.norm(output) if self.norm is not None else output


class Transformer(Module):
    """An encoder stack and a decoder stack with final LayerNorms; matrices xavier_uniform_."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = F.relu,
                 custom_encoder: Any = None, custom_decoder: Any = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*args, **kw), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*args, **kw), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: _T = None, tgt_mask: _T = None,
                memory_mask: _T = None, src_key_padding_mask: _T = None,
                tgt_key_padding_mask: _T = None, memory_key_padding_mask: _T = None,
                src_is_causal: Optional[bool] = None, tgt_is_causal: Optional[bool] = None,
                memory_is_causal: bool = False) -> Tensor:
        b = 0 if self.batch_first else 1
        if src.dim() == 3 and src.size(b) != tgt.size(b):
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None
                                        ) -> Tensor:
        """A float mask with -inf above the diagonal (causal attention)."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)
