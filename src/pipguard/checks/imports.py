"""Which distribution ``import x`` gives: CPython's path finder, over plain data.

Within one directory ``FileFinder`` tries, for a name ``x``: a directory ``x/`` holding
``__init__`` with a loader suffix (a regular package); then ``x`` with each loader suffix in
order (extension suffixes, ``.py``, ``.pyc``: a module); a directory ``x/`` without one is a
namespace portion. ``PathFinder`` takes the first directory of the search path that yields a
package or module; only when none does are all portions merged into a namespace package. The
standard library comes before every site directory.

A package whose ``__init__`` only declares a namespace (``pkgutil.extend_path``,
``pkg_resources.declare_namespace``) puts every ``x/`` directory of the search path on its
``__path__``: those are reached too, though their own ``__init__`` (unless also a
declaration) never runs. Nothing here touches the disk: what an ``__init__`` declares is
asked of a function passed in.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from itertools import filterfalse, groupby
from operator import itemgetter, methodcaller
from typing import Literal, NamedTuple

__all__ = [
    "NAMESPACE",
    "STDLIB",
    "Claimant",
    "DeclaresNamespace",
    "ImportOwner",
    "Listing",
    "LoaderSuffixes",
    "Shadowed",
    "SiteDir",
    "TopEntry",
    "build_site_dirs",
    "find_shadowed",
    "group_rows",
    "resolve_import",
]

STDLIB = "<stdlib>"
NAMESPACE = "<namespace>"
_CACHE_DIR = "__pycache__"

# (site directory, RECORD path of a package's __init__ there) -> whether its code does nothing
# but declare a namespace (see pipguard.checks.namespace).
DeclaresNamespace = Callable[[str, str], bool]


class Claimant(NamedTuple):
    """A distribution that lists a path (names are compared as given: pass canonical ones)."""

    name: str
    version: str


class TopEntry(NamedTuple):
    """A file or directory directly in a site directory, and the distributions that list it."""

    owners: tuple[Claimant, ...]  # the file's; a directory's: listing any path below it
    is_dir: bool = False
    # A directory's ``__init__.*`` files directly in it: (leaf, the distributions listing it).
    inits: tuple[tuple[str, tuple[Claimant, ...]], ...] = ()


class SiteDir(NamedTuple):
    """One directory of the search path and its top-level entries by name."""

    path: str
    entries: Mapping[str, TopEntry]


class LoaderSuffixes(NamedTuple):
    """The target interpreter's loader suffixes (``importlib.machinery``'s three lists)."""

    extension: tuple[str, ...]
    source: tuple[str, ...] = (".py",)
    bytecode: tuple[str, ...] = (".pyc",)

    @property
    def ordered(self) -> tuple[str, ...]:
        """The suffixes in the order ``FileFinder`` tries them."""
        return (*self.extension, *self.source, *self.bytecode)


class ImportOwner(NamedTuple):
    """One distribution's claim on an import name in one site directory."""

    name: str
    version: str
    path: str  # RECORD form, relative to ``site``: 'x.py', 'x/__init__.py', or 'x/' (files below)
    site: str
    imported: bool  # whether ``import x`` reaches this claim's code


class Shadowed(NamedTuple):
    """What ``import x`` gives, and whose claims on ``x`` it never reaches.

    As a finding (from :func:`find_shadowed`) some distribution's every claim is dead. The same
    shape answers :func:`resolve_import` for any claimed name (``pipguard owner x``).
    """

    import_name: str
    path: str | None  # the imported file relative to ``site``; None for the stdlib, a namespace
    owners: tuple[ImportOwner, ...]  # in search order
    winner: str  # the distribution imported, STDLIB, or NAMESPACE (portions merged)
    stdlib: bool = False
    site: str | None = None  # the site directory ``path`` is in
    kind: Literal["shadowed"] = "shadowed"
    writes_to: str | None = None  # planned by an install: the site directory pip writes to

    @property
    def harmless(self) -> bool:
        """Tell whether only the standard library shadows (a backport on a Python that has it)."""
        return self.stdlib

    @property
    def dead(self) -> tuple[str, ...]:
        """The distributions none of whose claims ``import x`` reaches, in search order."""
        alive = {owner.name for owner in self.owners if owner.imported}
        names = (owner.name for owner in self.owners if owner.name not in alive)
        return tuple(dict.fromkeys(names))


class Listing(NamedTuple):
    """One distribution's RECORD paths below one directory, relative to it."""

    site: str
    name: str
    version: str
    paths: Sequence[str]


