"""The ownership index: which installed distribution's RECORD lists which absolute path."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import compress, repeat
from operator import ne

from pipguard.environment import InstalledDistribution, Problem
from pipguard.paths import is_derived_pyc, is_within, plain_path_pattern, resolve_row
from pipguard.records import (
    ALLOWED_ALGORITHMS,
    LISTED_ALGORITHMS,
    SHA256_PATTERN,
    parse_installed_files,
    record_hashes,
    record_rows,
)

__all__ = ["OwnershipIndex", "Row", "build_index"]

# (index of the distribution in OwnershipIndex.dists, RECORD hash or None)
Row = tuple[int, "str | None"]

_SHARED = -1  # in ``single``: the path has several owners, listed in ``shared``


class OwnershipIndex:
    """Absolute path -> the distributions whose RECORD lists it, built once per command.

    Paths inside ``root`` (the directory most distributions sit in: site-packages) are kept
    relative to it, as their RECORD rows are written, so that no string is built for them;
    other paths are kept absolute. Callers see absolute paths only.

    Most paths have one owner: ``single`` maps them to its number in ``dists``; a path with
    more maps to ``_SHARED`` and its owners are in ``shared``. Hashes are not copied into the
    index (200,000 of them cost 30 MB): the hash of a row that joins its base as it is gets
    read from the distribution's RECORD text when asked; other rows' hashes are kept as met.
    """

    def __init__(self, dists: Iterable[InstalledDistribution], root: str = "/") -> None:
        self.dists = list(dists)
        self.root = root
        self._prefix = root.rstrip("/") + "/"
        self.single: dict[str, int] = {}
        self.shared: dict[str, list[int]] = {}
        # number -> {key: hash} for the rows that do not join the base as they are.
        self._odd: dict[int, dict[str, str | None]] = {}
        # number -> {row as written: hash}: read row by row, or asked more than once.
        self._rows: dict[int, dict[str, str | None]] = {}
        self._asked: set[int] = set()
        # Keys that str.lower changes (with repeats), gathered as rows come in.
        self._folding: list[str] = []
        # number -> every key its RECORD gave, in order (the import-name check reads them).
        self._keys: dict[int, list[str]] = {}
        # Keys of byte-code caches (``__pycache__/*.pyc``, with repeats), likewise.
        self._bytecode: list[str] = []

    def key(self, path: str) -> str:
        """Return the key of absolute ``path``: relative to ``root`` if inside it."""
        prefix = self._prefix
        return path[len(prefix) :] if path.startswith(prefix) else path

    def path_of(self, key: str) -> str:
        """Return the absolute path of ``key``."""
        return key if key.startswith("/") else self._prefix + key

    def keys(self) -> Iterable[str]:
        """Every indexed path once, as a key (see :meth:`key`)."""
        return self.single.keys()

    def owners(self, path: str) -> list[Row]:
        """Return every (distribution index, hash) that lists ``path``."""
        key = self.key(path)
        number = self.single.get(key)
        if number is None:
            return []
        numbers = self.shared[key] if number == _SHARED else (number,)
        return [(number, self._hash(number, key, path)) for number in numbers]

    def shared_paths(self) -> list[str]:
        """Return the paths that several distributions list."""
        return list(map(self.path_of, self.shared))

    def __contains__(self, path: object) -> bool:
        """Tell whether any distribution lists ``path``."""
        if not isinstance(path, str):
            return False
        prefix = self._prefix  # self.key, inlined: asked of every planned file
        return (path[len(prefix) :] if path.startswith(prefix) else path) in self.single

    def paths(self) -> Iterator[str]:
        """Yield every indexed path once."""
        return map(self.path_of, self.single)

    def changed_by_lower(self) -> list[str]:
        """Return every indexed path that ``str.lower`` changes, each once."""
        if self.root != self.root.lower():
            paths = list(self.paths())
            return list(compress(paths, map(ne, paths, map(str.lower, paths))))
        # Below a lower-case root a path changes exactly when its key does ('/' ends any
        # context str.lower looks at): those keys were noted as the rows came in.
        return list(map(self.path_of, dict.fromkeys(self._folding)))

    def bytecode(self) -> list[str]:
        """Return every indexed ``__pycache__/*.pyc`` path, each once."""
        return list(map(self.path_of, dict.fromkeys(self._bytecode)))

    def __len__(self) -> int:
        return len(self.single)

    def _hash(self, number: int, key: str, path: str) -> str | None:
        """Return the hash distribution ``number``'s RECORD gives ``path`` (the last row's)."""
        odd = self._odd.get(number)
        if odd is not None and key in odd:
            return odd[key]
        dist = self.dists[number]
        row = key if dist.base == self.root else path[len(dist.base) + 1 :]
        rows = self._rows.get(number)
        if rows is None:
            text = dist.record_text or ""
            if number not in self._asked:
                # Most RECORDs are asked once (a clash): find the row, do not split them all.
                self._asked.add(number)
                return _find_hash(text, row)
            rows = self._rows[number] = record_hashes(text)[0]
        return rows.get(row)

    def keys_of(self, number: int) -> list[str]:
        """Return the keys distribution ``number``'s RECORD lists (relative to ``root``)."""
        return self._keys.get(number, [])

    def _add(self, number: int, prefix: str, rows: list[str]) -> None:
        """Add distribution ``number``'s plain rows, whose keys are ``prefix`` + row."""
        keys = list(map(prefix.__add__, rows)) if prefix else rows
        self._keys[number] = keys
        joined = "\n".join(keys)
        if joined.lower() != joined:
            self._folding += compress(keys, map(ne, keys, map(str.lower, keys)))
        if "__pycache__/" in joined:
            self._bytecode += _BYTECODE.findall(joined)
        # One dict operation per row, in C: setdefault answers the owner a key already had.
        taken = list(map(self.single.setdefault, keys, repeat(number)))
        if taken.count(number) != len(taken):
            for key in compress(keys, map(ne, taken, repeat(number))):
                self._claim(key, number)

    def _claim(self, key: str, number: int) -> None:
        """Add one claim on ``key``; a second distribution makes it shared."""
        first = self.single.setdefault(key, number)
        if first == number and key.lower() != key:
            self._folding.append(key)
        if first == number and is_derived_pyc(key):
            self._bytecode.append(key)
        if first == _SHARED:
            many = self.shared[key]
            if number not in many:
                many.append(number)
        elif first != number:
            self.single[key] = _SHARED
            self.shared[key] = [first, number]


# A byte-code cache among the keys joined by newlines (see paths.is_derived_pyc).
_BYTECODE = re.compile(r"^(?:[^\n]*/)?__pycache__/[^\n]*\.py[co]$", re.MULTILINE)


