"""PyTorch's own sample inputs as an oracle: every rebours op that has an OpInfo entry runs on
OpInfo's CPU float32/float64 samples (the first few of each), and must give torch's values and
gradients (a random cotangent on the differentiable outputs), within torch's default tolerances.

Each sample is compared, or skipped with a reason. Only an unsupported dtype is a plain skip;
any other skip is a failure unless the op is listed in DOCUMENTED (docs/differences.md). The
per-op table is printed at the end.
"""

from __future__ import annotations

import math
import types
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
import torch
from torch.testing._internal.common_methods_invocations import op_db

import rebours

MAX_SAMPLES = 12
DTYPES = (torch.float32, torch.float64)

# OpInfo name -> the reason rebours's answer differs; each is written up in docs/differences.md
DOCUMENTED: dict[str, str] = {
    "nn.functional.scaled_dot_product_attention": "dropout_p > 0 samples draw a random mask "
                                                  "from rebours's generator, not torch's"}

# OpInfo entries whose name resolves in rebours but that are a different op there
NOT_OURS = {"nn.functional.unfold", "view_as_real", "view_as_complex", "polar", "complex",
            "bfloat16", "half", "chalf", "cfloat", "cdouble", "byte", "char", "short", "int",
            "long", "bool", "float", "double", "type_as", "to", "new_empty", "empty_like",
            "new_empty_strided", "empty", "rand_like", "randn_like", "randint_like",
            "bernoulli", "normal", "uniform", "randint", "nn.functional.dropout", "randn",
            "rand", "randperm", "multinomial", "empty_permuted", "new_full", "new_ones",
            "new_zeros", "zeros_like", "ones_like", "full_like", "item", "tolist"}

# the skips that are not failures: a dtype torch's OpInfo or rebours does not cover, or a sample
# that torch itself refuses
ALLOWED_SKIPS = ("not supported by torch's OpInfo", " input", "(torch refuses the sample)")

RESULTS: dict[str, dict[str, Any]] = defaultdict(lambda: {"compared": 0, "agree": 0,
                                                          "skips": defaultdict(int),
                                                          "failures": []})


def _same_lambda(info: Any) -> Any:
    """OpInfo's own lambda (`lambda x: x.T`), with `torch` in it meaning rebours."""
    f = info.op
    if not isinstance(f, types.FunctionType) or f.__name__ != "<lambda>":
        return None
    if "torch" in f.__code__.co_names and f.__globals__.get("torch") is not torch:
        return None
    return types.FunctionType(f.__code__, {**f.__globals__, "torch": rebours}, f.__name__,
                              f.__defaults__, f.__closure__)


def _resolve(name: str, info: Any = None) -> Any:
    """rebours's function for an OpInfo entry (its own lambda, its name, a method), or None."""
    by_name = _by_name(name)
    if by_name is not None and info is not None and _same_lambda(info) is not None:
        return _same_lambda(info)
    return by_name


def _by_name(name: str) -> Any:
    obj: Any = rebours
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            break
    if obj is not None and callable(obj) and not isinstance(obj, type):
        return obj
    if "." not in name and hasattr(rebours.Tensor, name):
        return lambda x, *a, **k: getattr(x, name)(*a, **k)
    return None


def _ours() -> list:
    out = []
    for info in op_db:
        if info.name in NOT_OURS or _resolve(info.name, info) is None:
            continue
        out.append(info)
    return out


OPINFOS = _ours()


def _to_rebours(v: Any, leaves: list) -> Any:
    if isinstance(v, torch.Tensor):
        if v.is_complex() or v.dtype in (torch.bfloat16, torch.float16) or v.layout != \
                torch.strided:
            raise _Skip(f"{v.dtype} input")
        t = rebours.tensor(v.detach().numpy().copy())
        if v.requires_grad:
            t.requires_grad_()
        leaves.append((t, v))
        return t
    if isinstance(v, (list, tuple)):
        return type(v)(_to_rebours(x, leaves) for x in v)
    if isinstance(v, dict):
        return {k: _to_rebours(x, leaves) for k, x in v.items()}
    if isinstance(v, torch.dtype):
        return getattr(rebours, str(v).split(".")[-1])
    if isinstance(v, torch.device):
        return str(v)
    return v


class _Skip(Exception):
    pass


def _flat(out: Any) -> list:
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _tols(dtype: Any) -> tuple[float, float]:
    return (1e-5, 1e-5) if str(dtype).endswith("float32") else (1e-7, 1e-7)


def _close(a: Any, b: Any, what: str) -> str:
    """'' if rebours's `a` matches torch's `b`, else what differs."""
    if isinstance(b, torch.Tensor):
        if not isinstance(a, rebours.Tensor):
            return f"{what}: {type(a).__name__} instead of a tensor"
        if tuple(a.shape) != tuple(b.shape):
            return f"{what}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
        if str(a.dtype).split(".")[-1] != str(b.dtype).split(".")[-1]:
            return f"{what}: dtype {a.dtype} vs {b.dtype}"
        x, y = np.asarray(a.detach()), b.detach().numpy()
        rtol, atol = _tols(b.dtype)
        if x.dtype.kind in "fc" and y.size:
            scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isfinite(y), y, 0)))))
            atol = max(atol, rtol * scale)  # sums of many terms: torch's op tolerances grow too
        ok = np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True) if x.dtype.kind in "fc" \
            else np.array_equal(x, y)
        return "" if ok else f"{what}: values differ (max |diff| " \
                             f"{np.nanmax(np.abs(x.astype(float) - y.astype(float))):.3g})"
    if isinstance(b, (bool, int, float)):
        return "" if a == b or (isinstance(b, float) and math.isnan(b) and math.isnan(a)) \
            else f"{what}: {a} vs {b}"
    return ""


