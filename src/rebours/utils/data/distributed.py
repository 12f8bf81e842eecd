"""DistributedSampler: each rank's share of a dataset's indices, reshuffled every epoch.

As torch's: the indices (shuffled by a generator seeded with `seed + epoch`, so every rank
draws the same permutation) are padded by repeating the first ones until they divide evenly
among the ranks (or, with `drop_last`, cut to the largest multiple), and rank r takes every
`num_replicas`-th one from position r. The permutation comes from rebours's own generator
(NumPy's PCG64), so it differs from torch's for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import Optional

from ...factories import Generator, randperm
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[int]):
    """The indices of `dataset` that rank `rank` of `num_replicas` visits this epoch.

    Call `set_epoch(e)` before each epoch, or every epoch repeats the first one's order.
    `num_replicas` and `rank` default to `rebours.distributed`'s world.

    >>> from rebours.utils.data import DistributedSampler
    >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False))
    ...  for r in (0, 1)]
    [[0, 2, 4], [1, 3, 0]]
    >>> len(DistributedSampler(range(5), num_replicas=2, rank=1, drop_last=True))
    2
    """

    def __init__(self, dataset: Sized, num_replicas: Optional[int] = None,
                 rank: Optional[int] = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use `seed + epoch` for the next permutation (the same on every rank)."""
        self.epoch = epoch
