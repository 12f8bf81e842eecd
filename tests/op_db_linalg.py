"""op_db rows for issue 6: einsum and the contractions, and the matrix functions of linalg.

Matrix functions get well-conditioned inputs from the lambda itself (`x @ x.mT + 3 I` for the
Cholesky factor), and decompositions return sign-free views (|U|, |Q|) since a singular vector is
only defined up to its sign."""

from __future__ import annotations

import math

from tests.op_db import A, S, St, T, V, row


def _spd(t, x):
    return x @ x.mT + 3 * t.eye(x.shape[-1], dtype=x.dtype, device=x.device)


def _wellcond(t, x):
    return x + 3 * t.eye(x.shape[-1], dtype=x.dtype, device=x.device)


# -- einsum and the contractions ---------------------------------------------------------------

row("einsum", lambda t, x, y: t.einsum("ij,jk->ik", x, y),
    (S(A(2, 3), A(3, 4)), S(T(2, 3), A(3, 2))))
row("einsum_forms", lambda t, x, y: (t.einsum("ij,ij->i", x, y), t.einsum("ij,kj", x, y),
                                     t.einsum("ij,ij->", [x, y]), t.einsum("i j, i k -> j k",
                                                                           x, y)),
    (S(A(3, 4), A(3, 4)), S(T(3, 4), St(3, 4))), covers=("einsum",))
row("einsum_one", lambda t, x: (t.einsum("ij->j", x), t.einsum("ij->ji", x), t.einsum("ii->i", x),
                                t.einsum("ii", x), t.einsum("ij", x)),
    (S(A(3, 3)), S(T(3, 3))), covers=("einsum",))
row("einsum_batch", lambda t, x, y: (t.einsum("...ij,...jk->...ik", x, y),
                                     t.einsum("bij,bjk->bik", x, y[0].expand(2, 3, 2))),
    (S(A(2, 2, 3), A(1, 3, 2)),), covers=("einsum",))
row("einsum_three", lambda t, x, y, z: t.einsum("i,ij,j->", x, y, z),
    (S(A(3), A(3, 4), A(4)),), covers=("einsum",))
row("einsum_outer_sum", lambda t, x, y: t.einsum("ij,k->ik", x, y), (S(A(2, 3), A(4)),),
    covers=("einsum",))
row("outer", lambda t, x, y: (t.outer(x, y), x.ger(y)), (S(A(3), A(4)), S(St(3), A(2))),
    covers=("mul",))
row("inner", lambda t, x, y: t.inner(x, y), (S(A(2, 3), A(4, 3)), S(A(3), A(3)),
                                             S(A(), A(2, 3))), covers=("mm", "mul"))
row("tensordot", lambda t, x, y: (t.tensordot(x, y, 1), t.tensordot(x, y.mT, ([0, 1], [0, 1])),
                                  t.tensordot(x, y, dims=0)),
    (S(A(2, 3), A(3, 2)), S(T(2, 3), A(3, 2))), covers=("mm",))
row("kron", lambda t, x, y: t.kron(x, y), (S(A(2, 3), A(2, 2)), S(A(3), A(2, 2)),
                                           S(A(2, 2), St(3))), covers=("unsafe_view",))
row("cross", lambda t, x, y: (t.linalg.cross(x, y), t.cross(x, y, dim=1), x.cross(y)),
    (S(A(4, 3), A(4, 3)), S(A(2, 3), A(1, 3)), S(T(4, 3), A(1, 3))), covers=("cross",))
row("meshgrid", lambda t, x, y: (*t.meshgrid(x, y, indexing="ij"),
                                 *t.meshgrid([x, y], indexing="xy")),
    (S(A(3), A(4)), S(St(2), A())), covers=("broadcast_to",))

# -- matrix functions ----------------------------------------------------------------------------

