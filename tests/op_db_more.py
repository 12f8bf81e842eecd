"""op_db rows for issue 6: special functions, activations, scans and sorts, gather/scatter,
rearranging, contractions and matrix functions. Same helpers and rules as op_db.py."""

from __future__ import annotations

import math
from typing import Any

from tests.op_db import (
    BINARY,
    NONEMPTY_DIM,
    REDUCE_ALL,
    REDUCE_DIM,
    UNARY,
    A,
    S,
    St,
    T,
    V,
    _binary,
    _unary,
    row,
)

F = "nn.functional"


def _fn(t, name):
    obj = t
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# -- special functions -----------------------------------------------------------------------------

for _n, _dom in (("asin", (-0.9, 0.9)), ("acos", (-0.9, 0.9)), ("atan", (-2.0, 2.0)),
                 ("sinh", (-2.0, 2.0)), ("cosh", (-2.0, 2.0)), ("asinh", (-2.0, 2.0)),
                 ("acosh", (1.2, 3.0)), ("atanh", (-0.9, 0.9)), ("erf", (-2.0, 2.0)),
                 ("erfc", (-2.0, 2.0)), ("erfinv", (-0.9, 0.9))):
    _unary(_n, ints=_n not in ("acosh", "erfinv", "asin", "acos", "atanh"), domain=_dom)
_unary("reciprocal", ints=True, away=(0.0,))
_unary("frac", away=(-1.0, 0.0, 1.0))
row("square", lambda t, x: (t.square(x), x.square()), UNARY, covers=("pow",), ints=True)
_unary("nan_to_num")
row("nan_to_num_special", lambda t, x: (t.nan_to_num(x), x.nan_to_num(nan=1.5, posinf=9.0)),
    (S(V([0.5, math.nan, math.inf, -math.inf, -1.0])),), covers=("nan_to_num",))
row("erf_tails", lambda t, x: (t.erf(x), t.erfc(x)), (S(V([-30.0, -5.0, -0.4, 0.0, 0.47, 3.9,
                                                         4.1, 10.0, 26.0])),),
    covers=("erf", "erfc"))
row("erfinv_edges", lambda t, x: t.erfinv(x),
    (S(V([-1.0, -0.999999, 0.0, 1e-9, 0.9999, 1.0, 1.5]), grad=False),), covers=("erfinv",))
_unary("logit", domain=(0.1, 0.9))
row("logit_eps", lambda t, x: t.logit(x, eps=0.2), UNARY[:3], covers=("logit",),
    domain=(0.05, 0.95), away=(0.2, 0.8))
_binary("atan2", BINARY)
_binary("hypot", BINARY)
_binary("logaddexp", BINARY)
row("logaddexp_inf", lambda t, x, y: t.logaddexp(x, y),
    (S(V([-math.inf, math.inf, 1.0]), V([-math.inf, math.inf, -math.inf]), grad=False),),
    covers=("logaddexp",))
_POS = (S(A(3, 4), A(3, 4, domain=(0.2, 2.0))), S(A(3, 4), A(4, domain=(0.2, 2.0))),
        S(T(3, 2), A(domain=(0.2, 2.0))))
row("xlogy", lambda t, x, y: t.xlogy(x, y), _POS)
row("xlogy_scalar", lambda t, x: (t.xlogy(x, 2.0), t.xlogy(2.0, x.abs() + 0.5)), UNARY[:3],
    covers=("xlogy",))
row("xlogy_zero", lambda t, x, y: t.xlogy(x, y), (S(V([0.0, 0.0, 1.0]), V([0.0, math.nan, 2.0]),
                                                    grad=False),), covers=("xlogy",))
row("lerp", lambda t, x, y: t.lerp(x, y, 0.3), BINARY[:4])
row("lerp_tensor", lambda t, x, y, w: t.lerp(x, y, w), (S(A(3, 4), A(4), A(3, 1)),
                                                       S(T(2, 3), A(2, 3), A())))
row("Tensor.lerp", lambda t, x, y: x.lerp(y, 0.7), BINARY[:1], covers=("lerp",))

# -- activations (nn.functional) -------------------------------------------------------------------


def _act(name: str, call: Any = None, **kw: Any) -> None:
    row(name, call or (lambda t, x: _fn(t, f"{F}.{name}")(x)), UNARY, **kw)


_act("softplus")
row("softplus_beta", lambda t, x: _fn(t, F).softplus(x, beta=2.0, threshold=1.0), UNARY[:3],
    covers=("softplus",), away=(0.5,))
_act("gelu")
row("gelu_tanh", lambda t, x: _fn(t, F).gelu(x, approximate="tanh"), UNARY, covers=("gelu",))
_act("silu")
_act("mish")
_act("logsigmoid", domain=(-30.0, 30.0))
_act("elu", away=(0.0,))
row("elu_alpha", lambda t, x: _fn(t, F).elu(x, alpha=0.5), UNARY[:3], covers=("elu",),
    away=(0.0,))
row("selu", lambda t, x: _fn(t, F).selu(x), UNARY, covers=("elu",), away=(0.0,))
row("torch.selu", lambda t, x: t.selu(x), UNARY[:1], covers=("elu",), away=(0.0,))
_act("celu", away=(0.0,))
row("celu_alpha", lambda t, x: t.celu(x, 2.0), UNARY[:2], covers=("celu",), away=(0.0,))
_act("leaky_relu", away=(0.0,))
row("leaky_relu_slope", lambda t, x: _fn(t, F).leaky_relu(x, 0.2), UNARY[:2],
    covers=("leaky_relu",), away=(0.0,))
