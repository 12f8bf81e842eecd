"""`apply(op, *args)`: promote dtypes, check devices, run a row's forward, wrap, record a Node.

This is the path every op takes. It never names an op: all it knows comes from the row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes as D
from .autograd.grad_mode import STATE
from .autograd.graph import Meta, VersionCounter, node_class, user_where
from .backends import CPU, META, CpuBackend, backend_of
from .doctor.watch import fingerprint, note_cut
from .errors import DeviceMismatchError, where_text
from .ops.registry import BOOL, FLOAT, KEEP, LONG, PROMOTE, SUM, OpDef, take_view  # noqa: F401
from .tensor import Tensor

_EMPTY: dict = {}
_new = object.__new__


def _result_dtypes(op: OpDef, args: tuple, params: dict, tpos: list[int]) -> tuple[Any, D.dtype]:
    """(compute dtype or None for 'leave inputs alone', output dtype) from the row's rule."""
    rule = op.dtypes
    if rule == KEEP:
        return None, args[tpos[0]]._dtype
    if callable(rule):
        return rule(args, params)
    positions = op.promote_args if op.promote_args is not None else range(len(args))
    ts, ss = [], []
    first = None
    same = True
    for i in positions:
        a = args[i]
        if isinstance(a, Tensor):
            ts.append(a)
            if first is None:
                first = a._dtype
            elif a._dtype is not first:
                same = False
        elif isinstance(a, (int, float, complex)):  # bool is an int
            ss.append(a)
    if same and not ss and first is not None:
        cdt = first
    else:
        cdt = D.result_type(ts, ss)
    if rule == PROMOTE:
        return cdt, cdt
    if rule == FLOAT:
        if cdt.category < 2:
            cdt = D.get_default_dtype()
        return cdt, cdt
    if rule == BOOL:
        return cdt, D.bool_
    if rule == LONG:
        return cdt, D.int64
    if rule == SUM:
        return cdt, (D.int64 if cdt.category < 2 else cdt)
    raise ValueError(f"unknown dtype rule {rule!r} for {op}")


def _device_of(op: OpDef, args: tuple, tpos: list[int]) -> Any:
    dev = None
    for i in tpos:
        d = args[i]._device
        if dev is None or dev is d:
            dev = d
            continue
        # torch: a 0-dim CPU tensor may join tensors on another device, as a number would
        if d is CPU and args[i]._data.ndim == 0:
            continue
        if dev is CPU and all(args[j]._data.ndim == 0 for j in tpos if args[j]._device is CPU):
            dev = d
            continue
        raise device_mismatch(op, args, tpos)
    return dev


def device_mismatch(op: OpDef, args: tuple, tpos: list[int]) -> DeviceMismatchError:
    devs = [str(args[i]._device) for i in tpos]
    seen = list(dict.fromkeys(devs))
    what = ", ".join(f"input {n} on {d} shape {tuple(args[i]._data.shape)}"
                     for n, (i, d) in enumerate(zip(tpos, devs)))
    headline = (f"Expected all tensors to be on the same device, but found at least two devices, "
                f"{seen[0]} and {seen[1]}!")
    if "meta" in seen:  # torch words the meta case differently
        headline = f"Tensor on device {seen[1]} is not on the expected device {seen[0]}!"
    notes = []
    for n, i in enumerate(tpos):
        t = args[i]
        made = t._grad_fn.where if t._grad_fn is not None else (
            t._meta.where if t._meta is not None else None)
        if made is not None:
            notes.append(f"input {n} ({t._device}) was made at {where_text(made)}")
    return DeviceMismatchError(
        headline,
        where=user_where(3), what=f"{op.name}: {what}", notes=tuple(notes),
        fix=f"move one side: `a.to(b.device)` (here `.to('{seen[0]}')` or `.to('{seen[1]}')`), "
            "or create both tensors with the same `device=`.")


# torch's weak Python scalars: a number joins a tensor's dtype when its kind is not higher
# (a float with a float tensor, an int with an int or float tensor); otherwise promotion decides.
_SCALAR_CATEGORY = {float: 2, int: 1, bool: 0, complex: 3}


