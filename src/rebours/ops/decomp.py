"""Matrix-function rows (`rebours.linalg`): det, slogdet, inv, solve, cholesky, qr, svd, eigh,
pinv, with the backward formulas of torch's FunctionsManual. All work on batches (..., m, n).
"""

from __future__ import annotations

from ..return_types import structseq
from .registry import FLOAT, defop


def _mT(ops, x):
    return ops.transpose(x, dim0=-2, dim1=-1)


def _mm(ops, *xs):
    out = xs[0]
    for x in xs[1:]:
        out = ops.matmul(out, x)
    return out


def _col(ops, v):  # (..., n) -> (..., n, 1)... and scalars (...) -> (..., 1, 1)
    return ops.unsqueeze(v, dim=-1)


def _lapack(name, fn):
    """Run a NumPy linalg call; its LinAlgError becomes torch's RuntimeError."""
    import numpy as np

    try:
        return fn()
    except np.linalg.LinAlgError as err:
        raise RuntimeError(f"linalg.{name}: The factorization could not be completed because "
                           f"the input is singular or not positive-definite ({err}).") from None


# -- determinants ----------------------------------------------------------------------------------


def _det_grad(ops, g, out, A):
    """d det = det tr(A^-1 dA): gA = g det A^-T; at a singular A, from the SVD (adjugate)."""
    if bool(ops.all(out != 0)):
        return _col(ops, _col(ops, g * out)) * _mT(ops, ops.inv(A))
    U, S, Vh = ops.svd(A, full_matrices=False)
    sign = ops.det(U) * ops.det(Vh)
    adjT = _mm(ops, U, ops.diag_embed(ops.prod_except(S, dim=-1)), Vh)
    return _col(ops, _col(ops, g * sign)) * adjT


defop("det", lambda xp, A: xp.linalg.det(A), _det_grad, dtypes=FLOAT,
      node="LinalgDetBackward0")
slogdet_ret = structseq("linalg_slogdet", ("sign", "logabsdet",))


def _slogdet(xp, A):
    sign, logabs = xp.linalg.slogdet(A)
    return sign.astype(A.dtype), logabs


defop("slogdet", _slogdet,
      lambda ops, g, out, A: _col(ops, _col(ops, g[1])) * _mT(ops, ops.inv(A)),
      nout=2, dtypes=FLOAT, node="LinalgSlogdetBackward0",
      wrap_outputs=lambda outs: slogdet_ret(*outs), method=False, function=False)

# -- inverse and solve ---------------------------------------------------------------------------

defop("inv", lambda xp, A: _lapack("inv", lambda: xp.linalg.inv(A)),
      lambda ops, g, out, A: -_mm(ops, _mT(ops, out), g, _mT(ops, out)), dtypes=FLOAT,
      node="LinalgInvExBackward0", method=False, function=False)


def _is_vector(A, B) -> bool:  # torch: B is a batch of vectors when it has one dim less than A
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def _solve(xp, A, B, left=True):
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return xp.swapaxes(_solve(xp, xp.swapaxes(A, -1, -2), xp.swapaxes(B, -1, -2)), -1, -2)
    if _is_vector(A, B):
        return _lapack("solve", lambda: xp.linalg.solve(A, B[..., None]))[..., 0]
    return _lapack("solve", lambda: xp.linalg.solve(A, B))


def _solve_grad_B(ops, g, out, A, B, left=True):
    if not left:  # X = B A^-1: gB = g A^-T
        return _mT(ops, ops.solve(A, _mT(ops, g)))
    return ops.solve(_mT(ops, A), g)


def _solve_grad_A(ops, g, out, A, B, left=True):
    gB = _solve_grad_B(ops, g, out, A, B, left)
    if not left:
        return -ops.matmul(_mT(ops, out), gB)
    if _is_vector(A, B):
        return -_col(ops, gB) * ops.unsqueeze(out, dim=-2)
    return -ops.matmul(gB, _mT(ops, out))


defop("solve", _solve, (_solve_grad_A, _solve_grad_B),
      dtypes=FLOAT, node="LinalgSolveExBackward0", method=False, function=False)

# -- factorizations --------------------------------------------------------------------------------


def _cholesky(xp, A, upper=False):
    L = _lapack("cholesky", lambda: xp.linalg.cholesky(A))
    return xp.swapaxes(L, -1, -2).copy() if upper else L


