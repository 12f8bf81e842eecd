"""`rebours demo`, run as users run it (a subprocess): it reaches 95% held-out accuracy and writes
its checkpoint, curves and graph; a resumed run (after an epoch, or after Ctrl-C mid-epoch) ends
with exactly the weights of an uninterrupted one; without the viz extra or tqdm it still trains
and says what it skipped."""

import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from rebours.serialization import load

LAST = re.compile(r"^test accuracy: (\d+\.\d)%$")
BLOCK = ("import sys\n"
         "for name in {blocked!r}:\n"
         "    sys.modules[name] = None  # `import name` raises ImportError\n"
         "from rebours.cli import main\n"
         "raise SystemExit(main({argv!r}))\n")


def demo(*args, blocked=(), **kw):
    argv = ["demo", *map(str, args)]
    if blocked:
        cmd = [sys.executable, "-c", BLOCK.format(blocked=list(blocked), argv=argv)]
    else:
        cmd = [sys.executable, "-m", "rebours", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def weights(path):
    return {k: v.numpy() for k, v in load(path)["model"].items()}


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert list(wa) == list(wb)
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """Two epochs without a stop: the reference for the resume tests."""
    out = tmp_path_factory.mktemp("straight")
    run = demo("--epochs", 2, "--out", out)
    assert run.returncode == 0, run.stderr
    return out / "checkpoint.safetensors"


def test_default_run_reaches_95_percent(tmp_path):
    t0 = time.perf_counter()
    run = demo("--out", tmp_path)
    seconds = time.perf_counter() - t0
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    m = LAST.match(last)
    assert m, run.stdout
    assert float(m.group(1)) >= 95.0
    assert seconds < 120
    # the progress bar shows loss, accuracy and samples per second
    assert re.search(r"epoch 10/10: 100%.*loss \d\.\d{3}  acc \d+\.\d%  [\d,]+ samples/s",
                     run.stderr), run.stderr[-2000:]
    ckpt = load(tmp_path / "checkpoint.safetensors")
    assert ckpt["epoch"] == 10 and ckpt["step"] == 0 and ckpt["seed"] == 0
    assert set(ckpt["optimizer"]) == {"state", "param_groups"}
    assert ckpt["rng"]["bit_generator"] == "PCG64"
    assert len(ckpt["history"]["test_acc"]) == 10
    for png in ("curves.png", "graph.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "skipped" not in run.stdout


def test_resume_after_an_epoch_matches_a_straight_run(tmp_path, straight):
    first = demo("--epochs", 1, "--out", tmp_path)
    assert first.returncode == 0, first.stderr
    ckpt = tmp_path / "checkpoint.safetensors"
    second = demo("--epochs", 2, "--resume", ckpt, "--out", tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resumed from" in second.stdout and LAST.match(second.stdout.splitlines()[-1])
    assert_same_weights(ckpt, straight)
    assert load(ckpt)["history"] == load(straight)["history"]


def test_ctrl_c_saves_and_the_resumed_run_matches(tmp_path, straight):
    proc = subprocess.Popen([sys.executable, "-m", "rebours", "demo", "--epochs", "2", "--out",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: proc.stderr.read(64), "")))
    reader.start()
    deadline = time.monotonic() + 120
    while not re.search(r"epoch 1/2:\s+[1-9]\d*%", "".join(err)):  # a few steps in
        assert time.monotonic() < deadline and proc.poll() is None, "".join(err)
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out = proc.stdout.read()
    proc.wait(timeout=60)
    reader.join()
    assert proc.returncode == 130, out + "".join(err)
    assert "interrupted: saved" in out and "Traceback" not in "".join(err)
    ckpt = tmp_path / "checkpoint.safetensors"
    saved = load(ckpt)
    assert (saved["epoch"], saved["step"] > 0) in ((0, True), (1, False))  # mid-epoch, or at
    resumed = demo("--epochs", 2, "--resume", ckpt, "--out", tmp_path)  # the end of epoch 1
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(ckpt, straight)
    assert load(ckpt)["history"] == load(straight)["history"]


def test_without_the_viz_extra_and_tqdm(tmp_path):
    run = demo("--epochs", 1, "--out", tmp_path, blocked=("matplotlib", "graphviz", "tqdm"))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert LAST.match(lines[-1])
    skipped = [ln for ln in lines if ln.startswith("skipped")]
    assert len(skipped) == 1 and "pip install 'rebours[viz]'" in skipped[0]
    assert "matplotlib" in skipped[0] and "graphviz" in skipped[0]
    # plain progress lines instead of the bar
    assert re.search(r"^epoch 1/1  loss \d\.\d{3}  acc \d+\.\d%  [\d,]+ samples/s  test",
                     run.stdout, re.M), run.stdout
    assert not (tmp_path / "curves.png").exists()
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    load(tmp_path / "checkpoint.safetensors")


def test_help_lists_the_options():
    run = subprocess.run([sys.executable, "-m", "rebours", "demo", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    for option in ("--epochs", "--seed", "--resume", "--out"):
        assert option in run.stdout
