"""The tree against the RECORDs: files that are modified or missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipguard.checks.clashes import find_clashes
from pipguard.findings import FileState, Finding, HashReader, unhashable
from pipguard.ownership import OwnershipIndex
from pipguard.paths import relative_to

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import EnvironmentView

__all__ = ["in_environment", "verify"]


def _algorithm(hash_value: str) -> str:
    return hash_value.partition("=")[0]


def verify(
    index: OwnershipIndex, read_hash: HashReader, skip: set[str] | frozenset[str] = frozenset()
) -> tuple[list[FileState], list[FileState]]:
    """Hash every listed file against its RECORD, like ``rpm -V``: return (modified, missing).

    Paths in ``skip`` (the differing clashes, judged by :func:`judge`) are left out.
    """
    modified: list[FileState] = []
    missing: list[FileState] = []
    for path in index.paths():
        if path in skip:
            continue
        for number, hash_value in index.owners(path):
            if hash_value is None:
                continue
            on_disk = read_hash(path, _algorithm(hash_value))
            if on_disk == hash_value or unhashable(on_disk):
                continue  # the same, or unreadable: the reader names it as a problem
            dist = index.dists[number]
            shown = relative_to(path, dist.site)
            if on_disk is None:
                missing.append(FileState(shown, dist.name, "missing"))
            else:
                modified.append(FileState(shown, dist.name, "modified"))
    return modified, missing


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """With ``--verify``, hash every listed file against its RECORD, like ``rpm -V``.

    The differing clashes are left out: the clashes check judges them.
    """
    if not view.verify:
        return []
    differing = {clash.path for clash in find_clashes(index) if clash.kind == "differing"}
    modified, missing = verify(index, disk, differing)
    return [*modified, *missing]
