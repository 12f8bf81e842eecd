"""Layer rows (`rebours.nn.functional`): softmax and log_softmax, addmm (linear), embedding,
padding (constant, reflect, replicate) and one_hot.

softmax and log_softmax are fused rows, for stability: the forward subtracts the max, and the
backward reads the output instead of differentiating exp / sum. torch records one node for each.
"""

from __future__ import annotations

from .. import dtypes as D
from .linalg import at_b, blasable
from .reduction import _vector_norm, _vector_norm_grad, axes, reduce_rows
from .registry import FLOAT, KEEP, LONG, defop


def _softmax_dtype(args, params):
    d = D.to_dtype(params["dtype"]) if params.get("dtype") is not None else args[0]._dtype
    if d.category < 2:
        d = D.get_default_dtype()
    return d, d


def _shifted(xp, x, dim):
    d = axes(dim, x.ndim)
    if not x.ndim or not x.size:
        return x - x, d
    m = reduce_rows(xp, x, "max", d, True)
    if not xp.isfinite(m).all():  # a row of -inf stays -inf (then nan), as torch
        m = xp.where(xp.isfinite(m), m, 0)
    return x - m, d


def _softmax(xp, x, dim=-1, dtype=None):
    s, d = _shifted(xp, x, dim)
    e = xp.exp(s, out=s) if x.ndim and x.size else xp.exp(s)  # s is this row's own array
    if x.ndim:
        e /= reduce_rows(xp, e, "sum", d, True)
    return e


def _log_softmax(xp, x, dim=-1, dtype=None):
    s, d = _shifted(xp, x, dim)
    if x.ndim and x.size:
        s -= xp.log(reduce_rows(xp, xp.exp(s), "sum", d, True))
    return s


defop("softmax", _softmax,
      lambda ops, g, out, x, dim=-1, dtype=None:
      out * (g - ops.sum(g * out, dim=dim, keepdim=True)),
      dtypes=_softmax_dtype, saves=("out",))
defop("log_softmax", _log_softmax,
      lambda ops, g, out, x, dim=-1, dtype=None:
      g - ops.exp(out) * ops.sum(g, dim=dim, keepdim=True),
      dtypes=_softmax_dtype, saves=("out",))

# -- linear: bias + x @ w, one node as torch's fused addmm (F.linear on 2-d input) ---------------


def _addmm(xp, bias, a, b, beta=1, alpha=1):
    ab = xp.matmul(blasable(xp, a), blasable(xp, b))
    ab = ab if alpha == 1 else alpha * ab
    if beta == 0:
        return ab
    bias = bias if beta == 1 else beta * bias
    if getattr(bias, "dtype", None) == ab.dtype and ab.ndim == 2:
        ab += bias  # ab is this row's own fresh array: add the bias in place, no temporary
        return ab
    return ab + bias


def _scaled(x, alpha):
    return x if alpha == 1 else x * alpha


defop("addmm", _addmm,
      (lambda ops, g, out, bias, a, b, beta=1, alpha=1: _scaled(g, beta),
       lambda ops, g, out, bias, a, b, beta=1, alpha=1: _scaled(ops.mm(g, ops.t(b)), alpha),
       lambda ops, g, out, bias, a, b, beta=1, alpha=1: _scaled(at_b(ops, a, g, b), alpha)),
      method=False, function=False)

# -- embedding: rows of the weight; the padding row gets no gradient ------------------------------


def _embedding(xp, weight, indices, padding_idx=-1):
    if indices.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {indices.dtype} instead")
    return xp.take(weight, indices, axis=0)


def _embedding_backward(xp, g, indices, num_weights=0, padding_idx=-1):
    z = xp.zeros((num_weights,) + g.shape[indices.ndim:], dtype=g.dtype)
    xp.add.at(z, indices, g)
    if padding_idx >= 0:
        z[padding_idx] = 0
    return z


def _kept(ops, indices, padding_idx):
    """1 where an index is not the padding index, shaped to broadcast over the embedding dim."""
    return ops.unsqueeze(indices != padding_idx, dim=-1)


