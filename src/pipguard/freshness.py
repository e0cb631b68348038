"""Directory freshness: every directory an install changed must end with a different mtime.

CPython's path finder re-lists a directory only when its ``st_mtime`` differs from the value it
cached. Installers that clone or reflink files, filesystems with 1- or 2-second timestamps, and
changes within one timestamp tick all leave it equal, and a running interpreter then cannot
import what was just installed. pipguard remembers each directory's mtime and listing before
the transaction and, afterwards, moves the mtime of every directory whose entries changed until
``os.stat`` reads back a different value. File contents and file mtimes are never touched.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from typing import NamedTuple

from pipguard.paths import is_within

__all__ = ["DirectoryState", "FreshnessSnapshot", "Settled", "directories_to_watch"]

# Far enough to cross a 2-second (FAT) tick; a few tries cover clocks that round oddly.
_STEP_NS = 1_000_000_000
_TRIES = 4


class DirectoryState(NamedTuple):
    """A directory's mtime (as CPython compares it: float seconds) and entries before the step."""

    mtime: float
    mtime_ns: int
    entries: frozenset[str]


class Settled(NamedTuple):
    """A directory whose entries the transaction changed, and whether pipguard moved its mtime."""

    path: str
    bumped: bool
    fresh: bool  # os.stat reads back an mtime different from before


def directories_to_watch(
    created: Iterable[str], removed: Iterable[str], roots: Iterable[str], always: Iterable[str]
) -> list[str]:
    """Return the directories whose listings the transaction may change.

    For a created path: its nearest existing ancestor gains an entry (the file, or a new
    directory on the way to it). For a removed path: every ancestor may lose one, as pip removes
    emptied directories. Only directories inside ``roots`` are ever returned.
    """
    roots = tuple(roots)
    wanted: dict[str, None] = dict.fromkeys(d for d in always if os.path.isdir(d))
    seen: set[str] = set()  # parents already walked: a wheel's files share a few directories
    for path in created:
        parent = path.rpartition("/")[0]
        while parent and parent not in seen and is_within(parent, roots):
            seen.add(parent)
            if os.path.isdir(parent):
                wanted.setdefault(parent)
                break
            parent = parent.rpartition("/")[0]
    for path in removed:
        parent = path.rpartition("/")[0]
        while parent and is_within(parent, roots):
            wanted.setdefault(parent)
            parent = parent.rpartition("/")[0]
    return [d for d in wanted if is_within(d, roots)]


def _state(directory: str) -> DirectoryState | None:
    try:
        info = os.stat(directory)
        entries = frozenset(os.listdir(directory))
    except OSError:
        return None
    return DirectoryState(info.st_mtime, info.st_mtime_ns, entries)


def _pth_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


class FreshnessSnapshot:
    """Directory states and ``.pth`` files taken before a transaction, settled after it."""

    def __init__(self, directories: Iterable[str], site_dirs: Iterable[str]) -> None:
        self.states: dict[str, DirectoryState] = {}
        for directory in directories:
            state = _state(directory)
            if state is not None:
                self.states[directory] = state
        self.site_dirs = tuple(site_dirs)
        self.pth_before = self._pth_files()

    def _pth_files(self) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for site in self.site_dirs:
            try:
                names = [name for name in os.listdir(site) if name.endswith(".pth")]
            except OSError:
                continue
            for name in names:
                found[f"{site}/{name}"] = _pth_digest(f"{site}/{name}")
        return found

    def changed_pth(self) -> list[str]:
        """Return the ``.pth`` files that are new or changed: read only at interpreter start."""
        after = self._pth_files()
        return sorted(path for path, digest in after.items() if self.pth_before.get(path) != digest)

    def settle(self) -> list[Settled]:
        """Give every directory whose entries changed an mtime different from before."""
        results: list[Settled] = []
        for directory, before in self.states.items():
            now = _state(directory)
            if now is None or now.entries == before.entries:
                continue
            bumped = False
            if now.mtime == before.mtime:
                bumped = True
                self._bump(directory, before)
            after = _state(directory)
            results.append(
                Settled(directory, bumped, after is not None and after.mtime != before.mtime)
            )
        return results

    @staticmethod
    def _bump(directory: str, before: DirectoryState) -> None:
        # "Now" first: on a fine-grained clock that is the truthful value. Where it rounds to
        # the old value (coarse timestamps, same tick), step past the old value until it differs.
        candidates = [time.time_ns()] + [before.mtime_ns + _STEP_NS * k for k in range(1, _TRIES)]
        for candidate in candidates:
            try:
                atime = os.stat(directory).st_atime_ns
                os.utime(directory, ns=(atime, candidate))
            except OSError:
                return
            if os.stat(directory).st_mtime != before.mtime:
                return
