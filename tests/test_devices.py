"""Devices: cpu and meta, mismatches at the op with both devices named, and no CUDA backend."""

import pytest
import torch

import rebours
from rebours.errors import DeviceMismatchError, NoCudaError


def test_device_objects_match_torch():
    for spec in ("cpu", "meta", "cuda", "cuda:1"):
        assert repr(rebours.device(spec)) == repr(torch.device(spec))
        assert str(rebours.device(spec)) == str(torch.device(spec))
    assert rebours.device("cuda", 0) == rebours.device("cuda:0") == "cuda:0"
    assert rebours.zeros(1).device == "cpu" and rebours.zeros(1).device.type == "cpu"
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        rebours.device("tpu")


def test_meta_tensors_carry_shape_and_dtype_only():
    x = rebours.zeros(2, 3, device="meta")
    y = rebours.ones(3, device="meta", dtype=rebours.float64)
    z = (x * 2 + y).sum(1)
    assert z.device == "meta" and tuple(z.shape) == (2,) and z.dtype is rebours.float64
    assert repr(rebours.zeros(2, 3, device="meta")) == repr(torch.zeros(2, 3, device="meta"))
    with pytest.raises(RuntimeError):
        z.item()
    m = rebours.zeros(4, 5, device="meta") @ rebours.zeros(5, 6, device="meta")
    assert tuple(m.shape) == (4, 6)
    assert rebours.tensor([1.0, 2.0]).to("meta").device == "meta"


def test_device_mismatch_fails_at_the_op_naming_both_devices_and_the_line():
    a = rebours.ones(3)
    b = rebours.ones(3, device="meta")
    with pytest.raises(RuntimeError) as err:
        a * b
    msg = str(err.value)
    assert msg.startswith("Tensor on device meta is not on the expected device cpu!")  # torch's
    assert "mul" in msg and "test_devices.py" in msg and "a * b" in msg and "fix:" in msg
    assert isinstance(err.value, DeviceMismatchError)
    with pytest.raises(RuntimeError):
        torch.ones(3) * torch.ones(3, device="meta")


def test_zero_dim_cpu_tensor_joins_another_device():
    out = rebours.ones(3, device="meta") * rebours.tensor(2.0)
    assert out.device == "meta" and tuple(out.shape) == (3,)
    assert (torch.ones(3, device="meta") * torch.tensor(2.0)).device.type == "meta"


def test_cuda_is_not_available_and_says_what_is_missing():
    assert rebours.cuda.is_available() is False
    assert rebours.cuda.device_count() == 0
    with pytest.raises(RuntimeError) as err:
        rebours.tensor(3.0).cuda()
    assert isinstance(err.value, NoCudaError)
    first = str(err.value).splitlines()[0]
    assert "CuPy" in first or "GPU" in first
    assert "rebours[cuda]" in str(err.value)
    with pytest.raises(RuntimeError):
        rebours.zeros(2, device="cuda")


def test_device_mismatch_names_where_each_tensor_was_made():
    a = rebours.ones(3)
    b = rebours.tensor([1.0, 2.0, 3.0]).to("meta")
    with pytest.raises(RuntimeError) as err:
        rebours.maximum(a, b)
    msg = str(err.value)
    assert "input 0 (cpu) was made at" in msg and "a = rebours.ones(3)" in msg
    assert "input 1 (meta) was made at" in msg and '.to("meta")' in msg
    assert "maximum" in msg
