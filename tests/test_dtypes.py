"""dtypes: names, defaults, torch's promotion rules (checked pair by pair against torch), finfo."""

import itertools

import numpy as np
import pytest
import torch

import rebours

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64"]
SCALARS = [True, 3, 2.5]


def _ours(name):
    return getattr(rebours, name)


def _theirs(name):
    return getattr(torch, name)


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(NAMES, 2)))
def test_promote_types_matches_torch(a, b):
    assert rebours.promote_types(_ours(a), _ours(b)).name == \
        str(torch.promote_types(_theirs(a), _theirs(b))).removeprefix("torch.")


def _pair(lib, name, ndim):
    shape = (2,) * ndim
    return lib.zeros(shape, dtype=getattr(lib, name))


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", NAMES + SCALARS)
@pytest.mark.parametrize("dims", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_binary_op_result_dtype_matches_torch(a, b, dims):
    """Dimensioned tensors, 0-dim tensors and Python scalars, as add sees them."""
    x_ours, x_torch = _pair(rebours, a, dims[0]), _pair(torch, a, dims[0])
    if isinstance(b, str):
        y_ours, y_torch = _pair(rebours, b, dims[1]), _pair(torch, b, dims[1])
    else:
        if dims[1] == 0:
            return
        y_ours = y_torch = b
    ours = rebours.add(x_ours, y_ours).dtype.name
    theirs = str(torch.add(x_torch, y_torch).dtype).removeprefix("torch.")
    assert ours == theirs


@pytest.mark.parametrize("a", ["int32", "int64", "bool", "uint8"])
def test_int_true_division_gives_default_float(a):
    x = rebours.ones(3, dtype=_ours(a))
    assert (x / x).dtype is rebours.float32
    t = torch.ones(3, dtype=_theirs(a))
    assert str((t / t).dtype) == "torch.float32"


def test_defaults_from_python_numbers():
    assert rebours.tensor(2.0).dtype is rebours.float32
    assert rebours.tensor(2).dtype is rebours.int64
    assert rebours.tensor(True).dtype is rebours.bool
    assert rebours.tensor([1, 2.5]).dtype is rebours.float32
    assert rebours.tensor(np.float64(1.0)).dtype is rebours.float64  # NumPy keeps its dtype


def test_set_default_dtype_changes_floats_and_promotion():
    rebours.set_default_dtype(rebours.float64)
    assert rebours.tensor(1.5).dtype is rebours.float64
    assert (rebours.tensor([1, 2]) * 0.5).dtype is rebours.float64
    rebours.set_default_dtype(rebours.float32)
    assert rebours.tensor(1.5).dtype is rebours.float32
    with pytest.raises(TypeError):
        rebours.set_default_dtype(rebours.int64)


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "bfloat16"])
def test_finfo_matches_torch(name):
    ours, theirs = rebours.finfo(_ours(name)), torch.finfo(_theirs(name))
    for field in ("bits", "eps", "max", "min", "tiny", "resolution"):
        assert getattr(ours, field) == pytest.approx(getattr(theirs, field), rel=1e-6), field


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    ours, theirs = rebours.iinfo(_ours(name)), torch.iinfo(_theirs(name))
    assert (ours.bits, ours.min, ours.max) == (theirs.bits, theirs.min, theirs.max)


def test_finfo_refuses_integers():
    with pytest.raises(TypeError):
        rebours.finfo(rebours.int32)


def test_dtype_reprs_and_aliases():
    assert repr(rebours.float32) == "rebours.float32"
    assert rebours.float is rebours.float32 and rebours.double is rebours.float64
    assert rebours.long is rebours.int64 and rebours.half is rebours.float16
    assert rebours.int is rebours.int32
    assert rebours.float64.is_floating_point and not rebours.int64.is_floating_point


def test_bfloat16_holds_values_through_ml_dtypes():
    x = rebours.tensor([1.0, 2.5, 3.0], dtype=rebours.bfloat16)
    t = torch.tensor([1.0, 2.5, 3.0], dtype=torch.bfloat16)
    assert x.dtype is rebours.bfloat16
    assert (x * 2).tolist() == (t * 2).tolist()
    assert repr(x) == repr(t).replace("torch.", "rebours.")


def test_bfloat16_without_ml_dtypes_names_the_alternative(monkeypatch):
    from rebours import dtypes

    monkeypatch.setattr(rebours.bfloat16, "np", None)
    with pytest.raises(TypeError) as err:
        rebours.zeros(3, dtype=rebours.bfloat16)
    assert "ml_dtypes" in str(err.value) and "float32" in str(err.value)
    assert isinstance(err.value, rebours.errors.UnsupportedDtypeError)
    assert dtypes.bfloat16.np is None


def test_type_conversion_truncates_toward_zero():
    x = rebours.tensor([-3.7, -0.5, 0.5, 3.7])
    assert x.type(rebours.int32).tolist() == [-3, 0, 0, 3]
    assert x.type(rebours.int32).tolist() == torch.tensor([-3.7, -0.5, 0.5, 3.7]).type(
        torch.int32).tolist()


def test_type_strings():
    assert rebours.tensor(1.0).type() == torch.tensor(1.0).type() == "torch.FloatTensor"
    assert rebours.tensor(1).type() == "torch.LongTensor"
    assert rebours.tensor(1.0).type("torch.DoubleTensor").dtype is rebours.float64
    assert rebours.tensor(1.0).type(rebours.float16).dtype is rebours.float16
