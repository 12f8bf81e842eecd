"""`rebours.explain(t)`: why `t.grad` is None, or NaN/inf, said after the fact, with the fix.

It reads what the tensor, its graph and the last backward recorded (see `watch.py`); nothing is
re-run. The answer is a `Report`: its `str` is plain text and it renders as HTML in Jupyter.
"""

from __future__ import annotations

import html
from typing import Any, Optional

import numpy as np

from ..errors import CATALOGUE, where_text
from . import watch


class Report:
    """A diagnosis: a headline, the facts, and the catalogue row it comes from."""

    def __init__(self, headline: str, facts: list[str], code: Optional[str] = None) -> None:
        self.headline = headline
        self.facts = facts
        self.code = code

    @property
    def fix(self) -> str:
        return CATALOGUE[self.code].fix if self.code else ""

    def __str__(self) -> str:
        lines = [self.headline, *(f"  - {f}" for f in self.facts)]
        if self.code:
            lines += [f"  fix: {self.fix}", f"  see: rebours explain {self.code}"]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.facts)
        fix = (f"<p><b>fix:</b> {html.escape(self.fix)} <code>rebours explain {self.code}</code>"
               "</p>") if self.code else ""
        return f"<div><p><b>{html.escape(self.headline)}</b></p><ul>{items}</ul>{fix}</div>"


def _site(where: Any) -> str:
    return where_text(where) or "an unknown line"


def _leaves_behind(node: Any) -> list[Any]:
    """The leaves requiring grad that feed `node` directly or through a few nodes."""
    out, stack, seen = [], [node], set()
    while stack and len(seen) < 64:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        for e in getattr(fn, "edges", ()):
            if e is None:
                continue
            nxt = e[0]
            if type(nxt).__name__ == "AccumulateGrad":
                out.append(nxt.variable)
            else:
                stack.append(nxt)
    return out


def explain(t: Any) -> Report:
    """Why `t.grad` is what it is: None (and why), NaN/inf (and where it started), or fine."""
    from ..tensor import Tensor

    if not isinstance(t, Tensor):
        return Report(f"a {type(t).__name__} has no .grad: only tensors take part in autograd",
                      ["make it a tensor with rebours.tensor(..., requires_grad=True)"], "RB002")
    last = watch.LAST[0]
    if t._grad_fn is not None:
        return _non_leaf(t)
    if not t._requires_grad:
        meta = t._meta
        made = f"it was made at {_site(meta.where)}" if meta and meta.where else \
            "it was created without requires_grad=True"
        return Report(".grad is None: this tensor does not require grad, so autograd treats it "
                      "as a constant", [made, f"dtype {t.dtype!r}, shape {tuple(t.shape)}"],
                      "RB002")
    g = t._grad
    if g is None:
        return _unreached(t, last)
    v = np.asarray(g._data) if g._device.type == "cpu" else None
    if v is not None and v.dtype.kind in "fc" and not np.isfinite(v).all():
        return _nonfinite(t, v, last)
    facts = [f".grad has shape {tuple(g.shape)}, dtype {g.dtype!r}, all finite"]
    if last is not None:
        facts.append(f"the last backward ran at {_site(last.site)}")
    return Report(".grad is set and finite: nothing to explain", facts)


def _non_leaf(t: Any) -> Report:
    fn = t._grad_fn
    facts = [f"it is the output of {fn.name()}, made at {_site(fn.where)}"]
    leaves = _leaves_behind(fn)
    for leaf in leaves[:3]:
        made = leaf._meta.where if leaf._meta is not None else None
        facts.append(f"the leaf it was computed from (shape {tuple(leaf.shape)}, made at "
                     f"{_site(made)}) is where the gradient goes; its .grad is "
                     f"{'set' if leaf._grad is not None else 'None'}")
    if t.retains_grad:
        facts.append("retain_grad() was called, so .grad fills after the next backward")
    code = "RB004" if fn.name() == "ToCopyBackward0" else "RB003"
    return Report(".grad is None: this tensor is not a leaf, and only leaves keep .grad", facts,
                  code)


def _unreached(t: Any, last: Any) -> Report:
    meta = t._meta
    cut = meta.cut if meta is not None else None
    if last is None:
        facts = ["no backward() has run yet"]
        if cut:
            facts.append(f"note: the graph was cut from it by {cut[0]} at {_site(cut[1])}")
        return Report(".grad is None: no backward has reached it yet", facts, None)
    facts = [f"the last backward, at {_site(last.site)}, did not reach this leaf"]
    if cut:
        facts.append(f"the path from it was cut by {cut[0]} at {_site(cut[1])}: the result "
                     "of that call carries no graph back to this tensor")
        return Report(".grad is None: the graph from this tensor was cut", facts, "RB024")
    facts.append("it was not used in the computation that backward started from (or only "
                 "through non-differentiable ops such as argmax or comparisons)")
    return Report(".grad is None: the last backward did not reach this tensor", facts, "RB022")


def _nonfinite(t: Any, v: np.ndarray, last: Any) -> Report:
    kind = "NaN" if np.isnan(v).any() else "inf"
    n_bad = int((~np.isfinite(v)).sum())
    facts = [f"{n_bad} of {v.size} values of .grad are non-finite ({kind})"]
    first = last.first_nonfinite if last is not None else None
    code = "RB007"
    if first is not None:
        facts.append(f"the first non-finite gradient came from {first['node']} (made at "
                     f"{_site(first['where'])}): its gradient for input {first['input']} "
                     f"(shape {first['shape']}) was {first['kind']}")
        if first["op"] in ("sqrt", "pow", "rsqrt"):
            facts.append("sqrt(s) has slope 1/(2*sqrt(s)), infinite at s = 0; times a zero "
                         "further down (x at x = 0) that gives NaN")
    else:
        facts.append("no row with a singular derivative produced it: an overflow is likely; run "
                     "the script with `rebours run` (anomaly mode) to find the node")
    if last is not None:
        facts.append(f"the backward ran at {_site(last.site)}")
    return Report(f".grad contains {kind}", facts, code)
