"""rebours.linalg (`torch.linalg`), and the top-level linear-algebra composites: einsum, outer,
inner, tensordot, kron, diag, cross and meshgrid.

The matrix functions are rows (ops/decomp.py); norms pick a row by `ord` as torch does, so the
node names match: `matrix_norm(A, 2)` is the amax of the singular values, AmaxBackward0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Optional

from .dispatch import apply
from .functions import vector_norm
from .ops.registry import OPS
from .tensor import Tensor

__all__ = ["vector_norm", "norm", "matrix_norm", "det", "slogdet", "inv", "solve", "cholesky",
           "qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv", "cross", "diagonal", "matmul"]


def det(A: Tensor) -> Tensor:
    return apply(OPS["det"], A)


def slogdet(A: Tensor) -> Any:
    return apply(OPS["slogdet"], A)


def inv(A: Tensor) -> Tensor:
    return apply(OPS["inv"], A)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    return apply(OPS["solve"], A, B, left=left)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    return apply(OPS["cholesky"], A, upper=upper)


def qr(A: Tensor, mode: str = "reduced") -> Any:
    return apply(OPS["qr"], A, mode=mode)


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> Any:
    return apply(OPS["svd"], A, full_matrices=full_matrices)


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    return svd(A, full_matrices=False)[1]


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    return apply(OPS["eigh"], A, UPLO=UPLO)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    return eigh(A, UPLO)[0]


def pinv(A: Tensor, rcond: Any = None, hermitian: bool = False, *, atol: Any = None,
         rtol: Any = None) -> Tensor:
    """The pseudo-inverse; `rcond` is torch's older name for `rtol`."""
    rtol = rcond if rtol is None else rtol
    atol, rtol = (float(v) if isinstance(v, Tensor) and v.numel() == 1 else v
                  for v in (atol, rtol))
    return apply(OPS["pinv"], A, atol=atol, rtol=rtol, hermitian=hermitian)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    return apply(OPS["cross"], input, other, dim=dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    return apply(OPS["diagonal"], A, offset=offset, dim1=dim1, dim2=dim2)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return apply(OPS["matmul"], input, other)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Sequence[int] = (-2, -1),
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Frobenius, nuclear, spectral (2, -2) and induced (1, -1, inf, -inf) matrix norms."""
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        S = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = S.sum(-1) if ord == "nuc" else S.amax(-1) if ord == 2 else S.amin(-1)
        return out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1)) if keepdim else out
    if ord in (1, -1, math.inf, -math.inf):
        across, within = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(across, keepdim=keepdim)
        if not keepdim and within > across:
            within -= 1
        return s.amax(within, keepdim=keepdim) if ord > 0 else s.amin(within, keepdim=keepdim)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """`linalg.norm`: a vector norm over one dim or all, a matrix norm over two dims."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is not None and dim is None and A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: ord={ord!r} needs a matrix (2 dims)")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# -- top-level composites (torch.einsum, torch.outer, ...) ---------------------------------------

def einsum(equation: str, *operands: Any) -> Tensor:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return apply(OPS["einsum"], *operands, equation=equation)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input[:, None] * vec2 (MulBackward0, as torch)."""
    return apply(OPS["mul"], input.reshape(-1, 1), vec2)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """Contract a's `dims` last dims with b's first (or the listed dims): permute, mm, reshape."""
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, Tensor):
        return tensordot(a, b, dims.tolist())
    else:
        da, db = ([dims[0]] if isinstance(dims[0], int) else list(dims[0]),
                  [dims[1]] if isinstance(dims[1], int) else list(dims[1]))
    da, db = [d % max(a.ndim, 1) for d in da], [d % max(b.ndim, 1) for d in db]
    sa, sb = list(a.shape), list(b.shape)
    for i, j in zip(da, db):  # a size-1 dim contracts against any size, as torch
        sa[i] = sb[j] = max(sa[i], sb[j])
    a, b = a.expand(*sa), b.expand(*sb)
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [i for i in range(b.ndim) if i not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    ra = a.permute(*(fa + da)).reshape(-1, k)
    rb = b.permute(*(db + fb)).reshape(k, -1)
    return apply(OPS["mm"], ra, rb).reshape(*[a.shape[i] for i in fa], *[b.shape[i] for i in fb])


def inner(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Every product a_i b_j, laid out block by block (UnsafeViewBackward0, as torch)."""
    n = max(input.ndim, other.ndim)
    a = input.reshape(*(1,) * (n - input.ndim), *input.shape)
    b = other.reshape(*(1,) * (n - other.ndim), *other.shape)
    a = a.reshape(*[s for d in a.shape for s in (d, 1)])
    b = b.reshape(*[s for d in b.shape for s in (1, d)])
    shape = tuple(x * y for x, y in zip(a.shape[::2], b.shape[1::2]))
    return apply(OPS["unsafe_view"], a * b, shape=shape)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    if input.ndim == 1:
        return apply(OPS["diag_embed"], input, offset=diagonal)
    if input.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{input.ndim}D")
    return apply(OPS["diagonal_copy"], input, offset=diagonal)


def cross_(input: Tensor, other: Tensor, dim: Optional[int] = None) -> Tensor:
    """torch.cross: `dim=None` means the first dim of size 3 (deprecated in torch)."""
    if dim is None:
        shape = (input * 0 + other * 0).shape if input.shape != other.shape else input.shape
        dim = next(i for i, s in enumerate(shape) if s == 3)
    return cross(input, other, dim=dim)


def meshgrid(*tensors: Any, indexing: Optional[str] = None) -> tuple:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = list(tensors)
    xy = indexing == "xy" and len(ts) >= 2
    if xy:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    out = []
    for k, t in enumerate(ts):
        view = [1] * len(ts)
        view[k] = -1
        out.append(t.reshape(*view).expand(*shape))
    if xy:
        out[0], out[1] = out[1], out[0]
    return tuple(out)
