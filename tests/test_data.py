"""rebours.utils.data against torch.utils.data: the same lambdas, batch by batch.

Deterministic loading (sequential samplers, collate, lengths, errors) must equal torch's exactly.
Random orders come from rebours's own generators, so they are checked for reproducibility and
coverage, not against torch's stream. The TensorDataset fast path is checked against the generic
path, and for creating no per-item tensors.
"""

import collections
import doctest
import pathlib
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data

import rebours
import rebours.utils.data as rdata
from rebours.utils.data import DataLoader, TensorDataset, default_collate

LIBS = (torch, rebours)
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "data.md"
Point = collections.namedtuple("Point", ["x", "y"])


def D(lib):
    return lib.utils.data


def _plain(x):
    """A structure with tensors turned into (dtype, shape, values): comparable across libs."""
    if isinstance(x, (torch.Tensor, rebours.Tensor)):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *(_plain(v) for v in x))
    if isinstance(x, tuple):
        return ("tuple", *(_plain(v) for v in x))
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.tolist())
    return x


def _arrays():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(10, 3)).astype("float32"), rng.integers(0, 5, size=10),
            rng.normal(size=(10,)))


def _tensor_dataset(lib):
    return D(lib).TensorDataset(*(lib.tensor(a) for a in _arrays()))


def _batches(loader):
    return [_plain(b) for b in loader]


# -- TensorDataset, sequential loading -------------------------------------------------------

def test_tensor_dataset_items_and_length_match_torch():
    dss = [_tensor_dataset(lib) for lib in LIBS]
    assert len(dss[1]) == len(dss[0]) == 10
    for i in (0, 3, -1):
        assert _plain(dss[1][i]) == _plain(dss[0][i])
    assert _plain(dss[1][2:4]) == _plain(dss[0][2:4])


def test_tensor_dataset_asserts_equal_first_dimensions_as_torch():
    msgs = []
    for lib in LIBS:
        with pytest.raises(AssertionError) as info:
            D(lib).TensorDataset(lib.zeros(3, 2), lib.zeros(4))
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0] == "Size mismatch between tensors"


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, True),
                                                  (10, False), (12, False), (12, True)])
def test_sequential_batches_match_torch(batch_size, drop_last):
    out = [_batches(D(lib).DataLoader(_tensor_dataset(lib), batch_size=batch_size,
                                      drop_last=drop_last)) for lib in LIBS]
    assert out[1] == out[0]
    lens = [len(D(lib).DataLoader(_tensor_dataset(lib), batch_size=batch_size,
                                  drop_last=drop_last)) for lib in LIBS]
    assert lens[1] == lens[0] == len(out[0])


def test_subset_of_tensor_dataset_and_explicit_samplers_match_torch():
    out = []
    for lib in LIBS:
        sub = D(lib).Subset(D(lib).Subset(_tensor_dataset(lib), [9, 7, 5, 3, 1, 0, 2]), [6, 0, 2,
                                                                                        4, 1])
        sampler = D(lib).SequentialSampler(sub)
        a = _batches(D(lib).DataLoader(sub, batch_size=2, sampler=sampler))
        bs = D(lib).BatchSampler(range(10), batch_size=4, drop_last=False)
        b = _batches(D(lib).DataLoader(_tensor_dataset(lib), batch_sampler=bs))
        c = _batches(D(lib).DataLoader(_tensor_dataset(lib), sampler=[8, 8, 1], batch_size=2))
        out.append((a, b, c))
    assert out[1] == out[0]


# -- collate ----------------------------------------------------------------------------------

SAMPLES = {
    "tuple": lambda lib, i: (lib.tensor([i, i + 1.0]), i, float(i) / 2),
    "dict": lambda lib, i: {"x": lib.tensor([[i]]), "label": i % 2 == 0, "name": f"s{i}",
                            "nested": {"a": [i, i * 2], "b": (np.float32(i), np.int16(i))}},
    "numpy": lambda lib, i: (np.arange(3, dtype=np.int32) + i, np.float64(i) * 0.5,
                             np.array(i, dtype=np.uint8)),
    "namedtuple": lambda lib, i: Point(lib.tensor(float(i)), [lib.tensor([i]), "t"]),
    "list": lambda lib, i: [i, [float(i), 1.0]],
    "bytes-and-bool": lambda lib, i: (b"raw", True, np.bool_(i % 2)),
}