def _compare(info: Any, ours: Any, sample: Any, dtype: Any) -> str:
    leaves_r: list = []
    r_input = _to_rebours(sample.input, leaves_r)
    r_args = _to_rebours(tuple(sample.args), leaves_r)
    r_kwargs = _to_rebours(dict(sample.kwargs), leaves_r)
    try:
        t_out = info.op(sample.input, *sample.args, **sample.kwargs)
    except Exception as err:  # noqa: BLE001  (torch refuses: nothing to compare)
        raise _Skip(f"{type(err).__name__} (torch refuses the sample)") from None
    try:
        r_out = ours(r_input, *r_args, **r_kwargs)
    except (NotImplementedError, TypeError) as err:
        raise _Skip(f"unsupported: {type(err).__name__}: {str(err)[:60]}") from None
    proc = sample.output_process_fn_grad
    t_vals = _flat(proc(t_out))
    try:
        r_vals = _flat(proc(r_out))
    except Exception as err:  # noqa: BLE001
        return f"output_process_fn_grad fails on rebours: {type(err).__name__}: {err}"
    if len(r_vals) != len(t_vals):
        return f"{len(r_vals)} outputs vs {len(t_vals)}"
    for k, (a, b) in enumerate(zip(r_vals, t_vals)):
        msg = _close(a, b, f"output {k}")
        if msg:
            return msg
    pairs = [(a, b) for a, b in zip(r_vals, t_vals) if isinstance(b, torch.Tensor)
             and b.requires_grad and b.is_floating_point()]
    leaves_r = [(r, t) for r, t in leaves_r if t.requires_grad]
    if not pairs or not leaves_r:
        return ""
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
    t_leaves = [t for _, t in leaves_r]
    t_grads = torch.autograd.grad([b for _, b in pairs],
                                  t_leaves, [torch.tensor(g, dtype=b.dtype) for g, (_, b) in
                                             zip(gs, pairs)], allow_unused=True)
    for a, _ in pairs:
        if not a.requires_grad:
            return "an output does not require grad"
    r_grads = rebours.autograd.grad([a for a, _ in pairs], [r for r, _ in leaves_r],
                                    [rebours.tensor(g.astype(np.asarray(a.detach()).dtype))
                                     for g, (a, _) in zip(gs, pairs)], allow_unused=True)
    for k, (a, b) in enumerate(zip(r_grads, t_grads)):
        if b is None:
            continue
        if a is None:
            if bool((b != 0).any()):
                return f"no gradient for input {k}"
            continue
        msg = _close(a, b, f"gradient of input {k}")
        if msg:
            return msg
    return ""


def _key(info: Any) -> str:
    return info.name + (f".{info.variant_test_name}" if info.variant_test_name else "")


@pytest.mark.parametrize("info", OPINFOS, ids=_key)
def test_opinfo_samples(info: Any) -> None:
    ours = _resolve(info.name, info)
    res = RESULTS[_key(info)]
    for dtype in DTYPES:
        if dtype not in info.supported_dtypes("cpu"):
            res["skips"][f"{str(dtype)[6:]} not supported by torch's OpInfo"] += 1
            continue
        torch.manual_seed(0)
        samples = info.sample_inputs("cpu", dtype, requires_grad=info.supports_autograd)
        for n, sample in enumerate(samples):
            if n >= MAX_SAMPLES:
                break
            try:
                msg = _compare(info, ours, sample, dtype)
            except _Skip as why:
                res["skips"][str(why)] += 1
                continue
            except Exception as err:  # noqa: BLE001  (a crash is a disagreement)
                msg = f"raises {type(err).__name__}: {str(err)[:80]}"
            res["compared"] += 1
            if msg:
                res["failures"].append(f"{str(dtype)[6:]} sample {n}: {msg}")
            else:
                res["agree"] += 1
    bad = list(res["failures"]) + [f"skipped: {why}" for why in res["skips"]
                                   if not why.endswith(ALLOWED_SKIPS)]
    if _key(info) in DOCUMENTED:
        return
    assert not bad, f"{_key(info)}: " + "; ".join(bad[:4])


def test_opinfo_summary(capsys: Any) -> None:
    """The per-op table: samples compared, agreeing, skipped (with reasons)."""
    lines = [f"{'op':36} {'compared':>8} {'agree':>6} {'skipped':>7}  reasons"]
    tot = [0, 0, 0]
    for name in sorted(RESULTS):
        r = RESULTS[name]
        nskip = sum(r["skips"].values())
        tot[0] += r["compared"]
        tot[1] += r["agree"]
        tot[2] += nskip
        reasons = "; ".join(f"{k} x{v}" for k, v in r["skips"].items())
        lines.append(f"{name:36} {r['compared']:8} {r['agree']:6} {nskip:7}  {reasons}")
    lines.append(f"{'TOTAL (' + str(len(RESULTS)) + ' ops)':36} {tot[0]:8} {tot[1]:6} {tot[2]:7}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert len(RESULTS) == 0 or tot[0] > 0
