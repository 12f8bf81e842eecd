"""Checkpoints: `rebours.save` / `rebours.load` of state dicts as safetensors files, no pickle.

A file is the safetensors format (an 8-byte little-endian header length, a JSON header, the
tensors' bytes), readable by the `safetensors` library and by any reader of the format. The nested
structure around the tensors (dicts with int or str keys, lists, tuples, numbers, strings, bools,
None: a model's `state_dict()` plus an optimizer's) is a JSON string in the header's
`__metadata__` under `rebours.tree`. The reader here is rebours's own: every length, offset, shape,
dtype and nesting depth is checked before a byte of tensor data is touched, and a file that breaks
a rule raises `CheckpointError` naming the rule. Nothing in a file is ever executed. Writes are
atomic: a temporary file in the target's folder, fsync, `os.replace`, fsync of the folder.

>>> import os, tempfile, rebours
>>> from rebours.serialization import save, load      # also rebours.save, rebours.load
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> save({"w": rebours.ones(2), "step": 3, 0: [None, "adam"]}, path)
>>> load(path)
{'w': tensor([1., 1.]), 'step': 3, 0: [None, 'adam']}
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Optional, Union

import numpy as np

from . import dtypes as D
from .backends import device as Device
from .tensor import Tensor, new_tensor_raw

__all__ = ["CheckpointError", "save", "load"]

PathLike = Union[str, "os.PathLike[str]"]
MAX_HEADER = 100_000_000  # bytes, as the safetensors library
MAX_DEPTH = 256  # JSON nesting; a state dict needs ~10
TREE_KEY = "rebours.tree"
VERSION_KEY = "rebours.format"
_TMP = re.compile(r"^\.(?P<base>.+)\.(?P<pid>\d+)\.[0-9a-z_]+\.rebours-tmp$")

# safetensors dtype name -> (rebours dtype name, NumPy little-endian dtype or None)
_ST_DTYPES: dict[str, tuple[Optional[str], Optional[str]]] = {
    "BOOL": ("bool", "|b1"), "U8": ("uint8", "|u1"), "I8": ("int8", "|i1"),
    "I16": ("int16", "<i2"), "I32": ("int32", "<i4"), "I64": ("int64", "<i8"),
    "F16": ("float16", "<f2"), "BF16": ("bfloat16", None), "F32": ("float32", "<f4"),
    "F64": ("float64", "<f8"), "C64": ("complex64", "<c8"),
    "U16": (None, "<u2"), "U32": (None, "<u4"), "U64": (None, "<u8"),
    "F8_E4M3": (None, None), "F8_E5M2": (None, None), "F8_E8M0": (None, None),
    "F4": (None, None), "F6_E2M3": (None, None), "F6_E3M2": (None, None),
}
_TO_ST = {name: st for st, (name, _) in _ST_DTYPES.items() if name is not None}
_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4,
          "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8, "F8_E4M3": 1,
          "F8_E5M2": 1, "F8_E8M0": 1}


class CheckpointError(ValueError):
    """A file that is not a well-formed checkpoint; the message names the broken rule."""


# -- saving ----------------------------------------------------------------------------------

def save(obj: Any, f: PathLike) -> None:
    """Write `obj` (tensors, numbers, strings, bools, None, in dicts/lists/tuples) to `f`.

    The file is safetensors; the write is atomic (a crash mid-save leaves the previous file).
    """
    path = os.fspath(f)
    tensors: dict[str, np.ndarray] = {}
    seen: dict[int, str] = {}
    tree = _encode(obj, "", tensors, seen, 0)
    header: dict[str, Any] = {"__metadata__": {VERSION_KEY: "1",
                                               TREE_KEY: json.dumps(tree, allow_nan=False)}}
    offset = 0
    for name, arr in tensors.items():
        header[name] = {"dtype": _TO_ST[D.from_numpy(arr.dtype).name], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    head += b" " * (-len(head) % 8)  # the buffer starts 8-byte aligned, as the reference writes
    _atomic_write(path, [struct.pack("<Q", len(head)), head, *tensors.values()])


def _encode(obj: Any, where: str, tensors: dict, seen: dict, depth: int) -> Any:
    """The JSON tree of `obj`; tensors go to `tensors` under their path and become references."""
    if depth > MAX_DEPTH // 4:
        raise CheckpointError(f"rebours.save: {where or 'the object'} is nested more than "
                              f"{MAX_DEPTH // 4} levels deep")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else {"float": repr(float(obj))}
    if isinstance(obj, (Tensor, np.ndarray)):
        return _encode_tensor(obj, where, tensors, seen)
    if isinstance(obj, Mapping):
        items = [[_encode_key(k, where), _encode(v, _join(where, k), tensors, seen, depth + 1)]
                 for k, v in obj.items()]
        return {"odict" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, _join(where, i), tensors, seen, depth + 1) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"tuple": items}
    raise TypeError(f"rebours.save can't store {where or 'the object'}: a "
                    f"{type(obj).__module__}.{type(obj).__qualname__}; checkpoints hold tensors, "
                    "numbers, strings, bools and None in dicts, lists and tuples (no pickle)")


def _encode_key(key: Any, where: str) -> Any:
    if key is None or isinstance(key, (bool, str, int, float)):
        return _encode(key, where, {}, {}, 0)
    raise TypeError(f"rebours.save can't store the key {key!r} in {where or 'the object'}: "
                    "dict keys must be str, int, float, bool or None")


def _join(where: str, key: Any) -> str:
    return f"{where}/{key}" if where else str(key)


def _encode_tensor(t: Any, where: str, tensors: dict, seen: dict) -> dict:
    name = seen.get(id(t))
    if name is None:
        if isinstance(t, Tensor):
            if t.device.type == "meta":
                raise CheckpointError(f"rebours.save: {where or 'the tensor'} is on the meta "
                                      "device and holds no data to save")
            arr = t.detach().cpu()._data
        else:
            arr = t
        arr = np.asarray(arr)
        if not arr.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
            arr = arr.copy(order="C")
        if arr.dtype.name not in ("bfloat16",) and arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        try:
            kind = D.from_numpy(arr.dtype).name
        except (TypeError, ValueError, KeyError):
            kind = arr.dtype.name
        if kind not in _TO_ST:
            raise TypeError(f"rebours.save: {where} has dtype {kind}, which safetensors can't "
                            f"store (it stores {', '.join(sorted(_TO_ST))})")
        name = where or "tensor"
        while name in tensors:  # a key holding '/' could collide with a path
            name += "'"
        tensors[name] = arr
        seen[id(t)] = name
    ref: dict[str, Any] = {"tensor": name}
    if isinstance(t, np.ndarray):
        ref["numpy"] = True
    elif t.requires_grad:
        ref["requires_grad"] = True
    return ref


def _atomic_write(path: str, chunks: list[Any]) -> None:
    """Write to a temporary file beside `path`, fsync it, rename over `path`, fsync the folder."""
    folder, base = os.path.split(os.path.abspath(path))
    _sweep(folder, base)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(6)}.rebours-tmp")
    # 0o666 as open() uses, so the umask decides the mode (mkstemp would make it 0o600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:  # arrays are written from their memory, without a copy
                out.write(chunk.reshape(-1).view(np.uint8) if isinstance(chunk, np.ndarray)
                          else chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; the rename is already durable there
        return
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _sweep(folder: str, base: str) -> None:
    """Remove temporary files that killed saves of `base` left behind (their process is gone)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = _TMP.match(name)
        if not m or m["base"] != base or _alive(int(m["pid"])):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of ours is writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


