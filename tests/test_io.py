"""gdl.io: safetensors weights, nested structures, atomic writes, checkpoints, fuzzing."""

from __future__ import annotations

import io as pyio
import json
import math
import os
import pickle
import random
import stat
import struct
import zipfile

import numpy as np
import pytest
import safetensors.numpy as stnp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from safetensors import safe_open

import gdl
import gdl.io as gio
from gdl.io import CheckpointError

DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- helpers ---------------------------------------------------------------------------


def host_arrays(dtype):
    return hnp.arrays(np.dtype(dtype), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))


def same(a, b) -> bool:
    """Structural equality that also checks types, tensor bytes and NaN/-0.0."""
    if isinstance(a, gdl.Tensor):
        return (
            isinstance(b, gdl.Tensor)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.numpy().tobytes() == b.numpy().tobytes()
        )
    if isinstance(a, np.ndarray):
        b = np.asarray(b) if type(b).__module__.startswith("array_api_strict") else b
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        for ka, va in a.items():
            kb = [k for k in b if same(k, ka)]
            if len(kb) != 1 or not same(va, b[kb[0]]):
                return False
        return True
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def valid_result(obj) -> bool:
    """What a successful load may return: tensors, arrays and JSON-like data only."""
    if isinstance(obj, gdl.Tensor):
        host = obj.numpy()
        ok = obj.dtype.name in DTYPES and host.shape == obj.shape
        return ok and (obj.dtype != "bool" or set(host.view(np.uint8).ravel().tolist()) <= {0, 1})
    if isinstance(obj, dict):
        return all(valid_result(k) and valid_result(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return all(valid_result(v) for v in obj)
    return obj is None or isinstance(obj, (bool, int, float, str, np.ndarray)) or gdl.get_backend_object().is_array(obj)


def header_of(data: bytes) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n])


def raw_file(header: dict, data: bytes = b"", pad: bool = False) -> bytes:
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def sample_state_dict():
    return {
        "0.weight": gdl.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), backend="numpy"),
        "0.bias": gdl.tensor(np.array([0.5, -1.0], dtype=np.float32), backend="numpy"),
        "steps": gdl.tensor(np.array(7, dtype=np.int64), backend="numpy"),
        "mask": gdl.tensor(np.array([True, False, True]), backend="numpy"),
        "empty": gdl.tensor(np.zeros((0, 3), dtype=np.float64), backend="numpy"),
        "half": gdl.tensor(np.array([1.5, -2.0], dtype=np.float16), backend="numpy"),
    }


