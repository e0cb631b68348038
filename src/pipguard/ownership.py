"""The ownership index: which installed distribution's RECORD lists which absolute path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pipguard.environment import InstalledDistribution, Problem
from pipguard.paths import is_within, resolve_row
from pipguard.records import SHA256_PATTERN, parse_installed_files, parse_rows

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

    def paths(self) -> Iterator[str]:
        """Yield every indexed path once."""
        yield from self.single
        yield from self.shared

    def __len__(self) -> int:
        return len(self.single) + len(self.shared)


def _record_rows(
    dist: InstalledDistribution, problems: list[Problem]
) -> list[tuple[str, str | None]]:
    """Return (path, hash) for every usable row of ``dist``'s record; problems for the others.

    Most lines are clean (no quotes, a sha256 or no hash, a plain size): those are taken here
    in one pass; any other line goes through :func:`parse_rows`, which says what is wrong.
    """
    text = dist.record_text
    if text is None:
        return []
    if dist.kind == "egg-info":
        return [(entry.path, None) for entry in parse_installed_files(text)]
    rows: list[tuple[str, str | None]] = []
    append = rows.append
    sha256 = SHA256_PATTERN.fullmatch
    odd = 0
    for number, line in enumerate(text.split("\n"), start=1):
        fields = line.split(",")
        if len(fields) == 3 and '"' not in line and "\r" not in line:
            path, hash_value, size = fields
            if (
                path
                and "\x00" not in path
                and (not hash_value or sha256(hash_value))
                and (not size or (size.isascii() and size.isdigit()))
            ):
                append((path, hash_value or None))
                continue
        if not line:
            continue
        odd += 1
        parsed, issues = parse_rows(line)
        rows.extend((path, hash_value) for path, hash_value, _ in parsed)
        for issue in issues:
            problems.append(Problem(dist.name, dist.record_file, f"line {number}: {issue.message}"))
    if not rows and not odd:
        problems.append(Problem(dist.name, dist.record_file, "empty RECORD: ownership unknown"))
    return rows


def build_index(
    dists: Iterable[InstalledDistribution], roots: tuple[str, ...]
) -> tuple[OwnershipIndex, list[Problem]]:
    """Index every RECORD row of ``dists``; rows that leave ``roots`` become problems instead.

    This is the hot loop of ``check`` (about 200 rows per distribution): plain rows are joined
    to their base directly, and only rows that could climb or jump are normalised and checked.
    """
    index = OwnershipIndex(dists=list(dists))
    problems: list[Problem] = []
    single = index.single
    shared = index.shared
    for number, dist in enumerate(index.dists):
        base = dist.base
        prefix = base + "/"
        base_inside = is_within(base, roots)
        for row, hash_value in _record_rows(dist, problems):
            # A plain relative row (no climbing, root or drive) joins its base as it is.
            if base_inside and not (
                "./" in row
                or "//" in row
                or "\\" in row
                or row[:1] == "/"
                or row[1:2] == ":"
                or row[-1:] in ("/", ".")
            ):
                path = prefix + row
            else:
                resolved = resolve_row(base, row)
                if resolved is None or not is_within(resolved, roots):
                    problems.append(
                        Problem(
                            dist.name,
                            dist.record_file,
                            f"{row[:200]!r} points outside the environment; ignored",
                        )
                    )
                    continue
                path = resolved
            first = single.get(path)
            if first is None:
                many = shared.get(path)
                if many is None:
                    single[path] = (number, hash_value)
                else:
                    many.append((number, hash_value))
            elif first[0] != number:
                del single[path]
                shared[path] = [first, (number, hash_value)]
    return index, problems
