"""The op table: `defop()` adds one row per op (forward, backward per input, node name, dtype rule).

Every layer reads `OPS`; none edits it after the package has loaded. A row's forward runs on raw
arrays with the backend namespace `xp`. A row's backward ("vjp", one per tensor input, or None for
"not differentiable") reads like a textbook derivative:

    vjp=lambda ops, g, out, x: g * ops.cos(x)

`g` is the gradient of the output, `out` the output, then the inputs and the op's parameters.
`ops` is a namespace of the table's own rows: on raw arrays for a first-order backward, and on
Tensors (so recorded, differentiable again) under `create_graph=True`. Rules never broadcast back,
cast dtypes, or check whether an input needs a gradient: the engine does that once, for all rows.
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Callable
from typing import Any, Optional, Union

Vjp = Optional[Callable[..., Any]]
NodeName = Union[str, Callable[..., str]]

# dtype rules: how the compute dtype and the output dtype follow from the inputs.
PROMOTE = "promote"      # add, mul, maximum, where: torch.result_type of the inputs
FLOAT = "float"          # div, exp, sqrt, mean: as PROMOTE, integers become the default float
BOOL = "bool"            # comparisons, isnan: computed in the promoted type, result is bool
KEEP = "keep"            # shape ops, indexing: no promotion, the first input's dtype
LONG = "long"            # argmax: int64 result
SUM = "sum"              # sum, prod, cumsum: integers and bool accumulate in int64


class OpDef:
    """One row of the table. Read by dispatch (forward), the engine (vjps), tests and the doctor."""

    __slots__ = ("name", "fwd", "vjps", "node", "dtypes", "nin", "params", "saves",
                 "saves_out", "nout", "diff_outputs", "view", "kinks", "domain", "doc",
                 "promote_args", "method", "function", "node_classes", "wrap_outputs", "node_cls",
                 "fast", "singular")

    def __init__(self, name: str, fwd: Callable[..., Any], vjps: Optional[tuple[Vjp, ...]],
                 node: NodeName, dtypes: Any, nin: int, params: tuple[str, ...],
                 saves: tuple[int, ...], saves_out: bool, nout: int,
                 diff_outputs: Optional[tuple[int, ...]], view: Any, kinks: tuple[float, ...],
                 domain: Optional[tuple[Any, Any]], doc: str,
                 promote_args: Optional[tuple[int, ...]], method: Union[bool, str],
                 function: Union[bool, str]) -> None:
        self.name = name
        self.fwd = fwd
        self.vjps = vjps
        self.node = node
        self.dtypes = dtypes
        self.nin = nin
        self.params = params
        self.saves = saves
        self.saves_out = saves_out
        self.nout = nout
        self.diff_outputs = diff_outputs
        self.view = view
        self.kinks = kinks
        self.domain = domain
        self.doc = doc
        self.promote_args = promote_args
        self.method = method
        self.function = function
        self.node_classes: dict[str, type] = {}
        self.wrap_outputs: Optional[Callable[..., Any]] = None
        self.node_cls: Optional[type] = None  # set when the node name does not depend on args
        # dispatch's fast path applies: one output, not a view, a dtype rule it knows
        # its derivative is infinite somewhere: the doctor watches its backward for inf/nan
        # True, False, or a test of the node's saved args: can its backward make a new inf/nan?
        self.singular: Any = SINGULAR_WHEN.get(name, domain is not None or name in SINGULAR)
        self.fast = (nout == 1 and not view and promote_args is None and nin in (1, 2)
                     and (dtypes in (PROMOTE, KEEP, FLOAT, BOOL) or callable(dtypes)))

    @property
    def differentiable(self) -> bool:
        return self.vjps is not None

    def __repr__(self) -> str:
        return f"<op {self.name}>"


OPS: dict[str, OpDef] = {}

# Rows whose derivative is infinite at some input (besides those that declare a `domain`).
SINGULAR = frozenset({"div", "pow", "rsqrt", "reciprocal", "acos", "asin", "atanh", "acosh",
                      "logit", "xlogy", "erfinv", "atan2", "std", "prod_except", "cholesky",
                      "inv", "det", "slogdet", "solve", "pinv", "svd", "eigh", "qr", "tan"})


# Rows singular only for some arguments: dividing by a nonzero number is finite (the doctor's
# check of the result would cost a pass over it for nothing).
SINGULAR_WHEN: dict[str, Callable[[tuple], bool]] = {
    "div": lambda args: not (type(args[1]) in (int, float) and args[1] != 0),
}


def _loaded_names(fn: Callable[..., Any]) -> set[str]:
    """Local names a function reads (its arguments that the body actually uses)."""
    code = fn.__code__
    names: set[str] = set(code.co_cellvars)  # captured by an inner lambda: treat as read
    for ins in dis.get_instructions(code):
        if ins.opname.startswith("LOAD_FAST") or ins.opname == "LOAD_DEREF":
            val = ins.argval
            names.update(val if isinstance(val, tuple) else (val,))
    return names


def _default_node_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Backward0"


def defop(name: str, fwd: Callable[..., Any], vjp: Union[Vjp, tuple[Vjp, ...]] = None, *,
          node: Optional[NodeName] = None, dtypes: Any = PROMOTE,
          saves: Optional[tuple[str, ...]] = None, nout: int = 1,
          diff_outputs: Optional[tuple[int, ...]] = None, view: bool = False,
          kinks: tuple[float, ...] = (), domain: Optional[tuple[Any, Any]] = None,
          promote_args: Optional[tuple[int, ...]] = None, method: Union[bool, str] = True,
          function: Union[bool, str] = True, doc: str = "",
          wrap_outputs: Optional[Callable[..., Any]] = None) -> OpDef:
    """Add a row to the op table and return it.

    `fwd(xp, *inputs, **params)`: inputs are the positional parameters without defaults, params
    the keyword ones. `vjp`: one rule, a tuple of rules (one per input, None where an input is
    not differentiable), or None for an op that is not differentiable at all. `saves` names what
    the rules read (inferred from their bodies by default); inputs that are not saved reach the
    rules as shape-and-dtype stand-ins, so reading `x.shape` costs no memory.
    """
    if name in OPS:
        raise ValueError(f"op {name!r} is defined twice")
    sig = inspect.signature(fwd)
    ps = list(sig.parameters.values())[1:]  # skip xp
    inputs = [p.name for p in ps if p.default is inspect.Parameter.empty
              and p.kind is p.POSITIONAL_OR_KEYWORD]
    params = tuple(p.name for p in ps if p.default is not inspect.Parameter.empty)
    nin = len(inputs)
    if any(p.kind is p.VAR_POSITIONAL for p in ps):
        nin = -1  # variadic (cat, stack): inputs arrive as one sequence argument
    vjps: Optional[tuple[Vjp, ...]]
    if vjp is None:
        vjps = None
    elif callable(vjp):
        vjps = (vjp,)
    else:
        vjps = tuple(vjp)
    saved_idx: tuple[int, ...]
    if saves is not None:
        saves_out = "out" in saves
        saved_idx = tuple(i for i, n in enumerate(inputs) if n in saves)
        if nin == -1:
            saved_idx = (0,) if set(saves) - {"out"} else ()
    else:  # infer, by position: a rule's arguments are (ops, g, out, *inputs, **params)
        saves_out, found = False, set()
        for rule in vjps or ():
            if rule is None:
                continue
            code = rule.__code__
            argnames = code.co_varnames[:code.co_argcount]
            if code.co_flags & inspect.CO_VARARGS:
                argnames += (code.co_varnames[code.co_argcount + code.co_kwonlyargcount],)
            used = _loaded_names(rule)
            saves_out |= len(argnames) > 2 and argnames[2] in used
            found |= {i for i, n in enumerate(argnames[3:]) if n in used}
        saved_idx = tuple(sorted(found)) if nin != -1 else ((0,) if found else ())
    op = OpDef(name, fwd, vjps, node or _default_node_name(name), dtypes, nin, params,
               saved_idx, saves_out, nout, diff_outputs, view, kinks, domain,
               doc or (fwd.__doc__ or ""), promote_args, method, function)
    op.wrap_outputs = wrap_outputs
    OPS[name] = op
    return op


def take_view(xp: Any, arr: Any, chain: tuple) -> Any:
    """Apply a view chain (the view rows that made a view from its base) to an array shaped like
    the base: the same region, as a view. In-place writes through views are recorded with it."""
    for op, params, k in chain:
        arr = op.fwd(xp, arr, **params)
        if k is not None:
            arr = arr[k]
    return arr
