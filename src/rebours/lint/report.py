"""Output formats: ruff-style text lines, JSON, SARIF 2.1.0, and per-code statistics."""

from __future__ import annotations

import json
from collections import Counter
from importlib import metadata

from rebours.errors import CATALOGUE

from .finding import Finding
from .rules import CODES, NOTE_CODES, SYNTAX_ERROR

FORMATS = ("text", "json", "sarif")
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def version() -> str:
    try:
        return metadata.version("rebours")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def title(code: str) -> str:
    if code == SYNTAX_ERROR:
        return "file could not be parsed"
    row = CATALOGUE.get(code)
    return row.title if row else code


def fix(code: str) -> str:
    row = CATALOGUE.get(code)
    return row.fix if row else ""


def severity(code: str) -> str:
    """SARIF level: ``error`` for unparsable files, ``note`` for RB010, else ``warning``."""
    if code == SYNTAX_ERROR:
        return "error"
    return "note" if code in NOTE_CODES else "warning"


def render(findings: list[Finding], fmt: str = "text", *, show_fix: bool = False,
           statistics: bool = False) -> str:
    """All of the output for one run, in format `fmt`."""
    if statistics:
        return _statistics(findings, fmt)
    if fmt == "json":
        return json.dumps([_record(f) for f in findings], indent=2)
    if fmt == "sarif":
        return json.dumps(_sarif(findings), indent=2)
    return _text(findings, show_fix)


def _text(findings: list[Finding], show_fix: bool) -> str:
    lines = []
    for f in findings:
        lines.append(f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}")
        if show_fix and fix(f.code):
            lines.append(f"    fix: {fix(f.code)}")
    n = len(findings)
    lines.append(f"Found {n} finding{'s' if n != 1 else ''}." if n else "All checks passed!")
    return "\n".join(lines)


def _record(f: Finding) -> dict[str, object]:
    return {
        "code": f.code,
        "message": f.message,
        "filename": f.path,
        "location": {"row": f.line, "column": f.col},
        "title": title(f.code),
        "fix": fix(f.code),
        "severity": severity(f.code),
    }


def _sarif(findings: list[Finding]) -> dict[str, object]:
    codes = sorted({f.code for f in findings} | set(CODES))
    index = {code: i for i, code in enumerate(codes)}
    rules = []
    for code in codes:
        row = CATALOGUE.get(code)
        rules.append({
            "id": code,
            "name": title(code),
            "shortDescription": {"text": title(code)},
            "fullDescription": {"text": row.why if row else title(code)},
            "help": {"text": fix(code) or title(code)},
            "defaultConfiguration": {"level": severity(code)},
        })
    results = [{
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": severity(f.code),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": f.path.replace("\\", "/")},
            "region": {"startLine": f.line, "startColumn": f.col},
        }}],
    } for f in findings]
    return {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rebours-lint", "version": version(), "rules": rules}},
            "results": results,
        }],
    }


def _statistics(findings: list[Finding], fmt: str) -> str:
    counts = Counter(f.code for f in findings)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if fmt in ("json", "sarif"):
        return json.dumps([{"code": c, "count": n, "title": title(c)} for c, n in ranked],
                          indent=2)
    width = max((len(str(n)) for _, n in ranked), default=1)
    return "\n".join(f"{n:>{width}}\t{c}\t{title(c)}" for c, n in ranked)