defop("embedding", _embedding,
      (lambda ops, g, out, weight, indices, padding_idx=-1:
       ops.embedding_backward(g, indices, num_weights=weight.shape[0], padding_idx=padding_idx),
       None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False, saves=("indices",))
defop("embedding_backward", _embedding_backward,
      (lambda ops, g, out, gg, indices, num_weights=0, padding_idx=-1:
       ops.where(_kept(ops, indices, padding_idx), ops.embedding(g, indices), 0), None),
      dtypes=KEEP, promote_args=(0,), method=False, function=False,
      node="EmbeddingDenseBackward0")

# -- padding ---------------------------------------------------------------------------------------


def _pad_constant(xp, x, pad=(), value=0):
    """torch's `pad` pairs from the last dim backwards; negative pads crop."""
    k = len(pad) // 2
    if len(pad) % 2 or k > x.ndim:
        raise RuntimeError("Padding length must be divisible by 2" if len(pad) % 2 else
                           "Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of "
                           f"dimension {x.ndim}")
    crop = [slice(None)] * x.ndim
    widths = [(0, 0)] * x.ndim
    for i in range(k):
        d = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        crop[d] = slice(max(-lo, 0), x.shape[d] - max(-hi, 0))
        widths[d] = (max(lo, 0), max(hi, 0))
        if x.shape[d] + lo + hi < 0:
            raise RuntimeError(f"The input size {x.shape[d]}, plus negative padding {lo} and "
                               f"{hi} resulted in a negative output size, which is invalid. "
                               f"Check dimension {d} of your input.")
    return xp.pad(x[tuple(crop)], widths, constant_values=value)


defop("pad_constant", _pad_constant,
      lambda ops, g, out, x, pad=(), value=0: ops.pad_constant(g, pad=tuple(-p for p in pad)),
      dtypes=KEEP, node="ConstantPadNdBackward0", method=False, function=False, saves=())


def _source(n, lo, hi, mode):
    """For each output position along one dim, the input position it copies."""
    import numpy as np

    pos = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if mode == "circular":  # crop by the negative pads first, then wrap around what is left
        start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept
    period = 2 * (n - 1) if n > 1 else 1
    pos = np.abs(pos) % period  # reflect: mirror around the edges, the edge itself once
    return np.where(pos >= n, period - pos, pos)


def _pad_index(xp, x, pad=(), mode="reflect"):
    for i in range(len(pad) // 2):
        d = x.ndim - 1 - i
        x = xp.take(x, _source(x.shape[d], pad[2 * i], pad[2 * i + 1], mode), axis=d)
    return x


def _pad_index_backward(xp, g, pad=(), mode="reflect", shape=()):
    for i in reversed(range(len(pad) // 2)):
        d = g.ndim - 1 - i
        z = xp.zeros(g.shape[:d] + (shape[d],) + g.shape[d + 1:], dtype=g.dtype)
        xp.add.at(xp.moveaxis(z, d, 0), _source(shape[d], pad[2 * i], pad[2 * i + 1], mode),
                  xp.moveaxis(g, d, 0))
        g = z
    return g


def _pad_name(args, params) -> str:
    if params["mode"] == "circular":  # torch writes slices into a new tensor
        return "CopySlices"
    kind = "Reflection" if params["mode"] == "reflect" else "Replication"
    return f"{kind}Pad{len(params['pad']) // 2}DBackward0"


defop("pad_index", _pad_index,
      lambda ops, g, out, x, pad=(), mode="reflect":
      ops.pad_index_backward(g, pad=pad, mode=mode, shape=x.shape),
      dtypes=KEEP, node=_pad_name, method=False, function=False, saves=())
defop("pad_index_backward", _pad_index_backward,
      lambda ops, g, out, gg, pad=(), mode="reflect", shape=():
      ops.pad_index(g, pad=pad, mode=mode),
      dtypes=KEEP, method=False, function=False, saves=())

# -- one_hot: not differentiable -------------------------------------------------------------------


def _one_hot(xp, x, num_classes=-1):
    if x.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if not x.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    if x.size and x.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if x.size and x.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (xp.expand_dims(x, -1) == xp.arange(num_classes)).astype(xp.int64)


defop("one_hot", _one_hot, None, dtypes=LONG, method=False, function=False)

# -- pairwise_distance: torch calls at::norm(x1 - x2 + eps, p, -1), recorded as NormBackward1 -----

defop("norm_dim", _vector_norm, _vector_norm_grad, dtypes=FLOAT, node="NormBackward1",
      method=False, function=False)
