"""A zip file's member names and small members, read straight from its central directory.

``zipfile.ZipFile`` builds a ``ZipInfo`` object per member, decoding dates and extra fields the
install plan never looks at: for 50 wheels of 50 files that was 7 ms of the plan's 40. This
reader takes what the plan needs (names, as ``zipfile`` spells them, and the bytes of a few
``.dist-info`` files) and gives up on anything unusual (ZIP64, data before the archive,
encryption, a compression other than stored or deflate, a header that disagrees with the
directory, a bad CRC), raising :class:`Unusual` so that the caller uses ``zipfile`` instead,
with its checks and its error messages.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import BinaryIO

__all__ = ["Unusual", "ZipIndex", "read_index"]

# The end of central directory record, a central directory header and a local file header,
# field by field as in the ZIP specification (APPNOTE 4.3.16, 4.3.12 and 4.3.7).
_END = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_END_SIGNATURE = b"PK\x05\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_LOCAL_SIGNATURE = b"PK\x03\x04"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_MAX_COMMENT = 0xFFFF
_UTF8_NAME = 0x800
# Encrypted, compressed patched data, strong encryption: zipfile refuses or needs a password.
_UNSUPPORTED_FLAGS = 0x1 | 0x20 | 0x40
_STORED, _DEFLATED = 0, 8
_MAX_EXTRACT_VERSION = 63  # what zipfile reads; above it, zipfile refuses


class Unusual(Exception):
    """Something this reader leaves to ``zipfile``."""


class ZipIndex:
    """The members of one open zip file, in the central directory's order."""

    def __init__(self, handle: BinaryIO, directory: bytes, names: list[str], at: dict[str, int]):
        self._handle = handle
        self._directory = directory
        self.names = names
        self._at = at  # name -> where its header starts in the central directory

    def read(self, name: str) -> bytes:
        """Return the bytes of member ``name`` (the last of that name, as zipfile does).

        Raises KeyError when there is no such member and :class:`Unusual` when ``zipfile``
        should read it instead.
        """
        position = self._at[name]
        fields = _CENTRAL.unpack_from(self._directory, position)
        flags, method, crc, compressed, size = (
            fields[5],
            fields[6],
            fields[9],
            fields[10],
            fields[11],
        )
        offset = fields[18]
        raw_name = self._directory[position + _CENTRAL.size : position + _CENTRAL.size + fields[12]]
        if flags & _UNSUPPORTED_FLAGS or method not in (_STORED, _DEFLATED):
            raise Unusual(name)
        handle = self._handle
        handle.seek(offset)
        header = handle.read(_LOCAL.size)
        if len(header) != _LOCAL.size:
            raise Unusual(name)
        local = _LOCAL.unpack(header)
        name_length, extra_length = local[10], local[11]
        if local[0] != _LOCAL_SIGNATURE or handle.read(name_length) != raw_name:
            raise Unusual(name)
        handle.seek(offset + _LOCAL.size + name_length + extra_length)
        data = handle.read(compressed)
        if len(data) != compressed:
            raise Unusual(name)
        if method == _DEFLATED:
            try:
                data = zlib.decompress(data, -15)
            except zlib.error:
                raise Unusual(name) from None
        if len(data) != size or zlib.crc32(data) != crc:
            raise Unusual(name)
        return data


def read_index(handle: BinaryIO) -> ZipIndex:
    """Read the central directory of the zip file open as ``handle``; raise :class:`Unusual`
    (or ``OSError``) when ``zipfile`` should do it."""
    size = handle.seek(0, os.SEEK_END)
    tail_size = min(size, _END.size + _MAX_COMMENT)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or at + _END.size > len(tail):
        raise Unusual("no end of central directory")
    _, disk, directory_disk, here, entries, directory_size, directory_offset, comment = (
        _END.unpack_from(tail, at)
    )
    location = size - tail_size + at
    if (
        disk
        or directory_disk
        or here != entries
        or at + _END.size + comment != len(tail)
        or directory_offset + directory_size != location  # data before the archive, or ZIP64
        or tail[max(at - 20, 0) : max(at - 16, 0)] == _ZIP64_LOCATOR_SIGNATURE
    ):
        raise Unusual("not a plain archive")
    if directory_size <= at:
        directory = tail[at - directory_size : at]
    else:
        handle.seek(directory_offset)
        directory = handle.read(directory_size)
    names: list[str] = []
    where: dict[str, int] = {}
    unpack = _CENTRAL.unpack_from
    header_size = _CENTRAL.size
    other_separator = os.sep if os.sep != "/" else None
    position = 0
    try:
        for _ in range(entries):
            fields = unpack(directory, position)
            start = position + header_size
            name_end = start + fields[12]
            if (
                fields[0] != _CENTRAL_SIGNATURE
                or fields[3] > _MAX_EXTRACT_VERSION
                or 0xFFFFFFFF in (fields[10], fields[11], fields[18])  # sizes or offset in ZIP64
            ):
                raise Unusual("central directory")
            # As zipfile spells a name: UTF-8 when flagged, else cp437; cut at a NUL; '/'.
            raw = directory[start:name_end]
            # ASCII reads the same in both (and skips the cp437 codec's Python-level call).
            ascii_or_utf8 = fields[5] & _UTF8_NAME or raw.isascii()
            name = raw.decode("utf-8") if ascii_or_utf8 else raw.decode("cp437")
            if "\x00" in name:
                name = name[: name.index("\x00")]
            if other_separator is not None:
                name = name.replace(other_separator, "/")
            names.append(name)
            where[name] = position
            position = name_end + fields[13] + fields[14]
    except (struct.error, UnicodeDecodeError):
        raise Unusual("central directory") from None
    if position != directory_size:
        raise Unusual("central directory")
    return ZipIndex(handle, directory, names, where)
