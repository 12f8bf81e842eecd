"""examples/mlp.py, cnn.py and transformer.py run unchanged on PyTorch (LIB=torch) and on rebours,
start from the same NumPy weights and data, and print the same loss at every step (float32
rounding apart); `rebours lint` finds nothing in them. Each run prints its wall time.
"""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = {"mlp.py": 20, "cnn.py": 15, "transformer.py": 15}  # script -> steps


def _run(script, steps, lib):
    env = {**os.environ, "LIB": lib}
    run = subprocess.run([sys.executable, str(EXAMPLES / script), "--steps", str(steps)],
                         capture_output=True, text=True, timeout=180, env=env, cwd=EXAMPLES)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    losses = [float(v) for v in re.findall(r"^step \d+ loss (\S+)$", run.stdout, re.M)]
    wall = re.search(r"^wall time .*$", run.stdout, re.M)
    assert wall and f"({lib})" in wall.group(0)
    print(f"{script} {wall.group(0)}")
    return np.array(losses)


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_example_matches_torch_step_by_step(script):
    steps = SCRIPTS[script]
    ours, theirs = _run(script, steps, "rebours"), _run(script, steps, "torch")
    assert len(ours) == len(theirs) == steps
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert theirs[-1] < theirs[0]  # it learns, so the comparison is not of constants


def test_examples_are_lint_clean():
    files = [str(EXAMPLES / s) for s in SCRIPTS]
    run = subprocess.run([sys.executable, "-m", "rebours.lint", *files], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
