"""Path arithmetic for RECORD rows: resolve, normalise, keep everything inside the environment."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

__all__ = [
    "entry_below",
    "is_derived_pyc",
    "is_within",
    "plain_path_pattern",
    "relative_to",
    "resolve_row",
    "to_posix",
]


def to_posix(path: str) -> str:
    """Return ``path`` with forward slashes, the form RECORD and pipguard's keys use."""
    return path.replace("\\", "/")


def resolve_row(base: str, row_path: str) -> str | None:
    """Return the absolute, normalised path a RECORD row names, or None if it cannot name one.

    ``base`` is the absolute POSIX directory holding the ``.dist-info``. Rows may climb out of it
    (``../../../bin/tool``); the caller decides with :func:`is_within` whether that is allowed.
    """
    if "\x00" in row_path:
        return None
    row = to_posix(row_path)
    if len(row) >= 2 and row[1] == ":":
        # A drive letter: never a path inside a POSIX environment, nor portable on Windows.
        return None
    joined = row if row.startswith("/") else f"{base}/{row}"
    if "/." in joined or "//" in joined or joined.endswith("/"):
        joined = posixpath.normpath(joined)
        if joined.startswith("//"):
            joined = "/" + joined.lstrip("/")
    return joined


def plain_path_pattern(forbidden: str = "") -> tuple[str, str]:
    """Return regular expressions for (a plain relative path, one of its segments).

    A plain path joins its base as it is (:func:`resolve_row` would leave it alone): no root,
    drive, backslash, NUL, empty segment, or segment ending in '.' (which is how '.' and '..'
    show). ``forbidden`` adds characters no segment may hold (a RECORD row's ',' and quotes).
    """
    segment = rf"[^/\\\x00{forbidden}]*[^/.\\\x00{forbidden}]"
    return rf"(?!.:){segment}(?:/{segment})*", segment


def entry_below(path: str, directory: str) -> str | None:
    """Return the name of the entry of ``directory`` that is or holds ``path``, or None if
    ``path`` is not below ``directory`` (what pip --target moves into place, whole)."""
    prefix = directory + "/"
    return path[len(prefix) :].partition("/")[0] if path.startswith(prefix) else None


def is_within(path: str, roots: Iterable[str]) -> bool:
    """Tell whether the normalised absolute ``path`` lies inside one of ``roots`` (or is one)."""
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def relative_to(path: str, base: str) -> str:
    """Return ``path`` relative to ``base`` in RECORD form (``../`` where it climbs out)."""
    if path.startswith(base + "/"):
        return path[len(base) + 1 :]
    return posixpath.relpath(path, base)


def is_derived_pyc(path: str) -> bool:
    """Tell whether ``path`` is a byte-code cache file, which derives from its source file."""
    return path.endswith((".pyc", ".pyo")) and "/__pycache__/" in f"/{path}"
