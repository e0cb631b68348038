"""``pip install --target``: files it would delete with a replaced entry, or not write at all."""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import TYPE_CHECKING

from pipguard.checks.clashes import Incoming, judge, owners_of
from pipguard.findings import Clash, Finding, Owner
from pipguard.ownership import OwnershipIndex
from pipguard.paths import entry_below, is_derived_pyc, relative_to

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import Transaction

__all__ = ["find_target_replacements", "find_target_skips", "in_transaction"]


def find_target_replacements(
    incoming: Iterable[Incoming],
    index: OwnershipIndex,
    target: str,
    on_disk: Iterable[str],
) -> list[Clash]:
    """Return the files ``pip install --target --upgrade`` would delete and not write again.

    pip moves each top-level entry of the new tree into ``target`` and, with --upgrade, first
    deletes whatever stands there under that name, whole. ``on_disk`` lists the files below
    the entries it will replace. A file another installed distribution lists, or that no
    distribution lists, is ``removed``; the distributions the transaction replaces (the same
    names) lose nothing.
    """
    wheels = list(incoming)
    replaced = {wheel.name for wheel in wheels}
    writers: dict[str, list[Incoming]] = {}
    planned: set[str] = set()
    for wheel in wheels:
        for path, _ in wheel.files:
            planned.add(path)
            top = entry_below(path, target)
            if top is not None:
                users = writers.setdefault(top, [])
                if wheel not in users:
                    users.append(wheel)
    clashes: list[Clash] = []
    for path in sorted(set(on_disk)):
        top = entry_below(path, target)
        if top is None or path in planned or is_derived_pyc(path):
            continue
        rows = index.owners(path)
        installed = [o for o in owners_of(index, path, rows) if o.name not in replaced]
        if rows and not installed:
            continue  # a file of the distribution being upgraded
        by = tuple(
            Owner(wheel.name, wheel.version, None, path, incoming=True)
            for wheel in writers.get(top, ())
        )
        clashes.append(Clash(path, relative_to(path, target), "removed", (*by, *installed)))
    return clashes


def find_target_skips(
    incoming: Iterable[Incoming], index: OwnershipIndex, target: str, kept: Container[str | None]
) -> list[Clash]:
    """Return the files ``pip install --target`` will not write: those below a ``kept`` entry.

    pip moves each top-level entry of the new tree into ``target``; one that already stands
    there (without --upgrade, or a link even with it) it leaves as it is, with a warning, and
    none of the wheel's files below it is written. Each such file is ``skipped``, harmless
    when the disk already holds what the wheel would have written (see Clash.harmless).
    """
    clashes: list[Clash] = []
    for wheel in incoming:
        for path, hash_value in wheel.files:
            if entry_below(path, target) not in kept or is_derived_pyc(path):
                continue
            # pip writes a RECORD of its own, never the wheel's.
            written = None if path == f"{wheel.own_dir}/RECORD" else hash_value
            mine = Owner(wheel.name, wheel.version, written, path, incoming=True)
            installed = owners_of(index, path, index.owners(path))
            clashes.append(Clash(path, relative_to(path, target), "skipped", (mine, *installed)))
    return clashes


def in_transaction(view: Transaction, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return the files ``pip install --target`` would leave unwritten or delete, judged.

    pip moves each top-level entry of the new tree into the target. One that already exists
    it leaves as it stands, with a warning, unless --upgrade (and a link even then): nothing
    below it is overwritten, and the wheels' files there are not written. With --upgrade it
    deletes each other existing entry whole before moving the new one in.
    """
    target = view.target
    if target is None:
        return []
    incoming = [
        Incoming(w.name, w.version, tuple((f.path, f.hash) for f in w.files), w.dist_info)
        for w in view.wheels
    ]
    found = find_target_skips(incoming, index, target.directory, target.kept)
    if target.upgrade:
        doomed: list[str] = []
        for top in sorted(target.existing - target.kept):
            entry = f"{target.directory}/{top}"
            doomed += disk.files_below(entry) if disk.isdir(entry) else [entry]
        found += find_target_replacements(incoming, index, target.directory, doomed)
    return list(judge(found, disk))
