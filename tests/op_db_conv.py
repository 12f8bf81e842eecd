"""op_db rows for issue 7 (part 2): convolutions and their transposes, pooling, interpolate.
Same helpers and rules as op_db.py; sizes stay small so that gradgradcheck stays fast."""

from __future__ import annotations

from typing import Any

from tests.op_db import A, S, T, V, row


def _F(t: Any) -> Any:
    return t.nn.functional


CONV = ("convolution",)

# -- convolutions --------------------------------------------------------------------------------

row("conv2d", lambda t, x, w, b: _F(t).conv2d(x, w, b),
    (S(A(2, 3, 5, 4), A(4, 3, 3, 2), A(4)), S(T(1, 3, 4, 5), A(2, 3, 2, 2), A(2))), covers=CONV)
row("conv2d_stride_padding", lambda t, x, w, b: _F(t).conv2d(x, w, b, stride=(2, 1),
                                                              padding=(1, 2)),
    (S(A(2, 2, 5, 4), A(3, 2, 3, 2), A(3)),), covers=CONV)
row("conv2d_groups_dilation", lambda t, x, w: _F(t).conv2d(x, w, None, 1, 1, (2, 1), 2),
    (S(A(2, 4, 6, 5), A(6, 2, 2, 3)), S(T(1, 4, 5, 6), A(6, 2, 2, 3))), covers=CONV)
row("conv2d_depthwise", lambda t, x, w, b: _F(t).conv2d(x, w, b, stride=2, groups=3),
    (S(A(2, 3, 5, 5), A(3, 1, 2, 2), A(3)),), covers=CONV)
row("conv2d_same_even_kernel", lambda t, x, w: _F(t).conv2d(x, w, padding="same",
                                                            dilation=(1, 2)),
    (S(A(2, 2, 5, 6), A(3, 2, 2, 4)),), covers=CONV)
row("conv2d_valid_unbatched", lambda t, x, w: _F(t).conv2d(x, w, padding="valid"),
    (S(A(2, 4, 5), A(3, 2, 3, 3)),), covers=CONV)
row("conv1d", lambda t, x, w, b: _F(t).conv1d(x, w, b, stride=2, padding=1, groups=2),
    (S(A(2, 4, 9), A(6, 2, 3), A(6)), S(T(2, 4, 7), A(6, 2, 3), A(6))), covers=CONV)
row("conv1d_same_dilated", lambda t, x, w: _F(t).conv1d(x, w, padding="same", dilation=2),
    (S(A(2, 3, 8), A(2, 3, 4)), S(A(3, 6), A(2, 3, 3))), covers=CONV)
row("conv3d", lambda t, x, w, b: _F(t).conv3d(x, w, b, padding=(1, 0, 1), stride=(1, 2, 1)),
    (S(A(1, 2, 3, 4, 3), A(2, 2, 2, 2, 2), A(2)),), covers=CONV)
row("conv_transpose2d", lambda t, x, w, b: _F(t).conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                   output_padding=1),
    (S(A(2, 3, 3, 4), A(3, 2, 3, 2), A(2)), S(T(1, 3, 4, 3), A(3, 2, 3, 3), A(2))),
    covers=CONV)
row("conv_transpose2d_groups_dilation",
    lambda t, x, w: _F(t).conv_transpose2d(x, w, None, (1, 2), (0, 1), (0, 1), 2, (2, 1)),
    (S(A(2, 4, 3, 4), A(4, 2, 2, 3)),), covers=CONV)
row("conv_transpose1d", lambda t, x, w, b: _F(t).conv_transpose1d(x, w, b, stride=3, padding=1,
                                                                   output_padding=2),
    (S(A(2, 4, 5), A(4, 3, 3), A(3)), S(A(4, 4), A(4, 3, 2), A(3))), covers=CONV)

# -- pooling -------------------------------------------------------------------------------------

_TIES = [[[[1.0, 1.0, 0.5, 2.0, 2.0], [0.0, 1.0, 2.0, -1.0, 2.0], [3.0, 3.0, 3.0, 0.0, 0.0],
           [3.0, 1.0, 0.0, 0.0, 0.0]]]]
row("max_pool2d", lambda t, x: _F(t).max_pool2d(x, 3, 2, 1),
    (S(A(2, 3, 7, 6)), S(T(2, 2, 5, 7)), S(A(3, 5, 4))), covers=("max_pool",))
row("max_pool2d_ceil_dilation_indices",
    lambda t, x: _F(t).max_pool2d(x, (2, 3), (2, 1), (1, 0), (1, 2), True, True),
    (S(A(2, 2, 6, 7)),), covers=("max_pool",))
row("max_pool2d_ties", lambda t, x: _F(t).max_pool2d(x, 2, 1, return_indices=True),
    (S(V(_TIES), grad=False),), covers=("max_pool",))
row("max_pool1d", lambda t, x: _F(t).max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
    (S(A(2, 3, 8)), S(A(3, 7))), covers=("max_pool",))
row("max_pool3d", lambda t, x: _F(t).max_pool3d(x, 2, (1, 2, 2), padding=1),
    (S(A(1, 2, 3, 4, 4)),), covers=("max_pool",))
row("avg_pool2d", lambda t, x: _F(t).avg_pool2d(x, 3, 2, 1), (S(A(2, 3, 7, 6)), S(T(2, 2, 5, 7))),
    covers=("avg_pool",))
