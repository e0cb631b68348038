"""What the system package manager owns: dpkg's file lists, read on demand.

Debian and Ubuntu keep, for each installed package, ``<root>/info/<package>.list`` (one
absolute path a line, the directories a package creates included, ``/.`` first) and
``<root>/info/<package>.md5sums`` (``<md5>  <path relative to />``). A package installed for
one architecture of several is named ``<package>:<arch>`` there (``libc6:amd64.list``).

Diversions (``<root>/diversions``, ``dpkg-divert``) are not applied: a diverted file is
reported at the path its package lists, not where dpkg moved it. Paths are compared as
written: on a merged-/usr system ``/lib/x`` and ``/usr/lib/x`` are different names here.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "DEFAULT_ROOT",
    "DpkgDatabase",
    "ListProblem",
    "PackageFiles",
    "metadata_lines",
    "package_of",
    "parse_list",
    "parse_md5sums",
    "split_arch",
    "split_files",
]

DEFAULT_ROOT = "/var/lib/dpkg"


class ListProblem(NamedTuple):
    """A file of the dpkg database pipguard could not use, and why (one line)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PackageFiles(NamedTuple):
    """The paths one package lists, told apart into files and directories."""

    files: tuple[str, ...]
    directories: tuple[str, ...]


def package_of(filename: str, suffix: str = ".list") -> str | None:
    """Return the package a file of ``info/`` belongs to (``libc6:amd64.list`` -> ``libc6:amd64``).

    None for a file with another suffix, or a name no package can have.
    """
    if not filename.endswith(suffix):
        return None
    stem = filename[: -len(suffix)]
    return stem if stem and "/" not in stem and not stem.startswith(".") else None


def split_arch(package: str) -> tuple[str, str | None]:
    """Split a multiarch package name: ``libc6:amd64`` -> ``("libc6", "amd64")``."""
    name, colon, arch = package.partition(":")
    return name, (arch if colon else None)


_NOT_ABSOLUTE = re.compile(r"\n[^/\n]")


def parse_list(text: str) -> tuple[list[str], list[int]]:
    """Return the absolute paths of a ``.list`` text and the numbers of lines that are not.

    Blank lines are neither. ``/.`` (the root, which every package lists) is left out.
    """
    paths: list[str] = []
    bad: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line == "/.":
            continue
        if line.startswith("/") and "\x00" not in line:
            paths.append(line.rstrip("/") or "/")
        else:
            bad.append(number)
    return paths, bad


def split_files(paths: Iterable[str]) -> PackageFiles:
    """Tell a package's files from its directories without a stat: a directory holds a path.

    dpkg lists every parent of every file a package ships, so a listed path below which
    another is listed is a directory. An empty directory the package creates reads as a file.
    """
    listed = list(dict.fromkeys(paths))
    parents = {path.rpartition("/")[0] for path in listed}
    files = tuple(path for path in listed if path not in parents)
    directories = tuple(path for path in listed if path in parents)
    return PackageFiles(files, directories)


_MD5_LINE = re.compile(r"([0-9a-fA-F]{32}) [ *](.+)")


def parse_md5sums(text: str) -> tuple[dict[str, str], list[int]]:
    """Return absolute path -> MD5 (lower-case hex) of an ``.md5sums`` text, and its bad lines."""
    sums: dict[str, str] = {}
    bad: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        match = _MD5_LINE.fullmatch(line)
        if match is None or "\x00" in line:
            bad.append(number)
            continue
        sums["/" + match.group(2).lstrip("/")] = match.group(1).lower()
    return sums, bad


_INFO_LINE_END = re.compile(r"-info$", re.MULTILINE)


def metadata_lines(text: str) -> list[str]:
    """Return the lines of a ``.list`` text that name a ``.dist-info`` or ``.egg-info``.

    Found by searching for their common ending, not by splitting every line: the lists of a
    desktop system hold 100,000 paths, of which a few dozen are metadata directories.
    """
    found: list[str] = []
    for match in _INFO_LINE_END.finditer(text):
        end = match.end()
        line = text[text.rfind("\n", 0, end) + 1 : end]
        if line.startswith("/") and line.endswith((".dist-info", ".egg-info")):
            found.append(line)
    return found


def _bad_lines_message(bad: list[int], what: str) -> str:
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    return f"line {bad[0]}{more}: not {what}; those lines are ignored"


