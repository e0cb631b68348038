"""The one way checks reach the disk: inside the environment's roots, never through a link out."""

from __future__ import annotations

import os

from pipguard.environment import Problem, Refused, open_inside, read_inside, resolve_inside
from pipguard.paths import to_posix
from pipguard.records import record_hash

__all__ = ["Disk", "EmptyDisk"]

_CHUNK = 1 << 20


class Disk:
    """Answers the few questions checks ask of the filesystem, each asked once.

    Hashes are taken of files inside ``roots`` only, never through a link out of them; "is
    anything at this path?" is answered from one listing per directory, not a stat per file.
    What cannot be read is noted in ``problems``.
    """

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots
        self.problems: list[Problem] = []
        self._hashes: dict[tuple[str, str], str | None] = {}
        self._listings: dict[str, frozenset[str]] = {}
        self._exists: dict[str, bool] = {}

    def __call__(self, path: str, algorithm: str) -> str | None:
        """Return ``path``'s hash in RECORD form, or None when there is no such file.

        Any other answer (no ``=``) says why the file could not be hashed (a HashReader).
        """
        key = (path, algorithm)
        if key not in self._hashes:
            self._hashes[key] = self._hash(path, algorithm)
        return self._hashes[key]

    hash = __call__

    def _hash(self, path: str, algorithm: str) -> str | None:
        if not os.path.lexists(path):
            return None
        real, inside = resolve_inside(path, self.roots)
        if not inside:
            self.problems.append(
                Problem(None, path, f"is a link to {real}, outside the environment; not followed")
            )
            return "outside"
        import hashlib  # only a clash or --verify reads a file

        if algorithm not in hashlib.algorithms_available:
            return "unknown-algorithm"
        digest = hashlib.new(algorithm)
        try:
            with open_inside(real, self.roots) as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except Refused as exc:
            self.problems.append(Problem(None, path, f"{exc}; not hashed"))
            return "not-a-file"
        except OSError as exc:
            self.problems.append(Problem(None, path, f"unreadable: {exc.strerror}"))
            return "unreadable"
        return record_hash(algorithm, digest.digest())

    def exists(self, path: str) -> bool:
        """Tell whether ``path`` exists (a broken link counts, as with ``os.path.lexists``).

        Answered from one listing of its directory, kept: ask it only about paths whose
        directory no one writes to meanwhile.
        """
        known = self._exists.get(path)
        if known is not None:
            return known  # the plan and its checks ask of each planned file three times
        parent, _, name = path.rpartition("/")
        listing = self._listings.get(parent)
        if listing is None:
            try:
                listing = frozenset(os.listdir(parent or "/"))
            except OSError:
                listing = frozenset()
            self._listings[parent] = listing
        known = self._exists[path] = name in listing
        return known

    @staticmethod
    def listdir(directory: str) -> list[str] | None:
        """Return the names in ``directory``, or None when there is no such directory.

        Raises OSError when it is there but cannot be listed (no permission).
        """
        try:
            return os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return None

    @staticmethod
    def lexists(path: str) -> bool:
        """Tell whether anything is at ``path`` now, a broken link included."""
        return os.path.lexists(path)

    @staticmethod
    def isdir(path: str) -> bool:
        """Tell whether ``path`` is a directory, or a link to one."""
        return os.path.isdir(path)

    @staticmethod
    def islink(path: str) -> bool:
        """Tell whether ``path`` is a symbolic link."""
        return os.path.islink(path)

    def resolve(self, path: str, roots: tuple[str, ...] | None = None) -> tuple[str, bool]:
        """Resolve ``path``'s links without looking outside the roots (see resolve_inside).

        ``roots``: narrower ones than the disk's (where an install may write).
        """
        return resolve_inside(path, roots or self.roots)

    def read(self, path: str, roots: tuple[str, ...] | None = None) -> bytes | None:
        """Return a regular file's bytes, or None when it is missing, unreadable or refused."""
        try:
            return read_inside(path, roots or self.roots)
        except OSError:
            return None

    @staticmethod
    def files_below(directory: str) -> list[str]:
        """Return every file below ``directory``, and each link to a directory, not followed."""
        found = []
        for folder, dirs, names in os.walk(directory):
            posix = to_posix(folder)
            found += [f"{posix}/{name}" for name in names]
            found += [f"{posix}/{name}" for name in dirs if os.path.islink(f"{folder}/{name}")]
        return found


class EmptyDisk(Disk):
    """The disk of an environment with nothing installed: what a dry run plans against with
    ``--ignore-installed``, or for another platform. Nothing is there, and nothing is read."""

    def _hash(self, path: str, algorithm: str) -> str | None:
        return None

    def exists(self, path: str) -> bool:
        """Nothing is there."""
        return False

    @staticmethod
    def listdir(directory: str) -> list[str] | None:
        """No directory is there."""
        return None

    @staticmethod
    def lexists(path: str) -> bool:
        """Nothing is there."""
        return False

    @staticmethod
    def isdir(path: str) -> bool:
        """No directory is there."""
        return False

    @staticmethod
    def islink(path: str) -> bool:
        """No link is there."""
        return False

    def resolve(self, path: str, roots: tuple[str, ...] | None = None) -> tuple[str, bool]:
        """Every path is itself: there are no links to follow."""
        return path, True

    def read(self, path: str, roots: tuple[str, ...] | None = None) -> bytes | None:
        """No file is there."""
        return None

    @staticmethod
    def files_below(directory: str) -> list[str]:
        """No file is there."""
        return []
