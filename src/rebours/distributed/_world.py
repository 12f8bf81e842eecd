"""The process group: which rank this process is, how many there are, and the MPI communicator.

There is one group, the world. With the `mpi` backend it is a duplicate of mpi4py's
`COMM_WORLD` (so rebours's messages never meet the user's own); without mpi4py, or outside a
launcher, it is a single process of rank 0 and every collective is the identity.
"""

from __future__ import annotations

import os
from typing import Any, Optional

EXTRA_HINT = "pip install 'rebours[mpi]'"
# what launchers export: MPICH's Hydra (PMI_*), Open MPI (OMPI_*), Slurm's srun (SLURM_NTASKS
# only counts when srun started us with PMI/PMIx)
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")


class _World:
    """The default group's state; `comm` is None for the single-process world."""

    def __init__(self) -> None:
        self.initialized = False
        self.backend: Optional[str] = None
        self.comm: Any = None
        self.rank = 0
        self.size = 1


WORLD = _World()


def launched_size() -> int:
    """How many ranks the launcher started (1 when there is no launcher)."""
    for var in _SIZE_VARS:
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    return 1


def mpi() -> Any:
    """mpi4py's MPI module, imported on first use; a one-line error names the extra."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError("Distributed package doesn't have MPI built in: backend 'mpi' needs "
                           f"mpi4py and an MPI library ({EXTRA_HINT})") from None
    return MPI


def is_mpi_available() -> bool:
    """True when mpi4py can be imported (the `mpi` extra is installed)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def not_initialized_error() -> ValueError:
    return ValueError(
        "Default process group has not been initialized, please make sure to call "
        "init_process_group.\n"
        f"  why: this process was started by an MPI launcher with {launched_size()} ranks; "
        "without a process group each rank would train alone, as rank 0.\n"
        "  fix: call rebours.distributed.init_process_group(backend=\"mpi\") first.")


def world() -> _World:
    """The initialized world; outside a launcher, an uninitialized one is a single rank 0."""
    if not WORLD.initialized and launched_size() > 1:
        raise not_initialized_error()
    return WORLD


def init_process_group(backend: Optional[str] = None, init_method: Optional[str] = None,
                       timeout: Any = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the ranks the launcher started (backend "mpi"); alone, a world of one rank.

    `backend=None` picks "mpi" when mpi4py is installed, else the single-process world
    (an error under a launcher of several ranks). `world_size` and `rank`, when given, are
    checked against the launcher's.

    >>> import rebours.distributed as dist
    >>> dist.init_process_group()  # no launcher here: one rank
    >>> dist.get_rank(), dist.get_world_size(), dist.is_initialized()
    (0, 1, True)
    >>> dist.destroy_process_group()
    """
    if WORLD.initialized:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is None:
        backend = "mpi" if is_mpi_available() or launched_size() > 1 else "single"
    backend = str(backend).lower()
    if backend not in ("mpi", "single"):
        raise ValueError(f"Invalid backend: '{backend}': rebours.distributed has the 'mpi' "
                         "backend only (mpi4py; the extra rebours[mpi])")
    if backend == "mpi":
        MPI = mpi()
        comm = MPI.COMM_WORLD.Dup()
        r, n = comm.Get_rank(), comm.Get_size()
    else:
        comm, r, n = None, 0, 1
    for name, given, actual in (("world_size", world_size, n), ("rank", rank, r)):
        if given not in (-1, None) and int(given) != actual:
            if comm is not None:
                comm.Free()
            raise ValueError(f"init_process_group: {name}={given}, but the launcher made this "
                             f"process {name} {actual}")
    WORLD.initialized, WORLD.backend, WORLD.comm, WORLD.rank, WORLD.size = True, backend, comm, \
        r, n


def destroy_process_group(group: Any = None) -> None:
    """Leave the group (MPI itself is finalized by mpi4py when the process exits)."""
    if WORLD.comm is not None:
        WORLD.comm.Free()
    WORLD.__init__()


def is_initialized() -> bool:
    """Whether init_process_group ran (and destroy_process_group did not since)."""
    return WORLD.initialized


def get_rank(group: Any = None) -> int:
    """This process's rank, 0 ... world size − 1 (0 in a single process)."""
    return world().rank


def get_world_size(group: Any = None) -> int:
    """The number of ranks (1 in a single process)."""
    return world().size


def get_backend(group: Any = None) -> str:
    """'mpi', or 'single' for the world of one process."""
    w = world()
    return w.backend if w.backend is not None else "single"


def abort(code: int = 1) -> None:
    """End every rank of the job at once (MPI_Abort): for an error on one rank, which would
    otherwise leave the others waiting in a collective forever."""
    if WORLD.comm is not None:
        WORLD.comm.Abort(code)
    os._exit(code)