_act("hardtanh", away=(-1.0, 1.0))
row("relu6", lambda t, x: _fn(t, F).relu6(x), UNARY, covers=("hardtanh",), domain=(-2.0, 8.0),
    away=(0.0, 6.0))
_act("hardsigmoid", domain=(-4.0, 4.0), away=(-3.0, 3.0))
_act("hardswish", domain=(-4.0, 4.0), away=(-3.0, 3.0))
row("activation_kinks", lambda t, x: (_fn(t, F).hardtanh(x), _fn(t, F).relu6(x * 6),
                                      _fn(t, F).hardswish(x * 3), _fn(t, F).elu(x)),
    (S(V([-1.0, 0.0, 1.0, 2.0]), grad=False),), covers=("hardtanh", "hardswish", "elu"))

# -- scans, sorts, selections --------------------------------------------------------------------

row("logsumexp", lambda t, x: t.logsumexp(x, 1), REDUCE_DIM, ints=True)
row("logsumexp_dims", lambda t, x: x.logsumexp((0, -1), keepdim=True), REDUCE_DIM,
    covers=("logsumexp",))
row("logsumexp_0d", lambda t, x: x.logsumexp(0), (S(A()),), covers=("logsumexp",))
row("logsumexp_inf", lambda t, x: x.logsumexp(0), (S(V([-math.inf, -math.inf]), grad=False),),
    covers=("logsumexp",))
row("cumsum", lambda t, x: t.cumsum(x, 1), REDUCE_DIM, ints=True)
row("cumsum_0d", lambda t, x: x.cumsum(0), (S(A()), S(St(5))), covers=("cumsum",))
row("cumsum_dtype", lambda t, x: x.cumsum(-1, dtype=t.float64), REDUCE_DIM[:2],
    covers=("cumsum",))
row("cumprod", lambda t, x: t.cumprod(x, 1), REDUCE_DIM, ints=True, domain=(0.5, 1.5))
row("cumprod_zeros", lambda t, x: x.cumprod(1), (S(V([[0.5, 0.0, 2.0, 0.0], [1.5, 2.0, 0.0,
                                                                              3.0]])),),
    covers=("cumprod",))
for _n in ("cummax", "cummin"):
    row(_n, lambda t, x, n=_n: (*getattr(t, n)(x, 1), *getattr(x, n)(-1)), NONEMPTY_DIM,
        ints=True)
    row(f"{_n}_0d", lambda t, x, n=_n: getattr(x, n)(0), (S(A()),), covers=(_n,))
    row(f"{_n}_ties", lambda t, x, n=_n: getattr(x, n)(0),
        (S(V([1.0, 3.0, 3.0, 0.0, 3.0]), grad=False),), covers=(_n,))
row("sort", lambda t, x: t.sort(x), REDUCE_DIM + (S(A()),), ints=True)
row("sort_desc", lambda t, x: x.sort(0, descending=True), NONEMPTY_DIM, covers=("sort",))
row("sort_ties", lambda t, x: (*x.sort(stable=True), *x.sort(descending=True, stable=True)),
    (S(V([2.0, 1.0, 2.0, 1.0, 3.0]), grad=False),), covers=("sort",))
row("argsort", lambda t, x: t.argsort(x, 0, descending=True), NONEMPTY_DIM, ints=True,
    grad=False)
row("topk", lambda t, x: t.topk(x, 2), NONEMPTY_DIM)
row("topk_smallest", lambda t, x: x.topk(2, dim=0, largest=False), NONEMPTY_DIM,
    covers=("topk",))
row("kthvalue", lambda t, x: t.kthvalue(x, 2), NONEMPTY_DIM)
row("kthvalue_keepdim", lambda t, x: x.kthvalue(1, 0, True), NONEMPTY_DIM, covers=("kthvalue",))
row("median", lambda t, x: t.median(x), REDUCE_ALL[:4], ints=True)
row("median_tie", lambda t, x: x.median(), (S(V([1.0, 2.0, 2.0, 5.0]), grad=False),),
    covers=("median",))
row("median_dim", lambda t, x: x.median(1), (S(A(3, 5)), S(T(5, 3)), S(A(2, 3, 2))), ints=True)
row("nansum", lambda t, x: t.nansum(x), REDUCE_ALL, ints=True)
row("nansum_dim", lambda t, x: x.nansum((0, 1), keepdim=True), REDUCE_DIM, covers=("nansum",))
row("nansum_nan", lambda t, x: (x.nansum(), x.nanmean()),
    (S(V([[1.0, math.nan], [2.0, 3.0]])),), covers=("nansum",))
row("nanmean", lambda t, x: t.nanmean(x, 1), REDUCE_DIM[:3], covers=("nansum",))
for _n in ("all", "any"):
    row(_n, lambda t, x, n=_n: (getattr(t, n)(x), getattr(x > 0, n)(1),
                                getattr(x, n)((0, 1), keepdim=True)), NONEMPTY_DIM, ints=True,
        grad=False)
row("count_nonzero", lambda t, x: (t.count_nonzero(x > 0), (x > 0).count_nonzero((0, 1))),
    NONEMPTY_DIM, ints=True, grad=False)
row("nonzero", lambda t, x: (t.nonzero(x > 0), *t.nonzero(x > 0, as_tuple=True)),
    NONEMPTY_DIM + (S(A(0, 3)),), ints=True, grad=False, meta=False)
row("unique", lambda t, x: t.unique(x.round(), return_inverse=True, return_counts=True),
    REDUCE_ALL[:4], ints=True, grad=False, domain=(-3.0, 3.0), meta=False)
row("unique_dim", lambda t, x: t.unique(x, dim=0), (S(V([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0]])),),
    covers=("unique",), grad=False, meta=False)
