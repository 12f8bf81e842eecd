"""Errors: torch's type and first sentence, then the user's line, the facts and the fix."""

import ast
import pathlib

import pytest
import torch

import rebours
from rebours import errors
from rebours.cli import main as cli

CASES = {
    "non-scalar backward": lambda t: (t.ones(2, 3, requires_grad=True) * 2).backward(),
    "int requires_grad": lambda t: t.tensor(3, dtype=t.int64, requires_grad=True),
    "backward twice": lambda t: [y.backward() for y in [t.tensor(2.0, requires_grad=True) ** 2]
                                 for _ in range(2)],
    "numpy with grad": lambda t: t.ones(2, requires_grad=True).numpy(),
    "requires_grad on non-leaf": lambda t: setattr(t.ones(2, requires_grad=True) * 2,
                                                   "requires_grad", False),
    "no grad_fn": lambda t: t.ones(()).backward(),
    "grad of wrong size": lambda t: setattr(t.ones(2, requires_grad=True), "grad", t.ones(3)),
    "device mismatch": lambda t: t.ones(3) + t.ones(3, device="meta"),
}


def _raise(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.value


@pytest.mark.parametrize("name", CASES)
def test_same_type_and_first_sentence_as_torch(name):
    ours, theirs = _raise(CASES[name], rebours), _raise(CASES[name], torch)
    assert isinstance(ours, type(theirs)), (type(ours), type(theirs))
    first_ours = str(ours).splitlines()[0]
    first_theirs = str(theirs).splitlines()[0]
    sentence = first_theirs.split(". ")[0].split("!")[0]
    assert first_ours.startswith(sentence), (first_ours, first_theirs)


@pytest.mark.parametrize("name", CASES)
def test_points_at_the_users_line_with_a_fix(name):
    err = _raise(CASES[name], rebours)
    text = str(err)
    assert "--> tests/test_errors.py:" in text or "test_errors.py:" in text
    assert "fix:" in text and "see: rebours explain RB0" in text
    assert isinstance(err, errors.ReboursError) and err.code in errors.CATALOGUE


def test_non_scalar_message_names_the_shape_and_the_choices():
    err = _raise(CASES["non-scalar backward"], rebours)
    text = str(err)
    assert "(2, 3)" in text and ".sum()" in text and ".mean()" in text and "gradient=" in text


def test_int_requires_grad_names_the_dtype():
    assert "rebours.int64" in str(_raise(CASES["int requires_grad"], rebours))


def test_catalogue_rows_are_complete():
    assert len(errors.CATALOGUE) >= 20
    for code, row in errors.CATALOGUE.items():
        assert code == row.code and code.startswith("RB") and len(code) == 5
        assert row.title and row.why and row.fix and row.example
    with pytest.raises(KeyError):
        errors.explain("RB999")
    assert errors.explain("rb001").startswith("RB001: backward() on a tensor that is not")


def test_errors_module_imports_nothing_from_rebours():
    tree = ast.parse(pathlib.Path(errors.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("rebours")
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("rebours") for a in node.names)


def test_cli_explain_and_version(capsys):
    assert cli(["explain", "RB005"]) == 0
    out = capsys.readouterr().out
    assert "in-place" in out and "fix:" in out
    assert cli(["explain", "RB999"]) == 2
    assert cli(["explain", "--list"]) == 0
    assert "RB023" in capsys.readouterr().out
    with pytest.raises(SystemExit) as ex:
        cli(["--version"])
    assert ex.value.code == 0 and rebours.__version__ in capsys.readouterr().out


def test_explain_function():
    assert rebours.explain("RB007").startswith("RB007")
    report = rebours.explain(3)  # a plain number: no .grad at all
    assert report.code == "RB002" and "int has no .grad" in str(report)
