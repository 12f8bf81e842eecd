"""rebours.distributed: ranks and collectives over MPI (mpi4py), as `torch.distributed`.

Start the ranks with an MPI launcher (`mpiexec -n 4 python -m mpi4py train.py`), call
`init_process_group(backend="mpi")`, then use the collectives on tensors or wrap a model in
`rebours.nn.parallel.DistributedDataParallel`. mpi4py (the extra `rebours[mpi]`) is imported
only by `init_process_group`; without it, or outside a launcher, the world is a single process
of rank 0 and the collectives are identities. See docs/distributed.md.

>>> import rebours, rebours.distributed as dist
>>> t = rebours.tensor([1.0, 2.0])
>>> dist.all_reduce(t, op=dist.ReduceOp.SUM)  # one rank here: the sum of one tensor
>>> t.tolist(), dist.get_rank(), dist.get_world_size()
([1.0, 2.0], 0, 1)
"""

from ._world import (
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_initialized,
    is_mpi_available,
)
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    reduce_scatter,
)


def is_available() -> bool:
    """Always True: without MPI, rebours.distributed is a world of one process."""
    return True


__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available",
           "reduce_scatter"]
