"""`rebours.explain(t)`: why `t.grad` is None, or NaN/inf, said after the fact, with the fix.

It reads what the tensor, its graph and the last backward recorded (see `watch.py`); nothing is
re-run. The answer is a `Report`: its `str` is plain text and it renders as HTML in Jupyter.

>>> import rebours
>>> w = rebours.tensor(2.0, requires_grad=True)
>>> y = rebours.tensor(w.item()) * 3
>>> rebours.explain(w).code
'RB024'
"""

from __future__ import annotations

import html
import linecache
import os
from typing import Any, Optional

import numpy as np

from ..errors import CATALOGUE
from . import watch


class Report:
    """A diagnosis: a headline, the facts, and the catalogue row (code) it comes from."""

    def __init__(self, headline: str, facts: list[str], code: Optional[str] = None,
                 fix: Optional[str] = None) -> None:
        self.headline = headline
        self.facts = facts
        self.code = code
        self._fix = fix

    @property
    def fix(self) -> str:
        """What to do: the report's own advice, else its catalogue row's fix."""
        if self._fix is not None:
            return self._fix
        return CATALOGUE[self.code].fix if self.code else ""

    @property
    def title(self) -> str:
        """The catalogue row's title ('' when the report names no row)."""
        return CATALOGUE[self.code].title if self.code else ""

    def __str__(self) -> str:
        lines = [self.headline, *(f"  - {f}" for f in self.facts)]
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        if self.code:
            lines.append(f"  see: rebours explain {self.code} ({self.title})")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in self.facts)
        parts = [f"<div class=\"rebours-report\"><p><b>{html.escape(self.headline)}</b></p>",
                 f"<ul>{items}</ul>" if items else ""]
        if self.fix:
            parts.append(f"<p><b>fix:</b> {html.escape(self.fix)}</p>")
        if self.code:
            parts.append(f"<p><b>see:</b> <code>rebours explain {self.code}</code> "
                         f"({html.escape(self.title)})</p>")
        parts.append("</div>")
        return "".join(parts)


# --------------------------------------------------------------------------------------------
# Wording helpers


def _at(where: Any) -> str:
    """`file.py:12 (`source`)` for a recorded (code_or_filename, lineno)."""
    if where is None:
        return "an unknown line"
    code, lineno = where
    filename = code if isinstance(code, str) else code.co_filename
    try:
        shown = os.path.relpath(filename)
        if shown.startswith(".."):
            shown = filename
    except ValueError:  # another drive on Windows
        shown = filename
    source = linecache.getline(filename, lineno).strip()
    return f"{shown}:{lineno} (`{source}`)" if source else f"{shown}:{lineno}"


def _source(where: Any) -> str:
    if where is None:
        return ""
    code, lineno = where
    filename = code if isinstance(code, str) else code.co_filename
    return linecache.getline(filename, lineno)


def _shape(shape: Any) -> str:
    shape = tuple(shape)
    return "()" if not shape else str(shape)


def _leaves_behind(node: Any) -> list[Any]:
    """The leaves requiring grad that feed `node`, nearest first."""
    out, stack, seen = [], [node], set()
    while stack and len(seen) < 256:
        fn = stack.pop(0)
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        for e in getattr(fn, "edges", ()):
            if e is None:
                continue
            nxt = e[0]
            if type(nxt).__name__ == "AccumulateGrad":
                if all(nxt.variable is not o for o in out):
                    out.append(nxt.variable)
            else:
                stack.append(nxt)
    return out


# Why an op's slope is infinite, by row name (the doctor watches these rows' backward).
_SLOPES = {
    "sqrt": "sqrt(s) has slope 1/(2*sqrt(s)), infinite at s = 0",
    "rsqrt": "rsqrt(s) has slope -1/(2*s**1.5), infinite at s = 0",
    "log": "log(s) has slope 1/s, infinite at s = 0",
    "log2": "log2(s) has slope 1/(s*ln 2), infinite at s = 0",
    "log10": "log10(s) has slope 1/(s*ln 10), infinite at s = 0",
    "log1p": "log1p(s) has slope 1/(1 + s), infinite at s = -1",
    "pow": "s**p with p < 1 has slope p*s**(p-1), infinite at s = 0",
    "div": "a/b has slope -a/b**2 in b (and 1/b in a), infinite at b = 0",
    "reciprocal": "1/s has slope -1/s**2, infinite at s = 0",
    "acos": "acos(s) has slope -1/sqrt(1 - s**2), infinite at s = 1 and s = -1",
    "asin": "asin(s) has slope 1/sqrt(1 - s**2), infinite at s = 1 and s = -1",
    "atanh": "atanh(s) has slope 1/(1 - s**2), infinite at s = 1 and s = -1",
}


# --------------------------------------------------------------------------------------------
# The diagnosis


def explain(t: Any) -> Report:
    """Why `t.grad` is what it is: None (and why), NaN/inf (and where it started), or fine."""
    from ..tensor import Tensor

    if not isinstance(t, Tensor):
        kind = type(t).__name__
        return Report(
            f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} has no .grad: only tensors take part "
            "in autograd",
            [f"{t!r} is a plain Python {type(t).__name__}: autograd treats it as a constant, and "
             "reading its .grad raises AttributeError"],
            "RB002")
    last = watch.LAST[0]
    if t._grad_fn is not None and t._grad is None:
        return _non_leaf(t)
    if not t._requires_grad:
        return _constant(t)
    g = t._grad
    if g is None:
        return _unreached(t, last)
    v = np.asarray(g._data) if g._device.type == "cpu" else None
    if v is not None and v.dtype.kind in "fc" and not np.isfinite(v).all():
        return _nonfinite(t, v, last)
    facts = [f".grad has shape {_shape(g.shape)}, dtype {g.dtype!r}, and every value is finite"]
    if last is not None:
        facts.append(f"the last backward ran at {_at(last.site)}")
    return Report(".grad is set and finite: nothing to explain", facts)


