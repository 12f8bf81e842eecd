"""DistributedDataParallel on 2+ ranks against one process on the whole batch.

Every rank can rebuild the single-process run (same seed, full batch), so each rank checks its
own replica: after 20 SGD steps the weights agree to 1e-6. Then no_sync, buffers, unused
parameters, and the error for parameters that got no gradient.
"""

from __future__ import annotations

import numpy as np

import rebours
import rebours.distributed as dist
import rebours.nn as nn
from rebours.nn.parallel import DistributedDataParallel as DDP


def make(seed: int) -> nn.Module:
    rebours.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh(),
                         nn.Linear(16, 3))


def batch() -> tuple[rebours.Tensor, rebours.Tensor]:
    g = rebours.Generator().manual_seed(7)
    return rebours.randn(24, 6, generator=g), rebours.randn(24, 3, generator=g)


def weights(m: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def say(msg: str) -> None:
    if dist.get_rank() == 0:
        print(f"ok {msg}", flush=True)


def twenty_steps_match(r: int, n: int) -> None:
    x, y = batch()
    ref = make(0)
    opt = rebours.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for _ in range(20):
        opt.zero_grad()
        nn.functional.mse_loss(ref(x), y).backward()
        opt.step()
    # each rank starts from its own weights: DDP must broadcast rank 0's (seed 0)
    ddp = DDP(make(r), bucket_cap_mb=0.001)  # ~1 KiB buckets: several in flight
    assert len(ddp.reducer.buckets) > 2, len(ddp.reducer.buckets)
    opt = rebours.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    mine = slice(r * len(x) // n, (r + 1) * len(x) // n)
    for _ in range(20):
        opt.zero_grad()
        nn.functional.mse_loss(ddp(x[mine]), y[mine]).backward()
        opt.step()
    want, got = weights(ref), weights(ddp.module)
    assert list(ddp.state_dict()) == [f"module.{k}" for k in want]
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=1e-6, err_msg=k)
    say("20 SGD steps on 2 ranks match one process on the full batch (1e-6)")


def no_sync_accumulates(r: int, n: int) -> None:
    x, y = batch()
    ref = make(0)
    nn.functional.mse_loss(ref(x), y).backward()
    ddp = DDP(make(0))
    mine = np.arange(r, len(x), n)  # this rank's rows, split again into 2 micro-batches
    halves = (mine[: len(mine) // 2], mine[len(mine) // 2:])
    with ddp.no_sync():
        h = rebours.from_numpy(halves[0])
        (nn.functional.mse_loss(ddp(x[h]), y[h]) / 2).backward()
    local = ddp.module[0].weight.grad.numpy().copy()
    h = rebours.from_numpy(halves[1])
    (nn.functional.mse_loss(ddp(x[h]), y[h]) / 2).backward()
    for a, b in zip(ref.parameters(), ddp.module.parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(local, ref[0].weight.grad.numpy(), atol=1e-6)  # not synced inside
    say("no_sync() accumulates locally; the next backward averages the sums")


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 2), nn.Linear(4, 2)
        self.register_buffer("count", rebours.zeros(1))

    def forward(self, x: rebours.Tensor, use_b: bool = False) -> rebours.Tensor:
        self.count += 1
        return self.b(x) if use_b else self.a(x)


def buffers_and_unused(r: int, n: int) -> None:
    m = Branchy()
    m.count.fill_(float(10 * r))
    ddp = DDP(m, find_unused_parameters=True)
    assert ddp.module.count.item() == 0.0  # rank 0's buffer
    x = rebours.ones(3, 4)
    # rank 0 uses branch a, rank 1 branch b: each bucket still completes
    ddp(x, use_b=(r == 1)).sum().backward()
    ga, gb = ddp.module.a.weight.grad, ddp.module.b.weight.grad
    assert ga is not None and gb is not None
    np.testing.assert_allclose(ga.numpy(), np.full((2, 4), 3.0 / n))
    np.testing.assert_allclose(gb.numpy(), np.full((2, 4), 3.0 * (n - 1) / n))
    say("find_unused_parameters: branches differ per rank, gradients still averaged")
    plain = DDP(Branchy())  # without find_unused_parameters: b gets no gradient
    plain(x).sum().backward()
    try:
        plain(x)
    except RuntimeError as err:
        text = str(err)
        assert text.startswith("Expected to have finished reduction in the prior iteration "
                               "before starting a new one."), text
        assert "b.weight, b.bias" in text and "find_unused_parameters=True" in text, text
        if r == 0:
            print(text, flush=True)
    else:
        raise AssertionError("an unused parameter must be reported at the next forward")
    say("unused parameters without find_unused_parameters: the error names them")


def main() -> None:
    dist.init_process_group(backend="mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    twenty_steps_match(r, n)
    no_sync_accumulates(r, n)
    buffers_and_unused(r, n)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