row("avg_pool2d_ceil_exclude_pad",
    lambda t, x: _F(t).avg_pool2d(x, (3, 2), 2, (1, 1), True, False), (S(A(2, 2, 6, 7)),),
    covers=("avg_pool",))
row("avg_pool2d_divisor", lambda t, x: _F(t).avg_pool2d(x, 2, ceil_mode=True, divisor_override=3),
    (S(A(1, 2, 5, 5)),), covers=("avg_pool",))
row("avg_pool1d", lambda t, x: _F(t).avg_pool1d(x, 3, 2, 1, True, False),
    (S(A(2, 3, 8)), S(A(2, 6))), covers=("avg_pool",))
row("avg_pool3d", lambda t, x: _F(t).avg_pool3d(x, 2, padding=(0, 1, 1)), (S(A(1, 2, 3, 4, 4)),),
    covers=("avg_pool",))
row("adaptive_avg_pool2d", lambda t, x: _F(t).adaptive_avg_pool2d(x, (3, 4)),
    (S(A(2, 3, 7, 6)), S(T(2, 5, 4)), S(A(1, 2, 3, 2))), covers=("adaptive_avg_pool",))
row("adaptive_avg_pool2d_none_and_one",
    lambda t, x: (_F(t).adaptive_avg_pool2d(x, (None, 2)), _F(t).adaptive_avg_pool2d(x, 1)),
    (S(A(2, 2, 5, 7)),), covers=("adaptive_avg_pool", "mean"))
row("adaptive_avg_pool1d", lambda t, x: _F(t).adaptive_avg_pool1d(x, 3), (S(A(2, 3, 7)),),
    covers=("adaptive_avg_pool",))
row("adaptive_avg_pool3d", lambda t, x: _F(t).adaptive_avg_pool3d(x, (2, 3, 2)),
    (S(A(1, 2, 3, 5, 4)),), covers=("adaptive_avg_pool",))
row("adaptive_max_pool2d", lambda t, x: _F(t).adaptive_max_pool2d(x, (3, 4), True),
    (S(A(2, 3, 7, 6)), S(T(2, 5, 4)), S(A(1, 2, 3, 9))), covers=("adaptive_max_pool",))
row("adaptive_max_pool1d", lambda t, x: _F(t).adaptive_max_pool1d(x, 4), (S(A(2, 3, 7)),),
    covers=("adaptive_max_pool",))
row("adaptive_max_pool3d", lambda t, x: _F(t).adaptive_max_pool3d(x, 2),
    (S(A(1, 2, 3, 5, 4)),), covers=("adaptive_max_pool",))

# -- interpolate ---------------------------------------------------------------------------------

_UP = ("upsample",)
row("interpolate_nearest", lambda t, x: (_F(t).interpolate(x, scale_factor=2),
                                         _F(t).interpolate(x, size=(5, 7)),
                                         _F(t).interpolate(x, scale_factor=(1.7, 0.6))),
    (S(A(2, 3, 3, 4)), S(T(1, 2, 4, 3))), covers=_UP)
row("interpolate_nearest_1d", lambda t, x: (_F(t).interpolate(x, scale_factor=2.5),
                                            _F(t).interpolate(x, size=3)),
    (S(A(2, 3, 5)),), covers=_UP)
row("interpolate_nearest_exact", lambda t, x: _F(t).interpolate(x, size=(5, 2),
                                                                mode="nearest-exact"),
    (S(A(2, 2, 3, 4)),), covers=_UP)
row("interpolate_bilinear", lambda t, x: (
    _F(t).interpolate(x, size=(5, 7), mode="bilinear"),
    _F(t).interpolate(x, size=(5, 3), mode="bilinear", align_corners=True),
    _F(t).interpolate(x, scale_factor=1.5, mode="bilinear"),
    _F(t).interpolate(x, scale_factor=(2, 0.5), mode="bilinear", recompute_scale_factor=True)),
    (S(A(2, 3, 3, 4)), S(T(1, 2, 4, 3))), covers=_UP)
row("interpolate_linear_1d", lambda t, x: (
    _F(t).interpolate(x, size=7, mode="linear"),
    _F(t).interpolate(x, scale_factor=0.7, mode="linear", align_corners=True)),
    (S(A(2, 3, 5)),), covers=_UP)
row("interpolate_bicubic", lambda t, x: (
    _F(t).interpolate(x, size=(5, 7), mode="bicubic"),
    _F(t).interpolate(x, scale_factor=1.5, mode="bicubic", align_corners=True)),
    (S(A(1, 2, 3, 4)),), covers=_UP)
row("interpolate_trilinear", lambda t, x: _F(t).interpolate(x, size=(3, 4, 2), mode="trilinear"),
    (S(A(1, 2, 2, 3, 3)),), covers=_UP)
row("interpolate_area", lambda t, x: _F(t).interpolate(x, size=(2, 3), mode="area"),
    (S(A(2, 2, 5, 7)),), covers=("adaptive_avg_pool",))
row("conv_transpose2d_output_padding_past_stride",  # output_padding >= stride (< dilation)
    lambda t, x, w, b: _F(t).conv_transpose2d(x, w, b, 1, 1, 1, 1, 2),
    (S(A(2, 2, 3, 4), A(2, 3, 2, 3), A(3)),), covers=CONV)
