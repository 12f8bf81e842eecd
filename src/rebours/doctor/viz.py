"""`rebours.viz.draw`: a picture of the autograd graph behind tensors, as Graphviz DOT text.

Boxes are the recorded ops (torch's node names, e.g. `MulBackward0`) with their output shape,
dtype, device and the user's `file:line`; blue ellipses are the leaves that get `.grad`; arrows
point the way gradients flow, from the outputs to the leaves. What the doctor knows is drawn on
top: the node that made the first NaN/inf in the last backward is red, a saved tensor written in
place after it was saved is red with both versions, a tensor cut from the graph (`.detach()`,
`.item()`, `no_grad`) is dashed. The DOT text needs nothing installed; pictures need the `viz`
extra (the `graphviz` Python package) and Graphviz's `dot` program.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

from . import watch
from .watch import fingerprint

_MISSING = ("rebours.viz needs Graphviz to draw pictures: the Python package "
            "(pip install 'rebours[viz]') and the `dot` program (the system package graphviz: "
            "apt-get install graphviz, brew install graphviz); {what} is missing "
            "(Graph.source has the DOT text without either)")
_HEAD = ['digraph rebours {',
         '  graph [rankdir=TB, fontname="Helvetica"];',
         '  node [shape=box, style="filled,rounded", fillcolor="#eeeeee", fontname="Helvetica",'
         ' fontsize=10];',
         '  edge [fontname="Helvetica", fontsize=9];']
_LEAF = {"shape": "ellipse", "fillcolor": "#cce5ff"}
_RED = {"color": "#cc0000", "fontcolor": "#cc0000", "fillcolor": "#ffd6d6", "penwidth": "2"}
_GREY = {"fillcolor": "white", "fontcolor": "#666666"}


class Graph:
    """The DOT text of a drawn graph (`.source`, `str()`), rendered by Graphviz on demand."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"<rebours.viz.Graph: {self.source.count(' [label=')} nodes>"

    def pipe(self, format: str = "svg") -> bytes:
        """The picture's bytes in `format` ("png", "svg", "pdf", ...), made by `dot`."""
        try:
            import graphviz
        except ImportError:
            raise ImportError(_MISSING.format(what="the Python package graphviz")) from None
        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(_MISSING.format(what="the `dot` program")) from None

    def render(self, path: Union[str, os.PathLike], format: Optional[str] = None) -> str:
        """Write the picture to `path`; `format` defaults to the path's suffix, else "png"."""
        path = os.fspath(path)
        fmt = format or os.path.splitext(path)[1].lstrip(".").lower() or "png"
        data = self.pipe(fmt)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode("utf-8")


def draw(*tensors: Any, params: Any = None, show_saved: bool = True) -> Graph:
    """The graph behind `tensors`, walked backward from them (iteratively: any depth).

    `params` names tensors, as `{"w": w}` or `model.named_parameters()`; named tensors that the
    graph does not reach are drawn apart, greyed, with the cut that dropped them if one is known.
    `show_saved=False` hides saved tensors, except those modified in place since they were saved.

    >>> import rebours, rebours.viz
    >>> x = rebours.tensor(4.0, requires_grad=True)
    >>> y = rebours.tensor(8.0) * x + 5.0
    >>> print(rebours.viz.draw(y, params={"x": x}).source.splitlines()[0])
    digraph rebours {
    """
    tensors = _flat(tensors)
    names = _names(params)
    order, ids = _walk(tensors)
    bad = watch.LAST[0].first_nonfinite if watch.LAST[0] is not None else None
    suspects = [fn for fn in order if bad is not None and fn.where is not None
                and fn.name() == bad["node"] and fn.where == bad["where"]]
    roots = {id(t._grad_fn if t._grad_fn is not None else (t._acc and t._acc())) for t in tensors}
    lines = list(_HEAD)
    for fn in order:
        nid = ids[fn]
        leaf = type(fn).__name__ == "AccumulateGrad"
        label, attrs = (_leaf(fn.variable, names, reached=True) if leaf
                        else _op(fn, names, fn in suspects, bad, len(suspects)))
        if id(fn) in roots:
            attrs.setdefault("penwidth", "2")
        lines.append(_line(nid, label, attrs))
        if not leaf and (show_saved or fn.versions):
            lines += _saved(fn, nid, show_saved)
        for e in fn.edges:
            if e is not None:
                nxt, nr = e
                many = type(nxt).__name__ != "AccumulateGrad" and len(nxt.out_meta) > 1
                lines.append(f"  {nid} -> {ids[nxt]}" + (f" [label=\"[{nr}]\"];" if many else ";"))
    k = 0
    for t in tensors:  # roots with no graph: constants
        if t._grad_fn is None and not t._requires_grad:
            lines.append(_line(f"c{k}", _leaf(t, names)[0], {"fillcolor": "white"}))
            k += 1
    reached = {id(fn.variable) for fn in order if type(fn).__name__ == "AccumulateGrad"}
    reached |= {id(fn) for fn in order} | {id(t) for t in tensors}
    for _, t in names.values():
        if id(t) not in reached and id(t._grad_fn) not in reached:
            label, attrs = _leaf(t, names)
            lines.append(_line(f"p{k}", label + "\nnot reached from the drawn outputs",
                               {**attrs, **_GREY}))
            k += 1
    lines.append("}")
    return Graph("\n".join(lines))


