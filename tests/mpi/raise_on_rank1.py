"""Rank 1 raises while rank 0 waits in a collective: `python -m mpi4py` must abort the job."""

from __future__ import annotations

import rebours
import rebours.distributed as dist


def main() -> None:
    dist.init_process_group(backend="mpi")
    dist.barrier()
    if dist.get_rank() == 1:
        raise ValueError("boom on rank 1")
    t = rebours.ones(3)
    dist.all_reduce(t)  # rank 0 waits here for a rank that is gone
    print("rank 0 should never get here", flush=True)


if __name__ == "__main__":
    main()
