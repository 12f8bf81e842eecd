"""backward(): order the graph, seed it, walk it in reverse, and accumulate into leaves' `.grad`.

The engine never names an op. For each node it calls the row's rules, sums each gradient back to
its input's shape (broadcasting is undone here, once, for every row), casts it to the input's
dtype, and passes it on. It is iterative, so a graph of any depth works without recursion.
"""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Sequence
from typing import Any, Optional

from .. import dtypes as D
from .. import tensor as T  # (partly initialized while the package loads: read at call time)
from ..backends import CPU, QUIET, QUIET_RESET, QUIET_SET, backend_of
from ..doctor import watch as doctor
from ..errors import (
    BackwardTwiceError,
    GradMismatchError,
    ModifiedInPlaceError,
    NoGradFnError,
    NonScalarBackwardError,
    where_text,
)
from .anomaly import ANOMALY, Watch
from .grad_mode import STATE
from .graph import AccumulateGrad, Meta, Node, user_where
from .ops_namespace import raw_ops, tensor_ops

_RAW_CPU = raw_ops(CPU)
_refcount = sys.getrefcount
_gc_isenabled, _gc_disable, _gc_enable = gc.isenabled, gc.disable, gc.enable
_BACKENDS_CPU = backend_of(CPU)


def backward(root: Any, gradient: Any = None, retain_graph: Optional[bool] = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """`root.backward(...)`: add d(root)/d(leaf) into every leaf's `.grad`."""
    run([root], [gradient], retain_graph, create_graph, inputs, accumulate=True)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: Optional[bool] = None,
         create_graph: bool = False, allow_unused: Optional[bool] = None,
         materialize_grads: bool = False) -> tuple:
    """Return d(outputs)/d(inputs) without touching any `.grad`, as `torch.autograd.grad`."""
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grads = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    got = run(outputs, grads, retain_graph, create_graph, inputs, accumulate=False)
    out = []
    for t, g in zip(inputs, got):
        if g is None:
            if materialize_grads:
                from ..factories import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return tuple(out)


def _as_list(x: Any) -> list:
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _seed(root: Any, gradient: Any, create_graph: bool) -> Any:
    if not root._requires_grad:
        raise NoGradFnError(
            "element 0 of tensors does not require grad and does not have a grad_fn",
            where=user_where(4), what=f"shape {tuple(root.shape)}, dtype {root.dtype!r}",
            fix="make sure a leaf in this computation was created with requires_grad=True, and "
                "that it is not computed under no_grad() or through a non-differentiable op.")
    if gradient is None:
        if root._data.size != 1:
            shape = tuple(root.shape)
            raise NonScalarBackwardError(
                "grad can be implicitly created only for scalar outputs",
                where=user_where(4),
                what=f"backward() on a tensor of shape {shape} ({root._data.size} values)",
                fix="reduce to one number first: `.sum().backward()` (each input gets the sum "
                    "of its partials) or `.mean().backward()` (the same divided by "
                    f"{root._data.size}); or pass `gradient=` a tensor of shape {shape} to "
                    "weight each value.")
        if not create_graph:  # the engine only needs the array
            data = root._data
            return backend_of(root._device).xp.ones(data.shape, dtype=data.dtype)
        from ..factories import ones_like

        gradient = ones_like(root)
    elif not isinstance(gradient, T.Tensor):
        raise TypeError(f"gradient must be a Tensor, got {type(gradient).__name__}")
    elif tuple(gradient.shape) != tuple(root.shape):
        raise GradMismatchError(
            f"Mismatch in shape: grad_output[0] has a shape of {gradient.shape} and output[0] "
            f"has a shape of {root.shape}.", where=user_where(4))
    return gradient if create_graph else gradient._data


def run(roots: Sequence[Any], grads: Sequence[Any], retain_graph: Optional[bool],
        create_graph: bool, inputs: Any, accumulate: bool) -> list:
    """The engine. Returns the gradients of `inputs` (when given) in order."""
    # A backward allocates only short-lived objects that reference counting frees; the cyclic
    # collector, were it triggered by them, would re-scan the whole live graph each time.
    gc_was_on = _gc_isenabled()
    if gc_was_on:
        _gc_disable()
    try:
        return _run(roots, grads, retain_graph, create_graph, inputs, accumulate)
    finally:
        if gc_was_on:
            _gc_enable()


