"""The ownership index: which installed distribution's RECORD lists which absolute path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pipguard.environment import InstalledDistribution, Problem
from pipguard.paths import is_within, resolve_row

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

    def add(self, path: str, dist_index: int, hash_value: str | None) -> None:
        """Record that distribution ``dist_index`` lists ``path`` with ``hash_value``."""
        many = self.shared.get(path)
        if many is not None:
            many.append((dist_index, hash_value))
            return
        first = self.single.get(path)
        if first is None:
            self.single[path] = (dist_index, hash_value)
        elif first[0] != dist_index:
            del self.single[path]
            self.shared[path] = [first, (dist_index, hash_value)]


def build_index(
    dists: Iterable[InstalledDistribution], roots: tuple[str, ...]
) -> tuple[OwnershipIndex, list[Problem]]:
    """Index every RECORD row of ``dists``; rows that leave ``roots`` become problems instead."""
    index = OwnershipIndex(dists=list(dists))
    problems: list[Problem] = []
    add = index.add
    for number, dist in enumerate(index.dists):
        if dist.entries is None:
            continue
        base = dist.base
        for entry in dist.entries:
            path = resolve_row(base, entry.path)
            if path is None or not is_within(path, roots):
                problems.append(
                    Problem(
                        dist.name,
                        dist.record_file,
                        f"{entry.path[:200]!r} points outside the environment; ignored",
                    )
                )
                continue
            add(path, number, entry.hash)
    return index, problems
