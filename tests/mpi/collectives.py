"""Each collective on 2+ ranks against NumPy: every rank knows every rank's input (a seed per rank),
computes the expected result with NumPy and compares. Prints one line per check on rank 0."""

from __future__ import annotations

import numpy as np

import rebours
import rebours.distributed as dist


def data(rank: int, shape: tuple, dtype: str = "float32") -> np.ndarray:
    rng = np.random.default_rng(100 + rank)
    if dtype.startswith("int"):
        return rng.integers(-50, 50, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def check(name: str, got: object, want: np.ndarray, rank: int) -> None:
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6, err_msg=name)
    if rank == 0:
        print(f"ok {name}", flush=True)


def main() -> None:
    dist.init_process_group(backend="mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == "mpi" and n >= 2
    shape = (3, 4)
    for dtype in ("float32", "float64", "int64"):
        everyone = np.stack([data(k, shape, dtype) for k in range(n)])
        want = {"SUM": everyone.sum(0), "MAX": everyone.max(0), "MIN": everyone.min(0),
                "AVG": everyone.mean(0)}
        for op in ("SUM", "AVG", "MAX", "MIN"):
            if op == "AVG" and dtype == "int64":
                continue
            t = rebours.from_numpy(data(r, shape, dtype))
            v0 = t._version
            dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
            assert t._version == v0 + 1, "all_reduce must bump the version counter"
            check(f"all_reduce {op} {dtype}", t.numpy(), want[op].astype(dtype), r)
    # a non-contiguous view: written back through its base
    base = rebours.from_numpy(data(r, (4, 6)))
    view = base[:, ::2]
    dist.all_reduce(view)
    want_base = data(r, (4, 6))
    want_base[:, ::2] = sum(data(k, (4, 6))[:, ::2] for k in range(n))
    check("all_reduce of a strided view", base.numpy(), want_base, r)
    # async: the data lands at wait()
    t = rebours.from_numpy(data(r, shape))
    work = dist.all_reduce(t, op=dist.ReduceOp.SUM, async_op=True)
    work.wait()
    check("all_reduce async_op", t.numpy(), sum(data(k, shape) for k in range(n)), r)
    # float16 travels as float32
    t = rebours.from_numpy(data(r, shape).astype(np.float16))
    dist.all_reduce(t)
    check("all_reduce float16", t.numpy().astype(np.float32),
          sum(data(k, shape).astype(np.float16).astype(np.float32) for k in range(n))
          .astype(np.float16).astype(np.float32), r)
    for src in range(n):
        t = rebours.from_numpy(data(r, shape))
        dist.broadcast(t, src=src)
        check(f"broadcast src={src}", t.numpy(), data(src, shape), r)
    out = [rebours.zeros(*shape) for _ in range(n)]
    dist.all_gather(out, rebours.from_numpy(data(r, shape)))
    check("all_gather", np.stack([o.numpy() for o in out]),
          np.stack([data(k, shape) for k in range(n)]), r)
    for op in ("SUM", "AVG", "MAX", "MIN"):
        inputs = [rebours.from_numpy(data(10 * r + k, shape)) for k in range(n)]
        out_t = rebours.zeros(*shape)
        dist.reduce_scatter(out_t, inputs, op=getattr(dist.ReduceOp, op))
        parts = np.stack([data(10 * k + r, shape) for k in range(n)])  # input r of every rank
        want_rs = {"SUM": parts.sum(0), "AVG": parts.mean(0), "MAX": parts.max(0),
                   "MIN": parts.min(0)}[op]
        check(f"reduce_scatter {op}", out_t.numpy(), want_rs, r)
    dist.barrier()
    dist.barrier(async_op=True).wait()
    if r == 0:
        print("ok barrier", flush=True)
    dist.destroy_process_group()
    assert not dist.is_initialized()


if __name__ == "__main__":
    main()