def _run(roots: Sequence[Any], grads: Sequence[Any], retain_graph: Optional[bool],
         create_graph: bool, inputs: Any, accumulate: bool) -> list:
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [_seed(r, g, create_graph) for r, g in zip(roots, grads)]
    # Arrays the user may hold, or that reach several places: never adopted as a `.grad`. Keyed
    # by id, and holding the array, so that a freed one's id cannot be reused by a fresh array
    # during this backward (which would then be copied for nothing).
    shared = {id(s): s for s in seeds}
    input_list = None
    targets: dict[Any, list] = {}
    if inputs is not None:
        input_list = _as_list(inputs)
        if not input_list:
            raise RuntimeError("grad requires non-empty inputs.")
        for k, t in enumerate(input_list):
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            key = (t._grad_fn, t._out_nr) if t._grad_fn is not None else (t._accumulator(), 0)
            targets.setdefault(key, []).append(k)
    found: list = [None] * (len(input_list) if input_list is not None else 0)

    root_edges = [(r._grad_fn, r._out_nr) if r._grad_fn is not None else (r._accumulator(), 0)
                  for r in roots]
    order = _toposort([e[0] for e in root_edges])
    needed = _needed(order, {k[0] for k in targets}) if targets else None

    # A single-output node's (or leaf's) pending gradient is stored as is; a node with several
    # outputs gets a list with a slot per output.
    buffers: dict[Any, Any] = {}
    for (fn, nr), s in zip(root_edges, seeds):
        _add(buffers, fn, nr, s, _nout(fn))
    ops = tensor_ops if create_graph else None
    prev = STATE.enabled
    STATE.enabled = create_graph
    site = user_where(3)
    quiet = QUIET_SET(QUIET)  # 0 * inf in a rule gives NaN silently, as in torch
    watch = Watch(site) if ANOMALY.enabled else None
    last = doctor.begin(site, roots)
    plain = not create_graph and needed is None and watch is None and not targets
    try:
        for fn in reversed(order):
            buf = buffers.pop(fn, None)
            if buf is None or (needed is not None and fn not in needed):
                continue
            if type(fn) is AccumulateGrad:
                if targets:
                    for k in targets.get((fn, 0), ()):
                        found[k] = _to_tensor(buf, fn, 0, create_graph)
                if accumulate and (not targets or (fn, 0) in targets):
                    _accumulate(fn.variable, buf, create_graph, shared)
                    fn.variable._reached = last
                continue
            if plain and not fn.special:
                _call_plain(fn, buf, buffers, shared, last)
            else:
                if type(buf) is not list:
                    buf = [buf]
                if targets:
                    for nr, g in enumerate(buf):
                        for k in targets.get((fn, nr), ()):
                            found[k] = _to_tensor(g, fn, nr, create_graph)
                if accumulate and fn.retained:
                    _retain(fn, buf, create_graph)
                if targets and not accumulate and all(e is None or e[0] not in needed
                                                      for e in fn.edges):
                    continue
                _call_node(fn, buf, buffers, ops, create_graph, shared, needed, watch, last)
            if not retain_graph and fn.versions:  # free what the node saved (if anything)
                fn.args = fn.out = None
                fn.freed = site
    finally:
        STATE.enabled = prev
        QUIET_RESET(quiet)
    if accumulate and input_list is not None:  # non-leaf `inputs=` get their .grad too
        for t, g in zip(input_list, found):
            if t._grad_fn is not None and g is not None:
                t._grad = g if t._grad is None else t._grad + g
    return found


def _nout(fn: Any) -> int:
    return 1 if type(fn) is AccumulateGrad else len(fn.out_meta)


