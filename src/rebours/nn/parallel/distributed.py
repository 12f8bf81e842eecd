"""DistributedDataParallel: one model replica per rank, gradients averaged during backward.

At construction the parameters and buffers are broadcast from rank 0, and the parameters are
grouped into buckets (in reverse registration order, roughly the order backward produces their
gradients; the first bucket holds 1 MiB, the others `bucket_cap_mb`). A tensor hook on every
parameter copies its gradient, plus what `.grad` already holds from `no_sync()` steps, into its
bucket's flat buffer; when a bucket is full, a non-blocking MPI `Iallreduce` starts on it while
backward goes on computing the other gradients. Buckets start in index order on every rank (MPI
matches collectives by order). rebours's engine has no end-of-backward callback, so the hook of
the last expected gradient finishes the step: it waits for every bucket, divides by the world
size and writes the averages into `.grad` (its own gradient it returns to the engine).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Optional

import numpy as np

from ...autograd.grad_mode import STATE
from ...autograd.graph import AccumulateGrad
from ...errors import UnfinishedReductionError
from ...factories import tensor as _int_tensor
from ...tensor import Tensor, new_tensor_raw
from ..module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES
_DEFAULT_CAP_MB = 25


def _dist() -> Any:
    from ... import distributed

    return distributed


class _Bucket:
    """Parameters whose gradients travel together in one flat buffer."""

    def __init__(self, index: int, members: list[int], params: list[Tensor]) -> None:
        self.index, self.members = index, members
        dt = params[members[0]]._data.dtype
        self.offsets, total = {}, 0
        for i in members:
            self.offsets[i] = (total, params[i].numel())
            total += params[i].numel()
        self.flat = np.zeros(total, dtype=dt)
        self.pending = len(members)
        self.work: Any = None


def _buckets(params: list[Tensor], order: list[int], cap_bytes: int) -> list[_Bucket]:
    """Consecutive parameters of `order` up to `cap_bytes` (the first bucket up to 1 MiB), one
    dtype per bucket."""
    out: list[_Bucket] = []
    current: list[int] = []
    size, limit = 0, min(_FIRST_BUCKET_BYTES, cap_bytes)
    for i in order:
        nbytes = params[i]._data.nbytes
        if current and (size + nbytes > limit
                        or params[i]._data.dtype != params[current[0]]._data.dtype):
            out.append(_Bucket(len(out), current, params))
            current, size, limit = [], 0, cap_bytes
        current.append(i)
        size += nbytes
    if current:
        out.append(_Bucket(len(out), current, params))
    return out


def _reachable(outputs: Any) -> set[int]:
    """ids of the leaf tensors that the graphs of `outputs` lead to."""
    roots, stack = [], [outputs]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            if x._grad_fn is not None:
                roots.append(x._grad_fn)
            elif x._requires_grad:
                roots.append(x._accumulator())
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
    seen, leaves = set(), set()
    while roots:
        fn = roots.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if type(fn) is AccumulateGrad:
            leaves.add(id(fn.variable))
        roots.extend(e[0] for e in fn.edges if e is not None)
    return leaves


class _Reducer:
    """The per-iteration bookkeeping: which gradients arrived, which buckets are in flight."""

    def __init__(self, names: list[str], params: list[Tensor], cap_bytes: int,
                 find_unused: bool) -> None:
        self.names, self.params, self.find_unused = names, params, find_unused
        self.cap_bytes = cap_bytes
        self._bucket(list(reversed(range(len(params)))))
        self.arrivals: list[int] = []  # the order gradients came in, in the first backward
        self.rebuilt = self.finished = False
        self.armed = False
        self.ready = np.zeros(len(params), dtype=bool)
        self.used = np.zeros(len(params), dtype=np.int32)  # gradients that arrived, 0/1
        self.pending = 0
        self.next_bucket = 0
        self.size = 1
        self.handles = [p.register_hook(self._hook_for(i)) for i, p in enumerate(params)]

    def _bucket(self, order: list[int]) -> None:
        self.buckets = _buckets(self.params, order, self.cap_bytes)
        self.where = {i: b for b in self.buckets for i in b.members}

    def _rebuild(self) -> None:
        """torch's rebuild after the first iteration: buckets in the order gradients arrived
        (rank 0's order, so that every rank has the same buckets). rebours's engine reaches
        biases after all weights, far from reversed registration order."""
        came = set(self.arrivals)
        rest = [i for i in reversed(range(len(self.params))) if i not in came]
        order = np.asarray(self.arrivals + rest, dtype=np.int64)
        _dist().collectives.broadcast_array(order, 0)
        self._bucket(order.tolist())
        self.rebuilt = True

    def _hook_for(self, i: int) -> Any:
        def hook(g: Tensor) -> Optional[Tensor]:
            return self.on_grad(i, g)
        return hook

    # -- one iteration -----------------------------------------------------------------------

    def check_finished(self, rank: int) -> None:
        """torch's check at the next forward: a backward ran, but some gradients never came."""
        if not (self.armed and self.ready.any() and self.pending):
            return
        missing = [self.names[i] for i in np.flatnonzero(~self.ready)]
        self.armed = False
        raise UnfinishedReductionError(
            "Expected to have finished reduction in the prior iteration before starting a new "
            "one. This error indicates that your module has parameters that were not used in "
            "producing loss.",
            what=f"rank {rank}",
            notes=(f"parameters that got no gradient in the last backward on rank {rank}: "
                   + ", ".join(missing),),
            why="DistributedDataParallel averages a bucket of gradients once all of them have "
                "arrived; these never arrived, so their buckets were never reduced and the "
                "ranks' replicas would drift apart.",
            fix="pass find_unused_parameters=True to DistributedDataParallel (it then finds, at "
                "each forward, the parameters the output does not depend on), and make every "
                "output of forward() take part in the loss.")

    def prepare(self, outputs: Any, size: int) -> None:
        """Arm the hooks for the backward of `outputs` (torch's prepare_for_backward)."""
        if not self.rebuilt and self.finished:  # the same iteration on every rank
            self._rebuild()
        self.armed, self.size, self.next_bucket = True, size, 0
        self.ready[:] = False
        self.used[:] = 0
        for b in self.buckets:
            b.pending, b.work = len(b.members), None
        self.pending = len(self.params)
        if self.find_unused:
            reached = _reachable(outputs)
            for i, p in enumerate(self.params):
                if id(p) not in reached:  # no gradient will come: send what .grad holds
                    self._fill(i, None)
            self._launch_ready()

    def _fill(self, i: int, g: Any) -> None:
        """Put parameter i's gradient (plus its current .grad) in its bucket; mark it ready."""
        b = self.where[i]
        start, n = b.offsets[i]
        slot = b.flat[start:start + n]
        cur = self.params[i]._grad
        if g is None:
            slot[...] = 0 if cur is None else cur.detach()._data.reshape(-1)
        else:
            slot[...] = g.reshape(-1)
            if cur is not None:
                slot += cur.detach()._data.reshape(-1)
            self.used[i] = 1
        self.ready[i] = True
        b.pending -= 1
        self.pending -= 1

    def _launch_ready(self) -> None:
        """Start every full bucket from `next_bucket` on, in order (the same on every rank)."""
        dist = _dist()
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            b.work = dist.collectives.all_reduce_array(b.flat, async_op=True)
            self.next_bucket += 1

    def on_grad(self, i: int, g: Tensor) -> Optional[Tensor]:
        if not self.armed or self.ready[i]:
            return None
        data = g._data if g._grad_fn is None else g.detach()._data
        if not isinstance(data, np.ndarray):
            raise NotImplementedError("DistributedDataParallel runs on CPU tensors only")
        self._fill(i, data)
        if not self.rebuilt:
            self.arrivals.append(i)
        if self.where[i].pending == 0:
            self._launch_ready()
        if self.pending:
            return None
        return self._finish(i)

    def _finish(self, last: int) -> Tensor:
        """Wait for every bucket, average, write `.grad`; return parameter `last`'s average."""
        dist = _dist()
        globally_used = None
        if self.find_unused:
            dist.collectives.all_reduce_array(self.used)
            globally_used = self.used
        for b in self.buckets:
            b.work.wait()
            if self.size > 1:
                np.divide(b.flat, self.size, out=b.flat)
        self.armed, self.finished = False, True
        mine: Optional[Tensor] = None
        for b in self.buckets:
            for i in b.members:
                if globally_used is not None and not globally_used[i]:
                    continue  # no rank used it: its .grad stays as it was, as torch
                p = self.params[i]
                start, n = b.offsets[i]
                value = b.flat[start:start + n].reshape(p._data.shape)
                if i == last:  # the engine adds our return value into .grad: start it empty
                    p._grad = None
                    mine = new_tensor_raw(value.copy(), p._dtype, p._device)
                    continue
                g = p._grad
                if g is not None and g._grad_fn is None and g._data.flags.writeable \
                        and g._data.dtype == value.dtype:
                    g._data[...] = value
                    g._version_counter().value += 1
                else:
                    p._grad = new_tensor_raw(value.copy(), p._dtype, p._device)
        assert mine is not None
        return mine

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of `rebours.distributed`: each rank runs `module` on its
    own share of a batch; backward averages the gradients over the ranks, so every replica takes
    the same optimizer step as one process on the whole batch.

    Gradients are averaged with bucketed non-blocking all-reduces that start from gradient
    hooks during backward. Inside `no_sync()` they only accumulate locally. With
    `find_unused_parameters=True` each forward finds the parameters its output does not depend
    on, so that they do not stall their bucket. `state_dict()` keys carry torch's `module.`
    prefix; save `ddp.module.state_dict()` for a checkpoint that loads without DDP.

    >>> import rebours, rebours.nn as nn
    >>> from rebours.nn.parallel import DistributedDataParallel as DDP
    >>> ddp = DDP(nn.Linear(2, 1))  # a world of one rank here
    >>> ddp(rebours.ones(4, 2)).sum().backward()
    >>> list(ddp.state_dict()), ddp.module.weight.grad.tolist()
    (['module.weight', 'module.bias'], [[4.0, 4.0]])
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, init_sync: bool = True,
                 process_group: Any = None, bucket_cap_mb: Optional[float] = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False) -> None:
        super().__init__()
        dist = _dist()
        if process_group is not None:
            raise NotImplementedError("rebours.distributed has one group, the world: pass "
                                      "process_group=None")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        self.module = module
        self.dim, self.device_ids, self.output_device = dim, device_ids, output_device
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((_DEFAULT_CAP_MB if bucket_cap_mb is None
                                     else bucket_cap_mb) * 1024 * 1024)
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        if init_sync:
            self._check_same_model([p for _, p in named])
            self._sync_from_rank0(list(module.parameters()) + list(module.buffers()))
        self.reducer = _Reducer([n for n, _ in named], [p for _, p in named],
                                self.bucket_bytes_cap, find_unused_parameters)

    def _check_same_model(self, params: list[Tensor]) -> None:
        """torch's check: every rank must wrap the same parameters (count and sizes)."""
        if self.world_size == 1:
            return
        dist = _dist()
        mine = _int_tensor([len(params), sum(p.numel() for p in params)])
        every = [_int_tensor([0, 0]) for _ in range(self.world_size)]
        dist.all_gather(every, mine)
        ref = every[0].tolist()
        for r, t in enumerate(every):
            if t.tolist() != ref:
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {r} has "
                    f"{t.tolist()[0]} params ({t.tolist()[1]} values), while rank 0 has "
                    f"{ref[0]} params ({ref[1]} values).")

    def _sync_from_rank0(self, tensors: list[Tensor]) -> None:
        """Broadcast parameters (and buffers) from rank 0, one flat buffer per dtype."""
        if self.world_size == 1 or not tensors:
            return
        from ...distributed.collectives import broadcast_array, store

        by_dtype: dict[Any, list[Tensor]] = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dt, group in by_dtype.items():
            flat = np.concatenate([np.asarray(t._data, dtype=dt).reshape(-1) for t in group])
            broadcast_array(flat, 0)
            k = 0
            for t in group:
                n = t.numel()
                store(t, flat[k:k + n].reshape(t._data.shape), "broadcast")
                k += n

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        self.reducer.check_finished(self.rank)
        if self.broadcast_buffers and self.world_size > 1:
            buffers = list(self.module.buffers())
            if buffers:
                self._sync_from_rank0(buffers)
        out = self.module(*inputs, **kwargs)
        if STATE.enabled and self.require_backward_grad_sync:
            self.reducer.prepare(out, self.world_size)
        else:
            self.reducer.armed = False
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward only accumulates `.grad` locally; the next synced backward averages
        the accumulated sums (a forward inside decides, as torch)."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def extra_repr(self) -> str:
        return (f"world_size={self.world_size}, buckets={len(self.reducer.buckets)}, "
                f"find_unused_parameters={self.find_unused_parameters}")
