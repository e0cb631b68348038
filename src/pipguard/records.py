"""Parse RECORD files (PEP 376 / wheel spec) into typed rows: pure, no file I/O."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "RecordEntry",
    "RecordIssue",
    "hash_bytes",
    "parse_installed_files",
    "parse_record",
    "parse_rows",
    "pip_unreadable",
    "record_hash",
    "record_hashes",
    "record_rows",
]

# Algorithms pip accepts in RECORD; md5 and sha1 are refused by the wheel spec.
ALLOWED_ALGORITHMS = frozenset({"sha224", "sha256", "sha384", "sha512", "sha3_256", "blake2b"})
# What the rows pipguard makes from a system package manager's lists may hold: dpkg's md5sums.
LISTED_ALGORITHMS = ALLOWED_ALGORITHMS | {"md5"}


class RecordEntry(NamedTuple):
    """One row of a RECORD: a path as written, its ``algo=digest`` hash and size, if given."""

    path: str
    hash: str | None
    size: int | None


class RecordIssue(NamedTuple):
    """A row that could not be used, with its 1-based line number and why."""

    line: int
    message: str


def record_hash(algorithm: str, digest: bytes) -> str:
    """Return a digest in RECORD form: ``algo=`` and urlsafe base64 without padding."""
    import base64  # here and below: a check of a clean environment never needs them (4.5 ms)

    return f"{algorithm}=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_bytes(data: bytes, algorithm: str = "sha256") -> str:
    """Return ``data``'s hash in RECORD form."""
    import hashlib

    return record_hash(algorithm, hashlib.new(algorithm, data).digest())


# The common case, checked in one step: a sha256 digest is 43 urlsafe-base64 characters.
SHA256_PATTERN = re.compile(r"sha256=[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
# A clean row (no quote, a sha256 or no hash, a plain size), split by a regular expression in C:
# (path, hash or ""). pip writes RECORD with the csv module's "\r\n" line ends.
HASH_GROUP = "(" + SHA256_PATTERN.pattern + "|)"
ROW_END = r",[0-9]*\r?$"
CLEAN_ROW = re.compile(r'^([^,"\r\n\x00]+),' + HASH_GROUP + ROW_END, re.MULTILINE)


def _check_hash(value: str, algorithms: frozenset[str] = ALLOWED_ALGORITHMS) -> str | None:
    """Return why ``value`` is not a usable ``algo=urlsafe-base64`` hash, or None if it is."""
    import base64
    import binascii
    import hashlib

    if SHA256_PATTERN.fullmatch(value):
        return None
    algorithm, sep, digest = value.partition("=")
    if not sep or not digest:
        return f"hash {value[:40]!r} is not of the form algo=digest"
    if algorithm not in algorithms:
        return f"hash algorithm {algorithm[:20]!r} is not supported"
    try:
        raw = base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))
    except (binascii.Error, ValueError):
        return f"hash {value[:40]!r} is not urlsafe base64"
    if len(raw) != hashlib.new(algorithm).digest_size:
        return f"hash {value[:40]!r} has the wrong length for {algorithm}"
    return None


Row = tuple[str, "str | None", "int | None"]


def parse_rows(
    text: str, algorithms: frozenset[str] = ALLOWED_ALGORITHMS
) -> tuple[list[Row], list[RecordIssue]]:
    """Split RECORD text into (path, hash, size) rows and the issues of the unusable rows.

    Every row is judged on its own, so one bad row never hides the others. Lines without a
    quote are split directly (what the csv module would do with them, only faster); quoted
    lines go through the csv module. A hash of an algorithm not in ``algorithms`` is an issue.
    """
    rows: list[Row] = []
    issues: list[RecordIssue] = []
    # Split on newlines only: str.splitlines() also breaks at \f, \x1c, \x85, \u2028, which
    # are legal in file names and do not end a CSV row.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line:
            continue
        if '"' in line:
            import csv

            try:
                fields = next(csv.reader([line], strict=True), [])
            except csv.Error as exc:
                issues.append(RecordIssue(number, f"malformed CSV: {exc}"))
                continue
        else:
            fields = line.split(",")
        if len(fields) != 3:
            if fields != [""]:
                issues.append(RecordIssue(number, f"expected 3 columns, found {len(fields)}"))
            continue
        path, hash_value, size_value = fields
        if not path:
            issues.append(RecordIssue(number, "empty path"))
            continue
        if "\x00" in path:
            issues.append(RecordIssue(number, "path contains a NUL byte"))
            continue
        if hash_value and not SHA256_PATTERN.fullmatch(hash_value):
            problem = _check_hash(hash_value, algorithms)
            if problem is not None:
                issues.append(RecordIssue(number, problem))
                hash_value = ""
        size: int | None = None
        if size_value:
            if size_value.isascii() and size_value.isdigit():
                size = int(size_value)
            else:
                issues.append(RecordIssue(number, f"size {size_value[:20]!r} is not a number"))
        rows.append((path, hash_value or None, size))
    return rows, issues


# The csv module's default field size limit: a RECORD no longer than it has no field over it.
_CSV_DEFAULT_LIMIT = 131072


def pip_unreadable(text: str) -> RecordIssue | None:
    """Return the first RECORD line pip's own reading fails on, or None when pip can read it.

    pip reads an incoming RECORD with ``csv.reader(text.splitlines())`` after writing every
    file: only a field over ``csv.field_size_limit()`` (or a NUL before Python 3.11) raises.
    """
    if len(text) <= _CSV_DEFAULT_LIMIT and "\x00" not in text:
        return None
    import csv

    reader = csv.reader(text.splitlines())
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        return RecordIssue(reader.line_num, str(exc))
    return None


def parse_record(
    text: str, algorithms: frozenset[str] = ALLOWED_ALGORITHMS
) -> tuple[list[RecordEntry], list[RecordIssue]]:
    """Split RECORD text into usable entries and the issues of the rows that are not usable."""
    rows, issues = parse_rows(text, algorithms)
    return [RecordEntry(*row) for row in rows], issues


def record_rows(
    text: str, algorithms: frozenset[str] = ALLOWED_ALGORITHMS
) -> tuple[list[tuple[str, str | None]], list[RecordIssue]]:
    """Return RECORD's usable (path, hash) rows in order, and the issues of the others.

    Clean text is split by :data:`CLEAN_ROW` in C; any other goes row by row.
    """
    rows: list[tuple[str, str]] = CLEAN_ROW.findall(text)
    lines = text.split("\n")
    if len(rows) == len(lines) - lines.count("") - lines.count("\r"):
        return [(path, hash_value or None) for path, hash_value in rows], []
    parsed, issues = parse_rows(text, algorithms)
    return [(path, hash_value) for path, hash_value, _ in parsed], issues


def record_hashes(text: str) -> tuple[dict[str, str | None], list[RecordIssue]]:
    """Return RECORD's path -> hash (the last row of a path wins) and the unusable rows."""
    rows, issues = record_rows(text)
    return dict(rows), issues


def parse_installed_files(text: str) -> list[RecordEntry]:
    """Read a legacy ``installed-files.txt``: one path per line, relative to the ``.egg-info``."""
    return [
        RecordEntry(line, None, None)
        for line in (raw.strip() for raw in text.splitlines())
        if line and "\x00" not in line
    ]
