"""Every snippet of the seed's sections 4 and 5, run as a user script in a subprocess.

Each script in tests/seed/ starts with `import rebours as torch`. The test runs it, then runs the
same text with `rebours` replaced by `torch` (PyTorch 2.13), and asserts the same printed output:
numbers, reprs (module prefix aside), grad_fn names, exception types and first sentences. Where a
line is marked `# culprit`, rebours's full message (on stderr) must name that file:line.
"""

import pathlib
import subprocess
import sys

import pytest

SEED = pathlib.Path(__file__).parent / "seed"
SCRIPTS = sorted(SEED.glob("s*.py"))


def _run(path: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=120, cwd=path.parent)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_seed_script_matches_torch(script, tmp_path):
    ours = _run(script)
    assert ours.returncode == 0, ours.stderr
    twin = tmp_path / script.name
    twin.write_text(script.read_text().replace("rebours", "torch"))
    theirs = _run(twin)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout.replace("torch.", "rebours.")
    for n, line in enumerate(script.read_text().splitlines(), start=1):
        if line.rstrip().endswith("# culprit"):
            assert f"{script.name}:{n}" in ours.stderr, ours.stderr


def test_every_seed_section_has_a_script():
    names = {p.stem.split("_")[0] + "_" + p.stem.split("_")[1] for p in SCRIPTS}
    assert {"s4_2", "s4_3", "s5_3", "s5_4", "s5_5", "s5_6", "s5_7", "s5_8"} <= names
