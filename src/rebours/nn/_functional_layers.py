"""rebours.nn.functional layers: linear and bilinear, batch/layer/group norm, dropout,
embedding, pad, one_hot and scaled_dot_product_attention, with torch's signatures.

>>> import rebours as torch
>>> import rebours.nn.functional as F
>>> F.pad(torch.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
tensor([[3., 2., 1., 2., 3., 2.]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from .. import dtypes as D
from ..autograd.grad_mode import no_grad
from ..dispatch import apply
from ..ops.registry import OPS
from ..tensor import Tensor

__all__ = ["linear", "bilinear", "batch_norm", "layer_norm", "group_norm", "dropout",
           "embedding", "pad", "one_hot", "scaled_dot_product_attention"]

_T = Optional[Tensor]


def _row(name: str, *args: Any, **params: Any) -> Any:
    return apply(OPS[name], *args, **params)


_OP_T, _OP_ADDMM = OPS["t"], OPS["addmm"]


# -- linear layers ---------------------------------------------------------------------------------

def linear(input: Tensor, weight: Tensor, bias: _T = None) -> Tensor:
    """x Wᵀ + b; as torch, one fused addmm for 2-d input (AddmmBackward0), a flattened addmm
    for contiguous N-d input (ViewBackward0), and matmul without a bias."""
    nd, wd = input.ndim, weight.ndim
    if nd == 0 or wd == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{nd}D and {wd}D")
    wt = apply(_OP_T, weight) if wd <= 2 else weight.t()  # (t() raises torch's error for 3-d)
    if bias is not None and wd == 2:
        if nd == 2:  # the common case: one fused node, as torch
            return apply(_OP_ADDMM, bias, input, wt)
        if input.is_contiguous() and (input.dim() == 3 or bias.dim() == 1):
            flat = _row("addmm", bias, input.reshape(-1, input.shape[-1]), wt)
            return flat.view(*input.shape[:-1], weight.shape[0])
    out = input.matmul(wt)
    return out + bias if bias is not None else out


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: _T = None) -> Tensor:
    """y_k = x1ᵀ A_k x2 + b_k for weight A of shape (out, in1, in2); inputs (*, in1), (*, in2)."""
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError("bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    from ..linalg import einsum

    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    out = einsum("ni,oij,nj->no", x1, weight, x2).reshape(*input1.shape[:-1], weight.shape[0])
    return out + bias if bias is not None else out


# -- normalisation ---------------------------------------------------------------------------------

def batch_norm(input: Tensor, running_mean: _T, running_var: _T, weight: _T = None,
               bias: _T = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / √(var + eps) · weight + bias per channel (dim 1). Training: the batch's
    statistics, and the running ones move towards them in place (the variance unbiased), as
    torch; eval: the running statistics."""
    if input.numel() == 0:
        return input.clone()
    n = input.numel() // max(input.shape[1], 1) if input.dim() > 1 else input.numel()
    if training and n == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         f"{input.size()}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    stats = (None, None) if training else (running_mean, running_var)  # saved only in eval
    out, mean, var = _row("batch_norm", input, weight, bias, *stats, training=training, eps=eps)
    if training and running_mean is not None and running_var is not None:
        with no_grad():
            running_mean.copy_(mean * momentum + running_mean * (1 - momentum))
            running_var.copy_(var * (n / (n - 1)) * momentum + running_var * (1 - momentum))
    return out


