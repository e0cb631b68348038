"""Distributions the system package manager owns: RECORD rows made from dpkg's file lists.

apt's Python packages (``python3-jwt``) install a ``.dist-info`` or ``.egg-info`` without a
RECORD; dpkg lists their files in ``<root>/info/<package>.list``. A distribution without a
RECORD whose metadata directory such a list names is owned through it: the package's files
below the distribution's site directory, and its scripts in that installation's ``bin/``,
become the rows of a RECORD made here (no hash; dpkg's MD5 for ``--verify``), relative to the
site, so that the ownership index and every check take them as any other rows.

The database is read only when a distribution without a RECORD is met, and then once.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipguard.environment import NO_RECORD, InstalledDistribution, Problem
from pipguard.layers import home_of
from pipguard.paths import is_within, resolve_row

if TYPE_CHECKING:
    from pipguard.dpkg import DpkgDatabase

__all__ = ["ROOT_VARIABLE", "adopt", "dpkg_root", "listed_record"]

# Another dpkg database than the system's (a chroot's, a test's).
ROOT_VARIABLE = "PIPGUARD_DPKG_ROOT"


def dpkg_root() -> str:
    """Return the dpkg database to read: ``$PIPGUARD_DPKG_ROOT``, else ``/var/lib/dpkg``."""
    from pipguard.dpkg import DEFAULT_ROOT

    return os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT


def listed_record(site: str, paths: Sequence[str], sums: dict[str, str] | None = None) -> str:
    """Return RECORD text for absolute ``paths``, relative to ``site``, with MD5s from ``sums``.

    ``sums`` maps a path to dpkg's lower-case hex MD5; a path without one gets no hash.
    """
    from pipguard.records import record_hash

    lines = []
    for path in paths:
        if "\r" in path:
            continue  # a RECORD line cannot end in one; no Python file is named so
        row = (
            path[len(site) + 1 :] if path.startswith(site + "/") else posixpath.relpath(path, site)
        )
        if "," in row or '"' in row:
            row = '"' + row.replace('"', '""') + '"'
        digest = (sums or {}).get(path)
        value = record_hash("md5", bytes.fromhex(digest)) if digest else ""
        lines.append(f"{row},{value},\n")
    return "".join(lines)


def _members(
    dist: InstalledDistribution,
    dists: Sequence[InstalledDistribution],
    package: str,
    database: DpkgDatabase,
) -> list[InstalledDistribution]:
    """Return the distributions of ``dist``'s site whose metadata ``package`` lists, in order."""
    return [
        other
        for other in dists
        if other.site == dist.site and package in database.owners(other.metadata_dir)
    ]


def _files_of(
    dist: InstalledDistribution,
    files: Sequence[str],
    members: Sequence[InstalledDistribution],
    roots: tuple[str, ...],
) -> list[str]:
    """Return the package's files that are ``dist``'s: below its site, or scripts of its home.

    A package may ship several distributions (Debian's python3-cryptography: a ``.dist-info``
    with a RECORD and an ``.egg-info`` without). Each keeps its own metadata directory; the
    first without a RECORD takes the rest, less what the others' RECORDs list.
    """
    home = home_of(dist.site)
    scripts = f"{home.rstrip('/')}/bin" if home else None
    mine = [
        f
        for f in files
        if f.startswith(dist.site + "/")
        or (scripts is not None and f.rpartition("/")[0] == scripts and is_within(f, roots))
    ]
    own = dist.metadata_dir + "/"
    first = next(m for m in members if m.record_text is None)
    if first.metadata_dir != dist.metadata_dir:
        return [f for f in mine if f.startswith(own)]
    taken: set[str] = set()
    for other in members:
        if other.metadata_dir == dist.metadata_dir:
            continue
        taken.update(f for f in mine if f.startswith(other.metadata_dir + "/"))
        for entry in other.entries or ():
            path = resolve_row(other.base, entry.path)
            if path is not None:
                taken.add(path)
    return [f for f in mine if f not in taken]


def adopt(
    dists: list[InstalledDistribution],
    problems: list[Problem],
    roots: tuple[str, ...],
    *,
    root: str | None = None,
    sums: bool = False,
) -> tuple[list[InstalledDistribution], list[Problem]]:
    """Own each distribution without a RECORD through the dpkg list that names its metadata.

    Returns the distributions (adopted ones with ``manager``, ``list_file`` and RECORD rows
    made from the list; with ``sums``, dpkg's MD5s) and the problems, less each adopted
    distribution's "no RECORD". Where no list names one, it stays as it was. Nothing is read
    unless a distribution without a RECORD is there; ``root`` defaults to :func:`dpkg_root`.
    """
    known = set(problems)
    orphans = [
        number
        for number, dist in enumerate(dists)
        if dist.record_text is None and Problem(dist.name, dist.record_file, NO_RECORD) in known
    ]
    if not orphans:
        return dists, problems
    from pipguard.dpkg import DpkgDatabase, split_arch

    database = DpkgDatabase(root or dpkg_root())
    if not database.present():
        return dists, problems  # not a Debian system: nothing manages them
    adopted = list(dists)
    settled: set[Problem] = set()
    for number in orphans:
        dist = dists[number]
        packages = database.owners(dist.metadata_dir)
        listed = database.files(packages[0]) if packages else None
        if listed is None:
            continue
        package = packages[0]
        members = _members(dist, dists, package, database)
        files = _files_of(dist, listed.files, members, roots)
        text = listed_record(dist.site, files, database.md5sums(package) if sums else None)
        adopted[number] = dist._replace(
            base=dist.site,
            record_text=text,
            manager=f"dpkg: {split_arch(package)[0]}",
            list_file=f"{database.info}/{package}.list",
        )
        settled.add(Problem(dist.name, dist.record_file, NO_RECORD))
    kept = [problem for problem in problems if problem not in settled]
    kept += [Problem(None, found.path, found.message) for found in database.problems]
    return adopted, kept
