"""Training-step cases (b) MLP and (d) conv: one SGD step in rebours, torch and hand-written NumPy.

rebours and torch build the same model from the same modules (our API is torch's) and load the
same seeded weights; NumPy is a hand-written forward, backward and update, the practical limit.
`make(case, lib)` returns a zero-argument step that returns the loss as a float; each call is
one optimizer step, so the weights move from call to call (slowly: lr is 0.01).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

LR = 0.01
MLP_SIZES = (784, 256, 128, 10)
BATCH = 128
CONV = {"batch": 32, "side": 28, "out_channels": 8, "k": 3}


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    bound = 1.0 / math.sqrt(fan_in)  # nn.Linear / nn.Conv2d's default range
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def mlp_data() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights [W1, b1, W2, b2, W3, b3] (torch's (out, in) layout), input and int64 labels."""
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        params += [_uniform(rng, (fan_out, fan_in), fan_in), _uniform(rng, (fan_out,), fan_in)]
    x = rng.standard_normal((BATCH, MLP_SIZES[0])).astype(np.float32)
    y = rng.integers(0, MLP_SIZES[-1], size=BATCH)
    return params, x, y


def conv_data() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights [Wc, bc, Wl, bl], input (N, 1, 28, 28) and int64 labels."""
    rng = np.random.default_rng(1)
    n, side, c, k = CONV["batch"], CONV["side"], CONV["out_channels"], CONV["k"]
    feat = c * (side - k + 1) ** 2
    params = [_uniform(rng, (c, 1, k, k), k * k), _uniform(rng, (c,), k * k),
              _uniform(rng, (10, feat), feat), _uniform(rng, (10,), feat)]
    x = rng.standard_normal((n, 1, side, side)).astype(np.float32)
    return params, x, rng.integers(0, 10, size=n)


def _module_step(lib: Any, model: Any, params: list[np.ndarray], x: np.ndarray,
                 y: np.ndarray) -> Callable[[], float]:
    """Load `params` into `model` (parameters in registration order), return one SGD step."""
    with lib.no_grad():
        for p, value in zip(model.parameters(), params):
            p.copy_(lib.tensor(value))
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    F = lib.nn.functional
    xt, yt = lib.tensor(x), lib.tensor(y)

    def step() -> float:
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return float(loss.item())

    return step


def _cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits z and its gradient dL/dz."""
    rows = np.arange(len(y))
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.log(s).mean() - z[rows, y].mean())
    dz = e / s
    dz[rows, y] -= 1.0
    dz /= len(y)
    return loss, dz


def numpy_mlp(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    """Hand-written MLP step: Linear-ReLU-Linear-ReLU-Linear, cross-entropy, SGD in place."""
    W1, b1, W2, b2, W3, b3 = (p.copy() for p in params)

    def step() -> float:
        h1 = x @ W1.T
        h1 += b1
        np.maximum(h1, 0.0, out=h1)
        h2 = h1 @ W2.T
        h2 += b2
        np.maximum(h2, 0.0, out=h2)
        z = h2 @ W3.T
        z += b3
        loss, dz = _cross_entropy(z, y)
        g2 = dz @ W3
        g2 *= h2 > 0
        g1 = g2 @ W2
        g1 *= h1 > 0
        grads = (g1.T @ x, g1.sum(0), g2.T @ h1, g2.sum(0), dz.T @ h2, dz.sum(0))
        for p, g in zip((W1, b1, W2, b2, W3, b3), grads):
            p -= LR * g
        return loss

    return step


def numpy_conv(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    """Hand-written conv step: im2col conv 3x3 1->8 as one batched matmul, Linear, CE, SGD."""
    Wc, bc, Wl, bl = (p.copy() for p in params)
    n, c, k = x.shape[0], Wc.shape[0], Wc.shape[-1]
    hw = (x.shape[-1] - k + 1) ** 2

    def step() -> float:
        cols = sliding_window_view(x[:, 0], (k, k), axis=(1, 2))  # (N, H, W, k, k), a view
        cols = cols.transpose(0, 3, 4, 1, 2).reshape(n, k * k, hw)  # one copy
        out = Wc.reshape(c, k * k) @ cols  # (N, C, H * W): flattens as torch's (C, H, W)
        out += bc[:, None]
        feat = out.reshape(n, c * hw)
        z = feat @ Wl.T
        z += bl
        loss, dz = _cross_entropy(z, y)
        gout = (dz @ Wl).reshape(n, c, hw)
        gWc = (gout @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(Wc.shape)
        grads = (gWc, gout.sum(axis=(0, 2)), dz.T @ feat, dz.sum(axis=0))
        for p, g in zip((Wc, bc, Wl, bl), grads):
            p -= LR * g
        return loss

    return step


def _models(lib: Any, case: str) -> Any:
    nn = lib.nn
    if case == "mlp":
        a, b, c, d = MLP_SIZES
        return nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.ReLU(),
                             nn.Linear(c, d))
    ch, k = CONV["out_channels"], CONV["k"]
    feat = ch * (CONV["side"] - k + 1) ** 2
    return nn.Sequential(nn.Conv2d(1, ch, k), nn.Flatten(), nn.Linear(feat, 10))


def make(case: str, lib: str) -> Callable[[], float]:
    """One training step of `case` ("mlp" or "conv") for `lib`, from the seeded weights."""
    params, x, y = mlp_data() if case == "mlp" else conv_data()
    if lib == "numpy":
        return (numpy_mlp if case == "mlp" else numpy_conv)(params, x, y)
    mod = __import__(lib)
    return _module_step(mod, _models(mod, case), params, x, y)


def check_values(case: str, lib: str, steps: int = 3) -> list[float]:
    """The losses of `steps` successive steps: they agree only if gradients and updates do."""
    step = make(case, lib)
    return [step() for _ in range(steps)]