def _call_plain(fn: Node, buf: Any, buffers: dict, shared: dict, last: Any) -> None:
    """`_call_node` for the common case: a first-order backward of every input, without hooks,
    anomaly mode or `inputs=`; gradients are arrays. Same checks, fewer branches."""
    versions = fn.versions
    if versions:
        if fn.freed is not None:
            _check_saved(fn)
        for vc, seen, _ in versions:
            if vc.value != seen or vc.exposed is not None:
                _check_saved(fn)
                break
    op = fn.op
    out = fn.out
    out_meta = fn.out_meta
    dev = fn.device
    if len(out_meta) == 1:
        g = buf
        o = out[0] if out is not None else None
    else:
        for k in range(len(out_meta)):  # undefined output grads are zeros for the rules
            if buf[k] is None:
                buf[k] = _zeros(out_meta[k][0], out_meta[k][1], fn, False)
        g = tuple(buf)
        o = tuple(out) if out is not None else None
    ops = _RAW_CPU if dev is CPU else raw_ops(dev)
    args = fn.args
    params = fn.params
    edges = fn.edges
    vjps = op.vjps
    if op.nin == -1:
        results = vjps[0](ops, g, o, *args, **params)
    for i, e in enumerate(edges):
        if e is None:
            continue
        if op.nin == -1:
            gi = results[i]
        else:
            rule = vjps[i] if i < len(vjps) else None
            if rule is None:
                raise RuntimeError(f"the derivative for '{op.name}' input {i} is not "
                                   "implemented.")
            if params:
                gi = rule(ops, g, o, *args, **params)
            elif len(args) == 1:  # plain calls: *args and ** cost ~130 ns per call
                gi = rule(ops, g, o, args[0])
            elif len(args) == 2:
                gi = rule(ops, g, o, args[0], args[1])
            else:
                gi = rule(ops, g, o, *args)
        if gi is None:
            continue
        sing = op.singular
        if sing and last.first_nonfinite is None and (sing is True or sing(args)):
            doctor.check_singular(last, fn, i, gi)
        if gi is g:
            shared[id(gi)] = gi  # passed through unchanged: the same array may reach 2 leaves
        meta = fn.in_meta[i]
        if gi.shape != meta[0] or gi.dtype is not meta[1].np or meta[2] is not dev:
            gi = _fit(gi, meta, False, dev)
        nxt, nr = e
        if type(nxt) is AccumulateGrad or len(nxt.out_meta) == 1:
            cur = buffers.get(nxt)
            buffers[nxt] = gi if cur is None else cur + gi
        else:
            _add(buffers, nxt, nr, gi, len(nxt.out_meta))


def _add(buffers: dict, fn: Any, nr: int, g: Any, nout: int) -> None:
    """Add `g` to output `nr` of `fn`'s pending gradients."""
    buf = buffers.get(fn)
    if nout == 1:
        buffers[fn] = g if buf is None else buf + g
        return
    if buf is None:
        buf = buffers[fn] = [None] * nout
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def _toposort(roots: list) -> list:
    """Post-order DFS without recursion; reversed, it lists each node before its inputs."""
    order, seen = [], set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.edges))]
        while stack:
            fn, it = stack[-1]
            for e in it:
                if e is not None and e[0] not in seen:
                    seen.add(e[0])
                    stack.append((e[0], iter(e[0].edges)))
                    break
            else:
                stack.pop()
                order.append(fn)
    return order


def _needed(order: list, targets: set) -> set:
    """Nodes from which some target is reachable (the rest of the graph is skipped)."""
    need = set()
    for fn in order:  # inputs come before the nodes that use them
        if fn in targets or any(e is not None and e[0] in need for e in fn.edges):
            need.add(fn)
    return need


def _check_saved(fn: Node) -> None:
    """Refuse a node whose saved values were freed, or were changed in place since."""
    if fn.freed is not None:
        raise BackwardTwiceError(
            "Trying to backward through the graph a second time (or directly access saved "
            "tensors after they have already been freed). Saved intermediate values of the graph "
            "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
            "you need to backward through the graph a second time or if you need to access saved "
            "tensors after calling backward.",
            where=user_where(5), what=f"{fn.name()} has no saved values left",
            notes=(f"{fn.name()} was recorded at {where_text(fn.where)}",
                   f"its saved values were freed by the backward at {where_text(fn.freed)}"))
    exposed = False
    for vc, seen, idx in fn.versions:
        if vc.value != seen:
            raise _version_error(fn, vc, seen, idx)
        if vc.exposed is not None:
            exposed = True
    if exposed:  # rare: some saved storage was handed to NumPy
        _check_numpy_writes(fn)


