"""Tensor printing: turns an array plus tensor metadata into PyTorch's ``repr`` text.

The output matches ``repr(torch_tensor)`` of torch 2.13 character for character, with
``rebours.`` in place of ``torch.``.  The rules, in brief:

* One formatter is chosen for the whole tensor (or for its summarised corners when it has
  more than ``threshold`` elements).  Floats use fixed notation with ``precision`` digits,
  ``37.`` when every finite value is an integer, and scientific notation when the finite
  non-zero magnitudes span more than 1000x, exceed 1e8 or fall below 1e-4 (unless
  ``sci_mode`` forces it).  Every element is right-aligned to the widest one.
* Rows wrap at ``linewidth``; nested dimensions are bracketed and indented, with
  ``dim - 1`` blank-line separators between slices.
* Suffixes (device, size, dtype, grad_fn / requires_grad) follow the contents and move
  onto their own line when the current line would grow past ``linewidth``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["format_size", "format_tensor", "get_printoptions", "printoptions", "set_printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _PrintOptions()

# profile name -> (precision, threshold, edgeitems, linewidth)
_PROFILES: dict[str, tuple[int, float, int, int]] = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}

# Dtypes whose name torch leaves out of a non-empty tensor's repr, besides the default dtype.
_IMPLIED_DTYPES = ("int64", "bool")


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the printing options, like ``torch.set_printoptions``.

    ``profile`` ("default", "short" or "full") is applied first, then any explicit option
    overrides it.  As in torch, an unknown profile is ignored, and ``sci_mode`` is always
    assigned (so omitting it returns to automatic selection).
    """
    if profile in _PROFILES:
        _OPTS.precision, _OPTS.threshold, _OPTS.edgeitems, _OPTS.linewidth = _PROFILES[profile]
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments accepted by :func:`set_printoptions`."""
    return dataclasses.asdict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the printing options (same arguments as :func:`set_printoptions`)."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


def format_size(shape: Sequence[int]) -> str:
    """The repr of ``rebours.Size``: ``rebours.Size([2, 3])``."""
    return f"rebours.Size([{', '.join(str(int(n)) for n in shape)}])"


def _is_floating(dtype_name: str) -> bool:
    return dtype_name.startswith(("float", "bfloat"))


def _to_python(arr: np.ndarray, floating: bool) -> list[Any]:
    """Elements of a 1-d array as Python floats / ints / bools (what torch formats)."""
    return arr.astype(np.float64).tolist() if floating else arr.tolist()


class _Formatter:
    """Picks one notation and column width for every element of a tensor."""

    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            self.max_width = max([1, *(len(str(v)) for v in flat.tolist())])
            return
        flat = flat.astype(np.float64)  # exact for every float dtype, so no rounding here
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return  # only zeros, nan and inf: "0." style, even when sci_mode is forced
        magnitudes = np.abs(finite)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(np.ceil(finite) == finite))
        if _OPTS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = _OPTS.sci_mode
        precision = _OPTS.precision
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{precision}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1  # room for the trailing "."
            else:
                width = len(f"{value:.{precision}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{_OPTS.precision}f}"
        return text.rjust(self.max_width)


def _summarized(arr: np.ndarray) -> np.ndarray:
    """The corners of ``arr`` that survive summarisation (the formatter looks at these only)."""
    edge = _OPTS.edgeitems
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        # arr[-0:] is the whole array, as in torch: harmless, since "..." is all that's shown.
        return np.concatenate((arr[:edge], arr[-edge:])) if arr.shape[0] > 2 * edge else arr
    if not edge:
        return arr[:0]
    rows = range(arr.shape[0])
    if arr.shape[0] > 2 * edge:
        rows = [*range(edge), *range(arr.shape[0] - edge, arr.shape[0])]
    return np.stack([_summarized(arr[i]) for i in rows])


def _vector_str(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    edge = _OPTS.edgeitems
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / (fmt.max_width + 2)))
    if summarize and not edge:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        head = [fmt.format(v) for v in _to_python(arr[:edge], fmt.floating)]
        tail = [fmt.format(v) for v in _to_python(arr[-edge:], fmt.floating)]
        items = [*head, " ...", *tail]
    else:
        items = [fmt.format(v) for v in _to_python(arr, fmt.floating)]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if arr.ndim == 0:
        return fmt.format(_to_python(arr.reshape(1), fmt.floating)[0])
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmt)
    edge, n = _OPTS.edgeitems, arr.shape[0]
    if summarize and n > 2 * edge:
        head = [_nested_str(arr[i], indent + 1, summarize, fmt) for i in range(edge)]
        tail = [_nested_str(arr[i], indent + 1, summarize, fmt) for i in range(n - edge, n)]
        slices = [*head, "...", *tail]
    else:
        slices = [_nested_str(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _contents_str(arr: np.ndarray, indent: int, floating: bool) -> str:
    summarize = arr.size > _OPTS.threshold
    fmt = _Formatter(_summarized(arr) if summarize else arr, floating)
    return _nested_str(arr, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    # torch measures the last line as len - rfind("\n") + 1 (two more than it is when
    # there is no newline); reproduced because it decides where suffixes wrap.  Suffixes
    # are measured as torch spells them ("torch.int32"), so that the text is exactly
    # torch's with the module renamed, even if a line then ends two characters later.
    last_line_len = len(text) - text.rfind("\n") + 1
    parts = [text]
    for suffix in suffixes:
        width = len(suffix.replace("rebours.", "torch."))
        if last_line_len + width + 2 > _OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + width
        else:
            parts.append(", " + suffix)
            last_line_len += width + 2
    return "".join(parts) + ")"


def format_tensor(
    arr: np.ndarray,
    *,
    dtype_name: str,
    is_default_dtype: bool,
    device: str | None = None,
    requires_grad: bool = False,
    grad_fn: str | None = None,
    prefix: str = "tensor(",
) -> str:
    """The text of ``repr(tensor)`` for a tensor holding ``arr``.

    ``dtype_name`` is the rebours dtype name ("float32", "int64", ...) and
    ``is_default_dtype`` says whether it is the current default float dtype.  ``device`` is
    ``None`` (or "cpu") for the CPU; for "meta" the values of ``arr`` are never read, only
    its shape.  ``grad_fn`` is the backward node's class name, e.g. "AddBackward0".
    """
    indent = len(prefix)
    suffixes: list[str] = []
    if device is not None and device != "cpu":
        suffixes.append(f"device='{device}'")
    size_suffix = f"size={tuple(int(n) for n in arr.shape)}"
    dtype_suffix = f"dtype=rebours.{dtype_name}"
    if device is not None and device.split(":")[0] == "meta":
        body = "..."
        suffixes.append(size_suffix)
        if not is_default_dtype:
            suffixes.append(dtype_suffix)
    elif arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(size_suffix)
        if not is_default_dtype:  # no values to tell an int64 tensor apart, so always named
            suffixes.append(dtype_suffix)
    else:
        body = _contents_str(arr, indent, _is_floating(dtype_name))
        if not _OPTS.edgeitems:
            suffixes.append(size_suffix)
        if not (is_default_dtype or dtype_name in _IMPLIED_DTYPES):
            suffixes.append(dtype_suffix)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
