"""rebours.save / rebours.load: state dicts round-trip as safetensors (key types, numbers,
strings, None), files interoperate with the safetensors library and PyTorch both ways, writes are
atomic (real SIGKILLs mid-save leave a loadable checkpoint), and orphaned temporaries are swept."""

import math
import multiprocessing
import os
import random
import signal
import stat
import time
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy as stnp
import safetensors.torch as sttorch
import torch
from safetensors import safe_open

import rebours
import rebours.nn as nn
from rebours.serialization import CheckpointError, load, save


def trained(seed=0):
    """A small model and an Adam that has taken two steps (so it has state)."""
    rebours.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = rebours.optim.Adam(net.parameters(), lr=1e-2)
    x, y = rebours.randn(16, 4), rebours.randn(16, 3)
    for _ in range(2):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    return net, opt, x, y


def same(a, b):
    """Structural equality where tensors compare by dtype, shape and exact values."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, rebours.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(kb for kb in b if kb == k))
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            same(u, v)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_model_and_optimizer_round_trip(tmp_path):
    net, opt, *_ = trained()
    obj = {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 7,
           "rng": rebours.default_generator.get_state()}
    save(obj, tmp_path / "c.safetensors")
    back = load(tmp_path / "c.safetensors")
    same(obj, back)
    assert isinstance(back["model"], OrderedDict)
    assert list(back["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)  # tuples stay tuples


def test_scalars_keys_and_containers(tmp_path):
    obj = {"s": "adam", "i": -3, "big": 2 ** 100, "f": 0.1, "nan": float("nan"),
           "inf": float("inf"), "ninf": -float("inf"), "t": True, "n": None, 1: "one",
           2.5: [1, (2, [3]), {}], None: [], False: (), "np": np.arange(3, dtype=np.int16),
           "0d": rebours.tensor(1.5), "empty": rebours.zeros(0, 3),
           "nested": {"a": {"b": {"c": [rebours.ones(2, dtype=rebours.int64)]}}}}
    save(obj, tmp_path / "x.safetensors")
    back = load(tmp_path / "x.safetensors")
    np.testing.assert_array_equal(back.pop("np"), obj.pop("np"))
    same(obj, back)
    assert back["0d"].shape == ()


@pytest.mark.parametrize("dtype", ["bool_", "uint8", "int8", "int16", "int32", "int64",
                                   "float16", "bfloat16", "float32", "float64", "complex64"])
def test_every_dtype(tmp_path, dtype):
    dt = getattr(rebours, dtype)
    t = rebours.arange(6).reshape(2, 3).to(dt)
    save({"t": t}, tmp_path / "d.safetensors")
    same(t, load(tmp_path / "d.safetensors")["t"])


def test_shared_tensor_and_requires_grad(tmp_path):
    w = rebours.ones(3, requires_grad=True)
    save({"a": w, "b": [w]}, tmp_path / "s.safetensors")
    back = load(tmp_path / "s.safetensors")
    assert back["a"] is back["b"][0] and back["a"].requires_grad and back["a"].is_leaf
    with safe_open(str(tmp_path / "s.safetensors"), "np") as f:
        assert list(f.keys()) == ["a"]  # written once


def test_resume_continues_exactly(tmp_path):
    net, opt, x, y = trained()
    save({"model": net.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "r.safetensors")
    net2, opt2, *_ = trained(seed=1)
    ckpt = load(tmp_path / "r.safetensors")
    net2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    for model, o in ((net, opt), (net2, opt2)):
        o.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        o.step()
    for p, q in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_safetensors_reads_rebours_files(tmp_path):
    net, *_ = trained()
    save(net.state_dict(), tmp_path / "m.safetensors")
    flat = stnp.load_file(str(tmp_path / "m.safetensors"))
    assert list(flat) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(flat[k], v.numpy())
    # and PyTorch loads it straight into the same architecture
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    tnet.load_state_dict(sttorch.load_file(str(tmp_path / "m.safetensors")))
    x = rebours.randn(5, 4)
    np.testing.assert_allclose(tnet(torch.from_numpy(x.numpy())).detach().numpy(),
                               net(x).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_rebours_reads_safetensors_files(tmp_path):
    arrays = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.array([True, False]),
              "i": np.array([1, -2], dtype=np.int64), "h": np.ones(2, dtype=np.float16),
              "s": np.array(3.0)}
    stnp.save_file(arrays, str(tmp_path / "n.safetensors"), metadata={"format": "np"})
    back = load(tmp_path / "n.safetensors")
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        assert isinstance(back[k], rebours.Tensor)
        np.testing.assert_array_equal(back[k].numpy(), v)
    # a torch model's weights, saved by safetensors.torch, load into the rebours model
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    sttorch.save_file(tnet.state_dict(), str(tmp_path / "t.safetensors"))
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    net.load_state_dict(load(tmp_path / "t.safetensors"))
    x = torch.randn(5, 4)
    np.testing.assert_allclose(net(rebours.tensor(x.numpy())).detach().numpy(),
                               tnet(x).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_map_location_and_weights_only(tmp_path):
    save({"w": rebours.ones(2)}, tmp_path / "m.safetensors")
    assert load(tmp_path / "m.safetensors", map_location="meta")["w"].device.type == "meta"
    assert load(tmp_path / "m.safetensors", map_location=rebours.device("cpu"))["w"].device \
        == rebours.device("cpu")
    assert load(tmp_path / "m.safetensors", map_location={"cpu": "meta"})["w"].is_meta
    moved = load(tmp_path / "m.safetensors", map_location=lambda t, loc: t.to("meta"))
    assert moved["w"].is_meta
    same(load(tmp_path / "m.safetensors", weights_only=False),
         load(tmp_path / "m.safetensors", weights_only=True))


def test_what_cannot_be_saved(tmp_path):
    with pytest.raises(TypeError, match=r"optimizer/hook: a builtins.builtin_function"):
        save({"optimizer": {"hook": print}}, tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="dict keys must be"):
        save({(1, 2): 3}, tmp_path / "bad.safetensors")
    with pytest.raises(CheckpointError, match="meta device"):
        save({"w": rebours.ones(2, device="meta")}, tmp_path / "bad.safetensors")
    assert not os.listdir(tmp_path)  # a failed save leaves nothing behind


def test_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save({"w": rebours.ones(1)}, tmp_path / "m.safetensors")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.safetensors").st_mode) == 0o644


def test_orphans_of_dead_processes_are_swept(tmp_path):
    proc = multiprocessing.get_context("spawn").Process(target=int)
    proc.start()
    proc.join()
    dead, live = proc.pid, os.getppid()
    orphan = tmp_path / f".c.safetensors.{dead}.abc123.rebours-tmp"
    busy = tmp_path / f".c.safetensors.{live}.def456.rebours-tmp"
    other = tmp_path / f".d.safetensors.{dead}.abc123.rebours-tmp"
    for p in (orphan, busy, other):
        p.write_bytes(b"partial")
    save({"w": rebours.ones(1)}, tmp_path / "c.safetensors")
    assert not orphan.exists()  # its writer is gone
    assert busy.exists()  # a live process may still be writing it
    assert other.exists()  # another target's


# -- real SIGKILLs in the middle of saves ----------------------------------------------------

N = 1_500_000  # 6 MB per tensor, two tensors: each save takes a while


def _saver(path, start):
    """Save checkpoints v = start, start + 1, ... forever; each is consistent with its v."""
    v = start
    while True:
        save({"v": v, "w": rebours.full((N,), float(v)), "tail": [v, str(v)],
              "z": rebours.full((N,), -float(v))}, path)
        v += 1


def test_sigkill_mid_save_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                      else "spawn")
    rng = random.Random(1234)
    save({"v": 0, "w": rebours.full((N,), 0.0), "tail": [0, "0"],
          "z": rebours.full((N,), -0.0)}, path)
    seen, mid_save = [0], 0
    for _ in range(20):
        child = ctx.Process(target=_saver, args=(path, seen[-1] + 1), daemon=True)
        child.start()
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        assert child.exitcode == -signal.SIGKILL
        mid_save += any(n.endswith(".rebours-tmp") for n in os.listdir(tmp_path))
        t0 = time.perf_counter()
        ckpt = load(path)  # never an error: the old file or the new one, whole
        assert time.perf_counter() - t0 < 1
        v = ckpt["v"]
        assert v >= seen[-1] and ckpt["tail"] == [v, str(v)]
        assert (ckpt["w"] == float(v)).all().item() and (ckpt["z"] == -float(v)).all().item()
        seen.append(v)
    assert seen[-1] > 0, "no save ever completed between kills"
    assert mid_save >= 5, f"only {mid_save} of 20 kills landed inside a save"
    save({"v": -1}, path)  # the next save sweeps what the killed ones left
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]