def _find_hash(text: str, row: str) -> str | None:
    """Return the hash of the last line of clean RECORD ``text`` whose path is ``row``."""
    at = text.rfind(f"\n{row},")
    if at >= 0:
        start = at + len(row) + 2
    elif text.startswith(f"{row},"):
        start = len(row) + 1
    else:
        return None
    return text[start : text.find(",", start)] or None


# A RECORD as pip writes it (csv's "\r\n" line ends, a sha256 or no hash, a plain size, no
# quotes) is taken in one pass in C: _TAIL cuts every row's hash and size, which leaves one
# path per line, and a few substring tests then tell that every path joins its base as it is
# (see plain_path_pattern: no root, drive, backslash, empty segment or segment ending in '.').
# A line may not start with '/' (a root) or ',' (no path): the lookahead sees the next line.
_TAIL = re.compile(rf",(?:{SHA256_PATTERN.pattern})?,[0-9]*\r?\n(?![/,])")
_NOT_PLAIN = ("//", "./", ".\n", "/\n")
# What pip records outside the site: '../' then a plain path (../../../bin/tool).
_SEGMENT = plain_path_pattern(',"\r\n')[1]
_CLIMB = re.compile(rf"(?:\.\./)+{_SEGMENT}(?:/{_SEGMENT})*")
_CLIMB_LINE = re.compile(r"\n(\.\./[^\n]*)")
# Rows of other RECORDs that cannot join the base as they are: normalised, checked.
_ODD_PATH = re.compile(r"\./|//|\\|^/|^.:|[/.]$")