def layer_norm(input: Tensor, normalized_shape: Any, weight: _T = None, bias: _T = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims (NativeLayerNormBackward0)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.dim() < len(ns) or tuple(input.shape[input.dim() - len(ns):]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")
    return _row("layer_norm", input, weight, bias, normalized_shape=ns, eps=eps)


def group_norm(input: Tensor, num_groups: int, weight: _T = None, bias: _T = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each group of C / num_groups channels, over them and all positions."""
    if input.dim() < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    if input.shape[1] % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    return _row("group_norm", input, weight, bias, num_groups=num_groups, eps=eps)


# -- dropout, embedding, one_hot ------------------------------------------------------------------

def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
            ) -> Tensor:
    """x * mask / (1 - p), mask ~ Bernoulli(1 - p) from rebours's generator (MulBackward0, as
    torch on CPU); the input itself when p = 0 or not training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    from ..factories import _rng, tensor

    shape = tuple(input.shape)
    dt = D.np_dtype(input.dtype)
    keep = _rng(None).random(shape) >= p if p < 1 else np.zeros(shape, dtype=bool)
    noise = keep.astype(dt) / dt.type(1 - p) if p < 1 else keep.astype(dt)
    mask = tensor(noise, dtype=input.dtype, device=input.device)
    return input.mul_(mask) if inplace else input * mask


def embedding(input: Tensor, weight: Tensor, padding_idx: Optional[int] = None,
              max_norm: Optional[float] = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows `weight[input]`; the padding_idx row gets no gradient (EmbeddingBackward0)."""
    n = weight.shape[0]
    if padding_idx is None:
        padding_idx = -1
    elif not -n <= padding_idx < n:
        raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        padding_idx += n
    if scale_grad_by_freq:
        raise NotImplementedError("embedding(scale_grad_by_freq=True) is not supported")
    if max_norm is not None:  # torch renormalises the rows it reads, in place, without grad
        with no_grad():
            idx = np.unique(np.asarray(input.detach()))
            rows = weight[idx]
            norms = _row("vector_norm", rows, ord=norm_type, dim=1, keepdim=True)
            scale = (max_norm / (norms + 1e-7)).where(norms > max_norm, 1.0)
            weight[idx] = rows * scale
    return _row("embedding", weight, input, padding_idx=padding_idx)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with a trailing dim of num_classes, 1 at each value (not differentiable)."""
    return _row("one_hot", tensor, num_classes=num_classes)


# -- pad -------------------------------------------------------------------------------------------

def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: Optional[float] = None
        ) -> Tensor:
    """Pad the last len(pad) // 2 dims, pairs from the last dim backwards: 'constant' (any
    number of dims, negative pads crop), 'reflect', 'replicate', 'circular'."""
    pad = tuple(int(p) for p in pad)
    if mode == "constant":
        return _row("pad_constant", input, pad=pad, value=0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    k = len(pad) // 2
    if len(pad) % 2 or k not in (1, 2, 3) or input.dim() not in (k + 1, k + 2):
        raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are "
                                  "supported for now")
    for i in range(k):
        d = input.dim() - 1 - i
        lo, hi, size = pad[2 * i], pad[2 * i + 1], input.shape[d]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError("Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{d} of input {list(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + lo + hi <= 0:
            raise RuntimeError(f"input tensor with shape {list(input.shape)} and padding "
                               f"{list(pad)} would give an empty output")
    return _row("pad_index", input, pad=pad, mode=mode)


# -- attention -------------------------------------------------------------------------------------

def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: _T = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: Optional[float] = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q kᵀ · scale + mask) v, as torch's math backend composes it: q and k each scaled
    by √scale, a boolean mask keeps where True, a float mask is added, rows with every key
    masked give 0 (not nan), then dropout on the weights."""
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if enable_gqa and key.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        reps = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(reps, dim=-3)
        value = value.repeat_interleave(reps, dim=-3)
    s = math.sqrt(1.0 / math.sqrt(query.shape[-1]) if scale is None else scale)
    attn = (query * s).matmul(key.transpose(-2, -1) * s)
    if is_causal:
        from ..factories import ones

        attn_mask = ones(query.shape[-2], key.shape[-2], dtype=D.bool_, device=query.device).tril()
    masked = None
    if attn_mask is not None:
        if attn_mask.dtype is D.bool_:
            masked = ~attn_mask
            attn = attn.masked_fill(masked, -math.inf)
        else:
            attn = attn + attn_mask
    weights = _row("softmax", attn, dim=-1)
    if attn_mask is not None:  # torch's _safe_softmax
        dead = (attn == -math.inf).all(-1, keepdim=True)
        weights = weights.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights.matmul(value)