def sample_structure():
    w = gdl.tensor(np.ones((2, 2), dtype=np.float32), backend="numpy")
    return {
        "state": {0: {"step": 3, "exp_avg": w, "flag": True}, 1: {"exp_avg": w}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": float("inf"), "params": [0, 1]}],
        (1, "a"): None,
        "$dollar": "kept",
        "big": 2**100,
        "nan": float("nan"),
        "raw": np.arange(3, dtype=np.int16),
        "nested": [[], {}, (), "é\n\x00"],
    }


# -- round trips ------------------------------------------------------------------------


@FAST
@given(
    arrays=st.lists(st.sampled_from(DTYPES).flatmap(host_arrays), min_size=0, max_size=4),
    metadata=st.dictionaries(
        st.text(max_size=5).filter(lambda k: not k.startswith("gdl.")), st.text(max_size=5), max_size=2
    ),
)
def test_round_trip_all_dtypes_and_shapes(arrays, metadata):
    sd = {f"t{i}": gdl.tensor(a, backend="numpy") for i, a in enumerate(arrays)}
    data = gio.dumps(sd, metadata=metadata)
    out = gio.loads(data, backend="numpy")
    assert same(sd, out)
    # The reference implementation reads the same bytes to the same arrays and metadata.
    ref = stnp.load(data)
    assert set(ref) == set(sd)
    for k, a in zip(sd, arrays):
        assert ref[k].dtype == a.dtype and ref[k].shape == a.shape and ref[k].tobytes() == a.tobytes()
    assert header_of(data).get("__metadata__", {}) == metadata


@FAST
@given(arrays=st.lists(st.sampled_from(DTYPES).flatmap(host_arrays), min_size=0, max_size=4))
def test_bytes_identical_to_reference_writer(arrays):
    host = {f"w{i}": a for i, a in enumerate(arrays)}
    sd = {k: gdl.tensor(a, backend="numpy") for k, a in host.items()}
    assert gio.dumps(sd) == stnp.save(host)
    assert gio.dumps(sd, metadata={"format": "pt"}) == stnp.save(host, metadata={"format": "pt"})


@pytest.mark.parametrize("dtype", DTYPES)
def test_file_round_trip_each_dtype(tmp_path, dtype):
    a = (np.arange(12) % 3).astype(dtype).reshape(3, 4)
    sd = {
        "a": gdl.tensor(a, backend="numpy"),
        "scalar": gdl.tensor(a[0, 1], backend="numpy"),
        "empty": gdl.tensor(a[:0], backend="numpy"),
    }
    path = tmp_path / "w.safetensors"
    gio.save(sd, path)
    out = gio.load(path, backend="numpy")
    assert same(sd, out)
    assert out["scalar"].shape == () and out["empty"].shape == (0, 4)
    # the loaded tensor owns writable memory (not a view of the file buffer)
    assert out["a"].data.flags.writeable and out["a"].data.flags.owndata


def _structures():
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(-(2**130), 2**130)
        | st.floats()
        | st.text(max_size=4)
        | st.sampled_from(DTYPES).flatmap(host_arrays).map(lambda a: gdl.tensor(a, backend="numpy"))
    )
    keys = (
        st.text(max_size=3)
        | st.integers(-3, 3)
        | st.none()
        | st.floats(allow_nan=False)
        | st.tuples(st.integers(0, 2), st.text(max_size=2))
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.lists(inner, max_size=3).map(tuple)
            | st.dictionaries(keys, inner, max_size=3)
        ),
        max_leaves=8,
    )


@FAST
@given(obj=_structures())
def test_structure_round_trip(obj):
    out = gio.loads(gio.dumps(obj), backend="numpy")
    assert same(obj, out)


def test_structure_details(tmp_path):
    obj = sample_structure()
    path = tmp_path / "optim.safetensors"
    gio.save(obj, path, metadata={"note": "hi"})
    out = gio.load(path, backend="numpy")
    assert same(obj, out)
    assert list(out) == list(obj)  # nested dicts keep their order
    assert out["state"][0]["exp_avg"] is out["state"][1]["exp_avg"]  # shared tensor stored once
    assert isinstance(out["raw"], np.ndarray)  # raw backend arrays come back raw
    assert gio.load_metadata(path) == {"note": "hi"}
    # Other safetensors readers see tensors under path-like names and the JSON in __metadata__.
    ref = stnp.load_file(str(path))
    assert sorted(ref) == ["raw", "state.0.exp_avg"]
    with safe_open(str(path), "np") as f:
        meta = f.metadata()
    assert meta["note"] == "hi" and json.loads(meta["gdl.structure"])["version"] == 1


def test_top_level_tensor_and_list():
    t = gdl.tensor([1.0, 2.0], backend="numpy")
    assert same(t, gio.loads(gio.dumps(t), backend="numpy"))
    assert same([t, 1, "x"], gio.loads(gio.dumps([t, 1, "x"]), backend="numpy"))
    assert gio.loads(gio.dumps({}), backend="numpy") == {}


def test_name_collisions_get_distinct_entries():
    a, b = gdl.tensor([1.0], backend="numpy"), gdl.tensor([2.0], backend="numpy")
    obj = {"x": {"y": a}, "x.y": b, "__metadata__": a}
    out = gio.loads(gio.dumps(obj), backend="numpy")
    assert same(obj, out)


# -- interop with the safetensors package -----------------------------------------------


