"""The `Optimizer` base class: parameter groups, per-parameter state, zero_grad and state_dict.

An optimizer owns `param_groups` (a list of dicts: `'params'` plus the hyperparameters, filled
from `defaults`) and `state` (a dict from each parameter to its tensors: momentum buffers,
moments, step counts). Subclasses collect the parameters that have a gradient and call a plain
function that does the math on the parameters' arrays in place. `state_dict()` has torch's
layout: parameters are replaced by their index in the order of `param_groups`.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any, Optional, Union

from ..autograd.grad_mode import enable_grad
from ..autograd.graph import user_where
from ..backends import CPU, backend_of
from ..errors import CATALOGUE, NonLeafOptimizeError, where_text
from ..tensor import Tensor, new_tensor_raw

ParamsT = Union[Iterable[Tensor], Iterable[dict[str, Any]], Iterable[tuple[str, Tensor]]]
StateDict = dict[str, Any]


class _RequiredParameter:
    """Marks a hyperparameter without a default: each group must give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def typename(obj: Any) -> str:
    """torch.typename: 'torch.FloatTensor' for a tensor, else 'module.QualName' ('float')."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def on_device(p: Tensor) -> None:
    """Before updating `p`'s arrays in place: on a GPU, make its device CuPy's current one
    (CuPy runs array arithmetic on the current device, whichever GPU the array is on)."""
    if p._device is not CPU:
        backend_of(p._device)


def state_like(p: Tensor, fill: float = 0.0) -> Tensor:
    """A state tensor (moments, sums) shaped like `p`, filled with `fill`, on `p`'s device."""
    return new_tensor_raw(backend_of(p._device).xp.full_like(p._data, fill), p._dtype, p._device)


def bump_versions(tensors: Iterable[Tensor], op_name: str, where: Any) -> None:
    """Record an in-place write into each tensor, as `p.add_(...)` under no_grad would."""
    for t in tensors:
        vc = t._version_counter()
        vc.value += 1
        vc.where = where
        vc.op = op_name


class Optimizer:
    """Base class of all optimizers: holds `param_groups`, `state` and `defaults`.

    `params` is an iterable of tensors, of `(name, tensor)` pairs, or of dicts that each define a
    parameter group (`{'params': [...], 'lr': 0.1}`); options a group leaves out come from
    `defaults`.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + typename(params))
        self.state: defaultdict[Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        self._plain_list = not isinstance(param_groups[0], dict)
        if self._plain_list:
            param_groups = [{"params": param_groups}]
        try:
            for group in param_groups:
                self.add_param_group(group)
        finally:
            self._plain_list = False

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- parameter groups ------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (`{'params': [...], **options}`); options it omits come from defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        param_group["params"] = params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names

        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or
                                                                       p.retains_grad):
                raise _non_leaf_error(p, self._param_label(i))

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set[Tensor] = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _param_label(self, i: int) -> str:
        if self._plain_list:
            return f"params[{i}]"
        return f"param_groups[{len(self.param_groups)}]['params'][{i}]"

    # -- the training loop -----------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's `.grad`: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g._data[...] = 0
                bump_versions((g,), "zero_grad()", None)

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Update the parameters once; `closure` re-evaluates the loss and returns it."""
        raise NotImplementedError

    @staticmethod
    def _closure_loss(closure: Optional[Callable[[], Any]]) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- saving and loading ----------------------------------------------------------------

    def state_dict(self) -> StateDict:
        """`{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`, as torch.

        The state tensors are the optimizer's own (not copies), as in torch.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): dict(v)
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a `state_dict()`: groups and their sizes must match; tensors are copied."""
        groups = self.param_groups
        saved_groups = [_copy_value(g) for g in state_dict["param_groups"]]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict[Any, Any] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = _copy_value(v, id_map[k])
            else:
                state[k] = v
        for group, new in zip(groups, saved_groups):
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups
        self._after_load()

    # Options that older state dicts lack, filled in by `load_state_dict` (per subclass).
    _load_defaults: tuple[tuple[str, Any], ...] = ()

    def _after_load(self) -> None:
        """Fill options older state dicts lack; older checkpoints hold `step` as a number."""
        for group in self.param_groups:
            for key, default in self._load_defaults:
                group.setdefault(key, default)
            for p in group["params"]:
                s = self.state.get(p)
                if s and "step" in s and not isinstance(s["step"], Tensor):
                    s["step"] = _step_tensor(float(s["step"]))


def _step_tensor(value: float) -> Tensor:
    """A step count as torch keeps it: a float32 tensor (float64 under that default dtype)."""
    from .. import dtypes as D
    from ..factories import tensor

    dt = D.float64 if D.get_default_dtype() is D.float64 else D.float32
    return tensor(value, dtype=dt)


def _copy_value(value: Any, param: Optional[Tensor] = None, key: Any = None) -> Any:
    """A copy of a state value; tensors are cast to the parameter's dtype and device.

    The step count is never cast (torch keeps it float32, see pytorch#74424).
    """
    if isinstance(value, Tensor):
        out = value.detach()
        if param is not None:
            dtype = param.dtype if param.is_floating_point() and key != "step" else out.dtype
            out = out.to(device=param.device, dtype=dtype)
        data = out._data.copy() if out._data is value._data else out._data
        return new_tensor_raw(data, out._dtype, out._device)
    if isinstance(value, dict):
        return {k: _copy_value(v, param, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_value(v, param) for v in value)
    return value


def _non_leaf_error(p: Tensor, label: str) -> NonLeafOptimizeError:
    """RB003 (RB004 for `.to()`/`.double()` copies): which parameter, what made it, the fix."""
    fn = p.grad_fn
    name = fn.name()
    what = f"{label} is the output of {name}, shape {tuple(p.shape)}, {p.dtype!r}"
    made = where_text(fn.where)
    notes: list[str] = []
    why = fix = None
    code = "RB003"
    if name == "ToCopyBackward0":
        code = "RB004"
        row = CATALOGUE["RB004"]
        notes.append(f"{label} was made a non-leaf by ToCopyBackward0 (`.to()`, `.double()` or "
                     "`.cuda()` on a leaf that requires grad returns a copy that is not a leaf; "
                     "RB004)" + (f" at {made}" if made else ""))
        why, fix = row.why, row.fix
    elif made:
        notes.append(f"{label} was made a non-leaf by {name} at {made}")
    return NonLeafOptimizeError("can't optimize a non-leaf Tensor", where=user_where(1),
                                what=what, why=why, fix=fix, notes=tuple(notes), code=code)