def _check_numpy_writes(fn: Node) -> None:
    """Compare saved arrays that NumPy can write to with their checksums."""
    checked = set()
    if fn.prints:  # handed to NumPy before it was saved: checksum taken at the save
        for vc, crc, idx in fn.prints:
            checked.add(idx)
            if doctor.fingerprint(fn.args[idx]) != crc:
                raise _numpy_write_error(fn, vc, idx)
    for vc, seen, idx in fn.versions:  # handed to NumPy after: checksum taken at the hand-over
        ex = vc.exposed_crc
        if ex is None or idx < 0 or idx in checked or ex[0] != seen:
            continue
        arr = fn.args[idx]
        if getattr(arr, "dtype", None) is fn.in_meta[idx][1].np and \
                doctor.fingerprint(arr) != ex[1]:  # (a cast copy is private: nothing to check)
            raise _numpy_write_error(fn, vc, idx)


def _numpy_write_error(fn: Node, vc: Any, idx: int) -> ModifiedInPlaceError:
    """A saved array changed through NumPy: torch would silently give a wrong gradient."""
    shape, dt = fn.in_meta[idx][0], fn.in_meta[idx][1]
    how, where = vc.exposed
    return ModifiedInPlaceError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: a {dt!r} tensor of shape {tuple(shape)}, input {idx} of {fn.name()}, was "
        "written through NumPy after it was saved.",
        where=user_where(6),
        notes=(f"{fn.name()} saved it at {where_text(fn.where)}",
               f"its storage was shared with NumPy by {how} at {where_text(where)}; a write "
               "through that array changed it (PyTorch does not notice this and computes a "
               "wrong gradient; rebours refuses)"),
        fix="copy before writing (`arr = t.numpy().copy()`), or write after backward.")


def _version_error(fn: Node, vc: Any, seen: int, idx: int) -> ModifiedInPlaceError:
    if idx < 0:
        shape, dt = fn.out_meta[-1 - idx]
        what = f"output {-1 - idx} of {fn.name()}"
    else:
        shape, dt = fn.in_meta[idx][0], fn.in_meta[idx][1]
        what = f"input {idx} of {fn.name()}"
    from ..tensor import _TYPE_NAMES

    notes = [f"{fn.name()} saved it at {where_text(fn.where)}"]
    if vc.where is not None:
        notes.append(f"then {vc.op or 'an in-place op'} changed it at {where_text(vc.where)}")
    return ModifiedInPlaceError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{_TYPE_NAMES[dt.name]} {list(shape)}], which is {what}, is at "
        f"version {vc.value}; expected version {seen} instead.",
        where=user_where(6), notes=tuple(notes))


