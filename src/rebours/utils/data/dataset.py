"""Datasets: `Dataset`, `IterableDataset`, `TensorDataset`, `Subset` and `random_split`.

A map-style dataset answers `len(ds)` and `ds[i]`; an iterable one only `iter(ds)`. Nothing here
copies data: a `TensorDataset` item is a tuple of views into its tensors, and a `Subset` keeps
indices into its dataset.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Generic, Optional, TypeVar, Union

from ...factories import Generator, default_generator, randperm
from ...tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define `__getitem__(i)` and usually `__len__`.

    >>> from rebours.utils.data import Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> [Squares()[i] for i in range(4)]
    [0, 1, 4, 9]
    """

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class IterableDataset(Dataset[T_co]):
    """A dataset that is a stream: subclasses define `__iter__` (no indexing, no sampler).

    >>> from rebours.utils.data import IterableDataset
    >>> class Count(IterableDataset):
    ...     def __iter__(self): return iter(range(3))
    >>> list(Count())
    [0, 1, 2]
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Tensors that share their first dimension; item i is `(t[i] for t in tensors)`.

    The `DataLoader` gathers a whole batch from a `TensorDataset` with one indexing per tensor,
    without creating the items.

    >>> import rebours
    >>> from rebours.utils.data import TensorDataset
    >>> ds = TensorDataset(rebours.arange(6.0).reshape(3, 2), rebours.tensor([0, 1, 0]))
    >>> len(ds), ds[1]
    (3, (tensor([2., 3.]), tensor(1)))
    """

    tensors: tuple[Tensor, ...]

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class Subset(Dataset[T_co]):
    """The items of `dataset` at `indices`, in that order.

    >>> from rebours.utils.data import Subset
    >>> sub = Subset(["a", "b", "c", "d"], [3, 0])
    >>> len(sub), sub[0], list(sub)
    (2, 'd', ['d', 'a'])
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):  # the dataset gets the list, as torch
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """Items at several positions at once (the DataLoader's batched fetch), as torch."""
        inner = [self.indices[i] for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[Union[int, float]],
                 generator: Optional[Generator] = default_generator) -> list[Subset]:
    """Split `dataset` into disjoint random `Subset`s of the given lengths (or fractions).

    Fractions that sum to 1 become ⌊f · len⌋ each, and the remainder is dealt one by one to the
    splits in turn, as torch. The permutation comes from `generator` (a rebours `Generator`):
    the same seed gives the same split within rebours (not the same as torch's).

    >>> import rebours
    >>> from rebours.utils.data import random_split
    >>> a, b = random_split(range(10), [0.75, 0.25], generator=rebours.Generator().manual_seed(0))
    >>> len(a), len(b), sorted(list(a) + list(b)) == list(range(10))
    (8, 2, True)
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):  # deal the remainder round-robin
            sizes[i % len(sizes)] += 1
        lengths = sizes
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(sum(lengths), generator=generator).tolist()  # type: ignore[arg-type]
    return [Subset(dataset, indices[end - length:end])
            for end, length in zip(itertools.accumulate(lengths), lengths)]
