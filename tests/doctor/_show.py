"""How the doctor scripts show what a user would see (read by tests/test_doctor.py).

stdout gets what PyTorch would also print: the builtin exception or warning type and the first
line of its message, and the values the script prints. stderr gets rebours's whole message,
one block per diagnostic, headed by `=== [ClassName]`, so the test can check the culprit line,
the facts and the fix in it.
"""

import os
import sys


def _builtin(cls: type) -> str:
    return next(c for c in cls.__mro__ if c.__module__ == "builtins").__name__


def error(e: BaseException) -> None:
    """A caught exception: `RuntimeError: first line` on stdout, the whole message on stderr."""
    print(f"{_builtin(type(e))}: {str(e).splitlines()[0]}")
    print(f"=== [{type(e).__name__}]", e, sep="\n", file=sys.stderr)


def warned(caught: list) -> None:
    """Warnings caught with `warnings.catch_warnings(record=True)`, shown as `error` shows."""
    for w in caught:
        if "Anomaly Detection" in str(w.message):
            continue
        print(f"{_builtin(w.category)}: {str(w.message).splitlines()[0]}")
        print(f"=== [{w.category.__name__}] (warned from {os.path.basename(w.filename)}, "
              f"line {w.lineno})", w.message, sep="\n", file=sys.stderr)


def report(r: object) -> None:
    """A `rebours.explain(...)` report, on stderr only (PyTorch has none)."""
    print(f"=== [{type(r).__name__}]", r, sep="\n", file=sys.stderr)