def _flat(args: tuple) -> tuple:
    """The tensors in `args`, where a list or tuple (a model's outputs) stands for its items."""
    out, stack = [], list(reversed(args))
    while stack:
        a = stack.pop()
        if isinstance(a, (list, tuple)):
            stack.extend(reversed(a))
        elif hasattr(a, "_grad_fn") and hasattr(a, "_requires_grad"):
            out.append(a)
        else:
            raise TypeError(f"rebours.viz.draw takes tensors, got {type(a).__name__}")
    return tuple(out)


def _names(params: Any) -> dict[int, tuple[str, Any]]:
    """id(tensor) -> (name, tensor) for a mapping or (name, tensor) pairs."""
    if params is None:
        return {}
    pairs: Iterable = params.items() if isinstance(params, Mapping) else params
    return {id(t): (str(n), t) for n, t in pairs}


def _walk(tensors: tuple) -> tuple[list, dict]:
    """Nodes in depth-first order from the roots, each once, with ids n0, n1, ... in that order."""
    stack = []
    for t in reversed(tensors):
        if t._grad_fn is not None:
            stack.append(t._grad_fn)
        elif t._requires_grad:
            stack.append(t._accumulator())
    order, ids = [], {}
    while stack:
        fn = stack.pop()
        if fn in ids:
            continue
        ids[fn] = f"n{len(order)}"
        order.append(fn)
        stack.extend(e[0] for e in reversed(fn.edges) if e is not None and e[0] not in ids)
    return order, ids


def _op(fn: Any, names: dict, suspect: bool, bad: Any, n: int) -> tuple[str, dict]:
    lines = [fn.name()]
    for name, t in names.values():
        if t._grad_fn is fn:
            lines.insert(0, name)
            break
    outs = [f"{_shape(s)} {_dt(d)}" for s, d in fn.out_meta[:3]]
    more = f" (+{len(fn.out_meta) - 3} outputs)" if len(fn.out_meta) > 3 else ""
    dev = getattr(fn, "device", None)
    lines.append(", ".join(outs) + more + (f" {dev}" if dev is not None else ""))
    if fn.where is not None:
        lines.append(_at(fn.where))
    attrs: dict = {}
    cut = _cut_of(names, fn)
    if cut:
        lines.append(cut)
        attrs["style"] = "filled,rounded,dashed"
    if suspect:
        one = f" (one of {n} nodes from this line)" if n > 1 else ""
        lines.append(f"first {bad['kind']} in the last backward: grad of input {bad['input']}{one}")
        attrs.update(_RED)
    return "\n".join(lines), attrs