def _cholesky_grad(ops, g, out, A, upper=False):
    """gA = L^-H Φ(L^H gL) L^-1, with Φ the lower triangle and half the diagonal."""
    L, gL = (_mT(ops, out), _mT(ops, g)) if upper else (out, g)
    P = ops.tril(ops.matmul(_mT(ops, L), gL))
    P = 0.5 * (P + _mT(ops, ops.tril(P, diagonal=-1)))
    X = ops.solve(_mT(ops, L), P)
    return _mT(ops, ops.solve(_mT(ops, L), _mT(ops, X)))


defop("cholesky", _cholesky, _cholesky_grad, dtypes=FLOAT, node="LinalgCholeskyExBackward0",
      method=False, function=False)
qr_ret = structseq("linalg_qr", ("Q", "R",))


def _qr(xp, A, mode="reduced"):
    if mode == "r":
        return xp.zeros((0,), dtype=A.dtype), xp.linalg.qr(A, mode="r")
    return tuple(xp.linalg.qr(A, mode=mode))


def _qr_square_grad(ops, gQ, gR, Q, R):
    """m >= n: gA = (gQ + Q copyltu(M)) R^-H, M = R gR^H - gQ^H Q (torch's linalg_qr_backward)."""
    M = ops.matmul(gR, _mT(ops, R)) - ops.matmul(_mT(ops, Q), gQ)
    M = ops.triu(M)
    M = M + _mT(ops, M)
    M = M - 0.5 * ops.diag_embed(ops.diagonal(M, offset=0, dim1=-2, dim2=-1))
    gA = ops.matmul(Q, M) + gQ
    return _mT(ops, ops.solve(R, _mT(ops, gA)))  # gA R^-H


def _qr_grad(ops, g, out, A, mode="reduced"):
    gQ, gR = g
    Q, R = out
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                           "to differentiate through linalg.qr.")
    m, n = A.shape[-2], A.shape[-1]
    if m >= n:
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        return _qr_square_grad(ops, gQ, gR, Q, R)
    # m < n: A = Q [R1 | R2]; the square part X = Q R1 carries Y = Q R2's gradient through Q
    R1 = ops.getitem(R, idx=(Ellipsis, slice(None), slice(0, m)))
    R2 = ops.getitem(R, idx=(Ellipsis, slice(None), slice(m, None)))
    gR1 = ops.getitem(gR, idx=(Ellipsis, slice(None), slice(0, m)))
    gR2 = ops.getitem(gR, idx=(Ellipsis, slice(None), slice(m, None)))
    Y = ops.matmul(Q, R2)
    gX = _qr_square_grad(ops, gQ + ops.matmul(Y, _mT(ops, gR2)), gR1, Q, R1)
    return ops.cat(gX, ops.matmul(Q, gR2), dim=-1)


defop("qr", _qr, _qr_grad, nout=2, dtypes=FLOAT, node="LinalgQrBackward0",
      wrap_outputs=lambda outs: qr_ret(*outs), method=False, function=False)
svd_ret = structseq("linalg_svd", ("U", "S", "Vh",))


def _svd(xp, A, full_matrices=True):
    U, S, Vh = _lapack("svd", lambda: xp.linalg.svd(A, full_matrices=full_matrices))
    return U, S.astype(A.dtype), Vh


def _svd_grad(ops, g, out, A, full_matrices=True):
    """torch's svd_backward: gA = U [(skew(U^H gU) S + S skew(V^H gV)) / E + diag(gS)] V^H,
    E_ij = S_j^2 - S_i^2, plus the parts off the column spaces when A is not square."""
    gU, gS, gVh = g
    U, S, Vh = out
    k = S.shape[-1]
    m, n = A.shape[-2], A.shape[-1]
    if full_matrices:
        U, gU = (ops.getitem(t, idx=(Ellipsis, slice(0, k))) for t in (U, gU))
        Vh, gVh = (ops.getitem(t, idx=(Ellipsis, slice(0, k), slice(None))) for t in (Vh, gVh))
    if not bool(ops.any(gU != 0)) and not bool(ops.any(gVh != 0)):  # svdvals: U diag(gS) V^H
        return _mm(ops, U, ops.diag_embed(gS), Vh)
    V, gV = _mT(ops, Vh), _mT(ops, gVh)
    UhgU = ops.matmul(_mT(ops, U), gU)
    VhgV = ops.matmul(Vh, gV)
    skU, skV = UhgU - _mT(ops, UhgU), VhgV - _mT(ops, VhgV)
    S2 = S * S
    E = ops.unsqueeze(S2, dim=-2) - ops.unsqueeze(S2, dim=-1) + ops.diag_embed(
        ops.ones_like(S))
    gA = (skU * ops.unsqueeze(S, dim=-2) + ops.unsqueeze(S, dim=-1) * skV) / E
    gA = gA + ops.diag_embed(gS)
    if m > n:
        gUSinv = gU / ops.unsqueeze(S, dim=-2)
        gA = ops.matmul(U, gA) + gUSinv - _mm(ops, U, _mT(ops, U), gUSinv)
        return ops.matmul(gA, Vh)
    if m < n:
        SinvgVh = gVh / ops.unsqueeze(S, dim=-1)
        gA = ops.matmul(gA, Vh) + SinvgVh - _mm(ops, SinvgVh, V, Vh)
        return ops.matmul(U, gA)
    return _mm(ops, U, gA, Vh)


