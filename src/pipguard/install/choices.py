"""Choices that stick: a ``--winner`` recorded in the winner's own metadata, listed in its RECORD.

``<winner>.dist-info/pipguard.json`` names the files whose clash the winner was chosen to win.
It is a row of the winner's RECORD like INSTALLER or direct_url.json, so it goes away with the
winner (pip's uninstall removes it) and check reads it: a clash whose chosen winner's copy is
on disk no longer fails.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable

from pipguard.environment import InstalledDistribution, Problem, read_inside
from pipguard.install.keep import write_atomically
from pipguard.records import hash_bytes

__all__ = ["CHOICES", "read_choices", "record_choices"]

CHOICES = "pipguard.json"


def read_choices(data: bytes | None) -> frozenset[str]:
    """Return the paths (RECORD form) a ``pipguard.json``'s bytes say its owner won."""
    if not data:
        return frozenset()
    try:
        document = json.loads(data)
        paths = document.get("winner_of", [])
    except (ValueError, AttributeError):
        return frozenset()
    return (
        frozenset(p for p in paths if isinstance(p, str))
        if isinstance(paths, list)
        else frozenset()
    )


def _row(path: str, data: bytes) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([path, hash_bytes(data), str(len(data))])
    return out.getvalue()


def record_choices(dist: InstalledDistribution, won: Iterable[str]) -> Problem | None:
    """Add ``won`` (RECORD-form paths) to ``dist``'s choices, and list the file in its RECORD.

    Returns a problem naming the file when it cannot be written; nothing is half-written.
    """
    roots = (dist.site,)
    target = f"{dist.metadata_dir}/{CHOICES}"
    try:
        before = read_choices(read_inside(target, roots))
    except OSError:
        before = frozenset()
    paths = sorted(before | set(won))
    if paths == sorted(before):
        return None
    data = (json.dumps({"version": 1, "winner_of": paths}, indent=2) + "\n").encode()
    row_path = f"{dist.metadata_dir.rpartition('/')[2]}/{CHOICES}"
    try:
        record = read_inside(dist.record_file, roots).decode("utf-8")
        kept = [
            line for line in record.splitlines(keepends=True) if not line.startswith(row_path + ",")
        ]
        if kept and not kept[-1].endswith("\n"):
            kept[-1] += "\r\n"
        mode = os.stat(dist.record_file).st_mode & 0o7777
        write_atomically(target, data, mode)
        write_atomically(dist.record_file, ("".join(kept) + _row(row_path, data)).encode(), mode)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return Problem(dist.name, target, f"the --winner choice could not be recorded: {reason}")
    return None
