"""rebours.distributed, DistributedDataParallel and DistributedSampler: 2 MPI ranks, and one.

The MPI jobs run in a private network namespace (`unshare --net`, loopback only) and start with
`python -m mpi4py`, so an exception on one rank aborts the job instead of hanging it. The
scripts they run are in tests/mpi/. Single-process behaviour is tested in this process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import rebours
import rebours.distributed as dist
import rebours.nn as nn
from rebours.distributed import collectives
from rebours.nn.parallel import DistributedDataParallel as DDP
from rebours.serialization import load
from rebours.utils.data import DistributedSampler

HERE = Path(__file__).resolve().parent
MPI_DIR = HERE / "mpi"


def _mpiexec() -> str:
    """The mpich wheel's launcher next to this Python, else one on PATH."""
    local = Path(sys.executable).with_name("mpiexec")
    if local.exists():
        return str(local)
    import shutil

    found = shutil.which("mpiexec")
    assert found, "no mpiexec: install the test extra (pip install -e '.[test]' pulls mpich)"
    return found


def mpirun(*args: str, n: int = 2, timeout: float = 60, cwd: Path | None = None):
    """`mpiexec -n N python -m mpi4py ARGS` in a new network namespace with only `lo` up."""
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--map-root-user",
                                                                "--net"]
    cmd = [*unshare, sys.executable, str(MPI_DIR / "netns.py"), _mpiexec(), "-n", str(n),
           sys.executable, "-m", "mpi4py", *args]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for var in ("PMI_SIZE", "PMI_RANK", "PMI_FD", "OMPI_COMM_WORLD_SIZE"):  # not nested
        env.pop(var, None)
    t0 = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    return run, time.perf_counter() - t0


# -- two ranks -------------------------------------------------------------------------------

def test_each_collective_matches_numpy_on_two_ranks():
    run, _ = mpirun(str(MPI_DIR / "collectives.py"))
    assert run.returncode == 0, run.stdout + run.stderr
    ok = re.findall(r"^ok (.+)$", run.stdout, re.M)
    for op in ("SUM", "AVG", "MAX", "MIN"):
        assert f"all_reduce {op} float32" in ok and f"reduce_scatter {op}" in ok
    for name in ("broadcast src=0", "broadcast src=1", "all_gather", "barrier",
                 "all_reduce of a strided view", "all_reduce async_op", "all_reduce float16"):
        assert name in ok, run.stdout
    assert len(ok) == 22, run.stdout


