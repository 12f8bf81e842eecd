"""Collectives on tensors: all_reduce, broadcast, all_gather, reduce_scatter and barrier over MPI.

Each writes into its output tensors in place, as torch's do, and bumps their version counters,
so a graph that saved one of them refuses to backward through the changed value. The data goes
to MPI as a contiguous NumPy buffer: a tensor's own array when it can be (no copy), else a copy
that is written back. float16 and bfloat16 travel as float32 (MPI has no reduction for them),
bool as uint8, GPU arrays through the host. In a world of one rank every collective is the
identity and no MPI call is made.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, Optional

import numpy as np

from ._world import mpi, world

__all__ = ["ReduceOp", "Work", "all_reduce", "broadcast", "all_gather", "reduce_scatter",
           "barrier"]


class ReduceOp(enum.Enum):
    """How all_reduce and reduce_scatter combine the ranks' values."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


class Work:
    """The handle of a collective started with `async_op=True`: `wait()` finishes it.

    >>> import rebours, rebours.distributed as dist
    >>> t = rebours.ones(3)
    >>> work = dist.all_reduce(t, async_op=True)
    >>> work.wait(), t.tolist()  # one rank: the sum is the tensor itself
    (True, [1.0, 1.0, 1.0])
    """

    def __init__(self, request: Any = None, finish: Optional[Callable[[], None]] = None) -> None:
        self._request, self._finish = request, finish

    def is_completed(self) -> bool:
        """True once the data has arrived (finishing it then, if so)."""
        if self._request is not None and not self._request.Test():
            return False
        self.wait()
        return True

    def wait(self, timeout: Any = None) -> bool:
        """Block until the collective is done and its outputs are written."""
        if self._request is not None:
            self._request.Wait()
            self._request = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        return True


# -- buffers ---------------------------------------------------------------------------------

_NATIVE = {np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128, np.int8,
                                 np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                                 np.uint64)}


def _wire_dtype(dt: np.dtype) -> np.dtype:
    """The dtype an array travels in: its own, or one MPI can reduce."""
    if dt in _NATIVE:
        return dt
    if dt == np.bool_:
        return np.dtype(np.uint8)
    return np.dtype(np.float32)  # float16, bfloat16 (ml_dtypes)


def _host(t: Any) -> np.ndarray:
    arr = t._data
    if not isinstance(arr, np.ndarray):
        from ..backends import backend_of

        arr = np.asarray(backend_of(t._device).to_numpy(arr))
    return arr


def buffer_of(t: Any) -> np.ndarray:
    """A contiguous array MPI can use for `t`: t's own storage when possible."""
    arr = _host(t)
    wire = _wire_dtype(arr.dtype)
    if arr is t._data and arr.dtype == wire and arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return np.ascontiguousarray(arr, dtype=wire)


def store(t: Any, value: np.ndarray, op: str) -> None:
    """Write `value` into t's storage (unless it already is t's storage); bump t's version."""
    if value is not t._data:
        if isinstance(t._data, np.ndarray):
            t._data[...] = value.reshape(t._data.shape).astype(t._data.dtype, copy=False)
        else:
            from ..backends import backend_of

            t._data[...] = backend_of(t._device).asarray(value.reshape(t._data.shape)).astype(
                t._data.dtype)
    vc = t._version_counter()
    vc.value += 1
    vc.op = op
    vc.where = None


def _check_group(group: Any) -> None:
    if group is not None:
        raise NotImplementedError("rebours.distributed has one group, the world: pass group=None")


def _mpi_op(op: ReduceOp) -> Any:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"op must be a rebours.distributed.ReduceOp, got {op!r}")
    MPI = mpi()
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
            ReduceOp.MIN: MPI.MIN}[op]


def _check_avg(t: Any, op: ReduceOp) -> None:
    if op is ReduceOp.AVG and not (t._data.dtype.kind in "fc" or t.is_floating_point()):
        raise TypeError(f"ReduceOp.AVG needs a floating point tensor, got {t.dtype}: an integer "
                        "mean would be rounded (reduce with SUM and divide yourself)")


def _run(start: Callable[[], Any], finish: Callable[[], None], async_op: bool) -> Optional[Work]:
    """Start a collective (its nonblocking MPI form when async_op) and finish it, or not yet."""
    if async_op:
        return Work(start(), finish)
    request = start()
    if request is not None:
        request.Wait()
    finish()
    return None


# -- the collectives -------------------------------------------------------------------------

