#!/usr/bin/env bash
# On the project's GPU machine: the GPU tests, then the MLP and CNN steps against torch CUDA.
# Prints the ratios; finishes within 10 minutes. Usage: bash benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python -c "import cupy, rebours; assert rebours.cuda.is_available(), 'no GPU backend'"
timeout 420 python -m pytest -q -m gpu tests/test_gpu.py -x -p no:cacheprovider
timeout 150 python - <<'PY'
import time
import numpy as np
import torch
import rebours


def step_time(lib, model_fn, x_np, y_np, device, steps=30):
    model = model_fn(lib).to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x, y = lib.tensor(x_np, device=device), lib.tensor(y_np, device=device)
    sync = (lambda: torch.cuda.synchronize()) if lib is torch else rebours.cuda.synchronize
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[5:]))


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))


rng = np.random.default_rng(0)
for name, fn, shape in (("mlp", mlp, (128, 784)), ("cnn", cnn, (32, 1, 28, 28))):
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 10, shape[0])
    ours = step_time(rebours, fn, x, y, "cuda")
    theirs = step_time(torch, fn, x, y, "cuda")
    print(f"{name}: rebours {ours * 1e3:.2f} ms, torch {theirs * 1e3:.2f} ms, "
          f"ratio {ours / theirs:.2f}")
PY
