"""The doctor as a user meets it: the pitfall catalogue, its page, and each runtime pitfall.

Each script in tests/doctor/ is a user program that runs into one catalogue row; it runs in a
subprocess with plain `python` (or `python -m rebours run`). The tests assert what the user sees:
the exception or warning type, PyTorch's first sentence (the same script text with `rebours`
replaced by `torch` runs under PyTorch 2.13), the culprit file:line (lines marked `# culprit`),
the concrete facts (op, shape, dtype, devices, versions) and the fix. Lines marked
`# rebours only` (calls to `rebours.explain`) are left out of the PyTorch twin.

The scripts print through tests/doctor/_show.py: stdout holds what PyTorch prints too
(`RuntimeError: first line`, values), stderr holds rebours's whole messages, one block per
diagnostic headed by `=== [ClassName]`.
"""

from __future__ import annotations

import doctest
import functools
import html
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

import pytest

import rebours
from rebours import errors
from rebours.cli import main as cli
from rebours.doctor import watch

HERE = pathlib.Path(__file__).parent
DOCTOR = HERE / "doctor"
ROOT = HERE.parent
SHOW = DOCTOR / "_show.py"


@dataclass
class Case:
    script: str
    code: str
    # the class of each diagnostic block on stderr, in order ("Report" for rebours.explain)
    blocks: tuple[str, ...]
    facts: tuple[str, ...] = ()
    fix: Optional[str] = None  # a key phrase of the fix; default: the row's fix text
    torch: str = "same"  # "same": stdout as PyTorch's; "none": no twin; else PyTorch's stdout
    run: bool = False  # run with `python -m rebours run`
    culprit: bool = True  # False: there is no line to blame (see the case)