# -- loading ---------------------------------------------------------------------------------

MapLocation = Union[None, str, Device, Mapping[str, Any], Callable[[Tensor, str], Any]]


def load(f: PathLike, map_location: MapLocation = None, weights_only: bool = True) -> Any:
    """Read a checkpoint written by `rebours.save` (or any safetensors file: a flat dict).

    Tensors load on the CPU, or where `map_location` says (a device, `{"cpu": device}`, or a
    function of `(tensor, "cpu")`). `weights_only` is accepted for torch's signature: rebours
    never unpickles, so both values load data only.
    """
    del weights_only  # nothing but data is ever loaded
    path = os.fspath(f)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        first = fh.read(8)
        n = _header_length(first, size, path)
        header = _parse_json(fh.read(n), "the header", path)
        if not isinstance(header, dict):
            raise CheckpointError(f"{path}: the header is JSON {type(header).__name__}, not an "
                                  "object")
        meta = header.pop("__metadata__", None)
        specs = _check_specs(header, size - 8 - n, path)
        meta = _check_metadata(meta, path)
        buffer = bytearray(size - 8 - n)
        if fh.readinto(buffer) != len(buffer):
            raise CheckpointError(f"{path}: the file shrank while it was read")
    arrays = {name: _array(buffer, *spec) for name, spec in specs.items()}
    move = _mover(map_location)
    if TREE_KEY not in meta:
        return {name: move(_tensor(a, False)) for name, a in arrays.items()}
    tree = _parse_json(meta[TREE_KEY].encode(), f"__metadata__[{TREE_KEY!r}]", path)
    made: dict[tuple, Any] = {}
    return _decode(tree, arrays, made, move, path)


