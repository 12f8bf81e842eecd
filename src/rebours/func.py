"""Function transforms as `torch.func`: grad, vjp, jvp, jacrev, jacfwd, hessian, vmap.

They are built on the reverse-mode engine, so they compose with each other and with
`.backward()`:

- `grad`/`vjp`/`jacrev` run the function on fresh leaves (`x.detach().requires_grad_()`), so the
  caller's tensors are never touched. An input that already carries a graph (an outer `grad`,
  or a user leaf that requires grad) is entered as `x.view_as(x)` instead, and the result is
  then computed with `create_graph=True`, which is what makes `grad(grad(f))` work.
- `jvp` and `jacfwd` use the double-vjp trick (the vjp `u ↦ uᵀJ` is linear in `u`;
  differentiating it with respect to `u` along `v` gives `J v`): two reverse passes, no
  forward-mode AD. `jacfwd` thus costs one pass per input element, like torch's, and returns
  the same numbers as `jacrev`.
- `vmap` runs the function once per batch element (a Python loop, not a batching rule) and
  stacks the results; `randomness` and `chunk_size` are accepted and change nothing.

Pytrees are nested tuples, lists and dicts of Tensors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, Optional, Union

from .autograd import engine
from .autograd.grad_mode import STATE, enable_grad
from .autograd.graph import AccumulateGrad
from .factories import eye, zeros_like
from .functions import stack
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"]

Argnums = Union[int, tuple[int, ...]]

# -- pytrees: flatten to a list of leaves and a spec, and back ----------------------------------


def tree_flatten(tree: Any) -> tuple[list, Any]:
    """Leaves of nested tuples/lists/dicts, in order, and the spec to rebuild the tree."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(t: Any, leaves: list) -> Any:
    # module-level recursion: a nested recursive closure would be a reference cycle
    if isinstance(t, (tuple, list)):
        return (type(t), None, [_flatten(c, leaves) for c in t])
    if isinstance(t, dict):
        return (dict, list(t), [_flatten(t[k], leaves) for k in t])
    leaves.append(t)
    return None


def tree_unflatten(leaves: list, spec: Any) -> Any:
    return _unflatten(iter(leaves), spec)


def _unflatten(it: Any, s: Any) -> Any:
    if s is None:
        return next(it)
    kind, keys, children = s
    vals = [_unflatten(it, c) for c in children]
    if kind is dict:
        return dict(zip(keys, vals))
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*vals)
    return kind(vals)


def _broadcast(prefix: Any, spec: Any) -> Optional[list]:
    """`prefix` (a tree whose leaves are dims or None) spread over the leaves of `spec`."""
    if spec is None:
        return [prefix] if not isinstance(prefix, (tuple, list, dict)) else None
    if not isinstance(prefix, (tuple, list, dict)):
        return [prefix] * _count(spec)
    kind, keys, children = spec
    if isinstance(prefix, dict) != (kind is dict) or len(prefix) != len(children):
        return None
    if isinstance(prefix, dict):
        if set(prefix) != set(keys):
            return None
        prefix = [prefix[k] for k in keys]
    out: list = []
    for p, c in zip(prefix, children):
        sub = _broadcast(p, c)
        if sub is None:
            return None
        out.extend(sub)
    return out


def _count(spec: Any) -> int:
    return 1 if spec is None else sum(_count(c) for c in spec[2])


# -- shared machinery --------------------------------------------------------------------------


def _enter(x: Any, outer: bool, own: set) -> Any:
    """A fresh tensor to differentiate with respect to (see the module docstring)."""
    if not isinstance(x, Tensor):
        raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    if outer and x.requires_grad:
        return x.view_as(x)
    t = x.detach().requires_grad_(True)
    own.add(id(t))
    return t


def _reaches_outside(outputs: list, own: set) -> bool:
    """Whether the graph of `outputs` reaches a leaf other than the ones we made (a closure's,
    an outer transform's): then gradients must be built with create_graph=True."""
    stack_ = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    seen = set()
    while stack_:
        fn = stack_.pop()
        for e in fn.edges:
            if e is None or e[0] in seen:
                continue
            nxt = e[0]
            seen.add(nxt)
            if type(nxt) is AccumulateGrad:
                if id(nxt.variable) not in own:
                    return True
            else:
                stack_.append(nxt)
    return False


