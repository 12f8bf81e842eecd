"""op_db rows for issue 6: gather/scatter, masks, take, and the rearranging ops (roll, flip,
repeat, tile, repeat_interleave, movedim, unfold, diagonals, triangles), in-place forms included."""

from __future__ import annotations

import numpy as np
from tests.op_db import UNARY, A, Idx, Mask, S, St, T, row

_G = Idx(3, 2, high=4, data=np.array([[0, 3], [2, 2], [1, 0]]))  # along dim 1 of (3, 4)
_G0 = Idx(2, 4, high=3, data=np.array([[0, 2, 1, 1], [2, 2, 0, 1]]))  # along dim 0 of (3, 4)
_SEL = Idx(3, high=4, data=np.array([3, 0, 3]))  # repeats: the backward accumulates
_PERM = Idx(3, 4, high=3, data=np.array([[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1, 2]]))

row("gather", lambda t, x, i: t.gather(x, 1, i), (S(A(3, 4), _G), S(T(3, 4), _G)),
    covers=("gather",))
row("gather_dim0", lambda t, x, i: x.gather(0, i), (S(A(3, 4), _G0), S(A(3, 5), _G0)),
    covers=("gather",))
row("gather_0d", lambda t, x, i: t.gather(x, 0, i), (S(A(), Idx(high=1, data=np.array(0))),),
    covers=("gather",))
row("scatter", lambda t, x, i, s: t.scatter(x, 0, i, s), (S(A(3, 4), _PERM, A(3, 4)),
                                                         S(T(3, 4), _PERM, A(3, 4))),
    covers=("scatter",))
row("scatter_value", lambda t, x, i: (t.scatter(x, 1, i, 2.5), x.scatter(1, i, value=-1.0)),
    (S(A(3, 4), _G),), covers=("scatter_value",))
row("scatter_add", lambda t, x, i, s: t.scatter_add(x, 1, i, s), (S(A(3, 4), _G, A(3, 2)),
                                                                 S(T(3, 4), _G, T(3, 2))),
    covers=("scatter_add",))
row("scatter_inplace", lambda t, x, i, s: (x * 1).scatter_(0, i, s), (S(A(3, 4), _PERM, A(3, 4)),),
    covers=("scatter",))
row("scatter_add_inplace", lambda t, x, i, s: (x * 1).scatter_add_(1, i, s),
    (S(A(3, 4), _G, A(3, 2)),), covers=("scatter_add",))
row("index_select", lambda t, x, i: (t.index_select(x, 1, i), x.index_select(0, i[:2] % 3)),
    (S(A(3, 4), _SEL), S(T(3, 4), _SEL)), covers=("index_select",))
row("index_add", lambda t, x, i, s: t.index_add(x, 1, i, s), (S(A(3, 4), _SEL, A(3, 3)),
                                                             S(T(3, 4), _SEL, T(3, 3))),
    covers=("index_add",))
row("index_add_alpha", lambda t, x, i, s: x.index_add(1, i, s, alpha=-2.0),
    (S(A(3, 4), _SEL, A(3, 3)),), covers=("index_add",))
row("index_add_inplace", lambda t, x, i, s: (x * 1).index_add_(1, i, s),
    (S(A(3, 4), _SEL, A(3, 3)),), covers=("index_add",))
row("masked_fill", lambda t, x, m: t.masked_fill(x, m, 0.5),
    (S(A(3, 4), Mask(3, 4)), S(A(3, 4), Mask(4)), S(T(3, 4), Mask(3, 1)), S(A(), Mask())),
    covers=("masked_fill",), ints=True)
row("masked_fill_tensor", lambda t, x, m, v: x.masked_fill(m, v), (S(A(3, 4), Mask(3, 4), A()),),
    covers=("masked_fill_tensor",))
row("masked_fill_inplace", lambda t, x, m: (x * 1).masked_fill_(m, -1.0), (S(A(3, 4), Mask(4)),),
    covers=("masked_fill",))
row("masked_select", lambda t, x, m: t.masked_select(x, m),
    (S(A(3, 4), Mask(3, 4)), S(A(3, 4), Mask(4)), S(A(4), Mask(3, 4)), S(T(3, 4), Mask(3, 4))),
    ints=True, meta=False)
row("take", lambda t, x, i: t.take(x, i), (S(A(3, 4), Idx(2, 2, high=12, data=np.array(
    [[0, 11], [5, 5]]))), S(T(3, 4), Idx(3, high=12, data=np.array([-1, 2, 7])))), ints=True)