defop("svd", _svd, _svd_grad, nout=3, dtypes=FLOAT, node="LinalgSvdBackward0",
      wrap_outputs=lambda outs: svd_ret(*outs), method=False, function=False)
defop("ones_like", lambda xp, S: xp.ones_like(S), None, dtypes=FLOAT, method=False,
      function=False)
eigh_ret = structseq("linalg_eigh", ("eigenvalues", "eigenvectors",))


def _eigh(xp, A, UPLO="L"):
    L, Q = _lapack("eigh", lambda: xp.linalg.eigh(A, UPLO=UPLO))
    return L.astype(A.dtype), Q


def _eigh_grad(ops, g, out, A, UPLO="L"):
    """gA = Q (diag(gL) + sym part of (Q^H gQ) / E) Q^H, E_ij = L_j - L_i."""
    gL, gQ = g
    L, Q = out
    if not bool(ops.any(gQ != 0)):  # eigvalsh: Q diag(gL) Q^H
        return _mm(ops, Q, ops.diag_embed(gL), _mT(ops, Q))
    QhgQ = ops.matmul(_mT(ops, Q), gQ)
    E = ops.unsqueeze(L, dim=-2) - ops.unsqueeze(L, dim=-1) + ops.diag_embed(
        ops.ones_like(L))
    inner = 0.5 * (QhgQ - _mT(ops, QhgQ)) / E + ops.diag_embed(gL)
    return _mm(ops, Q, inner, _mT(ops, Q))


defop("eigh", _eigh, _eigh_grad, nout=2, dtypes=FLOAT, node="LinalgEighBackward0",
      wrap_outputs=lambda outs: eigh_ret(*outs), method=False, function=False)


def _pinv(xp, A, atol=None, rtol=None, hermitian=False):
    """Through the SVD: singular values below max(atol, rtol * largest) count as zero."""
    m, n = A.shape[-2], A.shape[-1]
    if A.size == 0:
        return xp.zeros(A.shape[:-2] + (n, m), dtype=A.dtype)
    if rtol is None:
        rtol = max(m, n) * xp.finfo(A.dtype).eps if atol is None or atol == 0 else 0.0
    if hermitian:  # the lower triangle, through eigh: A = Q diag(w) Q^H
        w, U = xp.linalg.eigh(A)
        S, Vh = xp.abs(w), xp.swapaxes(U, -1, -2)
        U = U * xp.sign(w)[..., None, :]
    else:
        U, S, Vh = xp.linalg.svd(A, full_matrices=False)
    tol = xp.maximum(atol or 0.0, rtol * xp.max(S, axis=-1, keepdims=True))
    Sinv = xp.where(S > tol, 1 / xp.where(S > tol, S, 1), 0)
    return xp.matmul(xp.swapaxes(Vh, -1, -2) * Sinv[..., None, :], xp.swapaxes(U, -1, -2))


def _pinv_grad(ops, g, out, A, atol=None, rtol=None, hermitian=False):
    """Golub-Pereyra: gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A), P = A^+."""
    P, Pt, gt = out, _mT(ops, out), _mT(ops, g)
    first = -_mm(ops, Pt, g, Pt)
    X = _mm(ops, gt, P, Pt)
    second = X - _mm(ops, A, P, X)
    Y = _mm(ops, Pt, P, gt)
    third = Y - _mm(ops, Y, P, A)
    return first + second + third


defop("pinv", _pinv, _pinv_grad, dtypes=FLOAT, node="LinalgPinvBackward0", method=False,
      function=False)