class _Claim(NamedTuple):
    """One entry of one site directory that offers the name: a package, module or portion."""

    site: str
    kind: Literal["package", "module", "portion"]
    path: str  # the file ``import`` would take ('x/__init__.py', 'x.py'), or 'x/' for a portion
    owners: tuple[Claimant, ...]  # of the file; for a directory, of anything below it
    init_owners: tuple[Claimant, ...] = ()


def _claims_in(site: SiteDir, name: str, ordered: Sequence[str]) -> list[_Claim]:
    """Return what ``site`` offers for ``name``: its directory first, then modules in order."""
    claims: list[_Claim] = []
    entry = site.entries.get(name)
    if entry is not None and entry.is_dir:
        inits = dict(entry.inits)
        leaf = next((f"__init__{s}" for s in ordered if f"__init__{s}" in inits), None)
        if leaf is None:
            claims.append(_Claim(site.path, "portion", f"{name}/", entry.owners))
        else:
            owners = tuple(dict.fromkeys((*entry.owners, *inits[leaf])))
            claims.append(_Claim(site.path, "package", f"{name}/{leaf}", owners, inits[leaf]))
    for suffix in ordered:
        module = site.entries.get(name + suffix)
        if module is not None and not module.is_dir:
            claims.append(_Claim(site.path, "module", name + suffix, module.owners))
    return claims


def resolve_import(
    name: str,
    search_path: Sequence[SiteDir],
    suffixes: LoaderSuffixes,
    stdlib_module_names: Collection[str] = frozenset(),
    declares_namespace: DeclaresNamespace | None = None,
) -> Shadowed | None:
    """Return what ``import name`` gives and every distribution's claim on it; None if none claims.

    ``search_path`` is the site directories in ``sys.path`` order, after the standard library.
    """
    ordered = suffixes.ordered
    claims = [claim for site in search_path for claim in _claims_in(site, name, ordered)]
    if not claims:
        return None
    if name in stdlib_module_names:
        owners = _owners(name, claims, lambda claim, owner: False)
        return Shadowed(name, None, owners, STDLIB, stdlib=True)
    hit = next((claim for claim in claims if claim.kind != "portion"), None)
    if hit is None:
        return Shadowed(name, None, _owners(name, claims, lambda c, o: True), NAMESPACE)
    reached = _reached(hit, claims, suffixes.source, declares_namespace)
    owners = _owners(name, claims, reached)
    winner = (hit.init_owners or hit.owners)[0].name
    return Shadowed(name, hit.path, owners, winner, site=hit.site)


def _reached(
    hit: _Claim,
    claims: list[_Claim],
    source: tuple[str, ...],
    declares_namespace: DeclaresNamespace | None,
) -> Callable[[_Claim, Claimant], bool]:
    """Return whether a claim's owner is reached, given the finder's pick ``hit``."""
    directories = [c for c in claims if c.kind != "module" and c is not hit]
    if (
        hit.kind != "package"
        or not directories
        or declares_namespace is None
        or not hit.path.endswith(source)  # only source code is read for a declaration
        or not declares_namespace(hit.site, hit.path)
    ):
        return lambda claim, owner: claim is hit
    # Every x/ directory is on the declared package's __path__; another package's own
    # __init__ never runs, unless it too only declares (and so does nothing of its own).
    running = {
        id(c): c.path.endswith(source) and declares_namespace(c.site, c.path)
        for c in directories
        if c.kind == "package"
    }

    def reached(claim: _Claim, owner: Claimant) -> bool:
        if claim is hit:
            return True
        if claim.kind == "module":
            return False
        return claim.kind == "portion" or owner not in claim.init_owners or running[id(claim)]

    return reached


def _owners(
    name: str, claims: list[_Claim], reached: Callable[[_Claim, Claimant], bool]
) -> tuple[ImportOwner, ...]:
    """One ImportOwner per claim and distribution, in search order."""
    owners: list[ImportOwner] = []
    for claim in claims:
        for owner in claim.owners:
            path = claim.path
            if claim.kind == "package" and owner not in claim.init_owners:
                # Files below a package, not its __init__: the claim is on the directory.
                path = f"{name}/"
            is_reached = reached(claim, owner)
            owners.append(ImportOwner(owner.name, owner.version, path, claim.site, is_reached))
    return tuple(owners)


