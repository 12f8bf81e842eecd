"""rebours._printing against torch's own repr (torch is the oracle, used only here)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rebours import _printing
from rebours._printing import (
    format_size,
    format_tensor,
    get_printoptions,
    printoptions,
    set_printoptions,
)

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


@pytest.fixture(autouse=True)
def _restore_options() -> Iterator[None]:
    """Every test starts from, and leaves behind, default options in torch and in rebours."""
    torch.set_printoptions(**_DEFAULTS)
    set_printoptions(**_DEFAULTS)
    default_dtype = torch.get_default_dtype()
    try:
        yield
    finally:
        torch.set_printoptions(**_DEFAULTS)
        set_printoptions(**_DEFAULTS)
        torch.set_default_dtype(default_dtype)


def both_options(**kwargs: object) -> None:
    torch.set_printoptions(**kwargs)
    set_printoptions(**kwargs)


def expected(t: torch.Tensor) -> str:
    return repr(t).replace("torch.", "rebours.")


def ours(arr: np.ndarray, dtype_name: str | None = None, **kwargs: object) -> str:
    name = dtype_name or str(arr.dtype)
    default = str(torch.get_default_dtype()).removeprefix("torch.")
    return format_tensor(arr, dtype_name=name, is_default_dtype=name == default, **kwargs)


def check(arr: np.ndarray) -> None:
    assert ours(arr) == expected(torch.from_numpy(arr.copy()))


def f32(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


nan, inf = math.nan, math.inf
rng = np.random.default_rng(0)

CASES = {
    "nan_inf": f32(nan, inf, -inf, 1.5, 0.0),
    "only_nonfinite": f32(nan, inf, -inf),
    "only_zeros": f32(0.0, 0.0, -0.0),
    "negative_zero": f32(-0.0, 1.0, -2.0),
    "mixed_magnitudes": f32(1e-8, 1e8, 1.0),
    "mixed_with_nan": f32(1e-8, nan, 1e8, -inf),
    "tiny": f32(1e-5, 2e-5),
    "huge_ints": f32(1e9, 2e9, -3e9),
    "span_1000": f32(1.0, 1001.0),
    "integer_floats": f32(37.0, -2.0, 100.0, 0.0),
    "integer_floats_nan": f32(1.0, nan, -inf, 12.0),
    "negatives": f32(-1.25, -0.5, 3.75, -1000.5),
    "rounds_up": f32(9.99999, 0.00005, 1.0),
    "random_2d": rng.standard_normal((5, 7)).astype(np.float32),
    "random_3d": rng.standard_normal((2, 3, 4)),
    "random_4d": rng.standard_normal((2, 2, 3, 2)).astype(np.float32),
    "int_4d": rng.integers(-50, 50, (2, 3, 2, 2)),
    "float16": np.array([1.0, 0.1, 65504.0, -0.333, nan], dtype=np.float16),
    "float16_ints": np.array([1.0, -3.0, 2048.0], dtype=np.float16),
    "float64_precision": np.array([1 / 3, 2 / 3, 1e-3, 0.12345678901234]),
    "float64_sci": np.array([1e-300, 1e300, 5.0]),
    "long_row": rng.uniform(-100, 100, 60).astype(np.float32),
    "long_int_row": np.arange(-30, 70, dtype=np.int64) * 12345,
    "wrapping_2d": rng.uniform(0, 1, (3, 40)).astype(np.float32),
    "big_1d": rng.standard_normal(1500).astype(np.float32),
    "big_2d": rng.standard_normal((40, 40)).astype(np.float32),
    "big_3d": rng.standard_normal((12, 11, 10)),
    "big_int_3d": np.arange(2000, dtype=np.int32).reshape(10, 20, 10) - 1000,
    "big_bool": rng.integers(0, 2, (30, 40)).astype(bool),
    "big_narrow": rng.standard_normal((1001, 1)).astype(np.float32),
    "big_with_hidden_nan": np.where(np.arange(1200) == 600, nan, 1.0).astype(np.float32),
    "exactly_threshold": np.arange(1000, dtype=np.float32),
}
for _dtype in ["int8", "int16", "int32", "int64", "uint8", "bool"]:
    CASES[f"ints_{_dtype}"] = np.array([[0, 1, 1], [1, 0, 1]]).astype(_dtype)
    CASES[f"scalar_{_dtype}"] = np.array(1, dtype=_dtype)
    for _shape in [(0,), (0, 3), (2, 0, 1)]:
        CASES[f"empty_{_dtype}_{_shape}"] = np.zeros(_shape, dtype=_dtype)
for _dtype in ["float16", "float32", "float64"]:
    CASES[f"scalar_{_dtype}"] = np.array(-2.5, dtype=_dtype)
    CASES[f"scalar_int_valued_{_dtype}"] = np.array(37.0, dtype=_dtype)
    CASES[f"scalar_nan_{_dtype}"] = np.array(nan, dtype=_dtype)
    CASES[f"scalar_tiny_{_dtype}"] = np.array(1e-6, dtype=_dtype)
    for _shape in [(0,), (0, 3), (3, 0), (1, 0, 2, 0)]:
        CASES[f"empty_{_dtype}_{_shape}"] = np.zeros(_shape, dtype=_dtype)
CASES["int_extremes"] = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max])
CASES["uint8_extremes"] = np.array([0, 255, 7], dtype=np.uint8)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name: str) -> None:
    check(CASES[name])


OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 10},
    {"sci_mode": True},
    {"sci_mode": False},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"linewidth": 30},
    {"linewidth": 1},
    {"profile": "full"},
    {"profile": "short"},
    {"profile": "short", "precision": 6},
]
OPTION_ARRAYS = [
    "nan_inf",
    "only_zeros",
    "mixed_magnitudes",
    "integer_floats",
    "random_3d",
    "random_4d",
    "long_row",
    "big_2d",
    "big_3d",
    "big_int_3d",
    "ints_int32",
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
@pytest.mark.parametrize("name", OPTION_ARRAYS)
def test_printoptions_match_torch(options: dict, name: str) -> None:
    both_options(**options)
    check(CASES[name])


def test_get_printoptions_and_profiles() -> None:
    assert get_printoptions() == torch._tensor_str.get_printoptions() == _DEFAULTS
    for options in OPTION_SETS:
        both_options(**options)
        assert get_printoptions() == torch._tensor_str.get_printoptions()
    set_printoptions(profile="default")
    assert get_printoptions() == _DEFAULTS


def test_printoptions_context_manager_restores() -> None:
    set_printoptions(precision=6, sci_mode=True)
    with printoptions(precision=1, linewidth=40):
        assert get_printoptions()["precision"] == 1
        assert format_tensor(f32(1.25), dtype_name="float32", is_default_dtype=True) == (
            "tensor([1.2])"
        )
    assert get_printoptions() == {**_DEFAULTS, "precision": 6, "sci_mode": True}


def test_requires_grad_and_grad_fn() -> None:
    t = torch.tensor(4.0, requires_grad=True)
    assert ours(np.array(4.0, np.float32), requires_grad=True) == expected(t)
    s = torch.tensor(3.0, requires_grad=True) + 34
    assert expected(s) == "tensor(37., grad_fn=<AddBackward0>)"
    assert ours(np.array(37.0, np.float32), grad_fn="AddBackward0", requires_grad=True) == (
        expected(s)
    )
    w = torch.tensor(rng.standard_normal((3, 9)).astype(np.float32)).requires_grad_()
    assert ours(w.detach().numpy(), requires_grad=True) == expected(w)
    m = (w * 2).sum(0)
    assert ours(m.detach().numpy(), grad_fn="SumBackward1") == expected(m)


@pytest.mark.parametrize("linewidth", [20, 40, 60, 80])
@pytest.mark.parametrize("shape", [(3,), (8,), (13,), (2, 11), (4, 5, 3)])
def test_suffixes_wrap(linewidth: int, shape: tuple[int, ...]) -> None:
    both_options(linewidth=linewidth)
    arr = np.arange(math.prod(shape), dtype=np.float64).reshape(shape) * 1.5
    t = torch.from_numpy(arr.copy()).requires_grad_()
    assert ours(arr, requires_grad=True) == expected(t)
    u = t * 1.0
    assert ours(arr, grad_fn="MulBackward0") == expected(u)


def test_default_dtype_float64() -> None:
    torch.set_default_dtype(torch.float64)
    for arr in [
        f32(1.5, 2.0),
        np.array([1.5, 2.0]),
        np.array(3.0),
        np.array(3.0, np.float32),
        np.zeros((0, 2)),
        np.zeros(0, np.float32),
        np.zeros(0, np.int64),
        np.array([1, 2]),
        np.array([True]),
    ]:
        check(arr)
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    assert ours(np.array([1.0, 2.0]), requires_grad=True) == expected(t)


def test_bfloat16() -> None:
    t = torch.tensor([1.0, 0.1, 3.3e38, -7.0, nan]).bfloat16()
    arr = t.float().numpy()  # rebours may hold bfloat16 values in a float32 array
    assert ours(arr, "bfloat16") == expected(t)
    assert ours(np.zeros((0, 2), np.float32), "bfloat16") == expected(
        torch.zeros(0, 2, dtype=torch.bfloat16)
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool])
@pytest.mark.parametrize("shape", [(2, 3), (0, 3), (), (4,)])
def test_meta(dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    t = torch.empty(shape, dtype=dtype, device="meta")
    name = str(dtype).removeprefix("torch.")
    placeholder = np.broadcast_to(np.zeros((), name), shape)  # values must never be read
    assert ours(placeholder, name, device="meta") == expected(t)
    if dtype.is_floating_point:
        t.requires_grad_()
        assert ours(placeholder, name, device="meta", requires_grad=True) == expected(t)


def test_meta_does_not_read_values(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> str:
        raise AssertionError("meta tensors have no values to format")

    monkeypatch.setattr(_printing, "_contents_str", fail)
    arr = np.broadcast_to(np.float32(nan), (2, 3))
    text = format_tensor(arr, dtype_name="float32", is_default_dtype=True, device="meta")
    assert text == "tensor(..., device='meta', size=(2, 3))"


def test_other_devices() -> None:
    arr = f32(1.0, 2.5)
    assert ours(arr, device="cuda:0") == "tensor([1.0000, 2.5000], device='cuda:0')"
    assert ours(arr, device="cpu") == ours(arr) == "tensor([1.0000, 2.5000])"
    assert ours(np.array([1, 2], np.int32), device="cuda:1", requires_grad=False) == (
        "tensor([1, 2], device='cuda:1', dtype=rebours.int32)"
    )
    assert ours(np.array(3, np.int32)) == "tensor(3, dtype=rebours.int32)"


def test_prefix() -> None:
    arr = rng.standard_normal((2, 30)).astype(np.float32)

    class Custom(torch.Tensor):
        pass

    t = torch.from_numpy(arr.copy()).as_subclass(Custom)
    assert ours(arr, prefix="Custom(") == expected(t)


def test_format_size() -> None:
    for shape in [(2, 3), (), (0,), (1, 2, 3, 4)]:
        assert format_size(shape) == repr(torch.Size(shape)).replace("torch.", "rebours.")
    assert format_size(np.zeros((5, 1)).shape) == "rebours.Size([5, 1])"


# ---------------------------------------------------------------- property-based comparison

_FLOAT_DTYPES = [np.float16, np.float32, np.float64]
_INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]


def _float_elements(dtype: type) -> st.SearchStrategy[float]:
    width = np.finfo(dtype).bits
    return st.one_of(
        st.floats(width=width),  # anything, nan/inf/subnormals/huge included
        st.floats(-10, 10, width=width),
        st.integers(-1000, 1000).map(float),
        st.sampled_from([0.0, -0.0, nan, inf, -inf, 1e-8, 1e8, 1e-4, 1e3, 0.5]),
    ).map(lambda v: _round_to(dtype, v))


def _round_to(dtype: type, value: float) -> float:
    with np.errstate(over="ignore"):  # e.g. 1e8 becomes inf in float16, like torch would
        return float(np.asarray(value).astype(dtype))


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    big = draw(st.booleans()) and draw(st.booleans())
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=14 if big else 5))
    dtype = draw(st.sampled_from(_FLOAT_DTYPES + _INT_DTYPES))
    if dtype in _FLOAT_DTYPES:
        elements = _float_elements(dtype)
    else:
        elements = hnp.from_dtype(np.dtype(dtype))
    return draw(hnp.arrays(dtype, shape, elements=elements, fill=elements))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays())
def test_random_arrays_match_torch(arr: np.ndarray) -> None:
    check(arr)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(),
    st.fixed_dictionaries(
        {
            "precision": st.integers(0, 8),
            "threshold": st.integers(0, 60),
            "edgeitems": st.integers(0, 4),
            "linewidth": st.integers(1, 120),
            "sci_mode": st.sampled_from([None, True, False]),
        }
    ),
    st.booleans(),
)
def test_random_arrays_and_options_match_torch(
    arr: np.ndarray, options: dict, requires_grad: bool
) -> None:
    try:
        both_options(**options)
        t = torch.from_numpy(arr.copy())
        if requires_grad and arr.dtype.kind == "f":
            t.requires_grad_()
        assert ours(arr, requires_grad=t.requires_grad) == expected(t)
    finally:
        both_options(**_DEFAULTS)