CASES = [
    Case("rb001_non_scalar", "RB001", ("NonScalarBackwardError",),
         facts=("shape (2, 3)", "6 values", ".sum().backward()", ".mean().backward()",
                "gradient=", "divided by 6"),
         fix="reduce to one number first"),
    # a constant has no creation site to name: factories record one only with requires_grad
    Case("rb002_no_requires_grad", "RB002", ("Report", "Report"), culprit=False,
         facts=("does not require grad", "created without requires_grad=True",
                "a float has no .grad", "AttributeError")),
    Case("rb003_rebound_leaf", "RB003", ("NonLeafGradWarning", "NonLeafOptimizeError"),
         facts=("ExpBackward0", "params[0]", "shape (), rebours.float32",
                "The gradient goes to the leaf it was computed from (made at "
                "rb003_rebound_leaf.py:{x = rebours.tensor(1.0, requires_grad=True)}")),
    Case("rb003_run", "RB003", ("run",), run=True,
         facts=("DivBackward0", "params[0]", "shape (2,)", "rebours frames hidden",
                "RB003: a leaf rebound by an op")),
    Case("rb004_double_grad", "RB004", ("NonLeafGradWarning",),
         facts=("ToCopyBackward0",), fix="rebours explain RB004"),
    Case("rb004_to_optimizer", "RB004", ("NonLeafOptimizeError",),
         facts=("ToCopyBackward0", "rebours.float64", "shape (2,)")),
    Case("rb005_inplace_leaf", "RB005",
         ("InPlaceOnLeafError", "InPlaceOnLeafError", "InPlaceOnLeafError"),
         facts=("add_ on a leaf of shape (), rebours.float32",
                "copy_ (index assignment) on a view () of a leaf (3,)",
                "mul_ on a view (2, 2) of a leaf (4,)", "w = rebours.zeros(3)"),
         fix="write `x = x + 2.0` to make a new tensor"),
    Case("rb006_saved_modified", "RB006", ("ModifiedInPlaceError", "ModifiedInPlaceError"),
         facts=("[torch.FloatTensor [3]]", "input 1 of MulBackward0", "is at version 1",
                "expected version 0", "then copy_ changed it", "output 0 of ExpBackward0",
                "then add_ changed it")),
    Case("rb006_numpy_write", "RB006", ("ModifiedInPlaceError",),
         facts=("input 1 of MulBackward0", "shape (3,)", "rebours.float32",
                "written through NumPy", "shared with NumPy by .numpy()",
                "PyTorch does not notice"),
         fix="arr = t.numpy().copy()",
         torch="tensor([100.,   2.,   3.])"),  # PyTorch: no error, and a wrong gradient
    Case("rb007_sqrt_anomaly", "RB007", ("AnomalyError",),
         facts=("PowBackward0", "root cause: SqrtBackward0 returned inf",
                "rb007_sqrt_anomaly.py:{y.backward()}"),
         fix="rebours.linalg.vector_norm(x)"),
    Case("rb007_run", "RB007", ("run",), run=True,
         facts=("Function 'PowBackward0' returned nan values in its 0th output.",
                "root cause: SqrtBackward0 returned inf", "rebours frames hidden",
                "RB007: NaN or inf gradient"),
         fix="rebours.linalg.vector_norm(x)",
         torch="tensor([nan, nan, nan])"),  # PyTorch without anomaly mode: a silent NaN
    Case("rb008_device", "RB008", ("DeviceMismatchError",),
         facts=("mul: input 0 on meta shape (3,), input 1 on cpu shape (3,)",),
         fix="`.to('meta')` or `.to('cpu')`"),
    Case("rb009_int_requires_grad", "RB009",
         ("IntegerRequiresGradError", "IntegerRequiresGradError"),
         facts=("dtype rebours.int64", "dtype rebours.int32"), fix="create it as a float"),
    Case("rb009_requires_grad_method", "RB009", ("IntegerRequiresGradError",),
         facts=("dtype rebours.int64",), fix="create it as a float"),
    Case("rb011_backward_twice", "RB011", ("BackwardTwiceError",),
         facts=("MulBackward0 has no saved values left", "MulBackward0 was recorded at "
                "rb011_backward_twice.py:{y = x * x}", "freed by the backward at")),
    Case("rb016_where_nan", "RB016", ("Report",),
         facts=("1 of 3 values of .grad are NaN", "SqrtBackward0", "0 * inf = NaN",
                "selects with where(...)", "branch not taken", "shape (3,)")),
    Case("rb017_nonleaf_requires_grad", "RB017", ("NonLeafRequiresGradError",),
         facts=("grad_fn=MulBackward0",), fix="y.detach()"),
    Case("rb018_numpy", "RB018", ("NumpyRequiresGradError",), fix="t.detach().numpy()"),
    Case("rb019_grad_mismatch", "RB019", ("GradMismatchError", "GradMismatchError"),
         facts=("tensor shape (3,), grad shape (2,)", "grad_output[0] has a shape of "
                "rebours.Size([2])"),
         fix="rebours.ones_like(t)"),
    Case("rb020_no_cuda", "RB020", ("NoCudaError",),
         facts=("CuPy is not installed",), fix="pip install 'rebours[cuda]'"),
    Case("rb022_no_grad_fn", "RB022", ("NoGradFnError", "NoGradFnError"),
         facts=("shape (), dtype rebours.int64", "shape (), dtype rebours.float32"),
         fix="created with requires_grad=True"),
    Case("rb024_graph_cut", "RB024", ("Report", "Report", "Report"),
         facts=("cut by .item() at", "cut by .detach() at", "cut by mul under no_grad() at",
                "did not reach this tensor")),
]

# Where rebours falls short of the issue today (bugs outside the doctor; see the report).
XFAIL: dict = {}


XFAIL_CODES = {"rb004_to_optimizer"}  # NonLeafOptimizeError is RB003; this one says RB004


def _params(test: str, cases: list[Case]) -> list:
    out = []
    for c in cases:
        reason = XFAIL.get((test, c.script))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        if c.code == "RB020":
            marks.append(pytest.mark.skipif(rebours.cuda.is_available(),
                                            reason="a GPU backend is present"))
        out.append(pytest.param(c, marks=marks, id=c.script))
    return out


# --------------------------------------------------------------------------------------------
# Running the scripts


def _twin_text(text: str) -> str:
    kept = [ln for ln in text.splitlines() if not ln.rstrip().endswith("# rebours only")]
    return "\n".join(kept).replace("rebours", "torch") + "\n"


def _command(case: Case, twin_dir: Optional[pathlib.Path]) -> tuple[list[str], pathlib.Path]:
    if twin_dir is not None:  # the PyTorch twin, always with plain python
        shutil.copy(SHOW, twin_dir / SHOW.name)
        twin = twin_dir / f"{case.script}.py"
        twin.write_text(_twin_text((DOCTOR / f"{case.script}.py").read_text()))
        return [sys.executable, twin.name], twin_dir
    name = f"{case.script}.py"
    run = ["-m", "rebours", "run"] if case.run else []
    return [sys.executable, *run, name], DOCTOR


