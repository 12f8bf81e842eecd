"""Every op_db row against torch 2.13 (same lambda, same data), gradcheck and gradgradcheck."""

from __future__ import annotations

import math
import uuid
import warnings

import numpy as np
import pytest
import torch
from tests.op_db import Arg, OpRow, rows

import rebours
from rebours.autograd.gradcheck import GradcheckError
from rebours.dispatch import apply
from rebours.ops.registry import FLOAT, OPS, defop

# rows of the table that are internal helpers (called by other rows' rules or by written-out
# functions): they need no op_db row of their own, and must not be public
INTERNAL = {"unreduce", "prod_except", "scatter_zeros", "take_index", "index_backward",
            "zeros_like", "alias"}

FLOATS = {"float32": np.float32, "float64": np.float64}


# -- drawing inputs ----------------------------------------------------------------------------

def _base_shape(a: Arg) -> tuple:
    if a.layout == "T":
        return a.shape[:-2] + (a.shape[-1], a.shape[-2])
    if a.layout == "s":
        return a.shape[:-1] + (2 * a.shape[-1],)
    return a.shape


def _draw(row: OpRow, a: Arg, dtype: str, rng: np.random.Generator) -> np.ndarray:
    """The values of one input (of its base tensor, before the layout view)."""
    shape = _base_shape(a)
    if a.kind == "long":
        return (np.asarray(a.data, dtype=np.int64) if a.data is not None
                else rng.integers(-a.high, a.high, shape))
    if a.kind == "bool":
        return np.asarray(a.data, bool) if a.data is not None else rng.random(shape) > 0.5
    if a.data is not None:
        return np.asarray(a.data).astype(FLOATS.get(dtype, dtype))
    lo, hi = row.domain
    away = set(row.away)
    if a.domain == ("away0",):
        away.add(0.0)
    elif a.domain is not None:
        lo, hi = a.domain
    if dtype in FLOATS:
        x = rng.uniform(lo, hi, shape)
        for _ in range(100):
            bad = np.zeros(shape, bool)
            for k in away:
                bad |= np.abs(x - k) < 0.1
            if not bad.any():
                break
            x[bad] = rng.uniform(lo, hi, int(bad.sum()))
        return x.astype(FLOATS[dtype])
    choices = [v for v in range(math.ceil(lo), math.floor(hi) + 1) if float(v) not in away]
    return rng.choice(np.asarray(choices, dtype=dtype), shape)


def draw(row: OpRow, sample, dtypes, seed: int = 0) -> list:
    """Base arrays for a sample; `dtypes` gives each float input's dtype name."""
    rng = np.random.default_rng(seed)
    return [_draw(row, a, dt, rng) for a, dt in zip(sample.args, dtypes)]


def build(lib, sample, arrays, requires_grad: bool = True, **kw) -> tuple[list, list]:
    """(leaves, inputs): leaves hold the data, inputs are the views the op receives."""
    leaves, inputs = [], []
    for a, arr in zip(sample.args, arrays):
        leaf = lib.tensor(arr.copy(), **kw)
        if requires_grad and a.kind == "float" and leaf.is_floating_point():
            leaf.requires_grad_()
        x = leaf
        if a.layout == "T":
            x = leaf.transpose(-1, -2)
        elif a.layout == "s":
            x = leaf[..., ::2]
        leaves.append(leaf)
        inputs.append(x)
    return leaves, inputs


def outputs(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


def assert_same(ours, theirs, rtol: float, atol: float, what: str) -> None:
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} vs " \
                                                     f"torch {tuple(theirs.shape)}"
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), \
        f"{what}: dtype {ours.dtype} vs torch {theirs.dtype}"
    a = np.asarray(ours.detach())
    b = theirs.detach().numpy()
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def tols(dtype: str, row: OpRow) -> tuple[float, float]:
    return (row.rtol32, 1e-5) if dtype == "float32" else (1e-7, 1e-9)


def float_dtypes(sample, dtype: str) -> list:
    return [dtype if a.kind == "float" else a.kind for a in sample.args]


def params(test: str, select=lambda r: True) -> list:
    out = []
    for r in rows:
        if not select(r):
            continue
        marks = [pytest.mark.xfail(strict=True, reason=r.xfail[test])] if test in r.xfail else []
        out.append(pytest.param(r, id=r.name, marks=marks))
    return out


# -- 1 and 2: forward and backward against torch -----------------------------------------------