class Samples:
    """A map-style dataset (no base class needed, as torch) of structured samples."""

    def __init__(self, lib, make, n=5):
        self.lib, self.make, self.n = lib, make, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        return self.make(self.lib, i)


class Stream:
    """A stream of dict samples; mixed into each library's IterableDataset below."""

    def __init__(self, lib, n=7):
        self.lib, self.n = lib, n

    def __iter__(self):
        return iter([{"x": self.lib.tensor([float(i)]), "i": i} for i in range(self.n)])

    def __len__(self):
        return self.n


class TorchStream(Stream, torch.utils.data.IterableDataset):
    pass


class OurStream(Stream, rdata.IterableDataset):
    pass


def _stream(lib):
    return (TorchStream if lib is torch else OurStream)(lib)


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_default_collate_matches_torch(kind):
    out = []
    for lib in LIBS:
        loader = D(lib).DataLoader(Samples(lib, SAMPLES[kind]), batch_size=2)
        out.append(_batches(loader))
    assert out[1] == out[0]
    assert len(out[0]) == 3


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_batch_size_none_converts_items_as_torch(kind):
    out = [_batches(D(lib).DataLoader(Samples(lib, SAMPLES[kind]), batch_size=None))
           for lib in LIBS]
    assert out[1] == out[0] and len(out[0]) == 5


def test_default_convert_and_collate_errors_match_torch():
    convert = [_plain(D(lib).default_convert({"a": np.ones(2), "s": np.array(["x"]), "n": [1]}))
               for lib in LIBS]
    assert convert[1] == convert[0]
    bad = {"ragged": [[1, 2], [3]], "object": [object(), object()],
           "strings": [np.array(["a"]), np.array(["b"])]}
    for name, batch in bad.items():
        errs = []
        for lib in LIBS:
            with pytest.raises(Exception) as info:
                D(lib).default_collate(batch)
            errs.append(info.value)
        assert type(errs[1]) is type(errs[0]), name
        if name != "object":  # the message names the type: torch.… vs builtins are the same
            assert str(errs[1]) == str(errs[0]), name


# -- the TensorDataset fast path ---------------------------------------------------------------

def _generic(batch):
    return default_collate(batch)  # not `default_collate` itself: forces the generic path


