"""Graph nodes (`grad_fn`): which op made a tensor, what it saved, and where in the user's code.

A Node is created by dispatch when an op runs with grad mode on and an input that requires grad.
It holds the row (`op`), one edge per tensor input (the next node, or None), the values the row's
backward reads (each with the version it had when saved), shape/dtype facts of the inputs, and
`where`: the user's `(code, lineno)`, the first frame outside rebours. Each op gets a Node subclass
named like torch's (`MulBackward0`), so `type(y.grad_fn).__name__` reads as it does in torch.
"""

from __future__ import annotations

import os
import sys
from types import CodeType
from typing import Any, Optional

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# Files inside the package that play the user's part (the demo scripts): errors point into them.
_USER_FILES = ("demo.py",)
_getframe = sys._getframe


class _Code:
    """What user_where knows of one code object: is it rebours's own, and its call sites."""

    __slots__ = ("code", "inside", "sites")

    def __init__(self, code: CodeType) -> None:
        self.code = code  # held, so that id(code) cannot be reused while this entry lives
        name = code.co_filename
        self.inside = name.startswith(_PKG_DIR) and not name.endswith(_USER_FILES)
        self.sites: dict[int, tuple[CodeType, int]] = {}  # f_lasti -> (code, line)


# Keyed by id(code): hashing a code object hashes its bytecode and constants on every lookup.
_CODES: dict[int, _Code] = {}


def user_where(depth: int = 2) -> Optional[tuple[CodeType, int]]:
    """The `(code, lineno)` of the first caller frame outside the rebours package.

    One tuple per call site, shared by every node made there (fewer objects for the cyclic
    collector in a long graph); the site is found by the frame's instruction offset, so the line
    number is computed once per site, not once per op.
    """
    try:
        f = _getframe(depth)
    except ValueError:  # a stack shallower than the caller expected: start at its top
        f = _getframe(1)
    codes = _CODES
    while f is not None:
        code = f.f_code
        entry = codes.get(id(code))
        if entry is None:
            if len(codes) > 65536:
                codes.clear()
            entry = codes[id(code)] = _Code(code)
        if entry.inside:
            f = f.f_back
            continue
        sites = entry.sites
        lasti = f.f_lasti
        where = sites.get(lasti)
        if where is None:
            where = sites[lasti] = (code, f.f_lineno)
        return where
    return None


class VersionCounter:
    """Counts in-place writes to a storage; shared by a tensor and all its views."""

    __slots__ = ("value", "__dict__")
    where: Optional[tuple[CodeType, int]] = None  # the last in-place write (set when it happens)
    op = ""
    exposed: Optional[tuple] = None  # (how, where) once the storage was handed to NumPy
    exposed_crc: Optional[tuple] = None  # (version, checksum) when it was handed over

    def __init__(self) -> None:
        self.value = 0

    def bump(self, op: str = "") -> None:
        self.value += 1
        self.op = op
        self.where = user_where(3)


class Meta:
    """What a rule sees of an input it did not save: shape, ndim and dtype, no data."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"Meta(shape={self.shape}, dtype={self.dtype})"


class Node:
    """A recorded op (a tensor's `grad_fn`). Subclassed per op to carry torch's name."""

    __slots__ = ("op", "edges", "args", "params", "in_meta", "out", "out_meta", "versions",
                 "where", "device", "freed", "__dict__", "__weakref__")
    # `freed`: where the backward that freed the saved values ran (None until then).
    # Rarely set: class defaults until written (then they live in the instance dict).
    special = False  # has hooks, pre-hooks or retained outputs: the engine takes its full path
    prints: Optional[list] = None  # checksums of saved arrays that NumPy can write to
    hooks: Optional[list] = None
    pre_hooks: Optional[list] = None
    retained: Optional[dict] = None
    metadata: Optional[dict] = None

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        return tuple(e if e is not None else (None, 0) for e in self.edges)

    def register_hook(self, fn: Any) -> Any:
        """fn(grad_inputs, grad_outputs) after this node's backward ran."""
        if self.hooks is None:
            self.hooks = []
            self.special = True
        self.hooks.append(fn)
        return _RemovableHandle(self.hooks, fn)

    def register_prehook(self, fn: Any) -> Any:
        """fn(grad_outputs) before this node's backward runs; may return new grad_outputs."""
        if self.pre_hooks is None:
            self.pre_hooks = []
            self.special = True
        self.pre_hooks.append(fn)
        return _RemovableHandle(self.pre_hooks, fn)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"


class AccumulateGrad:
    """The edge into a leaf: backward adds the incoming gradient to `variable.grad`."""

    __slots__ = ("variable", "hooks", "pre_hooks", "__weakref__")
    edges: tuple = ()
    next_functions: tuple = ()
    where = None
    op = None

    def __init__(self, variable: Any) -> None:
        self.variable = variable
        self.hooks: Optional[list] = None
        self.pre_hooks: Optional[list] = None

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class _RemovableHandle:
    __slots__ = ("_list", "_fn")

    def __init__(self, lst: list, fn: Any) -> None:
        self._list = lst
        self._fn = fn

    def remove(self) -> None:
        if self._fn in self._list:
            self._list.remove(self._fn)


def node_class(name: str) -> type:
    """The Node subclass for a torch node name, created once."""
    cls = _CLASSES.get(name)
    if cls is None:
        cls = _CLASSES[name] = type(name, (Node,), {"__slots__": ()})
    return cls


_CLASSES: dict[str, type] = {}