@pytest.mark.parametrize("row", params("forward"))
def test_forward(row: OpRow) -> None:
    for k, sample in enumerate(row.samples):
        for dtype in FLOATS:
            arrays = draw(row, sample, float_dtypes(sample, dtype), seed=k)
            _, ours = build(rebours, sample, arrays)
            _, theirs = build(torch, sample, arrays)
            r, t = outputs(row.fn(rebours, *ours)), outputs(row.fn(torch, *theirs))
            assert len(r) == len(t), f"sample {k}: {len(r)} outputs vs torch {len(t)}"
            for i, (a, b) in enumerate(zip(r, t)):
                assert_same(a, b, *tols(dtype, row), f"sample {k} {dtype} output {i}")


@pytest.mark.parametrize("row", params("backward"))
def test_backward(row: OpRow) -> None:
    for k, sample in enumerate(row.samples):
        for dtype in FLOATS:
            arrays = draw(row, sample, float_dtypes(sample, dtype), seed=k)
            leaves_r, ours = build(rebours, sample, arrays)
            leaves_t, theirs = build(torch, sample, arrays)
            r, t = outputs(row.fn(rebours, *ours)), outputs(row.fn(torch, *theirs))
            what = f"sample {k} {dtype}"
            for i, (a, b) in enumerate(zip(r, t)):
                assert a.requires_grad == b.requires_grad, f"{what} output {i} requires_grad"
                na = type(a.grad_fn).__name__ if a.grad_fn is not None else None
                nb = type(b.grad_fn).__name__ if b.grad_fn is not None else None
                assert na == nb, f"{what} output {i}: grad_fn {na} vs torch {nb}"
            if not row.grad:
                continue
            rng = np.random.default_rng(100 + k)
            pairs = [(a, b) for a, b in zip(r, t) if b.requires_grad]
            assert pairs, f"{what}: no differentiable output"
            gs = [rng.standard_normal(tuple(b.shape)).astype(FLOATS[dtype]) for _, b in pairs]
            rebours.autograd.backward([a for a, _ in pairs], [rebours.tensor(g) for g in gs])
            torch.autograd.backward([b for _, b in pairs], [torch.tensor(g) for g in gs])
            for j, (la, lb) in enumerate(zip(leaves_r, leaves_t)):
                if lb.grad is None:
                    assert la.grad is None, f"{what}: input {j} has a grad, torch's has none"
                    continue
                assert la.grad is not None, f"{what}: input {j} has no grad"
                assert_same(la.grad, lb.grad, *tols(dtype, row), f"{what} grad of input {j}")


# -- 3: gradcheck and gradgradcheck in float64 --------------------------------------------------

def _grad_samples(row: OpRow) -> list:
    return [(k, s) for k, s in enumerate(row.samples) if s.grad]


PASSED: dict[str, set] = {"gradcheck": set(), "gradgradcheck": set()}  # for the summary


@pytest.mark.parametrize("row", params("gradcheck", lambda r: r.grad and _grad_samples(r)))
def test_gradcheck(row: OpRow) -> None:
    for k, sample in _grad_samples(row):
        arrays = draw(row, sample, float_dtypes(sample, "float64"), seed=k)
        _, xs = build(rebours, sample, arrays)
        assert rebours.autograd.gradcheck(lambda *a: row.fn(rebours, *a), xs), f"sample {k}"
    PASSED["gradcheck"].add(row.name)


@pytest.mark.parametrize("row", params("gradgradcheck",
                                       lambda r: r.grad and r.gradgrad and _grad_samples(r)))
def test_gradgradcheck(row: OpRow) -> None:
    rebours.manual_seed(0)
    for k, sample in _grad_samples(row):
        arrays = draw(row, sample, float_dtypes(sample, "float64"), seed=k)
        _, xs = build(rebours, sample, arrays)
        assert rebours.autograd.gradgradcheck(lambda *a: row.fn(rebours, *a), xs), f"sample {k}"
    PASSED["gradgradcheck"].add(row.name)


# -- 4: inputs are not mutated -----------------------------------------------------------------

