"""Shadowed import names: two distributions offer ``import x``, and only one of them is reached.

``docx`` ships ``docx.py``, python-docx ships ``docx/``: no path is shared, and Python imports
the package, silently, for ever. Which one wins is CPython's path finder over the target's
``sys.path`` (see ``imports.py``); a package whose ``__init__`` only declares a namespace
reaches the others' portions, and is asked of the file (``namespace.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pipguard.checks.imports import (
    Listing,
    LoaderSuffixes,
    Shadowed,
    build_site_dirs,
    find_shadowed,
)
from pipguard.checks.namespace import is_namespace_declaration
from pipguard.findings import Finding
from pipguard.ownership import OwnershipIndex

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.layers import ImportSystem
    from pipguard.views import EnvironmentView, Transaction

__all__ = ["in_environment", "in_transaction"]


def installed_listings(
    index: OwnershipIndex, leave_out: frozenset[str] = frozenset()
) -> list[Listing]:
    """One listing per installed distribution, its paths as the index keys them."""
    return [
        Listing(index.root, dist.name, dist.version, index.keys_of(number))
        for number, dist in enumerate(index.dists)
        if dist.name not in leave_out and dist.record_text is not None
    ]


def declares_namespace(disk: Disk) -> Callable[[str, str], bool]:
    """Return the question imports.py asks of an ``__init__``, answered from the disk."""

    def declares(site: str, path: str) -> bool:
        data = disk.read(f"{site}/{path}")
        return data is not None and is_namespace_declaration(data)

    return declares


def suffixes_of(imports: ImportSystem | None) -> LoaderSuffixes:
    """Return the target's loader suffixes (the running interpreter's, for plain directories)."""
    if imports is not None:
        return LoaderSuffixes(imports.extension_suffixes)
    import importlib.machinery

    return LoaderSuffixes(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def _shadowed(
    search: Sequence[str],
    listings: list[Listing],
    imports: ImportSystem | None,
    disk: Disk,
) -> list[Shadowed]:
    names = imports.stdlib_module_names if imports else frozenset()
    sites = build_site_dirs(search, listings)
    return find_shadowed(sites, suffixes_of(imports), names, declares_namespace(disk))


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return each import name an installed distribution offers in vain."""
    imports = view.env.imports
    search = imports.path if imports is not None else view.env.scan_dirs
    return list(_shadowed(search, installed_listings(index), imports, disk))


def in_transaction(view: Transaction, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return each import name the install would leave a distribution offering in vain.

    Only names an incoming wheel takes part in are new: the rest are check's to report.
    """
    imports = view.imports
    search: Sequence[str] = imports.path if imports is not None else sys.path[1:]
    if not any(site in search for site in view.sites):
        search = view.sites  # --target, --prefix, --root: not on this interpreter's path
    incoming = {wheel.name for wheel in view.wheels}
    listings = installed_listings(index, leave_out=frozenset(view.replaced | incoming))
    for wheel in view.wheels:
        rows = [
            f.path[len(wheel.site) + 1 :] if f.path.startswith(wheel.site + "/") else f.path
            for f in wheel.files
        ]
        listings.append(Listing(wheel.site, wheel.name, wheel.version, rows))
    found = _shadowed(search, listings, imports, disk)
    # Where pip writes: the layer the incoming wheels land in, before or after the others.
    sites = {wheel.name: wheel.site for wheel in view.wheels}
    return [
        s._replace(writes_to=next(sites[o.name] for o in s.owners if o.name in sites))
        for s in found
        if incoming & {owner.name for owner in s.owners}
    ]
