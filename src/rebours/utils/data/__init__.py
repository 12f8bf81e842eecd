"""rebours.utils.data: datasets, samplers and the DataLoader, as `torch.utils.data`.

>>> import rebours
>>> from rebours.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(rebours.arange(4.0), rebours.tensor([0, 1, 0, 1]))
>>> for x, y in DataLoader(ds, batch_size=3):
...     print(x.tolist(), y.tolist())
[0.0, 1.0, 2.0] [0, 1, 0]
[3.0] [1]
"""

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import Dataset, IterableDataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = ["BatchSampler", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
           "TensorDataset", "default_collate", "default_convert", "random_split"]