def _clean_rows(text: str) -> tuple[list[str], list[str]] | None:
    """Return a clean RECORD's (plain paths, climbing paths), or None to read it row by row."""
    if not text.endswith("\n"):
        text += "\n"
    if '"' in text or "\\" in text or "\x00" in text or ":" in text or text[0] in ",/":
        return None  # ':' only for a drive (C:x); any is rare enough to go row by row
    paths, count = _TAIL.subn("\n", text)
    if count != text.count("\n") or "," in paths:
        return None
    climbing: list[str] = []
    if "./" in paths:
        lines = "\n" + paths
        climbing = _CLIMB_LINE.findall(lines)
        if not all(map(_CLIMB.fullmatch, climbing)):
            return None
        paths = _CLIMB_LINE.sub("", lines)[1:]
    if any(map(paths.__contains__, _NOT_PLAIN)):
        return None
    plain = paths.split("\n")
    plain.pop()  # the empty string after the last line end
    return plain, climbing


def build_index(
    dists: Iterable[InstalledDistribution], roots: tuple[str, ...], target_layout: bool = False
) -> tuple[OwnershipIndex, list[Problem]]:
    """Index every RECORD row of ``dists``; rows that leave ``roots`` become problems instead.

    This is the hot loop of ``check`` (about 200 rows per distribution). A clean RECORD's
    paths are cut out in one pass and enter the index as they are written, in C; only the
    paths another distribution already claimed, and rows that could climb or jump
    (``../../../bin/tool``), are taken one by one.
    """
    dists = list(dists)
    bases: dict[str, int] = {}
    for dist in dists:
        bases[dist.base] = bases.get(dist.base, 0) + 1
    index = OwnershipIndex(dists, max(bases, key=bases.__getitem__, default="/"))
    problems: list[Problem] = []
    for number, dist in enumerate(index.dists):
        text = dist.record_text
        if text is None:
            continue
        base = dist.base
        inside = is_within(base, roots)
        plain: list[str] = []
        odd: list[tuple[str, str | None]] = []
        # A system package manager's rows are RECORD rows whatever the metadata's kind.
        as_record = dist.kind == "dist-info" or dist.manager is not None
        clean = _clean_rows(text) if inside and as_record else None
        if clean is not None:
            plain, climbing = clean
            odd = [(row, _find_hash(text, row)) for row in climbing]
        elif not as_record:
            odd = [(entry.path, None) for entry in parse_installed_files(text)]
        else:
            listed = dist.manager is not None
            rows, issues = record_rows(text, LISTED_ALGORITHMS if listed else ALLOWED_ALGORITHMS)
            index._rows[number] = dict(rows)
            for issue in issues:
                message = f"line {issue.line}: {issue.message}"
                problems.append(Problem(dist.name, dist.record_file, message))
            if not rows and not issues:
                problems.append(
                    Problem(dist.name, dist.record_file, "empty RECORD: ownership unknown")
                )
            for row, value in rows:
                if inside and not _ODD_PATH.search(row):
                    plain.append(row)
                else:
                    odd.append((row, value))
        index._add(number, index.key(base + "/"), plain)
        for row, hash_value in odd:
            resolved = resolve_row(base, row)
            if target_layout and row.startswith("../../") and not is_within(resolved or "", roots):
                # pip --target: ../../bin/tool from its temporary home's lib/python is bin/tool.
                resolved = resolve_row(base, row[len("../../") :])
            if resolved is None or not is_within(resolved, roots):
                problems.append(
                    Problem(
                        dist.name,
                        dist.record_file,
                        f"{row[:200]!r} points outside the environment; ignored",
                    )
                )
                continue
            key = index.key(resolved)
            index._odd.setdefault(number, {})[key] = hash_value
            index._claim(key, number)
            index._keys[number].append(key)
    return index, problems
