"""Linear-algebra rows: matmul and its named forms (mm, bmm, mv, dot)."""

from __future__ import annotations

from .registry import defop


def _mT(ops, x):
    return ops.transpose(x, dim0=-1, dim1=-2)


def _grad_a(ops, g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:  # out = a @ b has a's shape without its last dim
        return ops.unsqueeze(g, dim=-1) * b
    if a.ndim == 1:  # out = a @ b has b's batch dims; the engine sums them back to (n,)
        return ops.squeeze(ops.matmul(b, ops.unsqueeze(g, dim=-1)), dim=-1)
    return ops.matmul(g, _mT(ops, b))


def _transposed(x) -> bool:
    """A 2-d array laid out as the transpose of a contiguous one (`w.T`, as F.linear uses)."""
    strides = getattr(x, "strides", None)  # arrays only: Tensors (create_graph) take the plain way
    return x.ndim == 2 and strides is not None and strides[0] < strides[1] and x.shape[0] > 1


def at_b(ops, a, g, b):
    """`a.T @ g`, the gradient of `b` in `a @ b` (2-d), laid out as `b` is: for `b = w.T` it is
    computed as `(g.T @ a).T`, so that w's gradient comes out contiguous like w (the same BLAS
    call; a strided `.grad` would make every later update of w walk memory out of order)."""
    if _transposed(b):
        return ops.t(ops.mm(ops.t(g), a))
    return ops.mm(ops.t(a), g)


def _grad_b(ops, g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:
        return ops.unsqueeze(a, dim=-1) * ops.unsqueeze(g, dim=-2)
    if b.ndim == 1:
        return ops.squeeze(ops.matmul(_mT(ops, a), ops.unsqueeze(g, dim=-1)), dim=-1)
    if a.ndim == 2 and b.ndim == 2:
        return at_b(ops, a, g, b)
    return ops.matmul(_mT(ops, a), g)


def blasable(xp, a):
    """`a`, copied if it is a broadcast view (a zero stride, as the gradient of a sum is): BLAS
    cannot read those, and NumPy's fallback loop for them is ~10x slower than the copy."""
    strides = getattr(a, "strides", None)
    if strides is not None and a.ndim >= 2 and 0 in strides and a.size > 1:
        return xp.ascontiguousarray(a)
    return a


def _matmul(xp, a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    return xp.matmul(blasable(xp, a), blasable(xp, b))


def _matmul_name(args, params) -> str:
    na, nb = args[0].ndim, args[1].ndim
    return {(1, 1): "DotBackward0", (2, 2): "MmBackward0", (2, 1): "MvBackward0",
            (1, 2): "SqueezeBackward4"}.get((na, nb), "UnsafeViewBackward0")


def _checked(name, nda, ndb):
    def fwd(xp, a, b):
        if a.ndim != nda or b.ndim != ndb:
            what = {1: "1D", 2: "2D", 3: "3D"}
            raise RuntimeError(f"{name}: expected {what[nda]} and {what[ndb]} tensors, got "
                               f"{a.ndim}D and {b.ndim}D")
        if a.shape[-1] != b.shape[0 if ndb == 1 else -2]:
            raise RuntimeError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                               "multiplied")
        return xp.matmul(blasable(xp, a), blasable(xp, b))
    return fwd


defop("matmul", _matmul, (_grad_a, _grad_b), node=_matmul_name)
defop("mm", _checked("mm", 2, 2), (_grad_a, _grad_b), node="MmBackward0")
defop("bmm", _checked("bmm", 3, 3), (_grad_a, _grad_b), node="BmmBackward0")
defop("mv", _checked("mv", 2, 1), (_grad_a, _grad_b), node="MvBackward0")
defop("dot", _checked("dot", 1, 1), (_grad_a, _grad_b), node="DotBackward0")