@pytest.mark.parametrize("row", params("mutation"))
def test_inputs_not_mutated(row: OpRow) -> None:
    for k, sample in enumerate(row.samples):
        arrays = draw(row, sample, float_dtypes(sample, "float64"), seed=k)
        leaves, xs = build(rebours, sample, arrays)
        outs = [o for o in outputs(row.fn(rebours, *xs)) if o.requires_grad]
        if row.grad and outs:
            rebours.autograd.backward(outs, [rebours.ones_like(o) for o in outs])
        for j, (leaf, arr) in enumerate(zip(leaves, arrays)):
            np.testing.assert_array_equal(np.asarray(leaf.detach()), arr,
                                          err_msg=f"sample {k}: input {j} was changed")
            assert leaf._version == 0, f"sample {k}: input {j} version bumped"


# -- 5: integer inputs promote as torch's --------------------------------------------------------

def _int_variants(sample) -> list:
    kinds = [a.kind for a in sample.args]
    out = [[("int64" if k == "float" else k) for k in kinds],
           [("int32" if k == "float" else k) for k in kinds]]
    floats = [i for i, k in enumerate(kinds) if k == "float"]
    if len(floats) > 1:  # mixed: the first float input as int64, the others float32
        out.append([("int64" if i == floats[0] else "float32" if k == "float" else k)
                    for i, k in enumerate(kinds)])
    return out


@pytest.mark.parametrize("row", params("ints", lambda r: r.ints))
def test_integer_inputs(row: OpRow) -> None:
    for k, sample in enumerate(row.samples):
        for dts in _int_variants(sample):
            arrays = draw(row, sample, dts, seed=k)
            _, ours = build(rebours, sample, arrays, requires_grad=False)
            _, theirs = build(torch, sample, arrays, requires_grad=False)
            what = f"sample {k} {dts}"
            try:
                t = outputs(row.fn(torch, *theirs))
            except Exception as e:  # torch refuses: so must we, with the same type
                with pytest.raises(type(e)):
                    row.fn(rebours, *ours)
                continue
            r = outputs(row.fn(rebours, *ours))
            for i, (a, b) in enumerate(zip(r, t)):
                assert_same(a, b, 1e-5, 1e-6, f"{what} output {i}")


# -- 6: the meta device gives the shapes and dtypes of the CPU results, without data --------------

@pytest.mark.parametrize("row", params("meta", lambda r: r.meta))
def test_meta_device_shapes(row: OpRow) -> None:
    for k, sample in enumerate(row.samples):
        arrays = draw(row, sample, float_dtypes(sample, "float32"), seed=k)
        _, cpu = build(rebours, sample, arrays)
        _, meta = build(rebours, sample, arrays, device="meta")
        r, m = outputs(row.fn(rebours, *cpu)), outputs(row.fn(rebours, *meta))
        assert len(r) == len(m), f"sample {k}: {len(m)} outputs on meta vs {len(r)} on cpu"
        for i, (a, b) in enumerate(zip(r, m)):
            if not isinstance(a, rebours.Tensor):
                continue
            assert b.device.type == "meta", f"sample {k} output {i} is on {b.device}"
            assert (tuple(b.shape), b.dtype) == (tuple(a.shape), a.dtype), \
                f"sample {k} output {i}: meta {tuple(b.shape)} {b.dtype}, cpu " \
                f"{tuple(a.shape)} {a.dtype}"


# -- 7: every public op has a row ----------------------------------------------------------------

def test_every_public_op_has_a_row() -> None:
    public = {n for n, op in OPS.items() if op.function or op.method}
    covered = {c for r in rows for c in r.covers}
    missing = sorted(public - covered - INTERNAL)
    assert not missing, f"public ops without an op_db row: {missing}"
    unknown = sorted(covered - set(OPS))
    assert not unknown, f"op_db rows cover ops that are not in OPS: {unknown}"
    names = [r.name for r in rows]
    assert len(names) == len(set(names)), "op_db row names must be unique"
    assert INTERNAL <= set(OPS), f"stale INTERNAL names: {sorted(INTERNAL - set(OPS))}"
    leaked = sorted(n for n in INTERNAL if OPS[n].function or OPS[n].method)
    assert not leaked, f"internal helpers are public: {leaked}"


@pytest.mark.parametrize("row", [r for r in rows if r.name in OPS], ids=lambda r: r.name)
def test_samples_respect_the_rows_domain_and_kinks(row: OpRow) -> None:
    """The facts an OPS row states (domain, kinks) are the ones its op_db row samples by."""
    op = OPS[row.name]
    if op.domain is not None:
        lo, hi = op.domain
        assert lo is None or row.domain[0] > lo, f"samples below the domain {op.domain}"
        assert hi is None or row.domain[1] < hi, f"samples above the domain {op.domain}"
    missing = set(op.kinks) - set(row.away)
    assert not missing, f"gradcheck samples are not kept away from the kinks {sorted(missing)}"


