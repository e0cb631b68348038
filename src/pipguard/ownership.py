"""The ownership index: which installed distribution's RECORD lists which absolute path."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pipguard.environment import InstalledDistribution, Problem
from pipguard.paths import is_within, plain_path_pattern, resolve_row
from pipguard.records import CLEAN_ROW, HASH_GROUP, ROW_END, parse_installed_files, parse_rows

__all__ = ["OwnershipIndex", "Row", "build_index"]

# (index of the distribution in OwnershipIndex.dists, RECORD hash or None)
Row = tuple[int, "str | None"]


@dataclass
class OwnershipIndex:
    """Absolute path -> the distributions whose RECORD lists it, built once per command."""

    dists: list[InstalledDistribution]
    # Most paths have one owner: keep those flat and move a path to ``shared`` on its second.
    single: dict[str, Row] = field(default_factory=dict)
    shared: dict[str, list[Row]] = field(default_factory=dict)

    def owners(self, path: str) -> list[Row]:
        """Return every (distribution index, hash) that lists ``path``."""
        many = self.shared.get(path)
        if many is not None:
            return many
        one = self.single.get(path)
        return [one] if one is not None else []

    def __contains__(self, path: object) -> bool:
        """Tell whether any distribution lists ``path``."""
        return path in self.single or path in self.shared

    def paths(self) -> Iterator[str]:
        """Yield every indexed path once."""
        yield from self.single
        yield from self.shared

    def __len__(self) -> int:
        return len(self.single) + len(self.shared)


# A RECORD of clean rows (no quotes, a sha256 or no hash, a plain size) is split by regular
# expressions, in C; any other text goes line by line through :func:`parse_rows`. pip writes
# RECORD with the csv module's "\r\n" line ends, so every row may end in "\r".
# A plain path (see plain_path_pattern) joins its base as it is.
_PLAIN, _SEGMENT = plain_path_pattern(',"\r\n')
_PLAIN_ROW = re.compile(rf"^({_PLAIN})," + HASH_GROUP + ROW_END, re.MULTILINE)
# What pip records outside the site: '../' then a plain path (../../../bin/tool).
_CLIMB_ROW = re.compile(
    rf"^((?:\.\./)+{_SEGMENT}(?:/{_SEGMENT})*)," + HASH_GROUP + ROW_END, re.MULTILINE
)
# Any other row is normalised and checked against the roots.
_ODD_PATH = re.compile(r"\./|//|\\|^/|^.:|[/.]$")


def _record_rows(
    dist: InstalledDistribution, problems: list[Problem]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return (path, hash or "") for every usable row of ``dist``'s record, as the rows that
    join its base as they are and the others; the unusable rows become problems."""
    text = dist.record_text
    if text is None:
        return [], []
    if dist.kind == "egg-info":
        return [], [(entry.path, "") for entry in parse_installed_files(text)]
    plain: list[tuple[str, str]] = _PLAIN_ROW.findall(text)
    lines = text.count("\n") + (not text.endswith("\n"))
    if plain and len(plain) == lines:
        return plain, []  # every line matched: the common case, in one pass
    climbing: list[tuple[str, str]] = _CLIMB_ROW.findall(text)
    if plain and len(plain) + len(climbing) == lines:
        return plain, climbing  # pip's usual RECORD: scripts and data files climb out
    rows: list[tuple[str, str]] = CLEAN_ROW.findall(text)
    split = text.split("\n")
    if len(rows) == len(split) - split.count(""):
        if not rows:
            problems.append(Problem(dist.name, dist.record_file, "empty RECORD: ownership unknown"))
    else:
        rows = []
        for number, line in enumerate(split, start=1):
            parsed, issues = parse_rows(line)
            rows.extend((path, hash_value or "") for path, hash_value, _ in parsed)
            for issue in issues:
                message = f"line {number}: {issue.message}"
                problems.append(Problem(dist.name, dist.record_file, message))
    plain = []
    odd: list[tuple[str, str]] = []
    for row in rows:
        (odd if _ODD_PATH.search(row[0]) else plain).append(row)
    return plain, odd


def _claim(index: OwnershipIndex, path: str, row: Row) -> None:
    """Add one (distribution, hash) claim on ``path``; a second distribution makes it shared."""
    first = index.single.get(path)
    if first is None:
        many = index.shared.get(path)
        if many is None:
            index.single[path] = row
        else:
            many.append(row)
    elif first[0] != row[0]:
        del index.single[path]
        index.shared[path] = [first, row]


def build_index(
    dists: Iterable[InstalledDistribution], roots: tuple[str, ...], target_layout: bool = False
) -> tuple[OwnershipIndex, list[Problem]]:
    """Index every RECORD row of ``dists``; rows that leave ``roots`` become problems instead.

    This is the hot loop of ``check`` (about 200 rows per distribution). The plain rows of a
    distribution join its base in one comprehension and enter the index in one update; only
    the paths already claimed by another distribution, and rows that could climb or jump
    (``../../../bin/tool``), are taken one by one.
    """
    index = OwnershipIndex(dists=list(dists))
    problems: list[Problem] = []
    single = index.single
    shared = index.shared
    for number, dist in enumerate(index.dists):
        base = dist.base
        prefix = base + "/"
        plain, odd = _record_rows(dist, problems)
        if not is_within(base, roots):
            plain, odd = [], plain + odd
        new = {prefix + path: (number, hash_value or None) for path, hash_value in plain}
        for path in (new.keys() & single.keys()) | (new.keys() & shared.keys()):
            _claim(index, path, new.pop(path))
        single.update(new)
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
            _claim(index, resolved, (number, hash_value or None))
    return index, problems
