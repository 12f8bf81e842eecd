"""Write docs/pitfalls.md from the catalogue in rebours.errors (one section per row).

    python tools/gen_pitfalls.py           # rewrite docs/pitfalls.md
    python tools/gen_pitfalls.py --check   # exit 1 if docs/pitfalls.md is out of date

The page's examples are the rows' doctests; pytest runs them (`--doctest-glob=*.md`), and
tests/test_doctor.py checks that the page is what this script writes.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "pitfalls.md"

INTRO = """\
# Pitfalls

Every autograd pitfall rebours knows, one section per code. A runtime error or warning ends with
`see: rebours explain RB0xx`; `rebours.explain(t)` (why is `t.grad` None or NaN?) and
`rebours lint` name the same codes. All of them print the rows below, so one wording serves all.
Where PyTorch raises too, rebours keeps its exception type and first sentence, shown here as
"PyTorch says".

This page is generated from `rebours.errors.CATALOGUE` by `tools/gen_pitfalls.py`; do not edit it
by hand. Its examples run as doctests in CI. `rebours explain RB0xx` prints one row in a terminal.

| code | pitfall |
|------|---------|
"""


def _anchor(code: str, title: str) -> str:
    """GitHub's heading anchor for `## RB001: title`."""
    text = f"{code}: {title}".lower()
    kept = "".join(c for c in text if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def render() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from rebours.errors import CATALOGUE

    out = [INTRO]
    for row in CATALOGUE.values():
        out.append(f"| [{row.code}](#{_anchor(row.code, row.title)}) | {row.title} |\n")
    for row in CATALOGUE.values():
        out.append(f"\n## {row.code}: {row.title}\n\n")
        out.append(f"**Why:** {row.why}\n\n")
        out.append(f"**Fix:** {row.fix}\n\n")
        if row.torch_message:
            out.append(f"**PyTorch says:** `{row.torch_message}`\n\n")
        # a blank line before the closing fence ends the doctest's expected output
        out.append(f"```python\n{row.example}\n\n```\n")
    return "".join(out)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE.relative_to(ROOT)} is out of date: run python tools/gen_pitfalls.py",
                  file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE.relative_to(ROOT)} ({text.count(chr(10) + '## ')} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
