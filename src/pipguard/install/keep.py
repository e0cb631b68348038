"""Keeping files across pip's step: read them before, write them back after, never losing one.

pip deletes the directories it empties: a file written back may need its directories made
again. They are made one at a time, inside the environment only, and never through a link; a
file that cannot be put back is named, and the others are still written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import NamedTuple

from pipguard.environment import open_inside, resolve_inside
from pipguard.paths import is_within

__all__ = ["Kept", "NotRestored", "keep_file", "write_atomically", "write_back"]

_TEMP_SUFFIX = ".pipguard-tmp"
# O_NOFOLLOW and O_EXCL: the temporary file is a new file, never a link someone left there.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class Kept(NamedTuple):
    """A file's bytes and permission bits, read before pip's step."""

    data: bytes
    mode: int


class NotRestored(NamedTuple):
    """A kept file that could not be written back, and why."""

    path: str
    reason: str


def keep_file(path: str, roots: tuple[str, ...]) -> Kept | None:
    """Read a file's bytes and permission bits, to write it back after pip.

    None for what pipguard will not read or write back: no such file, not a regular file, or
    a path that a link carries out of the environment.
    """
    real, inside = resolve_inside(path, roots)
    if not inside or real != path:
        return None  # written back through a link, it could land anywhere
    try:
        with open_inside(path, roots) as handle:
            return Kept(handle.read(), os.fstat(handle.fileno()).st_mode & 0o7777)
    except OSError:
        return None


def write_atomically(path: str, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` by rename: never a half-written file."""
    temp = f"{path}{_TEMP_SUFFIX}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)  # left by a run that was killed: ours by its name
    try:
        fd = os.open(temp, _CREATE, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _make_parents(path: str, roots: tuple[str, ...]) -> None:
    """Make the missing directories above ``path``, inside ``roots``, none through a link."""
    missing: list[str] = []
    parent = path.rpartition("/")[0]
    while parent and not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.rpartition("/")[0]
    real, inside = resolve_inside(parent, roots)
    if not inside or real != parent or not os.path.isdir(parent):
        raise OSError(f"{parent} is not a directory inside the environment")
    for directory in reversed(missing):
        if not is_within(directory, roots):
            raise OSError(f"{directory} is outside the environment")
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory)
        if os.path.islink(directory) or not os.path.isdir(directory):
            raise OSError(f"{directory} is not a directory")


def write_back(files: Mapping[str, Kept], roots: tuple[str, ...]) -> list[NotRestored]:
    """Write each kept file back; return those that could not be, the rest all written.

    Directories pip removed are made again first. A failure on one file never stops the
    others.
    """
    failed: list[NotRestored] = []
    for path, kept in files.items():
        try:
            _make_parents(path, roots)
            write_atomically(path, kept.data, kept.mode)
        except OSError as exc:
            failed.append(NotRestored(path, exc.strerror or str(exc)))
    return failed
