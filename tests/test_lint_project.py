"""`rebours lint` on the project's own examples and README: the code we show users is clean."""

import pathlib
import re

from rebours.lint import lint_paths, lint_source, main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_examples_folder_is_clean():
    assert main([str(ROOT / "examples")]) == 0
    assert lint_paths([str(ROOT / "examples")]) == []


def _readme_code() -> str:
    """The README's Python: its ```python blocks, with doctest prompts removed."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            if line.startswith((">>> ", "... ")):
                lines.append(line[4:])
            elif line in (">>>", "..."):
                lines.append("")
    return "\n".join(lines)


def test_readme_examples_are_clean():
    code = _readme_code()
    assert "torch.norm(z).backward()" in code  # the extraction found the tour
    assert lint_source(code, "README.md") == []


def test_the_pitfall_walkthrough_is_flagged_where_noqa_is_removed():
    text = (ROOT / "examples" / "pitfalls.py").read_text()
    stripped = re.sub(r"  # noqa: RB0\d\d.*", "", text)
    codes = {f.code for f in lint_source(stripped, "pitfalls.py")}
    assert {"RB003", "RB005", "RB007", "RB009"} <= codes
