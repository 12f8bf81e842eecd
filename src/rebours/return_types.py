"""Named tuples that ops return (`max(dim)`, `sort`, `topk`, ...), printed as torch prints them."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

_TYPES: dict[str, type] = {}


def structseq(name: str, fields: tuple[str, ...] = ("values", "indices")) -> type:
    """The named-tuple type `rebours.return_types.<name>`, made once per name."""
    cls = _TYPES.get(name)
    if cls is None:
        base = namedtuple(name, fields)  # type: ignore[misc]

        def __repr__(self: Any) -> str:
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
            return f"rebours.return_types.{name}(\n{body})"

        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                   "__module__": "rebours.return_types"})
        _TYPES[name] = cls
        globals()[name] = cls
    return cls


max = structseq("max")  # noqa: A001  (torch's names)
min = structseq("min")  # noqa: A001
