"""Clash detection: pure functions from an ownership index to typed findings."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from typing import Literal, NamedTuple

from pipguard.ownership import OwnershipIndex, Row
from pipguard.paths import entry_below, is_derived_pyc, relative_to

__all__ = [
    "Clash",
    "ClashKind",
    "FileState",
    "HashReader",
    "Incoming",
    "Owner",
    "find_case_clashes",
    "find_clashes",
    "find_target_replacements",
    "find_target_skips",
    "find_transaction_clashes",
    "judge",
    "verify",
]

ClashKind = Literal["differing", "identical", "case", "unowned", "removed", "skipped"]

# (absolute path, algorithm) -> the file's hash in RECORD form, or None when it does not exist.
# Any other answer (no ``=``) says the file could not be hashed: its owner's match is unknown.
HashReader = Callable[[str, str], "str | None"]


def _unhashable(on_disk: str | None) -> bool:
    """Tell whether a :data:`HashReader` answer says the file exists but could not be hashed."""
    return on_disk is not None and "=" not in on_disk


def _matches(read_hash: HashReader, path: str, hash_value: str) -> bool | None:
    """Tell whether the file holds ``hash_value``; None when it could not be read."""
    on_disk = read_hash(path, hash_value.partition("=")[0])
    return None if _unhashable(on_disk) else on_disk == hash_value


class Owner(NamedTuple):
    """One distribution's claim on a clashing path."""

    name: str
    version: str
    hash: str | None
    path: str
    matches_disk: bool | None = None
    incoming: bool = False  # brought by the transaction under way, not installed yet


class Clash(NamedTuple):
    """One path (or, for ``case``, one case-folded path) listed by two or more distributions."""

    path: str
    display: str
    kind: ClashKind
    owners: tuple[Owner, ...]
    winner: str | None = None

    @property
    def harmless(self) -> bool:
        """Tell whether the clash changes nothing: same bytes whoever writes the file."""
        if self.kind == "identical":
            return True
        if self.kind == "unowned":
            return all(owner.matches_disk for owner in self.owners)
        if self.kind == "skipped":
            # Not written, and nothing lost: the disk already holds the wheel's bytes, or (for
            # a file without a hash: its RECORD, a script) the same distribution's copy.
            names = {owner.name for owner in self.owners if not owner.incoming}
            return all(
                owner.matches_disk or (owner.hash is None and owner.name in names)
                for owner in self.owners
                if owner.incoming
            )
        return False

    @property
    def top_level(self) -> str:
        """The first component of the displayed path, used to group clashes (``jwt/``)."""
        head, sep, _ = self.display.lstrip("./").partition("/")
        return f"{head}/" if sep else head


class FileState(NamedTuple):
    """A file whose content no longer matches its owner's RECORD (``modified``) or is gone."""

    path: str
    owner: str


def _owners(index: OwnershipIndex, path: str, rows: Iterable[Row]) -> tuple[Owner, ...]:
    seen: set[int] = set()
    owners: list[Owner] = []
    for number, hash_value in rows:
        if number in seen:
            continue
        seen.add(number)
        dist = index.dists[number]
        owners.append(Owner(dist.name, dist.version, hash_value, path))
    return tuple(sorted(owners, key=lambda owner: owner.name))


def _display(index: OwnershipIndex, path: str, rows: list[Row]) -> str:
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
        owners = _owners(index, path, rows)
        if len(owners) < 2:
            continue
        hashes = {owner.hash for owner in owners}
        kind: ClashKind = "identical" if len(hashes) == 1 and None not in hashes else "differing"
        clashes.append(Clash(path, _display(index, path, rows), kind, owners))
    return sorted(clashes, key=lambda clash: clash.display)


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
            for owner in _owners(index, variant, index.owners(variant)):
                owners.append(owner)
                names.add(owner.name)
        if len(names) < 2:
            continue
        first_path = sorted(variants)[0]
        clashes.append(
            Clash(
                first_path,
                _display(index, first_path, index.owners(first_path)),
                "case",
                tuple(owners),
            )
        )
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
        every = _owners(index, path, rows)
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
        installed = [o for o in _owners(index, path, rows) if o.name not in replaced]
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
            installed = _owners(index, path, index.owners(path))
            clashes.append(Clash(path, relative_to(path, target), "skipped", (mine, *installed)))
    return clashes


def _algorithm(hash_value: str) -> str:
    return hash_value.partition("=")[0]


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
            if on_disk == hash_value or _unhashable(on_disk):
                continue  # the same, or unreadable: the reader names it as a problem
            dist = index.dists[number]
            state = FileState(relative_to(path, dist.site), dist.name)
            (missing if on_disk is None else modified).append(state)
    return modified, missing
