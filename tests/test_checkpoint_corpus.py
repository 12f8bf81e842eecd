"""Hostile and malformed checkpoint files: each is rejected in under a second with a
CheckpointError (a ValueError) that names what is wrong, and nothing in it is executed.

The corpus is generated here, one row per case: a name, the file's bytes, and a phrase the error
must contain. Random byte flips of a valid file must load or raise CheckpointError, nothing else.
"""

import json
import os
import pickle
import random
import struct
import time

import pytest
import safetensors.numpy as stnp
import torch

import rebours
from rebours.serialization import CheckpointError, load, save


def st(header, data=b"", raw_header=None):
    """A safetensors file from a header (dict, dumped as is) and the data bytes."""
    head = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


def entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def tree(node, tensors):
    return {"__metadata__": {"rebours.tree": json.dumps(node), "rebours.format": "1"}, **tensors}


EIGHT = bytes(8)
CORPUS = {
    "empty file": (b"", "empty"),
    "truncated length": (b"\x10\x00\x00", "truncated"),
    "header length beyond the file": (struct.pack("<Q", 500) + b'{"a":1}', "beyond the end"),
    "header claims 100 MB": (struct.pack("<Q", 100_000_000) + b"{}", "beyond the end"),
    "header claims 2**63 bytes": (struct.pack("<Q", 2 ** 63) + b"{}", "limit"),
    "header of 1 byte": (struct.pack("<Q", 1) + b"{", "must hold a JSON object"),
    "invalid JSON": (st(None, raw_header=b'{"a": {"dtype": '), "not valid JSON"),
    "JSON list, not object": (st([1, 2, 3]), "not an object"),
    "JSON string, not object": (st("hello"), "not an object"),
    "not UTF-8": (st(None, raw_header=b'{"\xff\xfe": 1}'), "not UTF-8"),
    "NaN constant": (st(None, raw_header=b'{"a": NaN}'), "NaN is not JSON"),
    "entry not an object": (st({"a": [1, 2]}), "exactly 'dtype', 'shape' and 'data_offsets'"),
    "entry missing offsets": (st({"a": {"dtype": "F32", "shape": [2]}}, EIGHT),
                              "exactly 'dtype', 'shape' and 'data_offsets'"),
    "offsets past the end": (st({"a": entry(offsets=(0, 8))}, bytes(4)), "past the end"),
    "offsets far past the end": (st({"a": entry(shape=(2 ** 40,), offsets=(0, 2 ** 42))},
                                    EIGHT), "past the end"),
    "negative offset": (st({"a": entry(offsets=(-8, 0))}, EIGHT), "negative or reversed"),
    "reversed offsets": (st({"a": entry(shape=(0,), offsets=(8, 0))}, EIGHT),
                         "negative or reversed"),
    "float offsets": (st({"a": entry(offsets=(0.0, 8.0))}, EIGHT), "two integers"),
    "bool offsets": (st({"a": entry(offsets=(False, True))}, EIGHT), "two integers"),
    "string offsets": (st({"a": entry(offsets=("0", "8"))}, EIGHT), "two integers"),
    "three offsets": (st({"a": entry(offsets=(0, 4, 8))}, EIGHT), "two integers"),
    "overlapping tensors": (st({"a": entry(offsets=(0, 8)), "b": entry(offsets=(4, 12))},
                               bytes(12)), "overlap"),
    "same bytes twice": (st({"a": entry(offsets=(0, 8)), "b": entry(offsets=(0, 8))}, EIGHT),
                         "overlap"),
    "gap between tensors": (st({"a": entry(shape=(1,), offsets=(0, 4)),
                                "b": entry(shape=(1,), offsets=(8, 12))}, bytes(12)),
                            "belong to no tensor"),
    "trailing bytes": (st({"a": entry()}, bytes(16)), "belong to no tensor"),
    "shape x dtype larger than offsets": (st({"a": entry(shape=(3,))}, EIGHT), "needs 12 bytes"),
    "shape x dtype smaller than offsets": (st({"a": entry("F64", shape=(2,), offsets=(0, 8))},
                                              EIGHT), "needs 16 bytes"),
    "huge shape": (st({"a": entry(shape=(2 ** 62, 2 ** 62))}, EIGHT), "needs"),
    "negative shape": (st({"a": entry(shape=(-2,))}, EIGHT), "non-negative integers"),
    "float shape": (st({"a": entry(shape=(2.0,))}, EIGHT), "non-negative integers"),
    "bool shape": (st({"a": entry(shape=(True, True))}, EIGHT), "non-negative integers"),
    "unknown dtype": (st({"a": entry("F33")}, EIGHT), "unknown dtype 'F33'"),
    "dtype not a string": (st({"a": entry(7)}, EIGHT), "unknown dtype 7"),
    "valid but foreign dtype": (st({"a": entry("F8_E4M3", shape=(8,))}, EIGHT),
                                "rebours has no such dtype"),
    "duplicate tensor names": (st(None, raw_header=b'{"a": ' + json.dumps(entry()).encode()
                                  + b', "a": ' + json.dumps(entry()).encode() + b"}"),
                               "duplicate key 'a'"),
    "duplicate key in an entry": (st(None, raw_header=b'{"a": {"dtype": "F32", "dtype": "F64", '
                                     b'"shape": [2], "data_offsets": [0, 8]}}'),
                                  "duplicate key 'dtype'"),
    "100k nested [": (st(None, raw_header=b"[" * 100_000), "levels deep"),
    "100k nested {": (st(None, raw_header=b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
                      "levels deep"),
    "metadata not strings": (st({"__metadata__": {"a": 1}}), "must map strings to strings"),
    "metadata tree not JSON": (st({"__metadata__": {"rebours.tree": "{oops"}}), "not valid JSON"),
    "metadata tree nested 100k": (st({"__metadata__": {"rebours.tree": "[" * 100_000}}),
                                  "levels deep"),
    "metadata tree duplicate key": (st({"__metadata__": {"rebours.tree": '{"dict": [], '
                                                                         '"dict": []}'}}),
                                    "duplicate key 'dict'"),
    "tree names a missing tensor": (st(tree({"tensor": "ghost"}, {})), "does not hold"),
    "tree with an unknown node": (st(tree({"pickle": "os.system"}, {})), "bad node"),
    "tree dict key a tensor": (st(tree({"dict": [[{"tensor": "a"}, 1]]}, {"a": entry()}), EIGHT),
                               "not a scalar"),
    "tree duplicate dict keys": (st(tree({"dict": [[1, 2], [1, 3]]}, {})), "duplicate dict key"),
    "newer format": (st({"__metadata__": {"rebours.tree": "1", "rebours.format": "9"}}),
                     "newer rebours"),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_file_is_rejected_quickly(tmp_path, name):
    data, phrase = CORPUS[name]
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(data)
    t0 = time.perf_counter()
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert time.perf_counter() - t0 < 1.0
    assert isinstance(info.value, ValueError)
    assert phrase in str(info.value), str(info.value)
    assert str(path) in str(info.value)


def test_duplicate_keys_the_reference_accepts(tmp_path):
    """The safetensors library takes the last of two duplicate names; rebours refuses."""
    data, _ = CORPUS["duplicate tensor names"]
    path = tmp_path / "dup.safetensors"
    path.write_bytes(data + EIGHT)
    assert list(stnp.load_file(str(path))) == ["a"]
    with pytest.raises(CheckpointError, match="duplicate key 'a'"):
        load(path)


class _Writes:
    """Unpickling this calls open(path, 'w'): it creates a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.safetensors"
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        path.write_bytes(pickle.dumps(_Writes(str(marker)), protocol=protocol))
        with pytest.raises(CheckpointError, match="this is a pickle"):
            load(path)
        assert not marker.exists()
    path.write_bytes(pickle.dumps(_Writes(str(marker)), protocol=0))  # no opcode header
    with pytest.raises(CheckpointError):
        load(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes()).close()  # the control: the payload does write the file
    assert marker.exists()


def test_a_torch_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3), "step": 3}, path)
    with pytest.raises(CheckpointError, match="zip archive"):
        load(path)
    torch.save(torch.ones(3), path, _use_new_zipfile_serialization=False)  # legacy: a pickle
    with pytest.raises(CheckpointError, match="pickle"):
        load(path)


def test_random_corruptions_load_or_fail_cleanly(tmp_path):
    """Flip, cut and splice bytes of a real checkpoint: load or CheckpointError, nothing else."""
    net = rebours.nn.Sequential(rebours.nn.Linear(3, 4), rebours.nn.Linear(4, 2))
    opt = rebours.optim.Adam(net.parameters())
    net(rebours.randn(2, 3)).sum().backward()
    opt.step()
    good = tmp_path / "good.safetensors"
    save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, good)
    base = good.read_bytes()
    n = struct.unpack("<Q", base[:8])[0]
    rng = random.Random(7)
    bad = tmp_path / "bad.safetensors"
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(400):
        data = bytearray(base)
        kind = i % 4
        if kind == 0:  # flip bytes in the header
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(8, 8 + n)] = rng.randrange(256)
        elif kind == 1:  # cut the file
            data = data[:rng.randrange(len(data))]
        elif kind == 2:  # replace one header character by a JSON-significant one
            data[rng.randrange(8, 8 + n)] = ord(rng.choice('{}[]",:0123456789-e.'))
        else:  # a different length field
            data[:8] = struct.pack("<Q", rng.randrange(0, 2 * n))
        bad.write_bytes(bytes(data))
        t0 = time.perf_counter()
        try:
            load(bad)
            outcomes["loaded"] += 1
        except CheckpointError:
            outcomes["refused"] += 1
        assert time.perf_counter() - t0 < 1.0
    assert outcomes["refused"] > 300, outcomes
    assert sorted(os.listdir(tmp_path)) == ["bad.safetensors", "good.safetensors"]
