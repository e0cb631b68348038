"""Shared paths: files two or more distributions list or would write, judged against the disk."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from pipguard.findings import Clash, ClashKind, Finding, HashReader, Owner, unhashable
from pipguard.ownership import OwnershipIndex, Row
from pipguard.paths import entry_below, is_derived_pyc, relative_to

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import EnvironmentView, Transaction

__all__ = [
    "Incoming",
    "display_of",
    "find_clashes",
    "find_transaction_clashes",
    "in_environment",
    "in_transaction",
    "judge",
    "owners_of",
]


def _matches(read_hash: HashReader, path: str, hash_value: str) -> bool | None:
    """Tell whether the file holds ``hash_value``; None when it could not be read."""
    on_disk = read_hash(path, hash_value.partition("=")[0])
    return None if unhashable(on_disk) else on_disk == hash_value


def owners_of(index: OwnershipIndex, path: str, rows: Iterable[Row]) -> tuple[Owner, ...]:
    seen: set[int] = set()
    owners: list[Owner] = []
    for number, hash_value in rows:
        if number in seen:
            continue
        seen.add(number)
        dist = index.dists[number]
        owners.append(Owner(dist.name, dist.version, hash_value, path))
    return tuple(sorted(owners, key=lambda owner: owner.name))


def display_of(index: OwnershipIndex, path: str, rows: list[Row]) -> str:
    return relative_to(path, index.dists[rows[0][0]].site)


def find_clashes(index: OwnershipIndex) -> list[Clash]:
    """Return every path two or more distributions list, as ``identical`` or ``differing``.

    Byte-code caches never clash on their own: they derive from their source file, whose clash
    (if any) covers them.
    """
    clashes: list[Clash] = []
    for path in index.shared_paths():
        if is_derived_pyc(path):
            continue
        rows = index.owners(path)
        owners = owners_of(index, path, rows)
        if len(owners) < 2:
            continue
        hashes = {owner.hash for owner in owners}
        kind: ClashKind = "identical" if len(hashes) == 1 and None not in hashes else "differing"
        clashes.append(Clash(path, display_of(index, path, rows), kind, owners))
    return sorted(clashes, key=lambda clash: clash.display)


class Incoming(NamedTuple):
    """One distribution the transaction installs: its name, version and planned files."""

    name: str
    version: str
    files: tuple[tuple[str, str | None], ...]  # (absolute path, hash or None)
    own_dir: str  # its .dist-info directory: never an unowned clash, it is being replaced


def find_transaction_clashes(
    incoming: Iterable[Incoming],
    index: OwnershipIndex,
    exists: Callable[[str], bool],
    site_of: Callable[[str], str],
) -> list[Clash]:
    """Return the clashes installing ``incoming`` would cause, before anything is written.

    Planned paths are checked against the installed owners (except the distributions the
    transaction replaces: the same names) and against each other; a path that exists on disk
    with no owner at all is ``unowned``. ``site_of`` gives the directory paths are shown from.
    """
    wheels = list(incoming)
    replaced = {wheel.name for wheel in wheels}
    # Plain tuples first: most planned paths are new and need no Owner objects at all.
    claims: dict[str, list[tuple[int, str | None]]] = {}
    for number, wheel in enumerate(wheels):
        for path, hash_value in wheel.files:
            claims.setdefault(path, []).append((number, hash_value))
    own_dirs = tuple(wheel.own_dir + "/" for wheel in wheels)
    clashes: list[Clash] = []
    for path, claimants in claims.items():
        if len(claimants) == 1 and path not in index and not exists(path):
            continue  # a new file of one wheel: most of them
        rows = index.owners(path)
        if is_derived_pyc(path):
            continue
        every = owners_of(index, path, rows)
        installed = [owner for owner in every if owner.name not in replaced]
        names = {wheels[number].name for number, _ in claimants}
        if not installed and len(names) < 2 and (every or path.startswith(own_dirs)):
            continue
        incoming_owners = sorted(
            (
                Owner(wheels[n].name, wheels[n].version, h, path, incoming=True)
                for n, h in claimants
            ),
            key=lambda owner: owner.name,
        )
        owners = (*incoming_owners, *installed)
        display = relative_to(path, site_of(path))
        if installed or len(names) > 1:
            hashes = {owner.hash for owner in owners}
            kind: ClashKind = (
                "identical" if len(hashes) == 1 and None not in hashes else "differing"
            )
            clashes.append(Clash(path, display, kind, owners))
        else:
            clashes.append(Clash(path, display, "unowned", owners))
    return sorted(clashes, key=lambda clash: clash.display)


def judge(clashes: Iterable[Clash], read_hash: HashReader) -> list[Clash]:
    """Fill in which owner's copy is on disk, and for ``differing`` clashes name the winner.

    ``read_hash`` does the I/O; it is asked only about the clashing files.
    """
    judged: list[Clash] = []
    for clash in clashes:
        if clash.kind == "unowned":
            # The owners are the incoming wheels: does the file already hold their bytes?
            incoming = tuple(
                o._replace(matches_disk=o.hash is not None and _matches(read_hash, o.path, o.hash))
                for o in clash.owners
            )
            judged.append(clash._replace(owners=incoming))
            continue
        owners: list[Owner] = []
        for owner in clash.owners:
            matches = None if owner.hash is None else _matches(read_hash, owner.path, owner.hash)
            owners.append(owner._replace(matches_disk=matches))
        winner = None
        if clash.kind in ("differing", "skipped"):
            winners = [owner.name for owner in owners if owner.matches_disk]
            # Several owners sharing the winning hash: the first is as good as any, all match.
            winner = winners[0] if winners else None
        judged.append(clash._replace(owners=tuple(owners), winner=winner))
    return judged


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return every path two or more installed distributions list, judged against the disk.

    An identical overlap is harmless whatever the disk holds (a changed file is the files
    check's finding): only the other clashes are hashed, unless every file is.
    """
    judged = [
        clash if clash.kind == "identical" and not view.verify else judge([clash], disk)[0]
        for clash in find_clashes(index)
    ]
    # Only the copy on disk can be read, the others' were overwritten: it stands for them all
    # (pipguard install parsed each copy before it let the overlap in).
    judged = [_as_namespace(c, [_disk_copy(c, disk)] * len(c.owners)) for c in judged]
    return [_with_choice(clash, view, disk) for clash in judged]