def _call_node(fn: Node, buf: list, buffers: dict, ops: Any, create_graph: bool, shared: dict,
               needed: Optional[set], watch: Optional[Watch] = None, last: Any = None) -> None:
    if fn.freed is not None or fn.versions:
        _check_saved(fn)
    op = fn.op
    out_meta = fn.out_meta
    nout = len(out_meta)
    for k in range(nout):  # undefined output grads are zeros, so rules need no None checks
        if buf[k] is None:
            shape, dt = out_meta[k]
            buf[k] = _zeros(shape, dt, fn, create_graph)
    if fn.pre_hooks:
        for h in fn.pre_hooks:
            r = h(tuple(buf))
            if r is not None:
                buf = list(r)
    args = fn.args
    dev = fn.device
    if create_graph:
        args = _tensor_args(fn)
        out = None if fn.out is None else [_rebuild(o, fn, k) for k, o in enumerate(fn.out)]
    else:
        out = fn.out
        ops = _RAW_CPU if dev is CPU else raw_ops(dev)
    g = buf[0] if nout == 1 else tuple(buf)
    o = (out[0] if nout == 1 else tuple(out)) if out is not None else None
    edges = fn.edges
    params = fn.params
    if op.nin == -1:
        results = op.vjps[0](ops, g, o, *args, **params)
    else:
        vjps = op.vjps
        results = [None] * len(edges)
        for i, e in enumerate(edges):
            if e is not None and (needed is None or e[0] in needed):
                rule = vjps[i] if i < len(vjps) else None
                if rule is None:
                    raise RuntimeError(f"the derivative for '{op.name}' input {i} is not "
                                       "implemented.")
                results[i] = rule(ops, g, o, *args, **params)
    if watch is not None:
        watch.check(fn, list(results))
    elif op.singular and (op.singular is True or op.singular(args)):
        for i, gi in enumerate(results):
            if gi is not None:
                doctor.check_singular(last, fn, i, gi)
    grads_in = [] if fn.hooks else None
    in_meta = fn.in_meta
    for i, e in enumerate(edges):
        gi = results[i]
        if e is None or gi is None or (needed is not None and e[0] not in needed):
            if grads_in is not None:
                grads_in.append(None)
            continue
        if create_graph:
            gi = _fit(gi, in_meta[i], True, dev)
        else:
            if gi is g:
                shared[id(gi)] = gi  # passed through unchanged: the same array may reach 2 leaves
            meta = in_meta[i]
            if gi.shape != meta[0] or gi.dtype is not meta[1].np or meta[2] is not dev:
                gi = _fit(gi, meta, False, dev)
        if grads_in is not None:
            grads_in.append(gi)
        nxt, nr = e
        _add(buffers, nxt, nr, gi, _nout(nxt))
    if fn.hooks:
        for h in fn.hooks:
            h(tuple(grads_in), tuple(buf))


def _fit(g: Any, meta: tuple, create_graph: bool, node_dev: Any) -> Any:
    """Sum a gradient back to its input's shape, cast it to its dtype, move it to its device."""
    shape, dt, dev = meta
    if dev is not node_dev:  # a 0-dim CPU input of a GPU op, or a ToCopyBackward0
        if create_graph:
            return tensor_ops.to_dtype(_fit(g, (shape, dt, node_dev), True, node_dev).to(dev),
                                       dtype=dt)
        g = backend_of(dev).asarray(backend_of(node_dev).to_numpy(
            _fit(g, (shape, dt, node_dev), False, node_dev)))
        return g
    if create_graph:
        if tuple(g.shape) != shape:
            g = tensor_ops.sum_to_size(g, shape)
        if g._dtype is not dt:
            g = tensor_ops.to_dtype(g, dtype=dt)
        return g
    if g.shape != shape:
        g = raw_ops(dev).sum_to_size(g, shape)
    if g.dtype != dt.np:
        g = g.astype(dt.np)
    return g


def _zeros(shape: tuple, dt: Any, fn: Node, create_graph: bool) -> Any:
    z = backend_of(fn.device).xp.zeros(shape, dtype=D.np_dtype(dt))
    return _wrap(z, dt, fn.device) if create_graph else z


def _wrap(arr: Any, dt: Any, dev: Any, grad_fn: Any = None, nr: int = 0) -> Any:
    xp = backend_of(dev).xp
    if type(arr) is not xp.ndarray:
        arr = xp.asarray(arr)
    return T.new_tensor_raw(arr, dt, dev, grad_fn is not None, grad_fn, nr)


def _tensor_args(fn: Node) -> list:
    """The saved values as Tensors that lead back into the graph (for create_graph=True)."""
    out = []
    for i, a in enumerate(fn.args):
        if fn.in_meta[i] is None or isinstance(a, Meta):
            out.append(a)
            continue
        e = fn.edges[i]
        dt = D.from_numpy(a.dtype)
        if e is None:
            out.append(_wrap(a, dt, fn.device))
        elif type(e[0]) is AccumulateGrad:
            v = e[0].variable
            out.append(v if v._dtype is dt else tensor_ops.to_dtype(v, dtype=dt))
        else:
            out.append(_wrap(a, dt, fn.device, e[0], e[1]))
    return out