def test_ddp_on_two_ranks_matches_one_process_full_batch():
    run, _ = mpirun(str(MPI_DIR / "ddp.py"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok 20 SGD steps on 2 ranks match one process on the full batch (1e-6)" in run.stdout
    assert "ok no_sync() accumulates locally" in run.stdout
    assert "ok find_unused_parameters" in run.stdout
    assert "ok unused parameters without find_unused_parameters" in run.stdout


def test_a_rank_that_raises_ends_the_job_within_seconds():
    run, seconds = mpirun(str(MPI_DIR / "raise_on_rank1.py"), timeout=60)
    assert run.returncode != 0
    assert seconds < 15, seconds
    assert "ValueError: boom on rank 1" in run.stderr, run.stderr
    assert "should never get here" not in run.stdout


def test_demo_on_two_ranks_trains_to_the_one_process_weights(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, "-m", "rebours", "demo", "--epochs", "1", "--out",
                             str(one)], capture_output=True, text=True, timeout=120, env=env)
    assert single.returncode == 0, single.stderr
    run, _ = mpirun("-m", "rebours", "demo", "--epochs", "1", "--out", str(two), timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "data-parallel over 2 ranks" in run.stdout
    assert re.search(r"rank 0 of 2: [\d,]+ samples/s", run.stdout), run.stdout
    assert re.search(r"rank 1 of 2: [\d,]+ samples/s", run.stdout), run.stdout
    assert re.search(r"rank 0 of 1: [\d,]+ samples/s", single.stdout), single.stdout
    # the same test accuracy line, and the same weights up to rounding
    assert single.stdout.strip().splitlines()[-1] == run.stdout.strip().splitlines()[-1]
    a, b = load(one / "checkpoint.safetensors"), load(two / "checkpoint.safetensors")
    assert list(a["model"]) == list(b["model"])  # no "module." prefix: interchangeable
    for k in a["model"]:
        np.testing.assert_allclose(b["model"][k].numpy(), a["model"][k].numpy(), atol=1e-5)
    np.testing.assert_allclose(b["history"]["step_loss"], a["history"]["step_loss"], atol=1e-5)
    assert b["history"]["train_acc"] == pytest.approx(a["history"]["train_acc"])


# -- one process (no launcher) ---------------------------------------------------------------

def test_outside_a_launcher_the_world_is_rank_0_of_1():
    assert not dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    t = rebours.tensor([1.0, -2.0])
    for op in dist.ReduceOp:
        dist.all_reduce(t, op=op)
    assert t.tolist() == [1.0, -2.0] and t._version == 4
    out = [rebours.zeros(2)]
    dist.all_gather(out, t)
    dist.reduce_scatter(t, [rebours.tensor([5.0, 6.0])], op=dist.ReduceOp.AVG)
    assert out[0].tolist() == [1.0, -2.0] and t.tolist() == [5.0, 6.0]
    with pytest.raises(ValueError, match="src=1 is not a rank"):
        dist.broadcast(t, src=1)
    with pytest.raises(ValueError, match="has 2 tensors; the world has 1 ranks"):
        dist.all_gather([t, t], t)
    with pytest.raises(TypeError, match="AVG needs a floating point tensor"):
        dist.all_reduce(rebours.tensor([1, 2]), op=dist.ReduceOp.AVG)


def test_a_saved_tensor_changed_by_a_collective_is_refused_by_backward():
    w = rebours.ones(3, requires_grad=True)
    h = w * 2
    y = (h * h).sum()
    dist.all_reduce(h)  # in place on data that mul saved: its version moves on
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_mpi_requested_without_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import fails as if not installed
    with pytest.raises(RuntimeError) as err:
        dist.init_process_group(backend="mpi")
    assert "rebours[mpi]" in str(err.value) and "\n" not in str(err.value)
    assert not dist.is_initialized()
    dist.init_process_group()  # no backend asked for: a world of one process
    try:
        assert dist.get_backend() == "single" and dist.get_world_size() == 1
        with pytest.raises(ValueError, match="twice"):
            dist.init_process_group()
    finally:
        dist.destroy_process_group()


def test_under_a_launcher_without_init_process_group_is_an_error(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    with pytest.raises(ValueError, match="^Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="each rank would train alone"):
        dist.all_reduce(rebours.ones(1))


def test_init_process_group_with_mpi4py_outside_a_launcher_is_one_rank():
    dist.init_process_group(backend="mpi", world_size=1, rank=0)
    try:
        assert (dist.get_backend(), dist.get_rank(), dist.get_world_size()) == ("mpi", 0, 1)
        t = rebours.ones(2)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.tolist() == [1.0, 1.0]
    finally:
        dist.destroy_process_group()
    with pytest.raises(ValueError, match="world_size=3"):
        dist.init_process_group(backend="mpi", world_size=3)
    assert not dist.is_initialized()


# -- DistributedSampler against torch's ------------------------------------------------------

@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (5, 2, False),
                                                  (5, 2, True), (2, 5, False), (9, 3, True),
                                                  (1, 4, False)])
def test_distributed_sampler_matches_torch_without_shuffle(n, replicas, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler

    for r in range(replicas):
        ours = DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert (ours.num_samples, ours.total_size) == (theirs.num_samples, theirs.total_size)


def test_distributed_sampler_shuffles_by_seed_plus_epoch():
    parts = [DistributedSampler(range(11), 2, r, seed=3) for r in range(2)]
    first = [list(s) for s in parts]
    assert sorted(first[0] + first[1]) == sorted([*range(11), first[0][0]])  # one pad, repeated
    perm = rebours.randperm(11, generator=rebours.Generator().manual_seed(3)).tolist()
    assert first[0] == (perm + perm[:1])[0::2] and first[1] == (perm + perm[:1])[1::2]
    assert [list(s) for s in parts] == first  # without set_epoch, every epoch repeats
    for s in parts:
        s.set_epoch(1)
    again = [list(s) for s in parts]
    assert again != first
    assert again[0] == list(DistributedSampler(range(11), 2, 0, seed=4))  # seed + epoch
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    assert (DistributedSampler(range(4)).num_replicas, DistributedSampler(range(4)).rank) == (1, 0)


# -- DistributedDataParallel in one process ---------------------------------------------------

def _net(seed: int = 0) -> nn.Module:
    rebours.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 2))


def test_ddp_of_one_rank_gives_the_module_gradients_and_torch_state_dict_keys():
    x = rebours.randn(8, 5)
    plain, wrapped = _net(), _net()
    ddp = DDP(wrapped, bucket_cap_mb=0.01)
    plain(x).square().mean().backward()
    ddp(x).square().mean().backward()
    for a, b in zip(plain.parameters(), ddp.parameters()):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert ddp.module is wrapped
    assert [id(p) for p in ddp.parameters()] == [id(p) for p in wrapped.parameters()]
    keys = list(ddp.state_dict())
    torch_keys = list(torch.nn.parallel.DistributedDataParallel.state_dict(
        _torch_wrapper(), keep_vars=False))
    assert keys == torch_keys == [f"module.{k}" for k in wrapped.state_dict()]
    ddp.load_state_dict(ddp.state_dict())


def _torch_wrapper() -> torch.nn.Module:
    """A torch Module holding a torch copy of _net() as `.module`, to read its state_dict keys
    (torch's DDP needs a process group; its keys come from Module.state_dict all the same)."""
    holder = torch.nn.Module()
    holder.module = torch.nn.Sequential(torch.nn.Linear(5, 64), torch.nn.ReLU(),
                                        torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                        torch.nn.Linear(64, 2))
    return holder


def test_ddp_starts_bucket_all_reduces_during_backward(monkeypatch):
    """Buckets start from gradient hooks while backward still computes earlier layers."""
    events: list[str] = []
    real = collectives.all_reduce_array

    def spy(arr, async_op=False):
        events.append("all_reduce")
        return real(arr, async_op=async_op)
    monkeypatch.setattr(collectives, "all_reduce_array", spy)
    ddp = DDP(_net(), bucket_cap_mb=0.01)  # 10 KiB: the 64x64 layer is a bucket of its own
    assert len(ddp.reducer.buckets) >= 3
    for name, p in ddp.module.named_parameters():
        p.register_hook(lambda g, name=name: events.append(name))
    ddp(rebours.randn(4, 5)).sum().backward()  # records the order the gradients come in
    assert [e for e in events if e != "all_reduce"] == ["4.weight", "2.weight", "0.weight",
                                                        "0.bias", "2.bias", "4.bias"]
    events.clear()
    ddp(rebours.randn(4, 5)).sum().backward()  # buckets rebuilt in that order
    assert events.count("all_reduce") == len(ddp.reducer.buckets) >= 3
    assert events[:2] == ["all_reduce", "4.weight"]  # the first bucket leaves at once
    assert events.index("all_reduce", 2) < events.index("0.weight")


def test_ddp_no_sync_then_sync_sums_the_micro_batches():
    x = rebours.randn(6, 5)
    ref, ddp = _net(), DDP(_net())
    ref(x).sum().backward()
    with ddp.no_sync():
        ddp(x[:3]).sum().backward()
    ddp(x[3:]).sum().backward()
    for a, b in zip(ref.parameters(), ddp.parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_ddp_names_the_parameters_that_got_no_gradient():
    class TwoHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body, self.head = nn.Linear(3, 3), nn.Linear(3, 1)

        def forward(self, x):
            return self.body(x)

    ddp = DDP(TwoHeads())
    ddp(rebours.ones(2, 3)).sum().backward()
    with pytest.raises(RuntimeError) as err:
        ddp(rebours.ones(2, 3))
    text = str(err.value)
    assert text.startswith("Expected to have finished reduction in the prior iteration before "
                           "starting a new one.")
    assert "head.weight, head.bias" in text and "find_unused_parameters=True" in text
    found = DDP(TwoHeads(), find_unused_parameters=True)
    for _ in range(2):
        found(rebours.ones(2, 3)).sum().backward()
    assert found.module.head.weight.grad is None and found.module.body.weight.grad is not None


def test_ddp_needs_a_parameter_that_requires_grad():
    with pytest.raises(RuntimeError, match="^DistributedDataParallel is not needed"):
        DDP(nn.ReLU())