def apply(op: OpDef, *args: Any, **params: Any) -> Any:
    """Run `op` on `args` (Tensors and Python numbers) and record it for autograd if needed.

    The common case is handled inline: a row marked `fast` (one output, not a view, a dtype rule
    without promotion) on CPU tensors of one dtype, or a tensor and a number that fits its dtype.
    Anything else goes to `_apply_general`.
    """
    if op.fast:
        a = args[0]
        if isinstance(a, Tensor) and a._device is CPU:
            dt = a._dtype
            rg = a._requires_grad
            rule = op.dtypes
            if rule is BOOL:
                odt = D.bool_
            elif rule is FLOAT and dt.category < 2:
                odt = D.get_default_dtype()
            elif rule is PROMOTE or rule is KEEP or rule is FLOAT:
                odt = dt
            else:  # the row's own rule (sum, mean, ...): inline only if it computes in dt
                cdt, odt = rule(args, params)
                if cdt is not dt or len(args) != 1:
                    return _apply_general(op, args, params)
            n = len(args)
            if n == 1:  # (a call with ** costs ~130 ns more, even for an empty dict)
                out = op.fwd(np, a._data, **params) if params else op.fwd(np, a._data)
            elif n == 2:
                b = args[1]
                if isinstance(b, Tensor):
                    if b._dtype is not dt or b._device is not CPU:
                        return _apply_general(op, args, params)
                    rg = rg or b._requires_grad
                    out = (op.fwd(np, a._data, b._data, **params) if params
                           else op.fwd(np, a._data, b._data))
                elif _SCALAR_CATEGORY.get(type(b), 9) <= dt.category:
                    out = op.fwd(np, a._data, b, **params) if params else op.fwd(np, a._data, b)
                else:
                    return _apply_general(op, args, params)
            else:
                return _apply_general(op, args, params)
            if type(out) is not np.ndarray:
                out = np.asarray(out)
            if out.dtype is not odt.np and out.dtype != odt.np:
                out = out.astype(D.np_dtype(odt))
            t = _new(Tensor)  # tensor.new_tensor_raw, inlined: a call is ~5% of this path
            t._data = out
            t._dtype = odt
            t._device = CPU
            t._requires_grad = False
            t._grad_fn = None
            t._out_nr = 0
            t._vc = None
            if rg:
                if STATE.enabled:
                    if op.vjps is not None and odt.category >= 2:
                        _record_fast(op, args, params, t)
                else:
                    _cut(op, args)
            if STATE.inference:
                t._inference = True
            return t
    return _apply_general(op, args, params)


def _cut(op: OpDef, args: tuple) -> None:
    """An op under no_grad read a tensor that requires grad: the doctor notes the cut, once per
    tensor (evaluation loops run many such ops; finding the line each time would cost)."""
    if STATE.inference:
        return
    where = None
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            meta = a._meta
            if meta is None or meta.cut is None:
                if where is None:
                    where = user_where(3)
                note_cut(a, f"{op.name} under no_grad()", where)


def _fingerprint(node: Any, vc: Any, arr: Any, i: int) -> None:
    if node.__dict__.get("prints") is None:
        node.prints = []
    node.prints.append((vc, fingerprint(arr), i))


def _edge(a: Tensor) -> Any:
    if not a._requires_grad:
        return None
    fn = a._grad_fn
    return (fn, a._out_nr) if fn is not None else (a._accumulator(), 0)


# Shared facts about one (shape, dtype) on the CPU, so that nodes of one shape point at the same
# objects instead of each allocating its own (which keeps long graphs cheap for the cyclic
# collector): (in_meta entry, Meta stand-in, (entry,), (entry, None), out_meta).
_FACTS: dict[tuple, tuple] = {}


def _facts(key: tuple) -> tuple:
    if len(_FACTS) > 65536:
        _FACTS.clear()
    shape, dt = key
    entry = (shape, dt, CPU)
    stand_in = _new(Meta)
    stand_in.shape = shape
    stand_in.dtype = dt.np
    f = _FACTS[key] = (entry, stand_in, (entry,), (entry, None), ((shape, dt),))
    return f


