"""Files an upgrade would delete: pip uninstalls the old version whole, shared files included.

Upgrading or reinstalling a distribution removes every file its installed RECORD lists before
the new version is written. A file another installed distribution still lists, and that no
incoming wheel writes again, is gone afterwards: pip's own ``uninstall`` bug (pip 12313, 7282)
in the install path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipguard.checks.clashes import judge, owners_of
from pipguard.findings import Clash, Finding, Owner
from pipguard.ownership import OwnershipIndex
from pipguard.paths import is_derived_pyc, is_within, relative_to, resolve_row

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import Transaction

__all__ = ["in_transaction"]


def in_transaction(view: Transaction, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return the files of replaced distributions that others list and nothing writes again."""
    if not view.replaced or view.target is not None:
        return []  # --target replaces whole entries: the target check's ``removed``
    written = {f.path for wheel in view.wheels for f in wheel.files}
    incoming = {wheel.name: wheel for wheel in view.wheels}
    found: list[Clash] = []
    for dist in view.installed:
        if dist.name not in view.replaced:
            continue
        wheel = incoming.get(dist.name)
        for entry in dist.entries or ():
            path = resolve_row(dist.base, entry.path)
            if path is None or path in written or is_derived_pyc(path):
                continue
            if not is_within(path, view.env.roots):
                continue
            others = [
                owner
                for owner in owners_of(index, path, index.owners(path))
                if owner.name not in view.replaced
            ]
            if not others:
                continue
            by = (
                (Owner(wheel.name, wheel.version, None, path, incoming=True),)
                if wheel is not None
                else ()
            )
            found.append(
                Clash(path, relative_to(path, view.site_of(path)), "deleted", (*by, *others))
            )
    return list(judge(sorted(set(found), key=lambda c: c.display), disk))