def _constant(t: Any) -> Report:
    facts = ["it was created without requires_grad=True, so backward computes no gradient for "
             "it and .grad stays None"]
    if t._dtype.category < 2:
        facts.append(f"its dtype is {t.dtype!r}: an integer tensor cannot require grad at all "
                     "(RB009); make it a float first")
    meta = t._meta
    if meta is not None and meta.cut is not None:
        how, where = meta.cut
        facts.append(f"note: it was used through {how} at {_at(where)}")
    facts.append(f"shape {_shape(t.shape)}, dtype {t.dtype!r}")
    return Report(".grad is None: this tensor does not require grad, so autograd treats it as a "
                  "constant", facts, "RB002")


def _non_leaf(t: Any) -> Report:
    fn = t._grad_fn
    name = fn.name()
    copy = name == "ToCopyBackward0"
    facts = [f"it is the output of {name}, made at {_at(fn.where)}"
             + (" (a copy made by .to(), .double(), .cuda() or the like)" if copy else "")]
    leaves = _leaves_behind(fn)
    for leaf in leaves[:3]:
        made = leaf._meta.where if leaf._meta is not None else None
        state = "set" if leaf._grad is not None else "None"
        facts.append(f"the gradient goes to the leaf it was computed from: shape "
                     f"{_shape(leaf.shape)}, {leaf.dtype!r}, made at {_at(made)}; that leaf's "
                     f".grad is {state}")
    if len(leaves) > 3:
        facts.append(f"... and {len(leaves) - 3} more leaves")
    if t.retains_grad:
        facts.append("retain_grad() was called, so its .grad fills after the next backward")
    else:
        facts.append("only leaves keep .grad; to keep this tensor's own gradient, call "
                     ".retain_grad() on it before backward")
    return Report(".grad is None: this tensor is not a leaf, and only leaves keep .grad", facts,
                  "RB004" if copy else "RB003")


def _unreached(t: Any, last: Any) -> Report:
    meta = t._meta
    cut = meta.cut if meta is not None else None
    cut_fact = None
    if cut:
        how, where = cut
        cut_fact = (f"the graph from it was cut by {how} at {_at(where)}: what was computed from "
                    "that value carries no graph back to this tensor")
    if last is None:
        if cut_fact:
            return Report(".grad is None: no backward() has run yet, and the graph from this "
                          "tensor was cut", ["no backward() has run yet", cut_fact], "RB024")
        return Report(".grad is None: no backward() has run yet",
                      ["no backward() has run yet: .grad fills when backward() reaches this "
                       "tensor"],
                      fix="compute a scalar loss from this tensor and call loss.backward()")
    facts = [f"the last backward, at {_at(last.site)}, did not reach this tensor"]
    if cut_fact:
        facts.append(cut_fact)
        return Report(".grad is None: the graph from this tensor was cut", facts, "RB024")
    facts.append("it was not used in the computation that backward started from, or only "
                 "through ops with no derivative (argmax, comparisons, rounding to integers)")
    return Report(".grad is None: the last backward did not reach this tensor", facts, "RB022",
                  fix="use it in the loss you call backward() on, through differentiable ops; "
                      "for argmax or a comparison, differentiate a smooth surrogate (sigmoid, "
                      "softmax) instead")


def _nonfinite(t: Any, v: np.ndarray, last: Any) -> Report:
    kind = "NaN" if np.isnan(v).any() else "inf"
    n_bad = int((~np.isfinite(v)).sum())
    facts = [f"{n_bad} of {v.size} values of .grad are {kind}"
             + (" or inf" if kind == "NaN" and np.isinf(v).any() else "")]
    stale = last is not None and t._reached is not last
    first = last.first_nonfinite if last is not None and not stale else None
    code = "RB007"
    if stale:
        facts.append(f"the last backward, at {_at(last.site)}, did not write this .grad: the "
                     "non-finite values come from an earlier backward; call rebours.explain "
                     "right after the backward that made them, or run the script with "
                     "`rebours run` (anomaly mode) to stop at the node")
    elif first is not None:
        node, op = first["node"], first["op"]
        facts.append(f"the first non-finite gradient came from {node}, made at "
                     f"{_at(first['where'])}: its gradient for input {first['input']} "
                     f"(shape {_shape(first['shape'])}) was {first['kind']}")
        slope = _SLOPES.get(op, f"{op} has an infinite slope at the edge of its domain")
        if first["kind"] == "nan":
            # a singular row that made NaN itself: 0 flowed in where its slope is infinite
            code = "RB016"
            line = _source(first["where"])
            sure = "where(" in line
            facts.append(f"{slope}, and the gradient flowing into {node} was 0 there: "
                         "0 * inf = NaN")
            facts.append("that line selects with where(...): its gradient sends 0 to the branch "
                         "not taken, which was still computed at every position" if sure else
                         "a 0 flowing in usually comes from the branch of where(...) not taken "
                         "(or a mask that multiplies by 0)")
        else:
            facts.append(f"{slope}; the chain rule carried that inf on"
                         + ("; a 0 further along (such as d(x**2)/dx at x = 0) turned it into "
                            "NaN" if kind == "NaN" else ""))
    else:
        facts.append("no op with an infinite slope produced it: an overflow (exp of a large "
                     "number), a NaN in the inputs, or a .grad set by hand is likely; run the "
                     "script with `rebours run` (anomaly mode) to find the node")
    if last is not None and not stale:
        facts.append(f"the backward ran at {_at(last.site)}")
    return Report(f".grad contains {kind}", facts, code)