def _record_fast(op: OpDef, args: tuple, params: dict, out: Tensor) -> None:
    """`record` for the inline path of `apply`: one output, inputs that need no cast."""
    node = _new(op.node_cls or _node_class(op, args, params))
    saved = op.saves
    a = args[0]
    arr = a._data
    if a._requires_grad:
        fn = a._grad_fn
        ea = (fn, a._out_nr) if fn is not None else (a._accumulator(), 0)
    else:
        ea = None
    key = (arr.shape, a._dtype)
    facts = _FACTS.get(key) or _facts(key)
    if 0 in saved:
        vc = a._vc
        if vc is None:
            vc = a._vc = _new(VersionCounter)
            vc.value = 0
        versions: Any = ((vc, vc.value, 0),)
        if vc.exposed is not None:
            _fingerprint(node, vc, arr, 0)
        first = arr
    else:
        versions = ()
        first = facts[1]
    if len(args) == 1:
        node.edges = (ea,)
        node.args = (first,)
        node.in_meta = facts[2]
    else:
        b = args[1]
        if isinstance(b, Tensor):
            brr = b._data
            if b._requires_grad:
                fn = b._grad_fn
                eb = (fn, b._out_nr) if fn is not None else (b._accumulator(), 0)
            else:
                eb = None
            bkey = (brr.shape, b._dtype)
            bfacts = _FACTS.get(bkey) or _facts(bkey)
            if 1 in saved:
                vc = b._vc or b._version_counter()
                versions += ((vc, vc.value, 1),)
                if vc.exposed is not None:
                    _fingerprint(node, vc, brr, 1)
                second = brr
            else:
                second = bfacts[1]
            node.edges = (ea, eb)
            node.in_meta = (facts[0], bfacts[0])
        else:
            second = b
            node.edges = (ea, None)
            node.in_meta = facts[3]
        node.args = (first, second)
    node.op = op
    node.params = params
    node.device = CPU
    data = out._data
    if op.saves_out:
        node.out = (data,)
        vc = out._vc = _new(VersionCounter)
        vc.value = 0
        versions += ((vc, 0, -1),)
    else:
        node.out = None
    if data.shape == arr.shape and out._dtype is a._dtype:  # elementwise: the input's facts
        node.out_meta = facts[4]
    else:
        okey = (data.shape, out._dtype)
        node.out_meta = (_FACTS.get(okey) or _facts(okey))[4]
    node.versions = versions
    node.freed = None
    # from here: 1 this function, 2 apply, 3 the method or function that called apply (ours),
    # 4 usually the user's line; user_where walks on from 4 when it is ours too
    node.where = user_where(4)
    out._requires_grad = True
    out._grad_fn = node


def _apply_general(op: OpDef, args: tuple, params: dict) -> Any:
    arrays = list(args)
    tpos = []
    t0 = dt = dev = None
    simple = op.promote_args is None  # one dtype, one device, numbers that fit: no promotion
    need_grad = False
    scalar_cat = 0
    i = 0
    for a in args:
        if isinstance(a, Tensor):
            tpos.append(i)
            arrays[i] = a._data
            if t0 is None:
                t0, dt, dev = a, a._dtype, a._device
            elif a._dtype is not dt or a._device is not dev:
                simple = False
            if a._requires_grad:
                need_grad = True
        elif a is not None:
            cat = _SCALAR_CATEGORY.get(type(a), 9)
            if cat > scalar_cat:
                scalar_cat = cat
        i += 1
    if t0 is None:
        raise TypeError(f"{op.name}(): expected at least one Tensor argument")
    if simple and dt.category >= scalar_cat:
        rule = op.dtypes
        if rule is PROMOTE or rule is KEEP:
            cdt = odt = dt
        elif rule is FLOAT and dt.category >= 2:
            cdt = odt = dt
        elif rule is BOOL:
            cdt, odt = dt, D.bool_
        else:
            cdt, odt = _result_dtypes(op, args, params, tpos)
            _convert(op, args, arrays, tpos, cdt, dev)
    else:
        if len(tpos) > 1:
            dev = _device_of(op, args, tpos)
        cdt, odt = _result_dtypes(op, args, params, tpos)
        _convert(op, args, arrays, tpos, cdt, dev)
    backend = CpuBackend if dev is CPU else backend_of(dev)
    out = op.fwd(backend.xp, *arrays, **params)
    if op.nout == 1:
        res = wrap(out, odt, dev, backend)
        outs = (res,)
    else:
        diff = op.diff_outputs
        outs = tuple(wrap(o, odt if diff is None or k in diff else None, dev, backend)
                     for k, o in enumerate(out))
        res = op.wrap_outputs(outs) if op.wrap_outputs is not None else outs
    view = op.view
    if view and (view is True or view(params)):
        _link_views(op, params, t0, outs)
    if need_grad and STATE.enabled and op.vjps is not None and odt.category >= 2:
        record(op, args, arrays, params, tpos, outs, depth=5)  # _apply_general, apply, caller
    elif need_grad and not STATE.enabled:
        _cut(op, args)
    if STATE.inference:
        for o in outs:
            o._inference = True
    return res


def _link_views(op: OpDef, params: dict, src: Tensor, outs: tuple) -> None:
    """Outputs that share storage with `src` share its version counter, and remember how to
    take themselves out of their base (`_view_fn`), so an in-place write can be recorded."""
    base = src._base if src._base is not None else src
    vc = src._version_counter()
    chain = src.__dict__.get("_view_fn", ()) if src._base is not None else ()
    for k, o in enumerate(outs):
        if o._data.base is not None:
            o._vc = vc
            o._base = base
            o._view_fn = chain + ((op, params, k if len(outs) > 1 else None),)


