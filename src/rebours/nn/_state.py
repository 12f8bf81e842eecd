"""A Module's state: `state_dict`/`load_state_dict` with torch's keys and errors, and the
conversions (`to`, `float`, `double`, `half`, `cpu`) that rewrite parameters' data in place.

Conversions keep each Parameter object (an optimizer built before `.to()` still holds it) and
replace its data, as torch does with `param.data = fn(param)`.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from .. import dtypes as D
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _torch_dtype(dt: Any) -> str:
    return repr(dt).replace("rebours.", "torch.")


class StateMixin:
    """state_dict / load_state_dict / dtype and device moves; mixed into Module."""

    _parameters: dict
    _buffers: dict
    _modules: dict
    _non_persistent_buffers_set: set
    _version: int

    # -- state_dict ----------------------------------------------------------------------

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """An OrderedDict of parameters and persistent buffers by dotted name (detached unless
        keep_vars), as torch's: `{'0.weight': ..., '0.bias': ...}`."""
        if args:  # torch's deprecated positional form: (destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()  # type: ignore[attr-defined]
        meta = getattr(destination, "_metadata", None)
        if meta is not None:
            meta[prefix[:-1]] = {"version": self._version}
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict: Mapping, prefix: str, strict: bool,
                              missing: list, unexpected: list, errors: list,
                              assign: bool) -> None:
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = {k: v for k, v in [*self._parameters.items(), *persistent.items()]
                 if v is not None}
        for name, param in local.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                errors.append(f'While copying the parameter named "{key}", expected '
                              "torch.Tensor or Tensor-like object from checkpoint but received "
                              f"{type(value)}")
                continue
            if param.ndim == 0 and value.ndim == 1:  # torch's 0.3 checkpoint compatibility
                value = value[0]
            if value.shape != param.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{value.shape} from checkpoint, the shape in current model is "
                              f"{param.shape}.")
                continue
            try:
                with no_grad():
                    if assign:
                        self._assign(name, param, value)
                    else:
                        param.copy_(value)
            except Exception as ex:
                errors.append(f'While copying the parameter named "{key}", whose dimensions in '
                              f"the model are {param.size()} and whose dimensions in the "
                              f"checkpoint are {value.size()}, an exception occurred : "
                              f"{ex.args}.")
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    head = key[len(prefix):].split(".", 1)[0]
                    if head not in self._modules and head not in local:
                        unexpected.append(key)

    def _assign(self, name: str, param: Tensor, value: Tensor) -> None:
        from .parameter import Parameter

        if isinstance(param, Parameter):
            if not isinstance(value, Parameter):
                value = Parameter(value, requires_grad=param.requires_grad)
            else:
                value.requires_grad_(param.requires_grad)
        setattr(self, name, value)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy tensors from `state_dict` into the parameters and buffers (in place, or by
        assignment with assign=True); strict: every key must match, as torch."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []

        def load(module: Any, local: Mapping, prefix: str) -> None:
            # always strict here, as torch: the keys are collected and only reported if strict
            module._load_from_state_dict(local, prefix, True, missing, unexpected, errors,
                                         assign)
            for name, child in module._modules.items():
                if child is not None:
                    sub = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(sub)}, sub)

        load(self, dict(state_dict), "")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # -- dtype and device ----------------------------------------------------------------

    def _apply(self, fn: Callable[[Tensor], Tensor]) -> Any:
        """Replace each parameter's (and its grad's) data by fn(data), and each buffer."""
        for module in self._modules.values():
            if module is not None:
                module._apply(fn)
        with no_grad():
            for p in self._parameters.values():
                if p is None:
                    continue
                p.data = fn(p)
                if p._grad is not None:
                    p._grad.data = fn(p._grad)
            for key, b in self._buffers.items():
                if b is not None:
                    self._buffers[key] = fn(b)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Any:
        """`to(device)`, `to(dtype)`, `to(device, dtype)`, `to(tensor)`: moves parameters and
        buffers, casting only floating-point ones, in place (returns self)."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, D.dtype):
                dtype = a
            elif a is not None and not isinstance(a, bool):
                device = a
        if dtype is not None:
            dtype = D.to_dtype(dtype)
            if dtype.category < 2:
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype={_torch_dtype(dtype)}")

        def convert(t: Tensor) -> Tensor:
            cast = dtype if dtype is not None and t.dtype.category >= 2 else None
            if device is None and cast is None:
                return t
            if device is None:
                return t.to(cast)
            return t.to(device, cast) if cast is not None else t.to(device)

        return self._apply(convert)

    def _cast_floats(self, dt: D.dtype) -> Any:
        return self._apply(lambda t: t.to(dt) if t.dtype.category == 2 else t)

    def float(self) -> Any:
        return self._cast_floats(D.float32)

    def double(self) -> Any:
        return self._cast_floats(D.float64)

    def half(self) -> Any:
        return self._cast_floats(D.float16)

    def bfloat16(self) -> Any:
        return self._cast_floats(D.bfloat16)

    def type(self, dst_type: Any) -> Any:
        return self._apply(lambda t: t.type(dst_type))

    def cpu(self) -> Any:
        return self._apply(lambda t: t.cpu())

    def cuda(self, device: Any = None) -> Any:
        return self._apply(lambda t: t.cuda(device) if device is not None else t.cuda())
