"""The tree against the RECORDs: files that are missing or modified, and what no RECORD lists.

By default nothing is hashed: each directory a RECORD lists files in is listed once (never a
stat per file), which shows the files that are gone and the entries nobody owns. ``--verify``
hashes every file as well, like ``rpm -V``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING

from pipguard.checks.clashes import find_clashes
from pipguard.findings import FileState, Finding, HashReader, Problem, Unlisted, unhashable
from pipguard.ownership import OwnershipIndex
from pipguard.paths import is_derived_pyc, is_within, relative_to

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import EnvironmentView

__all__ = ["in_environment", "verify"]

# What every environment has at the top of a site directory and no RECORD lists: CPython's
# own README.txt, and the module and .pth virtualenv writes into every environment it makes.
ALWAYS_THERE = frozenset({"README.txt", "_virtualenv.py", "_virtualenv.pth"})


def _algorithm(hash_value: str) -> str:
    return hash_value.partition("=")[0]


def verify(
    index: OwnershipIndex, read_hash: HashReader, skip: set[str] | frozenset[str] = frozenset()
) -> tuple[list[FileState], list[FileState]]:
    """Hash every listed file against its RECORD, like ``rpm -V``: return (modified, missing).

    Paths in ``skip`` (the differing clashes, judged by their own check) are left out, and so
    is bytecode below ``__pycache__``, which a slim image may have stripped.
    """
    modified: list[FileState] = []
    missing: list[FileState] = []
    for path in index.paths():
        if path in skip or is_derived_pyc(path):
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


def _directory_key(key: str) -> str:
    return key.rpartition("/")[0]


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Compare the tree with the RECORDs; with ``--verify`` hash every file too."""
    keys = index.single.keys()
    # Every directory a RECORD lists a file in, as a key ('' is the index's root), and how
    # many files it lists there: a listing that holds fewer of them is missing some.
    owned = Counter(map(itemgetter(0), map(str.rpartition, keys, repeat("/"))))
    known = _with_ancestors(index, owned, view.env.scan_dirs)
    short: dict[str, set[str]] = {}  # directory -> its entries, where a listed file is gone
    unreadable: set[str] = set()
    extra: list[str] = []
    found: list[Finding] = []
    for directory in known:
        try:
            names = disk.listdir(_absolute(index, directory))
        except OSError as exc:
            unreadable.add(directory)
            found.append(
                Problem(None, _absolute(index, directory), f"cannot be listed: {exc.strerror}")
            )
            continue
        # One small set per directory, looked up in the index's dict in C: no set of every
        # entry of the environment is built.
        here = set(map(f"{directory}/".__add__ if directory else str, names or ()))
        strangers = here.difference(index.single)
        extra += strangers
        if len(here) - len(strangers) != owned.get(directory, 0):
            short[directory] = here
    if view.verify:
        differing = {clash.path for clash in find_clashes(index) if clash.kind == "differing"}
        modified, missing = verify(index, disk, differing)
        found += [*modified, *missing]
    elif short:
        gone = {k for k in keys if _directory_key(k) in short} - set().union(*short.values())
        found += _missing(index, gone, unreadable)
    found += _unlisted(view, index, set(extra) - known.keys())
    return found


def _with_ancestors(
    index: OwnershipIndex, owned: Mapping[str, int], sites: tuple[str, ...]
) -> dict[str, None]:
    """Return the owned directories and, up to their site directory, every one above them.

    A package directory that holds only directories (``pkg/a/`` of ``pkg/a/b/m.py``) is a
    package directory all the same, and the site directory itself is listed too.
    """
    site_keys = {"" if site == index.root else index.key(site) for site in sites}
    known = dict.fromkeys(owned)
    known.update(dict.fromkeys(site_keys))  # what nothing owns lies at the top of a site, too
    # A relative key lies below the index's root (rows that climb are kept absolute): inside a
    # site whenever the root is, without a test per directory.
    root_inside = is_within(index.root, sites)
    for directory in owned:
        relative = not directory.startswith("/")
        if not (relative and root_inside) and not is_within(_absolute(index, directory), sites):
            continue
        above = directory
        while above and above not in site_keys:
            above = _directory_key(above)
            if above in known:
                break
            known[above] = None
    return known


def _absolute(index: OwnershipIndex, directory: str) -> str:
    return index.path_of(directory) if directory else index.root


def _derived(key: str) -> bool:
    """Tell whether a listed path is bytecode, which is never missing.

    Slim images strip ``__pycache__``; virtualenv's own installs list ``.pyc`` files beside
    their sources, and ``__pycache__`` directories, that were never written.
    """
    return key.endswith((".pyc", ".pyo")) or "__pycache__" in key.split("/")


def _missing(index: OwnershipIndex, gone: set[str], unreadable: set[str]) -> list[FileState]:
    """Return the listed files that are not on disk, each with every owner."""
    states = []
    for key in gone:
        if _derived(key) or _directory_key(key) in unreadable:
            continue
        path = index.path_of(key)
        for number in dict.fromkeys(number for number, _ in index.owners(path)):
            dist = index.dists[number]
            states.append(FileState(relative_to(path, dist.site), dist.name, "missing"))
    return sorted(states)


def _unlisted(view: EnvironmentView, index: OwnershipIndex, extra: set[str]) -> list[Unlisted]:
    """Return the entries of package directories (and of each site) that nothing lists."""
    sites = view.env.scan_dirs
    metadata = {index.key(dist.metadata_dir) for dist in view.installed}
    found = []
    for key in extra:
        if key in metadata:
            continue
        path = index.path_of(key)
        parent, _, name = path.rpartition("/")
        if "__pycache__" in key.split("/") or name.endswith(".pipguard-tmp"):
            continue  # bytecode caches: pytest's and the interpreter's own are listed by no one
        if not is_within(parent, sites):
            continue
        if parent in sites and name in ALWAYS_THERE:
            continue
        site = next(s for s in sites if is_within(parent, (s,)))
        found.append(Unlisted(path, relative_to(path, site), _count_files(path)))
    return sorted(found, key=lambda entry: entry.display)


def _count_files(path: str) -> int:
    """Count the files at or below ``path``, links not followed (1 for a file)."""
    if os.path.islink(path) or not os.path.isdir(path):
        return 1
    return sum(len(files) for _, _, files in os.walk(path))