def _header_length(first: bytes, size: int, path: str) -> int:
    if size == 0:
        raise CheckpointError(f"{path}: the file is empty")
    if first.startswith(b"PK\x03\x04"):
        raise CheckpointError(f"{path}: this is a zip archive (torch.save's format), not "
                              "safetensors; rebours.load never unpickles. Convert it once in "
                              "PyTorch: safetensors.torch.save_file(torch.load(p), out)")
    if len(first) >= 2 and first[0] == 0x80 and 2 <= first[1] <= 5:
        raise CheckpointError(f"{path}: this is a pickle, not safetensors; rebours.load never "
                              "unpickles (a pickle can run any code when it is loaded)")
    if len(first) < 8:
        raise CheckpointError(f"{path}: truncated: {size} bytes, but a safetensors file starts "
                              "with an 8-byte header length")
    n = struct.unpack("<Q", first)[0]
    if n > MAX_HEADER:
        raise CheckpointError(f"{path}: the header claims {n:,} bytes, more than the "
                              f"{MAX_HEADER:,}-byte limit (not a safetensors file, or a hostile "
                              "one)")
    if n > size - 8:
        raise CheckpointError(f"{path}: the header length ({n:,} bytes) runs beyond the end of "
                              f"the file ({size:,} bytes): truncated or not safetensors")
    if n < 2:
        raise CheckpointError(f"{path}: the header is {n} bytes; it must hold a JSON object")
    return n


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise CheckpointError(f"duplicate key {k!r} in a JSON object")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise CheckpointError(f"{name} is not JSON")


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _parse_json(raw: bytes, what: str, path: str) -> Any:
    """JSON with no duplicate keys, no NaN, and nesting checked before the recursive parser."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CheckpointError(f"{path}: {what} is not UTF-8 ({err.reason} at byte "
                              f"{err.start})") from None
    bare = np.frombuffer(_STRINGS.sub(b"", raw), dtype=np.uint8)
    steps = np.isin(bare, (ord("["), ord("{"))).astype(np.int32)
    steps -= np.isin(bare, (ord("]"), ord("}")))
    depth = int(np.cumsum(steps).max()) if steps.size else 0
    if depth > MAX_DEPTH:
        raise CheckpointError(f"{path}: {what} nests JSON {depth:,} levels deep (the limit is "
                              f"{MAX_DEPTH})")
    try:
        return json.loads(text.rstrip(" "), object_pairs_hook=_no_duplicates,
                          parse_constant=_reject_constant)
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {what}: {err}") from None
    except (ValueError, RecursionError) as err:
        raise CheckpointError(f"{path}: {what} is not valid JSON ({err})") from None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_specs(header: dict, buflen: int, path: str) -> dict[str, tuple]:
    """Each tensor's (dtype, shape, begin, end), checked; the tensors tile the buffer exactly."""
    specs: dict[str, tuple] = {}
    for name, info in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(f"{where}: the entry must be an object with exactly 'dtype', "
                                  f"'shape' and 'data_offsets', got {info!r:.200}")
        st, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(st, str) or st not in _ST_DTYPES:
            raise CheckpointError(f"{where}: unknown dtype {st!r:.50} (safetensors dtypes: "
                                  f"{', '.join(_ST_DTYPES)})")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise CheckpointError(f"{where}: shape must be a list of non-negative integers, got "
                                  f"{shape!r:.200}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(_is_int(o) for o in offsets)):
            raise CheckpointError(f"{where}: data_offsets must be two integers [begin, end], "
                                  f"got {offsets!r:.200}")
        begin, end = offsets
        if begin < 0 or end < begin:
            raise CheckpointError(f"{where}: data_offsets {offsets} are negative or reversed")
        if end > buflen:
            raise CheckpointError(f"{where}: data_offsets {offsets} run past the end of the data "
                                  f"({buflen:,} bytes)")
        itemsize = _SIZES.get(st)
        if itemsize is not None and math.prod(shape) * itemsize != end - begin:
            raise CheckpointError(f"{where}: shape {shape} of {st} needs "
                                  f"{math.prod(shape) * itemsize:,} bytes, but data_offsets "
                                  f"{offsets} hold {end - begin:,}")
        specs[name] = (st, tuple(shape), begin, end, where)
    cursor, last = 0, None
    for name, (_, _, begin, end, _) in sorted(specs.items(), key=lambda kv: kv[1][2:4]):
        if begin < cursor:
            raise CheckpointError(f"{path}: tensors {last!r} and {name!r} overlap (bytes "
                                  f"{begin:,}..{cursor:,})")
        if begin > cursor:
            raise CheckpointError(f"{path}: bytes {cursor:,}..{begin:,} of the data belong to no "
                                  "tensor")
        cursor, last = end, name
    if cursor != buflen:
        raise CheckpointError(f"{path}: bytes {cursor:,}..{buflen:,} at the end of the file "
                              "belong to no tensor")
    return specs


def _check_metadata(meta: Any, path: str) -> dict[str, str]:
    if meta is None:
        return {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(f"{path}: __metadata__ must map strings to strings, got "
                              f"{meta!r:.200}")
    version = meta.get(VERSION_KEY, "1")
    if TREE_KEY in meta and version != "1":
        raise CheckpointError(f"{path}: written by a newer rebours (format {version!r:.20}); "
                              "this one reads format '1'")
    return meta


def _array(buffer: bytearray, st: str, shape: tuple, begin: int, end: int,
           where: str) -> np.ndarray:
    name, np_name = _ST_DTYPES[st]
    if name is None:
        raise CheckpointError(f"{where}: dtype {st} is valid safetensors but rebours has no such "
                              "dtype")
    dt = np.dtype(np_name) if np_name is not None else D.np_dtype(D.to_dtype(name))
    count = (end - begin) // dt.itemsize
    arr = np.frombuffer(buffer, dtype=dt, count=count, offset=begin)
    if begin % dt.alignment:  # an odd offset: copy to an aligned array
        arr = arr.copy()
    return arr.astype(dt.newbyteorder("="), copy=False).reshape(shape)


def _tensor(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = new_tensor_raw(arr, D.from_numpy(arr.dtype), Device("cpu"))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _mover(map_location: MapLocation) -> Callable[[Tensor], Tensor]:
    if map_location is None:
        return lambda t: t
    if callable(map_location) and not isinstance(map_location, (str, Device)):
        fn = map_location
        return lambda t: _moved(fn(t, "cpu"), t)
    if isinstance(map_location, Mapping):
        target = map_location.get("cpu")
        return (lambda t: t) if target is None else _mover(target)
    target = Device(map_location) if isinstance(map_location, str) else map_location
    return lambda t: t if target.type == "cpu" else t.to(target)


def _moved(result: Any, t: Tensor) -> Tensor:
    return t if result is None else result


def _decode(node: Any, arrays: dict, made: dict, move: Callable, path: str) -> Any:
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, made, move, path) for v in node]
    if not isinstance(node, dict) or len(node) not in (1, 2, 3):
        raise CheckpointError(f"{path}: bad node in {TREE_KEY}: {node!r:.200}")
    if "tensor" in node:
        name = node["tensor"]
        if not isinstance(name, str) or name not in arrays:
            raise CheckpointError(f"{path}: {TREE_KEY} refers to tensor {name!r:.100}, which the "
                                  "file does not hold")
        key = (name, bool(node.get("numpy")), bool(node.get("requires_grad")))
        if key not in made:
            arr = arrays[name]
            made[key] = arr if key[1] else move(_tensor(arr, key[2]))
        return made[key]
    (tag, value), = node.items()
    if tag == "float" and value in ("nan", "inf", "-inf"):
        return float(value)
    if tag in ("dict", "odict") and isinstance(value, list):
        if not all(isinstance(kv, list) and len(kv) == 2 for kv in value):
            raise CheckpointError(f"{path}: a dict in {TREE_KEY} must be a list of [key, value]")
        out = {} if tag == "dict" else OrderedDict()
        for k, v in value:
            key = _decode(k, arrays, made, move, path)
            if isinstance(key, (list, dict, Tensor)):
                raise CheckpointError(f"{path}: a dict key in {TREE_KEY} is not a scalar")
            if key in out:
                raise CheckpointError(f"{path}: duplicate dict key {key!r:.100} in {TREE_KEY}")
            out[key] = _decode(v, arrays, made, move, path)
        return out
    if tag == "tuple" and isinstance(value, list):
        return tuple(_decode(v, arrays, made, move, path) for v in value)
    raise CheckpointError(f"{path}: bad node in {TREE_KEY}: {node!r:.200}")
