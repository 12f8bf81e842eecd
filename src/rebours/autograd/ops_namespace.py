"""The `ops` namespace that backward rules call: the op table's rows, on arrays or on Tensors.

`raw_ops(device)` runs each row's forward directly on that device's arrays: a first-order backward
costs no dispatch and records nothing. `tensor_ops` calls the same rows through dispatch, so a
backward run with `create_graph=True` is itself recorded and can be differentiated again.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ..ops.registry import OPS


class RawOps:
    """Rows on raw arrays of one backend: `ops.cos(x)` is `OPS['cos'].fwd(xp, x)`."""

    def __init__(self, xp: Any) -> None:
        self.xp = xp

    def __getattr__(self, name: str) -> Any:
        try:
            op = OPS[name]
        except KeyError:
            raise AttributeError(f"backward rules may only call rows of the op table; "
                                 f"there is no row {name!r}") from None
        fn = partial(op.fwd, self.xp)
        setattr(self, name, fn)  # cache: the next lookup is a plain attribute read
        return fn


class TensorOps:
    """Rows through dispatch: `ops.cos(x)` records a node, so the result is differentiable."""

    def __getattr__(self, name: str) -> Any:
        from ..dispatch import apply

        try:
            op = OPS[name]
        except KeyError:
            raise AttributeError(f"backward rules may only call rows of the op table; "
                                 f"there is no row {name!r}") from None
        fn = partial(apply, op)
        setattr(self, name, fn)
        return fn


_RAW: dict[Any, RawOps] = {}
tensor_ops = TensorOps()


def raw_ops(dev: Any) -> RawOps:
    """The rows on `dev`'s arrays. For a GPU, also makes it CuPy's current device: rules use
    array operators (`g * out`), which CuPy runs on the current device."""
    from ..backends import backend_of

    ns = _RAW.get(dev)
    if ns is None:
        ns = _RAW[dev] = RawOps(backend_of(dev).xp)
    elif dev.type == "cuda":
        backend_of(dev)
    return ns
