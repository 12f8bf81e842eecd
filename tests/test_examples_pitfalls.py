"""examples/pitfalls.py runs with plain `python` and prints, for each of the seed's pitfalls,
PyTorch's message and rebours's explanation (real error text, or an explain() report)."""

import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "examples" / "pitfalls.py"


def test_pitfalls_walkthrough_runs_and_explains():
    run = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                         timeout=120, cwd=SCRIPT.parent)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert run.stderr == ""
    assert out.count("PyTorch 2.13 says:") == out.count("rebours says:") == 10
    expected = [
        # (PyTorch's first sentence, printed twice when rebours keeps it; rebours's catalogue)
        ("RuntimeError: grad can be implicitly created only for scalar outputs", "RB001"),
        (".grad is None: this tensor does not require grad", "RB002"),
        ("ValueError: can't optimize a non-leaf Tensor", "RB003"),
        ("the first non-finite gradient came from SqrtBackward0", "RB007"),
        ("RuntimeError: a leaf Variable that requires grad is being used in an in-place "
         "operation.", "RB005"),
        ("RuntimeError: Tensor on device cpu is not on the expected device meta!", "RB008"),
        ("RuntimeError: Only Tensors of floating point and complex dtype can require gradients",
         "RB009"),
        ("y = tensor(6., dtype=rebours.float64, grad_fn=<MulBackward0>)", "RB010"),
        ("RuntimeError: a view of a leaf Variable that requires grad is being used in an "
         "in-place operation.", "RB005"),
        ("RuntimeError: one of the variables needed for gradient computation has been modified "
         "by an inplace operation", "RB006"),
    ]
    sections = out.split("=" * 78)[2::2]
    assert len(sections) == 10
    for section, (phrase, code) in zip(sections, expected):
        assert phrase in section, section
        assert code in section, section
    # the errors point at the script's own lines
    assert "pitfalls.py:" in sections[0] and "--> " in sections[4]
    assert "tensor([nan, nan, nan])" in sections[3]
    assert "with torch.norm instead: z.grad = tensor([0., 0., 0.])" in sections[3]
    assert "import torch" not in SCRIPT.read_text()
