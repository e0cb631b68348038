"""The fast central-directory reader against zipfile: the same names and bytes, or a refusal."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipguard.install.plan import WheelError, read_wheel
from pipguard.zipindex import Unusual, read_index

from wheels import build_wheel

_NAMES = st.lists(st.sampled_from(["a", "b.py", "é", "中", "dir", " x", "__init__.py"]), min_size=1)
_MEMBERS = st.lists(
    st.tuples(
        _NAMES.map("/".join) | st.just("pkg/"),
        st.binary(max_size=300),
        st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
    ),
    max_size=8,
)


def _archive(members: list[tuple[str, bytes, int]], comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names: zipfile warns, and writes them
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data, method in members:
                archive.writestr(name, data, compress_type=method)
            archive.comment = comment
    return buffer.getvalue()


@given(_MEMBERS, st.binary(max_size=40))
def test_the_index_reads_what_zipfile_reads(
    members: list[tuple[str, bytes, int]], comment: bytes
) -> None:
    data = _archive(members, comment)
    try:
        index = read_index(io.BytesIO(data))
    except Unusual:
        # A comment holding the end record's signature hides the real one: left to zipfile.
        assert b"PK\x05\x06" in comment
        return
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert index.names == archive.namelist()
        for name in set(index.names):
            assert index.read(name) == archive.read(name)
    with pytest.raises(KeyError):
        index.read("not/there")


def test_a_name_without_the_utf8_flag_is_cp437_as_zipfile_reads_it() -> None:
    data = bytearray(_archive([("é.py", b"x", zipfile.ZIP_STORED)]))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + flags_at
        data[at : at + 2] = (int.from_bytes(data[at : at + 2], "little") & ~0x800).to_bytes(
            2, "little"
        )
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        expected = archive.namelist()
    assert expected == ["é".encode().decode("cp437") + ".py"]
    assert read_index(io.BytesIO(bytes(data))).names == expected


@given(st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=4))
def test_damage_is_refused_or_read_as_zipfile_reads_it(at: int, junk: bytes) -> None:
    data = bytearray(_archive([("m/a.py", b"A = 1\n" * 20, zipfile.ZIP_DEFLATED)]))
    data[at : at + len(junk)] = junk
    try:
        index = read_index(io.BytesIO(bytes(data)))
        contents = {name: index.read(name) for name in index.names}
    except Unusual:
        return  # left to zipfile, which says what is wrong
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert list(contents) == archive.namelist()
        assert contents == {name: archive.read(name) for name in archive.namelist()}


def test_data_before_the_archive_is_left_to_zipfile(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "sfx", "1.0", {"sfx/__init__.py": "X = 1\n"})
    with wheel.open("rb") as handle:
        assert "sfx/__init__.py" in read_index(handle).names
    prefixed = tmp_path / "prefixed.whl"
    prefixed.write_bytes(b"#!/bin/sh\nexit 0\n" + wheel.read_bytes())
    with prefixed.open("rb") as handle, pytest.raises(Unusual):
        read_index(handle)
    # zipfile reads it, so the wheel is planned all the same.
    assert read_wheel(str(prefixed)).members == read_wheel(str(wheel)).members


def test_a_corrupt_record_is_one_line(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "bad", "1.0", {"bad.py": "X = 1\n"})
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("bad-1.0.dist-info/RECORD")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + 4] = b"XXXX"
    wheel.write_bytes(bytes(data))
    with pytest.raises(WheelError, match=r"bad-1\.0\.dist-info/RECORD cannot be read"):
        read_wheel(str(wheel))


@pytest.mark.parametrize("flag", [0x1, 0x20, 0x40])
def test_members_zipfile_will_not_read_are_left_to_it(flag: int) -> None:
    # Encrypted, compressed patched data, strong encryption: zipfile refuses them.
    data = bytearray(_archive([("m.py", b"X = 1\n", zipfile.ZIP_STORED)]))
    at = data.find(b"PK\x01\x02") + 8
    data[at : at + 2] = (int.from_bytes(data[at : at + 2], "little") | flag).to_bytes(2, "little")
    index = read_index(io.BytesIO(bytes(data)))
    with pytest.raises(Unusual):
        index.read("m.py")