_SQ = (S(A(3, 3)), S(T(3, 3)), S(A(2, 3, 3)))
row("det", lambda t, x: (t.linalg.det(x), t.det(x), x.det()), _SQ + (S(A(0, 0)),))
row("det_singular", lambda t, x: t.linalg.det(x),
    (S(V([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])),), covers=("det",),
    gradgrad=False)
row("slogdet", lambda t, x: tuple(t.linalg.slogdet(x)), _SQ)
# meta=False: the meta device's zeros make x + 3I singular there (rebours's meta runs LAPACK)
row("inv", lambda t, x: (t.linalg.inv(_wellcond(t, x)), t.inverse(_wellcond(t, x))), _SQ,
    meta=False)
row("solve", lambda t, a, b: t.linalg.solve(_wellcond(t, a), b),
    (S(A(3, 3), A(3, 2)), S(A(3, 3), A(3)), S(A(2, 3, 3), A(3, 4)), S(T(3, 3), T(3, 2))),
    meta=False)
row("solve_right", lambda t, a, b: t.linalg.solve(_wellcond(t, a), b, left=False),
    (S(A(3, 3), A(2, 3)),), covers=("solve",), meta=False)
row("cholesky", lambda t, x: (t.linalg.cholesky(_spd(t, x)),
                              t.linalg.cholesky(_spd(t, x), upper=True)), _SQ, meta=False)
row("qr", lambda t, x: tuple(t.linalg.qr(x)), (S(A(4, 3)), S(A(3, 3)), S(T(3, 4)),
                                               S(A(2, 3, 2))))
row("qr_complete", lambda t, x: tuple(t.linalg.qr(x, mode="complete")), (S(A(3, 3)),),
    covers=("qr",))
row("svd", lambda t, x: (lambda u, s, vh: (u.abs(), s, vh.abs()))(*t.linalg.svd(x, False)),
    (S(A(3, 3)), S(A(4, 3)), S(T(4, 3)), S(A(2, 2, 3))), rtol32=1e-4)
row("svd_full", lambda t, x: (lambda u, s, vh: (u[:, :2].abs(), s, vh.abs()))(*t.linalg.svd(x)),
    (S(A(3, 2)),), covers=("svd",), rtol32=1e-4)
row("svdvals", lambda t, x: t.linalg.svdvals(x), (S(A(3, 4)), S(A(2, 3, 3))), covers=("svd",),
    rtol32=1e-4)
row("eigh", lambda t, x: (lambda w, q: (w, q.abs()))(*t.linalg.eigh(x + x.mT)),
    _SQ, rtol32=1e-4)
row("eigvalsh", lambda t, x: t.linalg.eigvalsh(x + x.mT), _SQ[:2], covers=("eigh",),
    rtol32=1e-4)
row("pinv", lambda t, x: t.linalg.pinv(x), (S(A(3, 3)), S(A(4, 2)), S(A(2, 3)), S(T(3, 4))),
    rtol32=1e-4)
row("matrix_norm", lambda t, x: tuple(t.linalg.matrix_norm(x, o) for o in
                                      ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)),
    (S(A(3, 4)), S(T(3, 3)), S(A(2, 3, 2))), covers=("vector_norm", "svd", "amax", "amin",
                                                    "sum"), rtol32=1e-4, away=(0.0,))
row("matrix_norm_dims", lambda t, x: (t.linalg.matrix_norm(x, 1, dim=(0, 2), keepdim=True),
                                      t.linalg.matrix_norm(x, "nuc", dim=(2, 0))),
    (S(A(2, 3, 4)),), covers=("amax",), rtol32=1e-4, away=(0.0,))
row("linalg.norm_ord", lambda t, x: (t.linalg.norm(x, 2), t.linalg.norm(x, "fro"),
                                     t.linalg.norm(x, 1, dim=1), t.linalg.norm(x, dim=(0, 1))),
    (S(A(3, 4)),), covers=("vector_norm",), rtol32=1e-4, away=(0.0,))
