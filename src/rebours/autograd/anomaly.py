"""Anomaly detection: stop backward at the first node that returns NaN, and name the root cause.

`detect_anomaly()` keeps torch's behaviour (the same sentence, raised at the same node), then
adds what torch does not say: the node that first produced a non-finite value, with its line,
which is where a NaN gradient usually starts (sqrt at 0 gives inf; a later 0 * inf gives NaN).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..errors import AnomalyError, where_text


class _State(threading.local):
    enabled = False
    check_nan = True


ANOMALY = _State()


def is_anomaly_enabled() -> bool:
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return ANOMALY.check_nan


class detect_anomaly:  # noqa: N801  (torch's name)
    """Context manager (and decorator) that turns anomaly detection on for backward."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        import warnings

        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)
        self._prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled, ANOMALY.check_nan = True, self.check_nan

    def __exit__(self, *exc: Any) -> None:
        ANOMALY.enabled, ANOMALY.check_nan = self._prev

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:  # noqa: N801
    """`set_detect_anomaly(True)` turns detection on at once; also usable with `with`."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled, ANOMALY.check_nan = bool(mode), check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        ANOMALY.enabled, ANOMALY.check_nan = self._prev


def _values(g: Any) -> Any:
    data = getattr(g, "_data", g)
    if hasattr(data, "get") and not isinstance(data, np.ndarray):  # CuPy
        data = data.get()
    return np.asarray(data)


class Watch:
    """Per-backward bookkeeping: the first node whose output was not finite."""

    def __init__(self, site: Any = None) -> None:
        self.first: Any = None
        self.site = site  # the user's backward() call

    def check(self, fn: Any, grads: list) -> None:
        for i, g in enumerate(grads):
            if g is None:
                continue
            v = _values(g)
            if v.dtype.kind not in "fc":
                continue
            finite = np.isfinite(v)
            if self.first is None and not finite.all():
                kind = "nan" if np.isnan(v).any() else "inf"
                self.first = (fn, i, kind)
            if ANOMALY.check_nan and np.isnan(v).any():
                raise self._error(fn, i)

    def _error(self, fn: Any, i: int) -> AnomalyError:
        notes = [f"{fn.name()} was recorded at {where_text(fn.where)}"]
        root, j, kind = self.first
        if root is not fn:
            notes.append(f"root cause: {root.name()} returned {kind} values in its {j}th output "
                         f"first; it was recorded at {where_text(root.where)}")
        op_name = getattr(root.op, "name", "")
        fix = None
        if op_name in ("sqrt", "pow", "rsqrt"):
            fix = ("sqrt has an infinite slope at 0: for a norm use `rebours.linalg.vector_norm(x)`"
                   " (gradient 0 at the zero vector); otherwise keep the argument off 0, e.g. "
                   "`sqrt(s + eps)`.")
        return AnomalyError(f"Function '{fn.name()}' returned nan values in its {i}th output.",
                            where=self.site, notes=tuple(notes), fix=fix)