row("take_along_dim", lambda t, x, i: (t.take_along_dim(x, i, 1), x.take_along_dim(i[:, :1], 0)),
    (S(A(3, 4), _G),), covers=("gather",))
row("take_along_dim_flat", lambda t, x, i: t.take_along_dim(x, i),
    (S(A(3, 4), Idx(3, high=12, data=np.array([11, 0, 4]))),), covers=("gather",))
row("take_along_dim_broadcast", lambda t, x, i: t.take_along_dim(x, i, dim=-1),
    (S(A(3, 4), Idx(1, 2, high=4, data=np.array([[3, 1]]))),), covers=("gather",))

# -- rearranging ---------------------------------------------------------------------------------

row("roll", lambda t, x: (t.roll(x, 1, 1), x.roll(-2), x.roll((1, 2), (0, 1))),
    (S(A(3, 4)), S(T(3, 4))), ints=True)
row("roll_0d", lambda t, x: x.roll(1), (S(A()),), covers=("roll",))
row("flip", lambda t, x: (t.flip(x, (0,)), x.flip(0, 1), t.fliplr(x), t.flipud(x)),
    (S(A(3, 4)), S(T(3, 4)), S(A(2, 3, 2)), S(A(0, 3))), ints=True)
row("repeat", lambda t, x: (x.repeat(2, 1), x.repeat(2, 1, 3)), (S(A(3, 4)), S(T(3, 2))),
    ints=True)
row("repeat_0d", lambda t, x: x.repeat(3), (S(A()), S(A(0))), covers=("repeat",))
row("tile", lambda t, x: (t.tile(x, (2,)), x.tile((2, 1, 2))), (S(A(3, 4)), S(St(3))),
    covers=("repeat",))
row("repeat_interleave", lambda t, x: (t.repeat_interleave(x, 2), x.repeat_interleave(3, dim=1)),
    (S(A(3, 4)), S(T(3, 2))), covers=("contiguous_copy", "view"))
row("repeat_interleave_tensor", lambda t, x, r: x.repeat_interleave(r, dim=0),
    (S(A(3, 4), Idx(3, high=3, data=np.array([1, 0, 2]))),), covers=("index_select",),
    meta=False)
row("movedim", lambda t, x: (t.movedim(x, 0, -1), x.moveaxis((0, 1), (2, 0))),
    (S(A(2, 3, 4)), S(T(2, 3, 4))), covers=("permute",))
row("unfold", lambda t, x: (x.unfold(1, 2, 1), x.unfold(0, 2, 2)), (S(A(4, 5)), S(T(4, 5))))
row("unfold_0d", lambda t, x: x.unfold(0, 1, 1), (S(A()),), covers=("unfold",))

# -- diagonals and triangles -----------------------------------------------------------------------

row("diagonal", lambda t, x: (t.diagonal(x), x.diagonal(1), x.diagonal(-1, 0, 1)),
    (S(A(3, 4)), S(T(4, 3)), S(A(0, 3))))
row("diagonal_3d", lambda t, x: x.diagonal(0, -1, 0), (S(A(3, 2, 3)),), covers=("diagonal",))
row("diag", lambda t, x: (t.diag(x), x.diag(1)), (S(A(3, 4)), S(T(3, 3))),
    covers=("diagonal_copy",))
row("diagonal_copy", lambda t, x: t.diagonal_copy(x, -1), (S(A(3, 4)),))
row("diag_vector", lambda t, x: (t.diag(x), x.diag(-2)), (S(A(3)), S(St(2))),
    covers=("diag_embed",))
row("diag_embed", lambda t, x: (t.diag_embed(x), x.diag_embed(1, 0, 2)), (S(A(2, 3)),))
row("trace", lambda t, x: t.trace(x), (S(A(3, 4)), S(T(3, 3)), S(A(0, 2))))
for _n in ("tril", "triu"):
    row(_n, lambda t, x, n=_n: (getattr(t, n)(x), getattr(x, n)(1), getattr(x, n)(-1)),
        (S(A(3, 4)), S(T(3, 4)), S(A(2, 3, 3)), S(A(0, 3))), ints=True)
row("tril_inplace", lambda t, x: (x * 1).tril_(), (S(A(3, 3)),), covers=("tril",))
row("clamp_inplace", lambda t, x: (x * 1).clamp_(-0.5, 0.5), UNARY[:2], covers=("clamp",),
    away=(-0.5, 0.5))
