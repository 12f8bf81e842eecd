"""The `DataLoader`: draws indices from a sampler, fetches items, collates them into batches.

`default_collate` turns a list of samples into a batch as torch's does: tensors, NumPy arrays
and numbers are stacked into one tensor, and dicts, tuples, lists and namedtuples are collated
field by field. For a `TensorDataset` (also inside `Subset`s) with the default collate, a batch
is gathered with one indexing per tensor (`t[indices]`), without building the items first.

Loading always runs in this process: `num_workers > 0` is accepted (and validated as torch does)
but loads the same batches, in the same order, without worker processes.
"""

from __future__ import annotations

import collections.abc as abc
import copy
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Optional

import numpy as np

from ... import dtypes as D
from ...factories import Generator, as_tensor, tensor
from ...functions import stack
from ...tensor import Tensor
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_STR_OR_OBJECT = re.compile(r"[SaUO]")  # NumPy dtypes default_collate refuses
_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars (also inside dicts, tuples, lists) into tensors.

    >>> import numpy as np
    >>> from rebours.utils.data import default_convert
    >>> default_convert({"x": np.array([1.0, 2.0]), "n": 3})
    {'x': tensor([1., 2.], dtype=rebours.float64), 'n': 3}
    """
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_", "bytes_"):
        if isinstance(data, np.ndarray) and _STR_OR_OBJECT.search(data.dtype.str):
            return data
        return as_tensor(np.asarray(data))
    return _map_container(data, default_convert, data)


def _map_container(data: Any, fn: Callable[[Any], Any], fallback: Any) -> Any:
    """Apply `fn` to each field of a mapping, namedtuple or sequence, keeping its type."""
    kind = type(data)
    if isinstance(data, abc.Mapping):
        return _rebuild_mapping(data, {k: fn(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return kind(*(fn(d) for d in data))
    if isinstance(data, tuple):
        return [fn(d) for d in data]  # a list, as torch (backwards compatibility there)
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [fn(d) for d in data])
    return fallback


def _rebuild_mapping(like: Any, values: dict) -> Any:
    try:
        if isinstance(like, abc.MutableMapping):
            clone = copy.copy(like)  # keeps the mapping's type and extra attributes
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like: Any, values: list) -> Any:
    try:
        if isinstance(like, abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, as `torch.utils.data.default_collate`.

    Tensors are stacked; NumPy arrays become tensors and are stacked; NumPy scalars become a
    tensor of their dtype; Python floats a float64 tensor, ints an int64 one (bools a bool one);
    strings stay a list; dicts, namedtuples and sequences are collated per field (tuples become
    lists, as torch).

    >>> import rebours
    >>> from rebours.utils.data import default_collate
    >>> default_collate([(rebours.tensor([1.0, 2.0]), 0), (rebours.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    >>> default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])
    {'x': tensor([1.5000, 2.5000], dtype=rebours.float64), 'name': ['a', 'b']}
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _STR_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_ERR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=D.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        return _rebuild_mapping(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(s) for s in zip(*batch)]  # strings stay tuples, as torch
        return fields if isinstance(elem, tuple) else _rebuild_sequence(elem, fields)
    raise TypeError(_ERR.format(type(elem)))


def _tensor_gather(dataset: Any) -> Optional[Callable[[list[int]], list[Tensor]]]:
    """For a TensorDataset, possibly inside Subsets, a function from indices to the batch.

    The batch is what default_collate would give (a list, one tensor per dataset tensor), but
    each tensor is gathered once with an index array: no per-item tensors, no stack.
    Subclasses that override item access do not qualify.
    """
    maps = []
    while (type(dataset).__getitem__ is Subset.__getitem__
           and type(dataset).__getitems__ is Subset.__getitems__):
        maps.append(np.asarray(dataset.indices, dtype=np.int64))
        dataset = dataset.dataset
    if (not isinstance(dataset, TensorDataset)
            or type(dataset).__getitem__ is not TensorDataset.__getitem__):
        return None
    tensors = dataset.tensors

    def gather(indices: list[int]) -> list[Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        for m in maps:  # the outermost Subset's indices first
            idx = m[idx]
        where = as_tensor(idx)
        return [t[where] for t in tensors]

    return gather


class DataLoader:
    """Batches from a dataset, as `torch.utils.data.DataLoader` (always in this process).

    `shuffle=True` draws a new order each epoch from `generator` (a rebours `Generator`; by
    default one seeded from `rebours.manual_seed`'s generator). `batch_size=None` turns
    batching off (each item goes through `default_convert`).

    >>> import rebours
    >>> from rebours.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(rebours.arange(5.0), rebours.arange(5))
    >>> [x.tolist() for x, y in DataLoader(ds, batch_size=2)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    >>> len(DataLoader(ds, batch_size=2, drop_last=True))
    2
    """

    _initialized = False

    def __init__(self, dataset: Any, batch_size: Optional[int] = 1,
                 shuffle: Optional[bool] = None, sampler: Optional[Iterable] = None,
                 batch_sampler: Optional[Iterable] = None, num_workers: int = 0,
                 collate_fn: Optional[Callable[[Any], Any]] = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Optional[Callable[[int], None]] = None,
                 multiprocessing_context: Any = None, generator: Optional[Generator] = None,
                 *, prefetch_factor: Optional[int] = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process "
                             "loading (num_workers > 0), but got num_workers=0")

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        auto = batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if auto else default_convert

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler: Optional[Iterable] = sampler
        self.batch_sampler: Optional[Iterable] = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._initialized = True

    def __setattr__(self, attr: str, val: Any) -> None:
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                          "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers > 0 and self.worker_init_fn is not None:
            self.worker_init_fn(0)  # in-process: one "worker", id 0, per epoch
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:  # no auto-batching: one converted item at a time
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)  # type: ignore[union-attr]
        gather = _tensor_gather(self.dataset) if self.collate_fn is default_collate else None
        if gather is not None:
            return (gather(indices) for indices in self.batch_sampler)
        return (self.collate_fn(self._fetch(indices)) for indices in self.batch_sampler)

    def _fetch(self, indices: list[int]) -> list[Any]:
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(indices)
        return [self.dataset[i] for i in indices]

    def _iter_stream(self) -> Iterator[Any]:
        it = iter(self.dataset)
        if self.batch_size is None:
            yield from (self.collate_fn(item) for item in it)
            return
        while batch := list(itertools.islice(it, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None  # type: ignore[arg-type]
                   else self.sampler)