def _rebuild(arr: Any, fn: Node, k: int) -> Any:
    diff = fn.op.diff_outputs  # non-differentiable outputs (max's indices) carry no graph
    owner = fn if diff is None or k in diff else None
    return _wrap(arr, fn.out_meta[k][1], fn.device, owner, k)


def _to_tensor(g: Any, fn: Any, nr: int, create_graph: bool) -> Any:
    """A captured gradient (for `inputs=` / autograd.grad) as a Tensor of the input's dtype."""
    if g is None or create_graph:
        return g
    if type(fn) is AccumulateGrad:
        v = fn.variable
        return _wrap(g.copy(), v._dtype, v._device)
    return _wrap(g.copy(), fn.out_meta[nr][1], fn.device)


def _accumulate(var: Any, g: Any, create_graph: bool, shared: dict) -> None:
    """Add `g` into `var.grad`: adopt a fresh array, copy a shared one, add in place after."""
    meta = var._meta
    if meta is not None and meta.hooks:
        g = _run_tensor_hooks(meta.hooks, g, var, create_graph)
    if create_graph:
        var._grad = g if var._grad is None else var._grad + g
        return
    cur = var._grad
    be = _BACKENDS_CPU if var._device is CPU else backend_of(var._device)
    if cur is None:
        # .grad must own its values. A fresh result is adopted as is; a view is adopted only if
        # nothing else holds its base (the rule's own temporary, e.g. the transpose of x.T @ g:
        # torch "steals" such gradients the same way); anything else is copied. As torch's
        # layout contract, a contiguous leaf gets a contiguous .grad (optimizers then update it
        # in memory order).
        if (id(g) in shared or type(g) is not be.ndarray
                or (g.base is not None and (_refcount(g.base) > 2
                                            or not getattr(g.flags, "writeable", True)))
                or (g.strides != var._data.strides and not g.flags.c_contiguous
                    and var._data.flags.c_contiguous)):
            g = be.xp.asarray(g).copy()
        var._grad = T.new_tensor_raw(g, var._dtype, var._device)
    elif cur._grad_fn is None and getattr(cur._data.flags, "writeable", True):
        be.xp.add(cur._data, g, out=cur._data, casting="unsafe")
        if cur._vc is not None:
            cur._vc.value += 1
    else:
        var._grad = T.new_tensor_raw(be.xp.asarray(cur._data + g), var._dtype, var._device)


def _run_tensor_hooks(hooks: list, g: Any, var: Any, create_graph: bool) -> Any:
    t = g if create_graph else T.new_tensor_raw(g, var._dtype, var._device)
    for h in hooks:
        r = h(t)
        if r is not None:
            t = r
    return t if create_graph else t._data


def _retain(fn: Node, buf: list, create_graph: bool) -> None:
    """Run tensor hooks and retain_grad for the non-leaf outputs of `fn`."""
    for nr, (ref, hooks) in list(fn.retained.items()):
        g = buf[nr]
        if g is None:
            continue
        t = ref() if ref is not None else None
        if hooks:
            dt = fn.out_meta[nr][1]
            gt = g if create_graph else _wrap(g, dt, fn.device)
            for h in hooks:
                r = h(gt)
                if r is not None:
                    gt = r
            buf[nr] = g = gt if create_graph else gt._data
        if t is not None and t.retains_grad:
            gt = g if create_graph else _wrap(g.copy(), t._dtype, fn.device)
            t._grad = gt if t._grad is None else t._grad + gt


def retain_slot(t: Any) -> list:
    """The [weakref to t, hooks] entry of t's node (created on first use)."""
    fn = t._grad_fn
    if fn.retained is None:
        fn.retained = {}
        fn.special = True
    slot = fn.retained.get(t._out_nr)
    if slot is None:
        slot = fn.retained[t._out_nr] = [weakref.ref(t), []]
    return slot