def _leaf(t: Any, names: dict, reached: bool = False) -> tuple[str, dict]:
    named = names.get(id(t))
    lines = [named[0]] if named else []
    if t._grad_fn is not None:
        lines.append(f"non-leaf (grad_fn={t._grad_fn.name()})")
    elif t._requires_grad:
        lines.append("AccumulateGrad: gets .grad")
    else:
        lines.append("does not require grad")
    lines.append(f"{_shape(t.shape)} {_dt(t.dtype)} {t.device}")
    meta = t._meta
    if meta is not None and meta.where is not None:
        lines.append("made at " + _at(meta.where))
    attrs = dict(_LEAF)
    if meta is not None and meta.cut is not None and not reached:  # reached: the cut was elsewhere
        lines.append(_cut_text(meta.cut))
        attrs["style"] = "filled,dashed"
    return "\n".join(lines), attrs


def _cut_of(names: dict, fn: Any) -> str:
    """The cut of a named non-leaf tensor whose node is `fn`, if any."""
    for _, t in names.values():
        if t._grad_fn is fn and t._meta is not None and t._meta.cut is not None:
            return _cut_text(t._meta.cut)
    return ""


def _cut_text(cut: tuple) -> str:
    how, where = cut
    return f"cut by {how}" + (f" at {_at(where)}" if where is not None else "")


def _saved(fn: Any, nid: str, show_all: bool) -> list[str]:
    """A small node per saved tensor, red with both versions if it was modified in place."""
    out = []
    ctx = (getattr(fn, "params", None) or {}).get("ctx")
    changed = {idx for vc, crc, idx in (fn.prints or ())
               if fn.args is not None and fingerprint(fn.args[idx]) != crc}
    for k, (vc, seen, idx) in enumerate(fn.versions):
        stale = vc.value != seen
        if not (show_all or stale or idx in changed):
            continue
        if ctx is not None:
            what, meta = f"ctx.saved_tensors[{idx}]", None
            saved = getattr(ctx, "_saved", None) or ()
            if idx < len(saved) and hasattr(saved[idx], "shape"):
                meta = (saved[idx].shape, saved[idx].dtype)
        elif idx >= 0:
            what, meta = f"saved input {idx}", fn.in_meta[idx]
        else:
            what, meta = "saved output" + (f" {-1 - idx}" if len(fn.out_meta) > 1 else ""), \
                fn.out_meta[-1 - idx]
        lines = [what + (f": {_shape(meta[0])} {_dt(meta[1])}" if meta else "")]
        attrs = {"shape": "note", "fillcolor": "#fff2cc"}
        if stale:
            lines.append(f"saved at v{seen}, now v{vc.value}")
            if vc.op or vc.where is not None:
                lines.append("by " + (vc.op or "an in-place op")
                             + (f" at {_at(vc.where)}" if vc.where is not None else ""))
            attrs.update(_RED)
        elif idx in changed:
            how, where = vc.exposed
            lines.append(f"written through NumPy after it was saved ({how} at {_at(where)})")
            attrs.update(_RED)
        else:
            lines.append(f"v{seen}")
        if fn.freed is not None:
            lines.append("freed by the backward at " + _at(fn.freed))
        out.append(_line(f"{nid}s{k}", "\n".join(lines), attrs))
        out.append(f"  {nid}s{k} -> {nid} [style=dotted, arrowhead=none];")
    return out


def _line(nid: str, label: str, attrs: dict) -> str:
    """One DOT node statement, attributes in a fixed order."""
    rest = "".join(f", {k}={_q(v)}" for k, v in attrs.items())
    return f"  {nid} [label={_q(label)}{rest}];"


def _at(where: Any) -> str:
    """`file.py:12` (basename) for a recorded (code_or_filename, lineno)."""
    if where is None:
        return "an unknown line"
    code, lineno = where
    filename = code if isinstance(code, str) else code.co_filename
    return f"{os.path.basename(filename)}:{lineno}"


def _shape(shape: Any) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _dt(dtype: Any) -> str:
    return getattr(dtype, "name", None) or str(dtype)


def _q(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, newlines as centered line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