@pytest.mark.parametrize("wrap", ["plain", "subset", "random_split"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_gives_the_same_batches_as_the_generic_path(wrap, shuffle):
    ds = _tensor_dataset(rebours)
    if wrap == "subset":
        ds = rdata.Subset(rdata.Subset(ds, [9, 2, 4, 6, 8, 1, 3]), [0, 2, 4, 6, 1])
    elif wrap == "random_split":
        ds = rdata.random_split(ds, [7, 3], generator=rebours.Generator().manual_seed(5))[0]

    def run(collate_fn):
        g = rebours.Generator().manual_seed(11)
        kw = dict(collate_fn=collate_fn) if collate_fn else {}
        return [(type(b), _plain(b)) for epoch in range(2)
                for b in DataLoader(ds, batch_size=3, shuffle=shuffle, generator=g, **kw)]

    fast, generic = run(None), run(_generic)
    assert fast == generic
    assert all(kind is list for kind, _ in fast) and len(fast) == 2 * -(-len(ds) // 3)


def test_fast_path_gathers_each_tensor_once_and_creates_no_items(monkeypatch):
    counts = collections.Counter()
    item, index = TensorDataset.__getitem__, rebours.Tensor.__getitem__

    def counting_item(self, i):
        counts["item"] += 1
        return item(self, i)

    def counting_index(self, i):
        counts["index"] += 1
        return index(self, i)

    monkeypatch.setattr(TensorDataset, "__getitem__", counting_item)
    monkeypatch.setattr(rebours.Tensor, "__getitem__", counting_index)
    ds = _tensor_dataset(rebours)
    batches = list(DataLoader(rdata.Subset(ds, list(range(9))), batch_size=4, shuffle=True,
                              generator=rebours.Generator().manual_seed(0)))
    assert len(batches) == 3
    assert counts == {"index": 3 * 3}  # one gather per tensor per batch, no items

    counts.clear()
    assert len(list(DataLoader(ds, batch_size=4, collate_fn=_generic))) == 3
    assert counts["item"] == 10 and counts["index"] == 3 * 10  # the generic path, for contrast


def test_subclass_overriding_getitem_does_not_take_the_fast_path():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return tuple(t[i] * 2 for t in self.tensors)

    ds = Doubled(rebours.arange(4.0))
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=2)] == [[0.0, 2.0], [4.0, 6.0]]


# -- shuffling and samplers --------------------------------------------------------------------

def _order(loader):
    return [int(i) for b in loader for i in b[0].tolist()]


def test_shuffle_is_reproducible_with_a_seeded_rebours_generator():
    ds = TensorDataset(rebours.arange(20))

    def epochs(seed, n=3):
        loader = DataLoader(ds, batch_size=6, shuffle=True,
                            generator=rebours.Generator().manual_seed(seed))
        return [_order(loader) for _ in range(n)]

    a, b, c = epochs(7), epochs(7), epochs(8)
    assert a == b and a != c
    assert all(sorted(e) == list(range(20)) for e in a + c)
    assert a[0] != a[1]  # each epoch draws a new order
    assert a[0] != list(range(20))


def test_shuffle_without_a_generator_follows_manual_seed():
    ds = TensorDataset(rebours.arange(30))
    rebours.manual_seed(123)
    first = _order(DataLoader(ds, batch_size=7, shuffle=True))
    rebours.manual_seed(123)
    assert _order(DataLoader(ds, batch_size=7, shuffle=True)) == first
    assert sorted(first) == list(range(30)) and first != list(range(30))


@pytest.mark.parametrize("replacement,num_samples", [(False, None), (False, 23), (False, 4),
                                                     (True, None), (True, 70)])
def test_random_sampler_lengths_and_ranges(replacement, num_samples):
    def draw(seed):
        return list(rdata.RandomSampler(range(10), replacement, num_samples,
                                        generator=rebours.Generator().manual_seed(seed)))

    a = draw(3)
    n = num_samples or 10
    assert a == draw(3) and a != draw(4) and len(a) == n
    assert len(rdata.RandomSampler(range(10), replacement, num_samples)) == n
    assert all(isinstance(i, int) and 0 <= i < 10 for i in a)
    if not replacement:  # whole permutations, then the start of one more
        for start in range(0, n - n % 10, 10):
            assert sorted(a[start:start + 10]) == list(range(10))
        assert len(set(a[n - n % 10:])) == n % 10
    else:
        assert len(set(a)) < len(a)


def test_subset_random_sampler_and_batch_sampler():
    g = rebours.Generator().manual_seed(2)
    drawn = list(rdata.SubsetRandomSampler([5, 6, 7, 8], generator=g))
    assert sorted(drawn) == [5, 6, 7, 8]
    for drop_last in (False, True):
        out = [list(D(lib).BatchSampler(range(7), 3, drop_last)) for lib in LIBS]
        lens = [len(D(lib).BatchSampler(range(7), 3, drop_last)) for lib in LIBS]
        assert out[1] == out[0] and lens[1] == lens[0] == len(out[0])


SAMPLER_ERRORS = {
    "replacement": lambda lib: D(lib).RandomSampler(range(3), replacement=1),
    "num_samples": lambda lib: D(lib).RandomSampler(range(3), num_samples=0),
    "empty": lambda lib: D(lib).RandomSampler([]),
    "batch_size": lambda lib: D(lib).BatchSampler(range(3), batch_size=0, drop_last=False),
    "batch_size-bool": lambda lib: D(lib).BatchSampler(range(3), batch_size=True,
                                                       drop_last=False),
    "drop_last": lambda lib: D(lib).BatchSampler(range(3), batch_size=2, drop_last=1),
}

LOADER_ERRORS = {
    "sampler-shuffle": lambda lib: D(lib).DataLoader(range(3), sampler=[0], shuffle=True),
    "batch_sampler-batch_size": lambda lib: D(lib).DataLoader(range(3), batch_sampler=[[0]],
                                                              batch_size=2),
    "batch_sampler-drop_last": lambda lib: D(lib).DataLoader(range(3), batch_sampler=[[0]],
                                                             drop_last=True),
    "none-drop_last": lambda lib: D(lib).DataLoader(range(3), batch_size=None, drop_last=True),
    "workers": lambda lib: D(lib).DataLoader(range(3), num_workers=-1),
    "timeout": lambda lib: D(lib).DataLoader(range(3), timeout=-1),
    "prefetch": lambda lib: D(lib).DataLoader(range(3), prefetch_factor=2),
    "persistent": lambda lib: D(lib).DataLoader(range(3), persistent_workers=True),
    "set-after-init": lambda lib: setattr(D(lib).DataLoader(range(3)), "batch_size", 4),
    "iterable-shuffle": lambda lib: D(lib).DataLoader(_stream(lib), shuffle=True),
    "random_split-sum": lambda lib: D(lib).random_split(range(10), [3, 3]),
    "random_split-fraction": lambda lib: D(lib).random_split(range(10), [1.5, -0.5]),
}


@pytest.mark.parametrize("name", list(SAMPLER_ERRORS) + list(LOADER_ERRORS))
def test_errors_match_torch(name):
    fn = SAMPLER_ERRORS.get(name) or LOADER_ERRORS[name]
    errs = []
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            fn(lib)
        errs.append(info.value)
    assert type(errs[1]) is type(errs[0])
    assert str(errs[1]) == str(errs[0])


# -- random_split and Subset -------------------------------------------------------------------

@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [0.33, 0.33, 0.34],
                                     [1.0], [10], [0.1] * 10])