def _names(site: SiteDir, ordered: Sequence[str]) -> Iterator[tuple[str, TopEntry]]:
    """Yield (import name, entry) for every entry of ``site`` that could be imported by name."""
    for key, entry in site.entries.items():
        if entry.is_dir:
            if key.isidentifier() and key != _CACHE_DIR:
                yield key, entry
            continue
        for suffix in ordered:
            # x.cpython-310-x86_64-linux-gnu.so on 3.11 leaves 'x.cpython-310-...': no name.
            if key.endswith(suffix) and key[: -len(suffix)].isidentifier():
                yield key[: -len(suffix)], entry
                break


def find_shadowed(
    search_path: Sequence[SiteDir],
    suffixes: LoaderSuffixes,
    stdlib_module_names: Collection[str] = frozenset(),
    declares_namespace: DeclaresNamespace | None = None,
) -> list[Shadowed]:
    """Return, by import name, every name some distribution claims in vain.

    A name is a finding when two or more distributions (or a distribution and the standard
    library) claim it and ``import`` reaches none of one distribution's claims. Portions that
    merge, and one distribution's claims on its own (in several sites), are not findings.
    """
    ordered = suffixes.ordered
    # name -> the entries offering it; one entry alone (a package, however many distributions
    # write into it, or one portion) leaves nobody out.
    offered: dict[str, list[TopEntry]] = {}
    for site in search_path:
        for name, entry in _names(site, ordered):
            offered.setdefault(name, []).append(entry)
    findings = []
    for name in sorted(offered):
        entries = offered[name]
        if name not in stdlib_module_names:
            if len(entries) < 2:
                continue
            names = {owner.name for entry in entries for owner in entry.owners}
            names.update(owner.name for entry in entries for _, o in entry.inits for owner in o)
            if len(names) < 2:
                continue
        resolved = resolve_import(
            name, search_path, suffixes, stdlib_module_names, declares_namespace
        )
        if resolved is not None and resolved.dead:
            findings.append(resolved)
    return findings


def group_rows(rows: Iterable[tuple[str, str, str, str]]) -> Iterator[Listing]:
    """Group (site directory, RECORD path relative to it, name, version) rows into listings."""
    for (site, name, version), group in groupby(rows, key=itemgetter(0, 2, 3)):
        yield Listing(site, name, version, list(map(itemgetter(1), group)))


# One match per run of rows with the same first segment: (head, '/' unless a file).
_RUNS = re.compile(r"^([^/\n]*)(/?)[^\n]*(?:\n\1/[^\n]*)*", re.MULTILINE)
# Heads of rows that do not join their site as they are: an absolute row, './', '../'.
_ODD_HEADS = frozenset({"", ".", ".."})
_INIT = "/__init__."


class _Heads(NamedTuple):
    """A listing's top-level names, found on its rows joined by newlines."""

    files: list[str]
    dirs: list[str]
    inits: list[tuple[str, str]]  # (directory, leaf) of each ``<dir>/__init__.*`` row
    odd: list[str]  # the rows under an odd head, to be joined to their site


def _joined(paths: Sequence[str]) -> str:
    """Return a listing's rows joined, each led by a newline (the empty first row is no name)."""
    return "\n" + "\n".join(paths)


def _heads(paths: Sequence[str], text: str | None = None) -> _Heads:
    """Return a listing's top-level files and directories, ``__init__`` rows and odd rows.

    Searching the joined rows in C finds each run of rows under one directory at once, rather
    than splitting every row in Python (one distribution lists few top-level names).
    ``text``: the rows as :func:`_joined` gives them, when the caller has it already.
    """
    if text is None:
        text = _joined(paths)
    if text.count("\n") != len(paths):
        # A row holding a newline would read as two: such a row names no importable file.
        text = "\n" + "\n".join(filterfalse(methodcaller("__contains__", "\n"), paths))
    found = _Heads([], [], [], [])
    odd_heads: set[str] = set()
    for head, slash in dict.fromkeys(_RUNS.findall(text)):
        if head in _ODD_HEADS:
            # The empty first row's run takes in the absolute rows that follow it: look for
            # every head's rows once, whatever the run said.
            if head not in odd_heads:
                odd_heads.add(head)
                found.odd.extend(_rows_at(text, f"\n{head}/", 1))
        elif slash:
            found.dirs.append(head)
        else:
            found.files.append(head)
    for row in _rows_at(text, _INIT):
        head, _, leaf = row.partition("/")
        if "/" not in leaf and head not in _ODD_HEADS:
            found.inits.append((head, leaf))
    return found


