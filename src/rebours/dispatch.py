"""`apply(op, *args)`: promote dtypes, check devices, run a row's forward, wrap, record a Node.

This is the path every op takes. It never names an op: all it knows comes from the row.
"""

from __future__ import annotations

from typing import Any

from . import dtypes as D
from .autograd.grad_mode import STATE
from .autograd.graph import Meta, node_class, user_where
from .backends import CPU, CpuBackend, backend_of
from .errors import DeviceMismatchError
from .ops.registry import BOOL, FLOAT, KEEP, LONG, PROMOTE, SUM, OpDef
from .tensor import Tensor, new_tensor_raw

_ndarray_types: tuple[type, ...] = ()
_EMPTY: dict = {}


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
    return DeviceMismatchError(
        f"Expected all tensors to be on the same device, but found at least two devices, "
        f"{seen[0]} and {seen[1]}!",
        where=user_where(3), what=f"{op.name}: {what}",
        fix=f"move one side: `a.to(b.device)` (here `.to('{seen[0]}')` or `.to('{seen[1]}')`), "
            "or create both tensors with the same `device=`.")


def apply(op: OpDef, *args: Any, **params: Any) -> Any:
    """Run `op` on `args` (Tensors and Python numbers) and record it for autograd if needed."""
    tpos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if not tpos:
        raise TypeError(f"{op.name}(): expected at least one Tensor argument")
    t0 = args[tpos[0]]
    dev = t0._device
    if len(tpos) > 1:
        for i in tpos:
            if args[i]._device is not dev:
                dev = _device_of(op, args, tpos)
                break
    cdt, odt = _result_dtypes(op, args, params, tpos)
    arrays = list(args)
    need_grad = False
    for i in tpos:
        a = args[i]
        arr = a._data
        if cdt is not None and a._dtype is not cdt and (op.promote_args is None
                                                        or i in op.promote_args):
            arr = arr.astype(D.np_dtype(cdt))
        if a._device is not dev:
            arr = backend_of(dev).asarray(backend_of(a._device).to_numpy(arr))
        arrays[i] = arr
        if a._requires_grad:
            need_grad = True
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
        base = t0._base if t0._base is not None else t0
        vc = t0._version_counter()
        for o in outs:
            if o._data.base is not None:
                o._vc = vc
                o._base = base
    if need_grad and STATE.enabled and op.vjps is not None and odt.category >= 2:
        record(op, args, arrays, params, tpos, outs)
    elif STATE.inference:
        for o in outs:
            o._extra().inference = True
    return res


def wrap(arr: Any, dt: Any, dev: Any, backend: Any) -> Tensor:
    """Make a Tensor of a forward result, in the dtype the row's rule promised."""
    xp = backend.xp
    if type(arr) is not xp.ndarray:
        arr = xp.asarray(arr)
    if dt is None:
        dt = D.from_numpy(arr.dtype)
    elif arr.dtype != dt.np:
        arr = arr.astype(D.np_dtype(dt))
    if dev.type == "meta":
        arr = backend.finalize(arr)
    return new_tensor_raw(arr, dt, dev)


def record(op: OpDef, args: tuple, arrays: list, params: dict, tpos: list[int],
           outs: tuple) -> None:
    """Attach a Node to the outputs: edges to the inputs' nodes, saved values, and where."""
    name = op.node if isinstance(op.node, str) else op.node(args, params)
    cls = op.node_classes.get(name)
    if cls is None:
        cls = op.node_classes[name] = node_class(name)
    node = cls.__new__(cls)
    edges: list = [None] * len(args)
    in_meta: list = [None] * len(args)
    saved = op.saves
    versions = []
    for i in tpos:
        a = args[i]
        if a._requires_grad:
            fn = a._grad_fn
            edges[i] = (fn, a._out_nr) if fn is not None else (a._accumulator(), 0)
        in_meta[i] = (a._data.shape, a._dtype, a._device)
    if op.nin == -1:
        keep = bool(saved)
    for i in tpos:
        if (i in saved) if op.nin != -1 else keep:
            vc = args[i]._version_counter()
            versions.append((vc, vc.value, i))
        else:
            arrays[i] = Meta(arrays[i].shape, arrays[i].dtype)
    node.op = op
    node.edges = edges
    node.args = arrays
    node.params = params or _EMPTY
    node.in_meta = in_meta
    node.out_meta = [(o._data.shape, o._dtype) for o in outs]
    if op.saves_out:
        node.out = [o._data for o in outs]
        for k, o in enumerate(outs):
            vc = o._version_counter()
            versions.append((vc, vc.value, -1 - k))
    else:
        node.out = None
    node.versions = versions
    node.where = user_where(3)
    node.device = outs[0]._device
    node.freed = None
    node.hooks = node.pre_hooks = node.retained = node.metadata = None
    diff = op.diff_outputs
    for k, o in enumerate(outs):
        if diff is None or k in diff:
            o._requires_grad = True
            o._grad_fn = node
            o._out_nr = k