def test_random_split_sizes_match_torch_and_parts_are_disjoint(lengths):
    sizes = [[len(s) for s in D(lib).random_split(range(10), lengths)] for lib in LIBS]
    assert sizes[1] == sizes[0]
    parts = rdata.random_split(range(10), lengths, generator=rebours.Generator().manual_seed(1))
    items = [x for p in parts for x in p]
    assert sorted(items) == list(range(10))
    again = rdata.random_split(range(10), lengths, generator=rebours.Generator().manual_seed(1))
    assert [list(p) for p in again] == [list(p) for p in parts]
    if len(lengths) > 1:
        other = rdata.random_split(range(10), lengths,
                                   generator=rebours.Generator().manual_seed(2))
        assert [list(p) for p in other] != [list(p) for p in parts]


def test_random_split_warns_for_an_empty_part_as_torch():
    msgs = []
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = D(lib).random_split(range(3), [0.9, 0.05, 0.05])
        msgs.append(([str(w.message) for w in caught], [len(p) for p in parts]))
    assert msgs[1] == msgs[0] and len(msgs[0][0]) == 2


def test_subset_getitems_and_list_indexing_match_torch():
    out = []
    for lib in LIBS:
        ds = _tensor_dataset(lib)
        sub = D(lib).Subset(ds, [4, 2, 8])
        out.append((_plain(sub[1]), _plain(sub[[0, 2]]), _plain(sub.__getitems__([2, 0])),
                    len(sub)))
    assert out[1] == out[0]


# -- workers, iterable datasets, the docs -------------------------------------------------------

def test_num_workers_runs_in_process_with_the_same_batches():
    ds = _tensor_dataset(rebours)
    seen = []
    loader = DataLoader(ds, batch_size=4, num_workers=3, worker_init_fn=seen.append)
    assert _batches(loader) == _batches(DataLoader(ds, batch_size=4))
    assert seen == [0] and loader.prefetch_factor == 2




@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_batches_match_torch(batch_size, drop_last):
    out = []
    for lib in LIBS:
        loader = D(lib).DataLoader(_stream(lib), batch_size=batch_size, drop_last=drop_last)
        out.append((_batches(loader), len(loader)))
    assert out[1] == out[0]


def test_docs_page_runs():
    result = doctest.testfile(str(DOCS), module_relative=False, globs={"rebours": rebours},
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 5