def _rows_at(text: str, needle: str, skip: int = 0) -> Iterator[str]:
    """Yield each newline-separated row of ``text`` holding ``needle`` (once, however often)."""
    at = text.find(needle)
    while at != -1:
        start = text.rfind("\n", 0, at + skip) + 1
        end = text.find("\n", at + skip)
        end = len(text) if end == -1 else end
        yield text[start:end]
        at = text.find(needle, end)


class _Table:
    """A site directory's top-level entries as listings arrive."""

    def __init__(self) -> None:
        self.files: dict[str, dict[Claimant, None]] = {}
        self.dirs: dict[str, dict[Claimant, None]] = {}
        self.inits: dict[str, dict[str, dict[Claimant, None]]] = {}

    def add(self, claimant: Claimant, heads: _Heads) -> None:
        """Add one distribution's top-level files and directories, and its ``__init__`` rows."""
        for leaf in heads.files:
            self.files.setdefault(leaf, {})[claimant] = None
        for head in heads.dirs:
            # A directory that is no identifier (a .dist-info) is never imported by name.
            if head.isidentifier():
                self.dirs.setdefault(head, {})[claimant] = None
        for head, leaf in heads.inits:
            self.inits.setdefault(head, {}).setdefault(leaf, {})[claimant] = None

    def entries(self) -> dict[str, TopEntry]:
        """The entries by name; a name listed both as a file and a directory is a directory."""
        entries = {leaf: TopEntry(tuple(owners)) for leaf, owners in self.files.items()}
        for head, owners in self.dirs.items():
            inits = tuple((leaf, tuple(o)) for leaf, o in self.inits.get(head, {}).items())
            entries[head] = TopEntry(tuple(owners), is_dir=True, inits=inits)
        return entries


def _views(site: str, sites: Sequence[str]) -> list[tuple[str, str, bool]]:
    """Return (search directory, prefix, strip) for each one ``site``'s rows fall in.

    ``strip``: the search directory is below ``site`` (rows starting with ``prefix`` are its
    own, without it); otherwise it holds ``site`` (rows join it with ``prefix``).
    """
    views = []
    for directory in sites:
        if directory == site:
            views.append((directory, "", True))
        elif directory.startswith(site + "/"):
            views.append((directory, directory[len(site) + 1 :] + "/", True))
        elif site.startswith(directory + "/"):
            views.append((directory, site[len(directory) + 1 :] + "/", False))
    return views


def build_site_dirs(search_path: Sequence[str], listings: Iterable[Listing]) -> list[SiteDir]:
    """Return the search path's directories (first occurrence of each, in order) with entries.

    Rows are RECORD paths as the ownership index keeps them (normalised: a '..' after the
    first segment is not resolved here). A row belongs to every search directory it lies in
    (pywin32's ``.pth`` adds directories below site-packages); rows that are absolute or
    climb out (``../``) are joined to their site and kept where they land. Only files, and
    directories whose name is an identifier, become entries.
    """
    sites = list(dict.fromkeys(search_path))
    tables = {site: _Table() for site in sites}
    views: dict[str, list[tuple[str, str, bool]]] = {}
    for listing in listings:
        claimant = Claimant(listing.name, listing.version)
        text = _joined(listing.paths)
        heads = _heads(listing.paths, text)
        for path in heads.odd:
            _add_joined(tables, posixpath.join(listing.site, path), claimant)
        found = views.get(listing.site)
        if found is None:
            found = views[listing.site] = _views(listing.site, sites)
        for directory, prefix, strip in found:
            if not prefix:
                tables[directory].add(claimant, heads)
                continue
            paths = listing.paths
            if heads.odd:
                paths = list(filterfalse(set(heads.odd).__contains__, paths))
            if strip:
                if f"\n{prefix}" not in text:
                    continue  # no row lies below this search directory: most listings
                below = filter(methodcaller("startswith", prefix), paths)
                view = _heads([p[len(prefix) :] for p in below])
            else:
                view = _heads([prefix + p for p in paths])
            tables[directory].add(claimant, view)
    return [SiteDir(site, tables[site].entries()) for site in sites]


def _add_joined(tables: dict[str, _Table], path: str, claimant: Claimant) -> None:
    """Add the absolute ``path`` (normalised here) to every search directory it lies in."""
    joined = posixpath.normpath(path)
    for directory, table in tables.items():
        if joined.startswith(directory + "/"):
            table.add(claimant, _heads([joined[len(directory) + 1 :]]))
