"""rebours.linalg: the `torch.linalg` functions covered so far."""

from __future__ import annotations

from .functions import vector_norm

__all__ = ["vector_norm", "norm"]


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """`linalg.norm`: the vector 2-norm over all elements by default."""
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