def _convert(op: OpDef, args: tuple, arrays: list, tpos: list[int], cdt: Any,
             dev: Any) -> None:
    """Cast inputs to the compute dtype and bring 0-dim CPU tensors to the op's device."""
    for i in tpos:
        a = args[i]
        arr = arrays[i]
        if cdt is not None and a._dtype is not cdt and (op.promote_args is None
                                                        or i in op.promote_args):
            arr = arr.astype(D.np_dtype(cdt))
        if a._device is not dev:
            arr = backend_of(dev).asarray(backend_of(a._device).to_numpy(arr))
        arrays[i] = arr


def wrap(arr: Any, dt: Any, dev: Any, backend: Any) -> Tensor:
    """Make a Tensor of a forward result, in the dtype the row's rule promised."""
    if type(arr) is not backend.ndarray:
        arr = backend.xp.asarray(arr)
    if dt is None:
        dt = D.from_numpy(arr.dtype)
    else:
        adt = arr.dtype
        if adt is not dt.np and adt != dt.np:
            arr = arr.astype(D.np_dtype(dt))
    if dev is META:
        arr = backend.finalize(arr)
    t = _new(Tensor)
    t._data = arr
    t._dtype = dt
    t._device = dev
    t._requires_grad = False
    t._grad_fn = None
    t._out_nr = 0
    t._vc = None
    return t


def _node_class(op: OpDef, args: tuple, params: dict) -> type:
    if isinstance(op.node, str):  # the name never changes: cache the class on the row
        op.node_cls = node_class(op.node)
        return op.node_cls
    name = op.node(args, params)
    cls = op.node_classes.get(name)
    if cls is None:
        cls = op.node_classes[name] = node_class(name)
    return cls


def record(op: OpDef, args: tuple, arrays: list, params: dict, tpos: list[int],
           outs: tuple, diff: Any = "row", depth: int = 3) -> None:
    """Attach a Node to the outputs: edges to the inputs' nodes, saved values, and where.
    `diff` names the outputs that get the Node (default: the row's differentiable outputs);
    `depth`: the frame, counted from here, where the search for the user's line starts."""
    node = _new(op.node_cls or _node_class(op, args, params))
    n = len(args)
    edges: list = [None] * n
    in_meta: list = [None] * n
    versions = []
    saved = op.saves if op.nin != -1 else (range(n) if op.saves else ())
    for i in tpos:
        a = args[i]
        arr = arrays[i]
        if a._requires_grad:
            fn = a._grad_fn
            edges[i] = (fn, a._out_nr) if fn is not None else (a._accumulator(), 0)
        facts = None
        if a._device is CPU:  # shared facts, as in the inline path
            key = (a._data.shape, a._dtype)
            facts = _FACTS.get(key) or _facts(key)
            in_meta[i] = facts[0]
        else:
            in_meta[i] = (a._data.shape, a._dtype, a._device)
        if i in saved:
            vc = a._vc or a._version_counter()
            versions.append((vc, vc.value, i))
            if vc.exposed is not None:
                _fingerprint(node, vc, arr, i)
        elif facts is not None and arr.dtype is a._dtype.np and arr.shape == facts[1].shape:
            arrays[i] = facts[1]  # a rule that only reads x.shape gets a stand-in, not the data
        else:
            m = _new(Meta)
            m.shape = arr.shape
            m.dtype = arr.dtype
            arrays[i] = m
    node.op = op
    node.edges = edges
    node.args = arrays
    node.params = params
    node.in_meta = in_meta
    out0 = outs[0]
    node.device = out0._device
    if diff == "row":
        diff = op.diff_outputs
    if len(outs) == 1 and (diff is None or 0 in diff):
        node.out_meta = [(out0._data.shape, out0._dtype)]
        if op.saves_out:
            node.out = [out0._data]
            vc = out0._version_counter()
            versions.append((vc, vc.value, -1))
        else:
            node.out = None
        node.versions = versions
        node.freed = None
        node.where = user_where(depth)
        out0._requires_grad = True
        out0._grad_fn = node
        return
    node.out_meta = [(o._data.shape, o._dtype) for o in outs]
    if op.saves_out:
        node.out = [o._data for o in outs]
        for k, o in enumerate(outs):
            vc = o._version_counter()
            versions.append((vc, vc.value, -1 - k))
    else:
        node.out = None
    node.versions = versions
    node.freed = None
    node.where = user_where(depth)
    for k, o in enumerate(outs):
        if diff is None or k in diff:
            o._requires_grad = True
            o._grad_fn = node
            o._out_nr = k