def all_reduce(tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Optional[Work]:
    """Combine `tensor` over all ranks (SUM, AVG, MAX, MIN); every rank gets the result in place.

    >>> import rebours, rebours.distributed as dist
    >>> t = rebours.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.MAX)
    >>> t.tolist(), t._version
    ([1.0, 2.0], 1)
    """
    _check_group(group)
    _check_avg(tensor, op)
    w = world()
    if w.size == 1:
        return _run(lambda: None, lambda: store(tensor, tensor._data, "all_reduce"), async_op)
    buf = buffer_of(tensor)
    MPI, mop = mpi(), _mpi_op(op)

    def start() -> Any:
        if async_op:
            return w.comm.Iallreduce(MPI.IN_PLACE, buf, mop)
        w.comm.Allreduce(MPI.IN_PLACE, buf, mop)

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(buf, w.size, out=buf)
        store(tensor, buf, "all_reduce")
    return _run(start, finish, async_op)


def broadcast(tensor: Any, src: int, group: Any = None, async_op: bool = False) -> Optional[Work]:
    """Copy rank `src`'s `tensor` into `tensor` on every other rank.

    >>> import rebours, rebours.distributed as dist
    >>> t = rebours.arange(3.0)
    >>> dist.broadcast(t, src=0)
    >>> t.tolist()
    [0.0, 1.0, 2.0]
    """
    _check_group(group)
    w = world()
    if not 0 <= src < w.size:
        raise ValueError(f"broadcast: src={src} is not a rank of this world (0 ... {w.size - 1})")
    if w.size == 1:
        return _run(lambda: None, lambda: store(tensor, tensor._data, "broadcast"), async_op)
    buf = buffer_of(tensor)

    def start() -> Any:
        if async_op:
            return w.comm.Ibcast(buf, root=src)
        w.comm.Bcast(buf, root=src)
    return _run(start, lambda: store(tensor, buf, "broadcast"), async_op)


def _same_shapes(name: str, what: str, tensors: Sequence[Any], like: Any, n: int) -> None:
    if len(tensors) != n:
        raise ValueError(f"{name}: {what} has {len(tensors)} tensors; the world has {n} ranks "
                         "(one tensor per rank)")
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(like.shape):
            raise ValueError(f"{name}: {what}[{i}] has shape {tuple(t.shape)}, expected "
                             f"{tuple(like.shape)}")


def all_gather(tensor_list: list, tensor: Any, group: Any = None,
               async_op: bool = False) -> Optional[Work]:
    """Fill `tensor_list[i]` with rank i's `tensor`, on every rank.

    >>> import rebours, rebours.distributed as dist
    >>> out = [rebours.zeros(2)]
    >>> dist.all_gather(out, rebours.tensor([3.0, 4.0]))
    >>> out[0].tolist()
    [3.0, 4.0]
    """
    _check_group(group)
    w = world()
    _same_shapes("all_gather", "tensor_list", tensor_list, tensor, w.size)
    send = buffer_of(tensor)
    recv = np.empty((w.size, *send.shape), dtype=send.dtype)

    def start() -> Any:
        if w.size == 1:
            recv[0] = send
        elif async_op:
            return w.comm.Iallgather(send, recv)
        else:
            w.comm.Allgather(send, recv)

    def finish() -> None:
        for out, part in zip(tensor_list, recv):
            store(out, part, "all_gather")
    return _run(start, finish, async_op)


def reduce_scatter(output: Any, input_list: list, op: ReduceOp = ReduceOp.SUM, group: Any = None,
                   async_op: bool = False) -> Optional[Work]:
    """Reduce `input_list[i]` over all ranks into `output` on rank i.

    >>> import rebours, rebours.distributed as dist
    >>> out = rebours.zeros(2)
    >>> dist.reduce_scatter(out, [rebours.tensor([5.0, 6.0])])
    >>> out.tolist()
    [5.0, 6.0]
    """
    _check_group(group)
    _check_avg(output, op)
    w = world()
    _same_shapes("reduce_scatter", "input_list", input_list, output, w.size)
    wire = _wire_dtype(_host(output).dtype)
    send = np.ascontiguousarray(np.stack([_host(t) for t in input_list]), dtype=wire)
    recv = np.empty(send.shape[1:], dtype=wire)

    def start() -> Any:
        if w.size == 1:
            recv[...] = send[0]
        elif async_op:
            return w.comm.Ireduce_scatter_block(send, recv, _mpi_op(op))
        else:
            w.comm.Reduce_scatter_block(send, recv, _mpi_op(op))

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(recv, w.size, out=recv)
        store(output, recv, "reduce_scatter")
    return _run(start, finish, async_op)


def barrier(group: Any = None, async_op: bool = False,
            device_ids: Any = None) -> Optional[Work]:
    """Wait until every rank has reached this call.

    >>> import rebours.distributed as dist
    >>> dist.barrier()
    """
    _check_group(group)
    w = world()
    if w.size == 1:
        return _run(lambda: None, lambda: None, async_op)

    def start() -> Any:
        if async_op:
            return w.comm.Ibarrier()
        w.comm.Barrier()
    return _run(start, lambda: None, async_op)


def all_reduce_array(arr: np.ndarray, async_op: bool = False) -> Optional[Work]:
    """SUM a contiguous NumPy array over all ranks in place (DDP's buckets: no Tensor)."""
    w = world()
    if w.size == 1:
        return _run(lambda: None, lambda: None, async_op)
    MPI = mpi()

    def start() -> Any:
        if async_op:
            return w.comm.Iallreduce(MPI.IN_PLACE, arr, MPI.SUM)
        w.comm.Allreduce(MPI.IN_PLACE, arr, MPI.SUM)
    return _run(start, lambda: None, async_op)


def broadcast_array(arr: np.ndarray, src: int = 0) -> None:
    """Copy rank `src`'s contiguous NumPy array into `arr` on every rank."""
    w = world()
    if w.size > 1:
        w.comm.Bcast(arr, root=src)