class DpkgDatabase:
    """The file lists of the dpkg database under ``root``, read once, and only when asked.

    Nothing is read when the object is made. The first :meth:`owners` reads every
    ``info/*.list`` (about 700 files, 7 MB, on a desktop system); :meth:`md5sums` reads one
    package's sums when asked. Files that cannot be used become :attr:`problems`, one each.
    """

    def __init__(self, root: str = DEFAULT_ROOT) -> None:
        self.root = root.rstrip("/") or "/"
        self.problems: list[ListProblem] = []
        self._names: list[str] | None = None
        self._stems: set[str] | None = None
        self._texts: dict[str, str] | None = None
        self._metadata: dict[str, list[str]] = {}

    @property
    def info(self) -> str:
        """The directory holding the packages' ``.list`` and ``.md5sums`` files."""
        return f"{self.root}/info"

    def present(self) -> bool:
        """Tell whether this root holds a dpkg database at all (its ``info`` directory)."""
        return os.path.isdir(self.info)

    def _listing(self) -> list[str]:
        if self._names is None:
            try:
                self._names = sorted(os.listdir(self.info))
            except OSError as exc:
                self._names = []
                self.problems.append(ListProblem(self.info, f"cannot be listed: {exc.strerror}"))
        return self._names

    def _read(self, path: str) -> str | None:
        """Return a file's text (as the file system names decode), or None with a problem."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.problems.append(ListProblem(path, f"cannot be read: {exc.strerror}"))
            return None
        try:
            size = os.fstat(fd)
            if not stat.S_ISREG(size.st_mode):
                self.problems.append(ListProblem(path, "not a regular file; ignored"))
                return None
            chunks = [os.read(fd, size.st_size + 1)]
            if len(chunks[0]) > size.st_size:  # it grew while being read: read on to its end
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
        except OSError as exc:
            self.problems.append(ListProblem(path, f"cannot be read: {exc.strerror}"))
            return None
        finally:
            os.close(fd)
        return os.fsdecode(b"".join(chunks))

    def _load(self) -> dict[str, str]:
        if self._texts is not None:
            return self._texts
        texts: dict[str, str] = {}
        for filename in self._listing():
            package = package_of(filename)
            if package is None:
                continue
            path = f"{self.info}/{filename}"
            text = self._read(path)
            if text is None:
                continue
            if "\x00" in text:
                self.problems.append(ListProblem(path, "holds NUL bytes: not a file list; ignored"))
                continue
            if text[:1] not in ("/", "\n", "") or _NOT_ABSOLUTE.search(text):
                _, numbers = parse_list(text)
                self.problems.append(ListProblem(path, _bad_lines_message(numbers, "a path")))
            texts[package] = text
            for line in metadata_lines(text):
                self._metadata.setdefault(line, []).append(package)
        self._texts = texts
        return texts

    @property
    def lists_read(self) -> int:
        """How many ``.list`` files were read (0 until the first :meth:`owners`)."""
        return len(self._texts or ())

    def owners(self, path: str) -> tuple[str, ...]:
        """Return the packages whose lists name the absolute ``path`` (most often one, or none).

        A ``.dist-info`` or ``.egg-info`` directory is looked up in an index made as the lists
        are read; any other path is searched for in every list (about 2 ms here).
        """
        texts = self._load()
        path = path.rstrip("/") or "/"
        if path.endswith((".dist-info", ".egg-info")):
            return tuple(self._metadata.get(path, ()))
        line, first, last = f"\n{path}\n", f"{path}\n", f"\n{path}"
        return tuple(
            package
            for package, text in texts.items()
            if line in text or text.startswith(first) or text.endswith(last) or text == path
        )

    def resolve(self, package: str) -> str | None:
        """Return the name ``info/`` uses for ``package``: itself, or its one ``name:arch`` form."""
        if self._stems is None:
            self._stems = {s for s in map(package_of, self._listing()) if s is not None}
        if package in self._stems:
            return package
        arched = [stem for stem in self._stems if split_arch(stem)[0] == package]
        return arched[0] if len(arched) == 1 else None

    def files(self, package: str) -> PackageFiles | None:
        """Return the files and directories ``package`` lists (absolute); None if not installed."""
        stem = self.resolve(package)
        text = self._load().get(stem or "")
        if text is None:
            return None
        paths, _ = parse_list(text)  # a bad line was reported once, when the list was read
        return split_files(paths)

    def md5sums(self, package: str) -> dict[str, str] | None:
        """Return absolute path -> MD5 for ``package`` (for verifying), or None without sums."""
        stem = self.resolve(package)
        if stem is None:
            return None
        path = f"{self.info}/{stem}.md5sums"
        text = self._read(path)
        if text is None:
            return None
        sums, bad = parse_md5sums(text)
        if bad:
            self.problems.append(ListProblem(path, _bad_lines_message(bad, "'<md5>  <path>'")))
        return sums
