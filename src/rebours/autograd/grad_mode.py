"""Grad mode: whether ops record the graph; thread-local, as context managers and decorators."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    enabled = True
    inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    """True when ops record a graph (the default), False under `no_grad`."""
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _Mode:
    """Base of the grad-mode switches: usable as `with` and as a decorator."""

    _target = True

    def _enter(self) -> None:
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self._target

    def __enter__(self) -> None:
        self._enter()

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled, STATE.inference = self._prev

    def clone(self) -> _Mode:
        return type(self)()

    def __call__(self, func: F) -> F:
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self.clone():
                    yield from func(*args, **kwargs)
            return gen_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


class no_grad(_Mode):
    """Ops inside do not record the graph: `with rebours.no_grad(): w -= lr * w.grad`."""

    _target = False

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)  # used as @no_grad without parentheses


class enable_grad(_Mode):
    """Turn recording back on inside a `no_grad` block."""

    _target = True


class set_grad_enabled(_Mode):
    """`set_grad_enabled(False)` is `no_grad()`; works as a function call, `with`, or decorator."""

    def __init__(self, mode: bool) -> None:
        self._target = bool(mode)
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self._target  # takes effect at once, as torch's does

    def __enter__(self) -> None:
        pass

    def clone(self) -> _Mode:
        return set_grad_enabled.__new__(set_grad_enabled)._init_lazy(self._target)

    def _init_lazy(self, mode: bool) -> set_grad_enabled:
        self._target = mode
        return self

    def __call__(self, func: F) -> F:  # the decorator form must not keep the flag flipped
        STATE.enabled, STATE.inference = self._prev
        clone = self.clone

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = clone()
            ctx._enter()
            try:
                return func(*args, **kwargs)
            finally:
                ctx.__exit__(None, None, None)
        return wrapper  # type: ignore[return-value]


class inference_mode(_Mode):
    """Like `no_grad`, and tensors made inside are marked as inference tensors."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self._target = not mode

    def _enter(self) -> None:
        self._prev = (STATE.enabled, STATE.inference)
        if self.mode:
            STATE.enabled, STATE.inference = False, True

    def __enter__(self) -> None:
        self._enter()

    def clone(self) -> _Mode:
        return inference_mode(self.mode)