def _with_choice(clash: Clash, view: EnvironmentView, disk: Disk) -> Clash:
    """Name the owner chosen to win a differing clash: recorded at install, or configured."""
    if clash.kind != "differing":
        return clash
    from pipguard.install.choices import CHOICES, read_choices

    names = {owner.name for owner in clash.owners}
    for dist in view.installed:
        if dist.name not in names:
            continue
        won = read_choices(disk.read(f"{dist.metadata_dir}/{CHOICES}", (dist.site,)))
        if relative_to(clash.path, dist.site) in won:
            return clash._replace(chosen=dist.name)
    configured = sorted(names & view.winners)
    return clash._replace(chosen=configured[0]) if len(configured) == 1 else clash


def in_transaction(view: Transaction, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return the paths the transaction would write that others list, or that are on disk.

    Below a ``--target`` entry pip keeps as it stands nothing is overwritten: those files are
    the target check's (``skipped``).
    """
    from pipguard.checks.scripts import same_generated_scripts

    incoming = [
        Incoming(
            wheel.name,
            wheel.version,
            tuple((f.path, f.hash) for f in wheel.files),
            wheel.dist_info,
        )
        for wheel in view.wheels
    ]
    found = find_transaction_clashes(incoming, index, disk.exists, view.site_of)
    found = same_generated_scripts(found, view, disk)
    target = view.target
    if target is not None:
        found = [c for c in found if entry_below(c.path, target.directory) not in target.kept]
    brought = {(w.name, path): data for w in view.wheels for path, data in w.inits}
    judged: list[Finding] = []
    for clash in judge(found, disk):
        on_disk = _disk_copy(clash, disk)
        copies = [
            brought.get((o.name, clash.path)) if o.incoming else on_disk if o.matches_disk else None
            for o in clash.owners
        ]
        judged.append(_as_namespace(clash, copies))
    return judged


def _disk_copy(clash: Clash, disk: Disk) -> bytes | None:
    """Return the bytes of a contested ``__init__.py`` on disk, read only where it matters."""
    if clash.kind != "differing" or not clash.path.endswith("/__init__.py"):
        return None
    return disk.read(clash.path)


def _as_namespace(clash: Clash, copies: list[bytes | None]) -> Clash:
    """Call ``namespace`` a differing ``__init__.py`` whose every copy only declares one.

    ``copies``: each owner's bytes, None where they cannot be read (which keeps the clash).
    """
    if clash.kind != "differing" or not clash.path.endswith("/__init__.py"):
        return clash
    from pipguard.checks.namespace import read_declaration

    needs = set()
    for data in copies:
        declaration = read_declaration(data) if data is not None else None
        if declaration is None:
            return clash
        needs.add(declaration.needs_pkg_resources)
    # Copies that differ in needing pkg_resources do not behave alike where it is missing.
    return clash._replace(kind="namespace") if len(needs) == 1 else clash