def test_reference_file_loads_in_gdl(tmp_path):
    host = {k: v.numpy() for k, v in sample_state_dict().items()}
    path = tmp_path / "ref.safetensors"
    stnp.save_file(host, str(path), metadata={"format": "pt", "epoch": "3"})
    out = gio.load(path, backend="numpy")
    assert set(out) == set(host)
    for k, a in host.items():
        assert out[k].dtype.name == a.dtype.name and out[k].numpy().tobytes() == a.tobytes()
    assert gio.load_metadata(path) == {"format": "pt", "epoch": "3"}


def test_gdl_file_loads_in_reference(tmp_path):
    sd = sample_state_dict()
    path = tmp_path / "gdl.safetensors"
    gio.save(sd, path, metadata={"format": "pt", "epoch": "3"})
    ref = stnp.load_file(str(path))
    assert set(ref) == set(sd)
    for k, t in sd.items():
        assert ref[k].dtype == t.numpy().dtype and ref[k].tobytes() == t.numpy().tobytes()
    with safe_open(str(path), "np") as f:
        assert f.metadata() == {"format": "pt", "epoch": "3"}
    (n,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert n % 8 == 0  # data section 8-byte aligned, as the reference writes it


# -- backends ----------------------------------------------------------------------------


def test_save_on_numpy_load_on_backend(tmp_path, backend):
    sd = {k: v for k, v in sample_state_dict().items() if backend != "array_api_strict" or k != "half"}
    path = tmp_path / "w.safetensors"
    with gdl.use_backend("numpy"):
        gio.save(sd, path)
    out = gio.load(path)  # default: the current backend
    assert all(t.backend == backend for t in out.values())
    assert same(sd, out)
    out_np = gio.load(path, backend="numpy")
    assert all(t.backend == "numpy" for t in out_np.values())


def test_save_on_backend_load_on_numpy(tmp_path, backend):
    sd = {"w": gdl.randn(3, 2), "i": gdl.arange(4), "s": {"step": 2, "m": gdl.zeros(2)}}
    path = tmp_path / "s.safetensors"
    gio.save(sd, path)
    out = gio.load(path, backend="numpy")
    assert out["w"].backend == "numpy" and same(sd, out)


def test_float16_on_a_backend_without_it_is_a_clear_error(tmp_path):
    if "float16" in dir(gdl.get_backend_object("array_api_strict").xp):
        pytest.skip("array_api_strict supports float16 here")
    path = tmp_path / "h.safetensors"
    gio.save({"h": gdl.tensor(np.ones(2, np.float16), backend="numpy")}, path)
    with pytest.raises(TypeError, match="float16.*array_api_strict"):
        gio.load(path, backend="array_api_strict")


# -- saving: bad input --------------------------------------------------------------------


def test_save_rejects_what_it_cannot_store(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="cannot save function at 'a.0'"):
        gio.save({"a": [lambda: 0]}, path)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        gio.save(loop, path)
    with pytest.raises(TypeError, match="dict key"):
        gio.save({frozenset(): 1}, path)
    with pytest.raises(TypeError, match="str to str"):
        gio.save({}, path, metadata={"epoch": 3})
    with pytest.raises(ValueError, match="reserved"):
        gio.save({}, path, metadata={"gdl.structure": "{}"})
    with pytest.raises(ValueError, match="nested too deeply"):
        deep = []
        for _ in range(5000):
            deep = [deep]
        gio.save(deep, path)
    assert os.listdir(tmp_path) == []


# -- atomic writes -------------------------------------------------------------------------


def test_crash_mid_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    gio.save({"w": gdl.tensor([1.0, 2.0], backend="numpy")}, path)
    before = path.read_bytes()
    calls = []

    def failing_write(f, data):
        calls.append(len(data))
        if len(calls) == 2:  # header written; die half-way through the first tensor
            f.write(data[: len(data) // 2])
            raise OSError("disk full")
        f.write(data)

    monkeypatch.setattr(gio, "_write", failing_write)
    big = {"w": gdl.tensor(np.arange(1000, dtype=np.float32), backend="numpy")}
    with pytest.raises(OSError, match="disk full"):
        gio.save(big, path)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left
    # A fresh target: nothing at all is left behind.
    with pytest.raises(OSError, match="disk full"):
        calls.clear()
        gio.save(big, tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_interrupt_mid_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    gio.save({"a": gdl.tensor([1.0], backend="numpy")}, path)
    before = path.read_bytes()

    def interrupted(f, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(gio, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gio.save({"a": gdl.tensor([2.0], backend="numpy")}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_failed_rename_and_permissions(tmp_path):
    (tmp_path / "dir.safetensors").mkdir()
    with pytest.raises(OSError):
        gio.save({}, tmp_path / "dir.safetensors")  # os.replace cannot replace a folder
    assert sorted(os.listdir(tmp_path)) == ["dir.safetensors"]
    path = tmp_path / "w.safetensors"
    gio.save({}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # like a plain open()


# -- bad files ------------------------------------------------------------------------------


def _valid_bytes():
    return gio.dumps(sample_state_dict(), metadata={"k": "v"})


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def _raw_text(text: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(text)) + text + data


def _zip_bytes():
    buf = pyio.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": [1.0]}))
    return buf.getvalue()


BAD_FILES = {
    "empty": (b"", "too short"),
    "three bytes": (b"abc", "too short"),
    "header longer than file": (struct.pack("<Q", 1000) + b"{}", "exceeds the file size"),
    "huge header length": (struct.pack("<Q", 2**63) + b"{}" * 8, "exceeds the file size"),
    "tiny header length": (struct.pack("<Q", 0), "too small"),
    "header not an object start": (raw_file([1, 2]), "does not start with '{'"),
    "header not utf-8": (struct.pack("<Q", 4) + b"{\xff\xfe}", "not valid UTF-8"),
    "header bad json": (struct.pack("<Q", 5) + b'{"a":', "not valid JSON"),
    "header nan": (struct.pack("<Q", 10) + b'{"a": NaN}', "not valid JSON"),
    "duplicate key": (
        _raw_text(b'{"a":%s,"a":%s}' % ((json.dumps(_entry()).encode(),) * 2), b"\0" * 8),
        "duplicate key 'a'",
    ),
    "unknown dtype": (
        raw_file({"a": _entry(dtype="BF16", offsets=(0, 4))}, b"\0" * 4),
        "'BF16' is not supported",
    ),
    "dtype not a string": (raw_file({"a": _entry(dtype=3)}, b"\0" * 8), "dtype is not a string"),
    "negative shape": (raw_file({"a": _entry(shape=(-2,))}, b"\0" * 8), "non-negative"),
    "float shape": (raw_file({"a": _entry(shape=(2.0,))}, b"\0" * 8), "non-negative"),
    "bool shape": (raw_file({"a": _entry(shape=(True, True))}, b"\0" * 8), "non-negative"),
    "too many dims": (raw_file({"a": _entry(shape=(1,) * 65, offsets=(0, 4))}, b"\0" * 4), "65 dimensions"),
    "absurd shape": (raw_file({"a": _entry(shape=(0, 2**62, 2**62), offsets=(0, 0))}), "too large"),
    "offsets not a pair": (raw_file({"a": _entry(offsets=(0,))}, b"\0" * 8), "pair of integers"),
    "offsets reversed": (raw_file({"a": _entry(offsets=(8, 0))}, b"\0" * 8), "begin <= end"),
    "byte count mismatch": (raw_file({"a": _entry(offsets=(0, 6))}, b"\0" * 6), "needs 8"),
    "overlap": (raw_file({"a": _entry(), "b": _entry(offsets=(4, 12))}, b"\0" * 12), "overlaps"),
    "gap": (raw_file({"a": _entry(offsets=(4, 12))}, b"\0" * 12), "gap of 4"),
    "trailing garbage": (raw_file({"a": _entry()}, b"\0" * 9), "1 bytes of trailing data"),
    "truncated data": (raw_file({"a": _entry()}, b"\0" * 7), "truncated"),
    "missing field": (raw_file({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8), "missing keys"),
    "unknown field": (raw_file({"a": dict(_entry(), extra=1)}, b"\0" * 8), "unexpected keys"),
    "entry not an object": (raw_file({"a": [1]}), "not a JSON object"),
    "metadata not strings": (raw_file({"__metadata__": {"a": 1}}), "strings to strings"),
    "bool byte 2": (raw_file({"a": _entry(dtype="BOOL", offsets=(0, 2))}, b"\x01\x02"), "other than 0 and 1"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "PNG image"),
    "pickle": (pickle.dumps({"w": [1.0, 2.0]}), "pickle"),
    "pytorch zip": (_zip_bytes(), "zip archive"),
    "npy": (b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}" + b" " * 60, "NumPy .npy"),
    "random bytes": (random.Random(0).randbytes(256), "not a safetensors file"),
    "deep json": (_raw_text(b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}"), "nested too deeply"),
}


def _structured(structure, tensors=None):
    meta = {"gdl.structure": json.dumps(structure)}
    return stnp.save(tensors or {}, metadata=meta)


BAD_STRUCTURES = {
    "structure not json": (stnp.save({}, metadata={"gdl.structure": "{oops"}), "not valid JSON"),
    "structure wrong version": (_structured({"version": 99, "root": 1}), "version 99"),
    "structure missing root": (_structured({"version": 1}), "malformed"),
    "missing tensor": (_structured({"version": 1, "root": {"$tensor": "nope"}}), "missing tensor"),
    "unknown tag": (_structured({"version": 1, "root": {"$eval": "os.system('x')"}}), "unknown tag"),
    "tag with extra key": (_structured({"version": 1, "root": {"$tuple": [], "b": 1}}), "unknown tag"),
    "bad $dict": (_structured({"version": 1, "root": {"$dict": [[1]]}}), "pairs"),
    "unhashable key": (_structured({"version": 1, "root": {"$dict": [[[1], 2]]}}), "not hashable"),
    "bad $float": (_structured({"version": 1, "root": {"$float": "1e999"}}), r"unknown \$float"),
    "unreferenced tensor": (_structured({"version": 1, "root": 1}, {"a": np.zeros(2)}), "not referenced"),
}


@pytest.mark.parametrize("name", list(BAD_FILES) + list(BAD_STRUCTURES))
def test_bad_file_gives_checkpoint_error_naming_the_file(tmp_path, name):
    data, message = BAD_FILES.get(name) or BAD_STRUCTURES[name]
    path = tmp_path / "bad-file.safetensors"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=message) as info:
        gio.load(path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)
    assert info.value.path == str(path) and info.value.problem
    with pytest.raises(CheckpointError):
        gio.loads(data)


def test_every_truncation_is_detected(tmp_path):
    data = _valid_bytes()
    for cut in range(len(data)):
        with pytest.raises(CheckpointError):
            gio.loads(data[:cut], name="cut")
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[:-1])
    with pytest.raises(CheckpointError, match="truncated"):
        gio.load(path)
    with pytest.raises(CheckpointError, match="truncated"):
        gio.load_metadata(path)


def test_missing_file_is_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        gio.load(tmp_path / "nope.safetensors")


# -- fuzzing ----------------------------------------------------------------------------------

VALID = {"flat": _valid_bytes(), "structured": gio.dumps(sample_structure(), metadata={"k": "v"})}

mutation = st.tuples(
    st.sampled_from(["flip", "set", "insert", "delete", "truncate"]),
    st.integers(0, 10**6),
    st.integers(0, 255),
)


def mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for kind, pos, byte in ops:
        if not buf:
            break
        pos %= len(buf)
        if kind == "flip":
            buf[pos] ^= 1 << (byte % 8)
        elif kind == "set":
            buf[pos] = byte
        elif kind == "insert":
            buf.insert(pos, byte)
        elif kind == "delete":
            del buf[pos]
        else:
            del buf[pos:]
    return bytes(buf)


def _check_mutant(data: bytes, load):
    try:
        out = load(data)
    except CheckpointError as exc:
        assert "fuzzed" in str(exc)  # names the file
        return
    assert valid_result(out)


@settings(max_examples=400, deadline=None)
@given(which=st.sampled_from(sorted(VALID)), ops=st.lists(mutation, min_size=1, max_size=4))
def test_fuzzed_bytes_raise_only_checkpoint_error(which, ops):
    _check_mutant(mutate(VALID[which], ops), lambda d: gio.loads(d, backend="numpy", name="fuzzed"))


@settings(max_examples=400, deadline=None)
@given(
    which=st.sampled_from(sorted(VALID)), pos=st.integers(8, 10**6), text=st.binary(min_size=1, max_size=12)
)
def test_fuzzed_header_text_raises_only_checkpoint_error(which, pos, text):
    # Splice arbitrary bytes into the JSON header, where most mutations land otherwise.
    data = VALID[which]
    (n,) = struct.unpack("<Q", data[:8])
    pos = 8 + (pos % n)
    # On NumPy, like the test above: the valid files hold a float16 tensor, which a backend
    # without float16 rightly refuses with a TypeError when a mutation leaves the file valid.
    _check_mutant(data[:pos] + text + data[pos + len(text) :], lambda d: gio.loads(d, backend="numpy", name="fuzzed"))


_json_keys = st.sampled_from(["$tensor", "$array", "$tuple", "$dict", "$float", "$x", "a", "version", "root"])
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["a", "b", "nan", "inf", "-inf", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_json_keys, inner, max_size=2),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(root=_json, version=st.sampled_from([1, 1, 1, 2, "1", None]))
def test_arbitrary_structure_json_raises_only_checkpoint_error(root, version):
    # Well-formed JSON with wrong or hostile shapes inside gdl.structure.
    data = _structured({"version": version, "root": root}, {"a": np.zeros(2, np.float32)})
    _check_mutant(data, lambda d: gio.loads(d, name="fuzzed"))


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(mutation, min_size=1, max_size=3))
def test_fuzzed_files_raise_only_checkpoint_error(tmp_path_factory, ops):
    path = tmp_path_factory.mktemp("fuzz") / "fuzzed.safetensors"
    path.write_bytes(mutate(VALID["structured"], ops))

    def load(_):
        gio.load_metadata(path)
        return gio.load(path, backend="numpy")

    _check_mutant(b"", load)


# -- checkpoints -------------------------------------------------------------------------------


class TinyModel:
    """Stand-in for nn.Module: a state dict of tensors."""

    def __init__(self):
        self.w = gdl.randn(3, 2)
        self.b = gdl.zeros(2)

    def state_dict(self):
        return {"w": self.w, "b": self.b}

    def load_state_dict(self, sd):
        assert set(sd) == {"w", "b"}
        self.w, self.b = sd["w"], sd["b"]


class TinyOptimizer:
    """Stand-in for optim.Adam: int-keyed state, param groups with tuples."""

    def __init__(self):
        self.state = {}
        self.param_groups = [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False}]

    def step(self):
        for i in (0, 1):
            s = self.state.setdefault(i, {"step": 0, "exp_avg": gdl.zeros(2)})
            s["step"] += 1
            s["exp_avg"] = s["exp_avg"] + gdl.randn(2)

    def state_dict(self):
        return {"state": self.state, "param_groups": self.param_groups}

    def load_state_dict(self, sd):
        self.state, self.param_groups = sd["state"], sd["param_groups"]


class TinyScheduler:
    def __init__(self):
        self.last_epoch, self.base_lrs = 0, [0.1]

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": self.base_lrs}

    def load_state_dict(self, sd):
        self.__dict__.update(sd)


def _train(model, opt, sched, steps):
    losses = []
    for _ in range(steps):
        opt.step()
        sched.last_epoch += 1
        noise = gdl.randn(2)  # stands in for dropout / shuffling randomness
        losses.append(float((model.w.sum() + opt.state[0]["exp_avg"].sum() + noise.sum()).item()))
        losses.append(random.random())
    return losses


def test_checkpoint_resume_matches_uninterrupted_run(tmp_path, backend):
    if backend == "cupy":
        pytest.skip("CuPy's generators expose no state: a GPU checkpoint restores the seed, not the position")
    gdl.manual_seed(1)
    random.seed(1)
    model, opt, sched = TinyModel(), TinyOptimizer(), TinyScheduler()
    first = _train(model, opt, sched, 3)
    path = tmp_path / "ckpt.safetensors"
    gio.save_checkpoint(
        path, model, opt, sched, epoch=3, metadata={"run": "a", "n": [1, 2]}, best=0.5, w=gdl.ones(2)
    )
    expected = _train(model, opt, sched, 4)

    gdl.manual_seed(99)  # scramble everything, then resume into fresh objects
    random.seed(99)
    model2, opt2, sched2 = TinyModel(), TinyOptimizer(), TinyScheduler()
    ckpt = gio.load_checkpoint(path, model2, opt2, sched2)
    assert ckpt["epoch"] == 3 and ckpt["metadata"] == {"run": "a", "n": [1, 2]}
    assert ckpt["extra"]["best"] == 0.5 and same(ckpt["extra"]["w"], gdl.ones(2))
    assert sorted(opt2.state) == [0, 1] and opt2.state[0]["step"] == 3  # int keys survive
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999) and sched2.last_epoch == 3
    assert model2.w.backend == backend
    assert _train(model2, opt2, sched2, 4) == expected
    assert first  # (the run did something)


def test_checkpoint_loads_on_another_backend(tmp_path):
    with gdl.use_backend("numpy"):
        model, opt = TinyModel(), TinyOptimizer()
        opt.step()
        path = tmp_path / "ckpt.safetensors"
        gio.save_checkpoint(path, model, opt, epoch=1)
    model2, opt2 = TinyModel(), TinyOptimizer()
    ckpt = gio.load_checkpoint(path, model2, opt2, backend="array_api_strict", restore_rng=False)
    assert model2.w.backend == "array_api_strict" and opt2.state[0]["exp_avg"].backend == "array_api_strict"
    assert same(model.w.numpy(), model2.w.numpy()) and ckpt["scheduler"] is None
    # load() reads a checkpoint as a plain dict too
    assert gio.load(path, backend="numpy")["epoch"] == 1


def test_checkpoint_errors(tmp_path):
    plain = tmp_path / "weights.safetensors"
    gio.save({"w": gdl.zeros(2)}, plain)
    with pytest.raises(CheckpointError, match="not a gdl checkpoint"):
        gio.load_checkpoint(plain)
    ckpt = tmp_path / "ckpt.safetensors"
    gio.save_checkpoint(ckpt, epoch=0)
    with pytest.raises(CheckpointError, match="no model state"):
        gio.load_checkpoint(ckpt, model=TinyModel())
    assert gio.load_checkpoint(ckpt)["epoch"] == 0
    state = gio.load(ckpt)
    state["rng"]["backends"]["numpy"] = {"bit_generator": "nope"}
    bad = tmp_path / "bad.safetensors"
    gio._atomic_write(bad, lambda f: f.write(gio._prepare(state, None, kind="checkpoint")[0]))
    with pytest.raises(CheckpointError, match="RNG state for backend 'numpy'"):
        gio.load_checkpoint(bad)


def test_rng_state_of_an_unusable_backend_is_skipped(tmp_path):
    # A checkpoint written on a GPU machine resumes on a CPU-only one.
    gio.save_checkpoint(tmp_path / "c.safetensors", epoch=1)
    state = gio.load(tmp_path / "c.safetensors")
    state["rng"]["backends"]["some_future_backend"] = {"seed": 1}
    if not gdl.is_usable("cupy"):
        state["rng"]["backends"]["cupy"] = {"seed": 1}
    gio._atomic_write(
        tmp_path / "d.safetensors", lambda f: f.write(gio._prepare(state, None, kind="checkpoint")[0])
    )
    assert gio.load_checkpoint(tmp_path / "d.safetensors")["epoch"] == 1


def test_rng_state_big_ints_round_trip():
    be = gdl.get_backend_object("numpy")
    be.seed(123)
    state = be.get_rng_state()
    assert any(isinstance(v, int) and v > 2**64 for v in state["state"].values())
    back = gio.loads(gio.dumps({"rng": state}))["rng"]
    assert back == state