def _argnums(argnums: Argnums, n: int) -> tuple[int, ...]:
    if isinstance(argnums, int):
        nums: tuple[int, ...] = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        nums = argnums
        if not nums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(nums)) != len(nums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"Got argnums={argnums}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


def _prepare(args: tuple, argnums: Argnums, outer: bool, own: set) -> tuple[list, list, list]:
    """New args with the differentiated ones entered fresh; their flat leaves and specs."""
    nums = _argnums(argnums, len(args))
    args = list(args)
    flats, specs = [], []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        leaves = [_enter(x, outer, own) for x in leaves]
        args[a] = tree_unflatten(leaves, spec)
        flats.append(leaves)
        specs.append(spec)
    return args, flats, specs


def _split_aux(out: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return out


def _release(tree: Any, keep: bool) -> Any:
    """Tensors of `tree` without the graph we built, unless an outer level needs it."""
    if keep:
        return tree
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def _grads(outs: list, inputs: list, cots: Optional[list], create_graph: bool) -> list:
    """d(outs)/d(inputs) along `cots` (zeros where unused); the graph is kept for reuse."""
    pairs = [(o, c) for o, c in zip(outs, cots or [None] * len(outs)) if o.requires_grad]
    if not pairs:
        return [zeros_like(x) for x in inputs]
    gs = engine.grad([o for o, _ in pairs], inputs, [c for _, c in pairs] if cots else None,
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(gs, inputs)]


def _by_argnums(per_arg: list, specs: list, argnums: Argnums) -> Any:
    trees = [tree_unflatten(v, s) for v, s in zip(per_arg, specs)]
    return trees[0] if isinstance(argnums, int) else tuple(trees)


# -- grad, vjp, jvp ----------------------------------------------------------------------------


def grad_and_value(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """Like `grad`, but the new function returns `(gradient, value)` (or `((g, (v, aux))`)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        outer = STATE.enabled
        own: set = set()
        with enable_grad():
            args, flats, specs = _prepare(args, argnums, outer, own)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value(f)(*args)")
            if not isinstance(out, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {out.dim()} dims. Maybe you "
                                   "wanted to use the vjp or jacrev APIs instead?")
            keep = outer and _reaches_outside([out], own)
            flat = [x for leaves in flats for x in leaves]
            gs = _grads([out], flat, None, keep)
        per_arg, k = [], 0
        for leaves in flats:
            per_arg.append(gs[k:k + len(leaves)])
            k += len(leaves)
        g = _by_argnums(per_arg, specs, argnums)
        value = _release(out, keep)
        return (g, (value, _release(aux, keep))) if has_aux else (g, value)
    return wrapper


def grad(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function with respect to the args at `argnums`.

    >>> import rebours.func
    >>> rebours.func.grad(lambda x: (x ** 3).sum())(rebours.tensor([1.0, 2.0]))
    tensor([ 3., 12.])
    >>> rebours.func.grad(rebours.func.grad(lambda x: x.sin()))(rebours.tensor(0.0))
    tensor(-0.)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """`(func(*primals), vjp_fn)`; `vjp_fn(cotangents)` is a tuple, one entry per primal.

    >>> import rebours.func
    >>> out, vjp_fn = rebours.func.vjp(lambda x: x ** 2, rebours.tensor([1.0, 2.0]))
    >>> vjp_fn(rebours.tensor([1.0, 1.0]))
    (tensor([2., 4.]),)
    """
    outer = STATE.enabled
    own: set = set()
    with enable_grad():
        args, flats, specs = _prepare(primals, tuple(range(len(primals))), outer, own)
        out, aux = _split_aux(func(*args), has_aux, "vjp(f, *primals)")
    flat_out, out_spec = tree_flatten(out)
    for o in flat_out:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"vjp(f, *primals): Expected output of f to be a Tensor or "
                               f"Tensors, got {type(o)}")
    keep = outer and _reaches_outside(flat_out, own)
    flat_in = [x for leaves in flats for x in leaves]

    def vjp_fn(cotangents: Any) -> tuple:
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree "
                               "structure of outputs to the function.")
        cg = keep or (STATE.enabled and any(c.requires_grad for c in flat_ct))
        with enable_grad() if cg else nullcontext():
            gs = _grads(flat_out, flat_in, flat_ct, cg)
        res, k = [], 0
        for leaves, spec in zip(flats, specs):
            res.append(tree_unflatten(gs[k:k + len(leaves)], spec))
            k += len(leaves)
        return tuple(res)

    value = _release(out, keep)
    return (value, vjp_fn, _release(aux, keep)) if has_aux else (value, vjp_fn)


def _linearize(func: Callable, args: tuple, argnums: Argnums, has_aux: bool,
               api: str) -> tuple:
    """Run func on fresh inputs and build the transposed vjp graph `u ↦ uᵀJ` (with the dummy
    cotangents `us` as leaves) for the double-vjp trick."""
    outer = STATE.enabled
    own: set = set()
    with enable_grad():
        args, flats, specs = _prepare(args, argnums, outer, own)
        out, aux = _split_aux(func(*args), has_aux, api)
        flat_out, out_spec = tree_flatten(out)
        for o in flat_out:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{api}: expected f(*args) to return only tensors")
        keep = outer and _reaches_outside(flat_out, own)
        flat_in = [x for leaves in flats for x in leaves]
        us = [zeros_like(o, requires_grad=True) for o in flat_out]  # u's value never matters
        gi = _grads(flat_out, flat_in, us, True)
    return out, aux, flat_out, out_spec, flat_in, flats, specs, us, gi, keep


def _push(gi: list, us: list, tangents: list, keep: bool) -> list:
    """J v from the vjp graph: d(uᵀJ · v)/du."""
    pairs = [(g, t) for g, t in zip(gi, tangents) if g.requires_grad]
    with enable_grad() if keep else nullcontext():
        return _grads([g for g, _ in pairs], us, [t for _, t in pairs], keep)


def jvp(func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """`(func(*primals), J·tangents)`, by the double-vjp trick (two reverse passes).

    >>> import rebours.func
    >>> x = rebours.tensor([1.0, 2.0])
    >>> rebours.func.jvp(lambda x: x ** 2, (x,), (rebours.ones(2),))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    if tree_flatten(primals)[1] != tree_flatten(tangents)[1]:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure.")
    out, aux, flat_out, out_spec, _, _, _, us, gi, keep = _linearize(
        func, primals, tuple(range(len(primals))), has_aux, "jvp(f, primals, tangents)")
    jv = _push(gi, us, tree_flatten(tangents)[0], keep)
    res = (_release(out, keep), tree_unflatten(jv, out_spec))
    return res + (_release(aux, keep),) if has_aux else res


# -- Jacobians ---------------------------------------------------------------------------------


def _jac_tree(blocks: list, out_spec: Any, specs: list, argnums: Argnums) -> Any:
    """blocks[i][j]: d out_i / d in_j → the output pytree of (argnums-shaped) input pytrees."""
    per_out = []
    for row in blocks:
        per_arg, k = [], 0
        for spec in specs:
            n = _count(spec)
            per_arg.append(row[k:k + n])
            k += n
        per_out.append(_by_argnums(per_arg, specs, argnums))
    return tree_unflatten(per_out, out_spec)


def jacrev(func: Callable, argnums: Argnums = 0, *, has_aux: bool = False,
           chunk_size: Optional[int] = None) -> Callable:
    """The Jacobian by reverse mode: one backward per output element.

    >>> import rebours.func
    >>> rebours.func.jacrev(lambda x: x ** 2)(rebours.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        outer = STATE.enabled
        own: set = set()
        with enable_grad():
            args, flats, specs = _prepare(args, argnums, outer, own)
            out, aux = _split_aux(func(*args), has_aux, "jacrev(f)(*args)")
            flat_out, out_spec = tree_flatten(out)
            keep = outer and _reaches_outside(flat_out, own)
            flat_in = [x for leaves in flats for x in leaves]
            blocks = []
            for o in flat_out:
                rows = [_grads([e], flat_in, None, keep) for e in o.reshape(-1)]
                blocks.append([(stack([r[k] for r in rows]) if rows
                                else zeros_like(o).reshape(0, *x.shape)).reshape(*o.shape, *x.shape)
                               for k, x in enumerate(flat_in)])
        jac = _jac_tree(blocks, out_spec, specs, argnums)
        return (jac, _release(aux, keep)) if has_aux else jac
    return wrapper


def jacfwd(func: Callable, argnums: Argnums = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The Jacobian column by column (one J·e_k per input element, by the double-vjp trick).

    >>> import rebours.func
    >>> rebours.func.jacfwd(lambda x: x.sin())(rebours.tensor([0.0, 0.0]))
    tensor([[1., 0.],
            [0., 1.]])
    """
    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        out, aux, flat_out, out_spec, flat_in, flats, specs, us, gi, keep = _linearize(
            func, args, argnums, has_aux, "jacfwd(f)(*args)")
        blocks: list = [[None] * len(flat_in) for _ in flat_out]
        for k, (g, x) in enumerate(zip(gi, flat_in)):
            basis = eye(x.numel(), dtype=x.dtype).reshape(x.numel(), *x.shape)
            cols = [_push([g], us, [e], keep) for e in basis]
            for i, o in enumerate(flat_out):
                blk = (stack([c[i] for c in cols], dim=o.dim()) if cols
                       else zeros_like(o).reshape(*o.shape, 0))
                blocks[i][k] = blk.reshape(*o.shape, *x.shape)
        jac = _jac_tree(blocks, out_spec, specs, argnums)
        return (jac, _release(aux, keep)) if has_aux else jac
    return wrapper


def hessian(func: Callable, argnums: Argnums = 0) -> Callable:
    """The Hessian of a scalar function: `jacfwd(jacrev(func, argnums), argnums)`, as torch.

    >>> import rebours.func
    >>> rebours.func.hessian(lambda x: (x ** 3).sum())(rebours.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


# -- vmap --------------------------------------------------------------------------------------


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: Optional[int] = None) -> Callable:
    """Map `func` over a dimension of its inputs: a loop over the batch, results stacked.

    >>> import rebours.func
    >>> x = rebours.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> rebours.func.vmap(lambda r: r @ r)(x)
    tensor([ 5., 25.])
    >>> rebours.func.vmap(lambda a, b: a * b, in_dims=(1, None))(x, rebours.tensor(2.0))
    tensor([[2., 6.],
            [4., 8.]])
    """
    name = getattr(func, "__name__", repr(func))
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(in_dims, (int, tuple)):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected "
                             "`in_dims` to be int or a (potentially nested) tuple matching the "
                             f"structure of inputs, got: {type(in_dims)}.")
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                             "inputs, or you are trying to vmap over a function with no inputs. "
                             "The latter is unsupported.")
        flat, spec = tree_flatten(args)
        dims = _broadcast(in_dims, spec)
        if dims is None:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                             "compatible with the structure of `inputs`.")
        dims = [_check_in_dim(d, a, name, in_dims) for d, a in zip(dims, flat)]
        sizes = [a.shape[d] for a, d in zip(flat, dims) if d is not None]
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if any(s != sizes[0] for s in sizes):
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        results = []
        for b in range(sizes[0]):
            sliced = [a if d is None else a[(slice(None),) * d + (b,)] for a, d in zip(flat, dims)]
            results.append(tree_flatten(func(*tree_unflatten(sliced, spec), **kwargs)))
        out_spec = results[0][1]
        if out_spec is None:
            odims = ([out_dims] if not isinstance(out_dims, tuple) or len(out_dims) != 1
                     else list(out_dims))
        else:
            odims = _broadcast(out_dims, out_spec)
        if odims is None or any(d is not None and not isinstance(d, int) for d in odims):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                             "compatible with the structure of `outputs`.")
        outs = []
        for i, od in enumerate(odims):
            first = results[0][0][i]
            if od is None:
                outs.append(first)
                continue
            if not isinstance(first, Tensor):
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got "
                                 f"type {type(first)}. Did you mean to set out_dims= to None for "
                                 "output?")
            outs.append(stack([r[0][i] for r in results], dim=od % (first.dim() + 1)))
        return tree_unflatten(outs, out_spec)
    return wrapper


def _check_in_dim(d: Any, a: Any, name: str, in_dims: Any) -> Optional[int]:
    head = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): "
    if d is None:
        return None
    if not isinstance(d, int):
        raise ValueError(head + f"Got in_dim={d} for an input but in_dim must be either an "
                                "integer dimension or None.")
    if not isinstance(a, Tensor):
        raise ValueError(head + f"Got in_dim={d} for an input but the input is of type "
                                f"{type(a)}. We cannot vmap over non-Tensor arguments, please "
                                "use None as the respective in_dim")
    if not -a.dim() <= d < a.dim():
        raise ValueError(head + f"Got in_dim={d} for some input, but that input is a Tensor of "
                                f"dimensionality {a.dim()} so expected in_dim to satisfy "
                                f"-{a.dim()} <= in_dim < {a.dim()}.")
    return d % a.dim()