@functools.cache
def _results() -> dict:
    """Every script and every PyTorch twin, run once, in parallel (each is a fresh process)."""
    twin_dir = pathlib.Path(tempfile.mkdtemp(prefix="rebours_twins_"))
    jobs = {(c.script, False): _command(c, None) for c in CASES}
    jobs.update({(c.script, True): _command(c, twin_dir) for c in CASES if c.torch != "none"})

    def go(job: tuple[list[str], pathlib.Path]) -> subprocess.CompletedProcess:
        cmd, cwd = job
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)

    try:
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            return dict(zip(jobs, pool.map(go, jobs.values())))
    finally:
        shutil.rmtree(twin_dir, ignore_errors=True)


def _ours(case: Case) -> subprocess.CompletedProcess:
    return _results()[(case.script, False)]


def _theirs(case: Case) -> subprocess.CompletedProcess:
    return _results()[(case.script, True)]


def _blocks(stderr: str) -> list[tuple[str, str]]:
    """stderr split into (class name, text) per diagnostic block."""
    parts = re.split(r"^=== \[(\w+)\][^\n]*\n", stderr, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def _culprits(script: str) -> list[int]:
    lines = (DOCTOR / f"{script}.py").read_text().splitlines()
    return [n for n, ln in enumerate(lines, 1) if "# culprit" in ln]


def _resolve(script: str, fact: str) -> str:
    """`file.py:{source}` in a fact becomes `file.py:N`, N the first line holding `source`."""
    lines = (DOCTOR / f"{script}.py").read_text().splitlines()

    def number(m: re.Match) -> str:
        return str(next(n for n, ln in enumerate(lines, 1) if m.group(1) in ln))
    return re.sub(r"(?<=\.py:)\{(.+?)\}", number, fact)


def _sentence(line: str) -> str:
    """A message's first sentence: up to the first '. ', '! ', ': ' or the end."""
    return re.split(r"[.!:](?:\s|$)", line, maxsplit=1)[0]


_DIAG = re.compile(r"^(\w+(?:Error|Warning|Exception)): (.*)$")


# --------------------------------------------------------------------------------------------
# Each runtime pitfall, as the user meets it


@pytest.mark.parametrize("case", _params("type", CASES))
def test_script_raises_the_named_class(case):
    """The diagnostic's class (a subclass of PyTorch's builtin: the script's `except` caught it),
    and the catalogue row it names."""
    res = _ours(case)
    if case.run:  # uncaught: rebours run explains it and exits 1
        assert res.returncode == 1, res.stderr
        assert "Traceback (most recent call last, rebours frames hidden)" in res.stderr
        assert f"{case.code}: {errors.CATALOGUE[case.code].title}" in res.stderr
        return
    assert res.returncode == 0, res.stderr
    blocks = _blocks(res.stderr)
    assert tuple(name for name, _ in blocks) == case.blocks, res.stderr
    known = {c.__name__: c for c in _subclasses(errors.ReboursError)
             | _subclasses(errors.ReboursWarning)}
    for name, _ in blocks:
        if name != "Report":
            assert name in known, name  # rebours's named class, not a bare builtin
            code = getattr(known[name], "code", None)  # warnings name their row in the text
            assert code in (None, case.code) or case.script in XFAIL_CODES, (name, code)


@pytest.mark.parametrize("case", _params("row", CASES))
def test_script_names_its_row(case):
    res = _ours(case)
    if case.run:
        assert f"see: rebours explain {case.code}" in res.stderr
        return
    for name, text in _blocks(res.stderr):
        assert re.search(rf"[Ss]ee: rebours explain {case.code}\b", text), (name, text)


@pytest.mark.parametrize("case", _params("culprit", [c for c in CASES if c.culprit]))
def test_script_points_at_the_culprit_line(case):
    """Every `# culprit` line is named as file:line, and every diagnostic names one of them."""
    res = _ours(case)
    marks = _culprits(case.script)
    assert marks, "a doctor script marks its culprit lines"
    named = [f"{case.script}.py:{n}" for n in marks]
    for where in named:
        assert where in res.stderr, (where, res.stderr)
    for name, text in _blocks(res.stderr):
        assert any(w in text for w in named), (name, text)


@pytest.mark.parametrize("case", _params("facts", CASES))
def test_script_states_the_facts_and_the_fix(case):
    res = _ours(case)
    for fact in case.facts:
        fact = _resolve(case.script, fact)
        assert fact in res.stdout + res.stderr, (fact, res.stderr)
    fix = case.fix or errors.CATALOGUE[case.code].fix
    assert fix in res.stderr, (fix, res.stderr)


@pytest.mark.parametrize("case", _params("torch", [c for c in CASES if c.torch != "none"]))
def test_script_matches_torch(case):
    """The same script under PyTorch: the same types and first sentences and the same values,
    or (for what rebours catches and PyTorch does not) PyTorch's silent result."""
    ours, theirs = _ours(case), _theirs(case)
    if case.torch != "same":
        assert theirs.returncode == 0, theirs.stderr
        assert case.torch in theirs.stdout, theirs.stdout
        assert case.torch not in ours.stdout
        return
    if case.run:  # an uncaught error: compare the exception lines of the two tracebacks
        assert theirs.returncode == 1
        line = [ln for ln in theirs.stderr.splitlines() if _DIAG.match(ln)][-1]
        kind, msg = _DIAG.match(line).groups()
        assert re.search(rf"^{kind}: {re.escape(_sentence(msg))}", ours.stderr, re.M), \
            (line, ours.stderr)
        return
    assert theirs.returncode == 0, theirs.stderr
    mine = ours.stdout.splitlines()
    want = theirs.stdout.replace("torch.", "rebours.").splitlines()
    assert len(mine) == len(want), (mine, want)
    for a, b in zip(mine, want):
        ma, mb = _DIAG.match(a), _DIAG.match(b)
        if ma or mb:
            assert ma and mb, (a, b)
            assert ma.group(1) == mb.group(1), (a, b)
            assert _sentence(ma.group(2)) == _sentence(mb.group(2)), (a, b)
        else:
            assert a == b


REQUIRED = {"RB001", "RB003", "RB004", "RB005", "RB006", "RB007", "RB008", "RB009", "RB011",
            "RB016", "RB017", "RB018", "RB019", "RB020", "RB022", "RB024"}


def test_every_runtime_row_has_a_script():
    scripts = {p.stem for p in DOCTOR.glob("rb*.py")}
    assert scripts == {c.script for c in CASES}
    assert REQUIRED <= {c.code for c in CASES}
    assert any(c.run for c in CASES)
    # every exception class that names a row is met by some script (RB021: needs ml_dtypes gone)
    raised = {cls.code for cls in _subclasses(errors.ReboursError) if cls.code}
    assert raised - {"RB021"} <= {c.code for c in CASES}


def _subclasses(cls: type) -> set:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


# --------------------------------------------------------------------------------------------
# rebours.explain(t): the reports


@pytest.fixture
def fresh():
    """No backward has run in this process (as far as the doctor knows)."""
    saved = watch.LAST[0]
    watch.LAST[0] = None
    yield
    watch.LAST[0] = saved


def _line(marker: str) -> str:
    """`test_doctor.py:N` of the line of this file that contains `marker`."""
    lines = pathlib.Path(__file__).read_text().splitlines()
    hits = [n for n, ln in enumerate(lines, 1) if ln.rstrip().endswith(marker)]
    assert len(hits) == 1, (marker, hits)
    return f"test_doctor.py:{hits[0]}"


def _says(text: str, before: str, marker: str) -> None:
    """`text` contains `before` then this file's path (as shown) and the line of `marker`."""
    assert re.search(re.escape(before) + r"\S*" + re.escape(_line(marker)), text), (before, text)


def test_explain_not_a_leaf_names_the_op_the_line_and_the_leaf():
    w = rebours.tensor([1.0, 2.0], requires_grad=True)  # the leaf w
    w = rebours.exp(w)  # the rebinding op
    r = rebours.explain(w)
    text = str(r)
    assert r.code == "RB003" and r.headline.startswith(".grad is None: this tensor is not a leaf")
    _says(text, "the output of ExpBackward0, made at ", "# the rebinding op")
    assert "`w = rebours.exp(w)  # the rebinding op`" in text
    _says(text, "the gradient goes to the leaf it was computed from: shape (2,), "
          "rebours.float32, made at ", "# the leaf w")
    assert "that leaf's .grad is None" in text
    assert ".retain_grad()" in text
    assert f"fix: {errors.CATALOGUE['RB003'].fix}" in text
    assert "see: rebours explain RB003" in text


def test_explain_to_copy_names_rb004():
    x = rebours.tensor(3.0, requires_grad=True).double()
    (x * 2).backward()
    r = rebours.explain(x)
    assert r.code == "RB004" and "ToCopyBackward0" in str(r)
    assert "a copy made by .to(), .double(), .cuda()" in str(r)
    assert "that leaf's .grad is set" in str(r)


def test_explain_requires_grad_false():
    c = rebours.tensor([8.0, 1.0])
    x = rebours.tensor([4.0, 2.0], requires_grad=True)
    (c * x).sum().backward()
    r = rebours.explain(c)
    assert r.code == "RB002"
    assert "does not require grad" in r.headline and "treats it as a constant" in r.headline
    assert "shape (2,), dtype rebours.float32" in str(r)
    k = rebours.tensor([1, 2])
    assert "cannot require grad at all (RB009)" in str(rebours.explain(k))


def test_explain_plain_numbers():
    assert rebours.explain(5.0).headline == "a float has no .grad: only tensors take part in " \
                                            "autograd"
    assert rebours.explain(3).headline.startswith("an int has no .grad")
    assert rebours.explain(3).code == "RB002"


def test_explain_no_backward_yet(fresh):
    w = rebours.tensor(2.0, requires_grad=True)
    r = rebours.explain(w)
    assert r.headline == ".grad is None: no backward() has run yet"
    assert r.code is None and "loss.backward()" in r.fix
    assert "see:" not in str(r) and "fix: " in str(r)


def test_explain_no_backward_yet_but_cut(fresh):
    w = rebours.tensor(2.0, requires_grad=True)
    y = w.detach() * 3  # cut before any backward
    r = rebours.explain(w)
    assert r.code == "RB024" and "no backward() has run yet" in r.headline
    _says(str(r), "cut by .detach() at ", "# cut before any backward")
    del y


@pytest.mark.parametrize("how", ["item", "detach", "no_grad", "float", "data"])
def test_explain_cut_names_where_the_path_was_cut(how):
    w = rebours.tensor(2.0, requires_grad=True)
    x = rebours.tensor(3.0, requires_grad=True)
    if how == "item":
        y = rebours.tensor(w.item()) * x  # cut: item
    elif how == "detach":
        y = w.detach() * x  # cut: detach
    elif how == "float":
        y = float(w) * x  # cut: float
    elif how == "data":
        y = w.data * x  # cut: data
    else:
        with rebours.no_grad():
            v = w * 2  # cut: no_grad
        y = v * x
    y.backward()  # the backward
    r = rebours.explain(w)
    text = str(r)
    assert r.code == "RB024" and r.headline == ".grad is None: the graph from this tensor was cut"
    _says(text, "the last backward, at ", "# the backward")
    assert "did not reach this tensor" in text
    by = {"item": ".item()", "detach": ".detach()", "float": ".item()", "data": ".data",
          "no_grad": "mul under no_grad()"}[how]
    _says(text, f"cut by {by} at ", f"# cut: {how}")
    assert x.grad is not None


def test_explain_not_reached():
    w = rebours.tensor(2.0, requires_grad=True)
    x = rebours.tensor(3.0, requires_grad=True)
    (x * 2).backward()
    r = rebours.explain(w)
    assert r.headline == ".grad is None: the last backward did not reach this tensor"
    assert r.code == "RB022" and "smooth surrogate" in r.fix


def test_explain_nan_names_the_first_node_and_its_line():
    x = rebours.zeros(3, requires_grad=True)
    y = rebours.sqrt(rebours.sum(x ** 2))  # the sqrt
    (y * 2).backward()
    r = rebours.explain(x)
    text = str(r)
    assert r.code == "RB007" and r.headline == ".grad contains NaN"
    assert "3 of 3 values of .grad are NaN" in text
    _says(text, "the first non-finite gradient came from SqrtBackward0, made at ", "# the sqrt")
    assert "was inf" in text and "1/(2*sqrt(s))" in text
    assert "turned it into NaN" in text
    assert f"fix: {errors.CATALOGUE['RB007'].fix}" in text


def test_explain_nan_through_where_names_rb016():
    x = rebours.tensor([0.0, 1.0], requires_grad=True)
    y = rebours.where(x > 0, rebours.sqrt(x), 0.0)  # the where
    y.sum().backward()
    r = rebours.explain(x)
    assert r.code == "RB016"
    _says(str(r), "SqrtBackward0, made at ", "# the where")
    assert "0 * inf = NaN" in str(r) and "branch not taken" in str(r)


def test_explain_inf_at_log():
    a = rebours.tensor([0.0, 1.0], requires_grad=True)
    rebours.log(a).sum().backward()
    r = rebours.explain(a)
    assert r.headline == ".grad contains inf" and r.code == "RB007"
    assert "log(s) has slope 1/s" in str(r) and "turned it into NaN" not in str(r)


def test_explain_nan_from_an_earlier_backward():
    x = rebours.zeros(2, requires_grad=True)
    rebours.sqrt((x ** 2).sum()).backward()
    other = rebours.tensor(1.0, requires_grad=True)
    (other * 2).backward()  # a later backward that does not touch x
    r = rebours.explain(x)
    assert "did not write this .grad" in str(r) and "earlier backward" in str(r)


def test_explain_finite_grad():
    x = rebours.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    r = rebours.explain(x)
    assert r.headline == ".grad is set and finite: nothing to explain" and r.code is None
    assert "every value is finite" in str(r)


def test_report_html_escapes_and_carries_the_same_facts():
    w = rebours.tensor(2.0, requires_grad=True)
    v = rebours.exp(w) if w.requires_grad else w  # <b>not bold</b>
    r = rebours.explain(v)
    page = r._repr_html_()
    assert page.startswith("<div") and page.endswith("</div>")
    assert html.escape(r.headline) in page
    for fact in r.facts:
        assert f"<li>{html.escape(fact)}</li>" in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page and "<b>not bold</b>" not in page
    assert f"<b>fix:</b> {html.escape(r.fix)}" in page
    assert "<code>rebours explain RB003</code>" in page
    assert repr(r) == str(r)


# --------------------------------------------------------------------------------------------
# The catalogue, its examples, `rebours explain CODE`, and docs/pitfalls.md


@pytest.mark.parametrize("code", list(errors.CATALOGUE))
def test_catalogue_example_runs_as_a_doctest(code):
    row = errors.CATALOGUE[code]
    assert row.example.startswith((">>> import rebours", ">>> from rebours")), code
    test = doctest.DocTestParser().get_doctest(row.example, {}, code, code, 0)
    assert len(test.examples) >= 2
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=lambda s: pytest.fail(s, pytrace=False))
    assert result.failed == 0
    if row.torch_message and code != "RB008":  # (RB008 shows the meta device's wording)
        # the example shows PyTorch's sentence as rebours raises it
        shown = " ".join(row.example.split())
        assert " ".join(row.torch_message.split()) in shown, code


