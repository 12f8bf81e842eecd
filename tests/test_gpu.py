"""The op_db rows and the seed's 5-6 on a real NVIDIA GPU through CuPy (marker `gpu`).

These are the only tests that may skip: on a machine without CuPy or a GPU they have nothing to
run on. `tests/test_xp_proxy.py` proves the same code path without a GPU, in every CI run.
"""

import numpy as np
import pytest
from tests.op_db import rows
from tests.test_ops import build, draw, float_dtypes, outputs

import rebours

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not rebours.cuda.is_available(), reason="needs CuPy and an NVIDIA GPU"),
]


@pytest.mark.parametrize("row", rows, ids=lambda r: r.name)
def test_row_on_cuda_matches_cpu(row):
    import cupy

    for k, sample in enumerate(row.samples[:2]):
        arrays = draw(row, sample, float_dtypes(sample, "float64"), seed=k)
        cpu_leaves, cpu_in = build(rebours, sample, arrays, requires_grad=row.grad)
        leaves, inputs = build(rebours, sample, arrays, requires_grad=row.grad, device="cuda")
        cpu_out = outputs(row.fn(rebours, *cpu_in))
        out = outputs(row.fn(rebours, *inputs))
        for o, c in zip(out, cpu_out):
            if isinstance(o, rebours.Tensor):
                assert isinstance(o._data, cupy.ndarray) and o.device.type == "cuda"
                np.testing.assert_allclose(o.detach().cpu().numpy(), c.detach().numpy(),
                                           rtol=1e-9, atol=1e-12, equal_nan=True)
        diff = [(o, c) for o, c in zip(out, cpu_out)
                if isinstance(o, rebours.Tensor) and o.requires_grad]
        if not row.grad or not sample.grad or not diff:
            continue
        sum(o.sum() for o, _ in diff).backward()
        sum(c.sum() for _, c in diff).backward()
        for leaf, cl in zip(leaves, cpu_leaves):
            if leaf.grad is None:
                assert cl.grad is None
                continue
            assert isinstance(leaf.grad._data, cupy.ndarray)
            np.testing.assert_allclose(leaf.grad.cpu().numpy(), cl.grad.numpy(), rtol=1e-8,
                                       atol=1e-12, equal_nan=True)


def test_seed_5_6_cpu_and_gpu_together():
    """The seed's 5-6: a GPU leaf times a 0-dim CPU leaf; the gradient comes back to each."""
    x = rebours.tensor(3.0, requires_grad=True).cuda()
    c = rebours.tensor(2.0, requires_grad=True).cpu()
    y = x * c
    assert y.device.type == "cuda" and type(y.grad_fn).__name__ == "MulBackward0"
    y.backward()
    assert c.grad.device.type == "cpu" and c.grad.item() == 3.0
    v = rebours.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        v * rebours.ones(3)
