"""glibc malloc thresholds for programs that allocate large arrays over and over.

NumPy takes every array from malloc. glibc serves a large request either from memory the
process holds or from fresh pages (one page fault per 4 KiB), and which one it picks depends on
thresholds it adjusts as the program runs, so on the heap's layout at the time. A training loop
whose temporaries are around 1 MB and up can then spend most of an op faulting pages in: a 3x3
convolution on a batch of 32 28x28 images measured 620 us per call one way and 220 us the other
(docs/performance.md). `tune()` fixes the thresholds so such arrays come from the heap and freed
memory is kept for reuse. It changes the whole process's allocator, so rebours never calls it on
import; `rebours run` does, for the script it runs.

>>> import rebours.utils.malloc
>>> rebours.utils.malloc.tune() in (True, False)  # False off glibc: nothing to do
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 1 << 30

__all__ = ["tune", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]


def tune(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Serve allocations below `mmap_threshold` from the heap and keep up to `trim_threshold`
    of freed memory at its top; the same as starting Python with `MALLOC_MMAP_THRESHOLD_` and
    `MALLOC_TRIM_THRESHOLD_` set. Returns False, changing nothing, where the C library is not
    glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, trim_threshold))