@pytest.mark.parametrize("code", list(errors.CATALOGUE))
def test_cli_explain_prints_the_whole_row(code, capsys):
    assert cli(["explain", code.lower()]) == 0
    out = capsys.readouterr().out
    row = errors.CATALOGUE[code]
    assert out.startswith(f"{code}: {row.title}\n")
    flat = " ".join(out.split())
    for part in (row.why, row.fix):
        assert " ".join(part.split()) in flat
    assert "example:\n    >>> " in out and "doctest:" not in out
    assert max(len(line) for line in out.splitlines()) <= 104


def _gen():
    spec = importlib.util.spec_from_file_location("gen_pitfalls", ROOT / "tools" /
                                                  "gen_pitfalls.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pitfalls_page_is_the_catalogue():
    page = (ROOT / "docs" / "pitfalls.md").read_text()
    assert page == _gen().render(), "docs/pitfalls.md is stale: run python tools/gen_pitfalls.py"
    for row in errors.CATALOGUE.values():
        assert f"\n## {row.code}: {row.title}\n" in page
        assert f"**Why:** {row.why}\n" in page and f"**Fix:** {row.fix}\n" in page
        assert row.example in page


def test_pitfalls_page_doctests_run_in_ci():
    import tomllib

    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "docs" in opts["testpaths"]
    assert "--doctest-glob=*.md" in opts["addopts"].split()