# -- 8: a wrong derivative is caught -------------------------------------------------------------

def _mutant(vjp) -> str:
    name = f"_mutant_sin_{uuid.uuid4().hex}"
    defop(name, OPS["sin"].fwd, vjp, dtypes=FLOAT, method=False, function=False)
    return name


@pytest.mark.parametrize("vjp", [lambda ops, g, out, x: g * ops.cos(x) * 1.01,
                                 lambda ops, g, out, x: g * ops.sin(x)],
                         ids=["cos*1.01", "sin"])
def test_gradcheck_catches_a_wrong_derivative(vjp) -> None:
    name = _mutant(vjp)
    try:
        x = rebours.tensor([0.3, -1.2, 2.0], dtype=rebours.float64, requires_grad=True)
        with pytest.raises(GradcheckError, match=r"^Jacobian mismatch for output 0 with "
                                                 r"respect to input 0,\nnumerical:"):
            rebours.autograd.gradcheck(lambda x: apply(OPS[name], x), (x,))
        assert rebours.autograd.gradcheck(lambda x: apply(OPS[name], x), (x,),
                                          raise_exception=False) is False
        assert rebours.autograd.gradcheck(lambda x: apply(OPS["sin"], x), (x,))
    finally:
        del OPS[name]


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    # sin' is right (cos), but the cos it calls has the wrong derivative (+sin)
    cos = f"_mutant_cos_{uuid.uuid4().hex}"
    defop(cos, OPS["cos"].fwd, lambda ops, g, out, x: g * ops.sin(x), dtypes=FLOAT,
          method=False, function=False)
    sin = _mutant(lambda ops, g, out, x: g * getattr(ops, cos)(x))
    try:
        x = rebours.tensor([0.3, -1.2, 2.0], dtype=rebours.float64, requires_grad=True)
        assert rebours.autograd.gradcheck(lambda x: apply(OPS[sin], x), (x,))
        with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect "
                                                 "to input 0,"):
            rebours.autograd.gradgradcheck(lambda x: apply(OPS[sin], x), (x,))
    finally:
        del OPS[sin], OPS[cos]


def test_gradcheck_warns_on_float32_and_refuses_no_grad() -> None:
    x = rebours.tensor([0.3, -1.2], requires_grad=True)
    with pytest.warns(UserWarning, match=r"^Input #0 requires gradient and is not a double "
                                         r"precision floating point"):
        rebours.autograd.gradcheck(lambda x: x * 2, (x,), raise_exception=False)
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to "
                                         "require gradient"):
        rebours.autograd.gradcheck(lambda x: x * 2, (x.detach().double(),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64 input: no warning
        assert rebours.autograd.gradcheck(lambda x: x * 2, (x.detach().double().requires_grad_(),))


def test_gradcheck_matches_torch_verdict_on_a_detach_bug() -> None:
    """x.detach() * x: the numerical Jacobian sees both factors move, backward only one."""
    data = [0.5, -1.0, 2.0]
    for lib in (torch, rebours):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda x: x.detach() * x, (x,),
                                      raise_exception=False) is False


def test_summary_of_the_op_table(capsys) -> None:
    """Printed at the end of the run: ops registered, and rows passing gradcheck/gradgradcheck."""
    diff_ops = [op for op in OPS.values() if op.vjps is not None]
    covered = {c for r in rows for c in r.covers}
    ok1 = {c for r in rows if r.name in PASSED["gradcheck"] for c in r.covers} & set(OPS)
    ok2 = {c for r in rows if r.name in PASSED["gradgradcheck"] for c in r.covers} & set(OPS)
    with capsys.disabled():
        print(f"\nop table: {len(OPS)} rows registered, {len(diff_ops)} differentiable; "
              f"op_db: {len(rows)} test rows covering {len(covered & set(OPS))} ops; "
              f"differentiable ops passing gradcheck: {len(ok1 & {o.name for o in diff_ops})}, "
              f"gradgradcheck: {len(ok2 & {o.name for o in diff_ops})} "
              f"(rows: {len(PASSED['gradcheck'])} / {len(PASSED['gradgradcheck'])})")
    assert PASSED["gradcheck"] <= {r.name for r in rows}
    assert len(diff_ops) > 100 and covered & set(OPS)
