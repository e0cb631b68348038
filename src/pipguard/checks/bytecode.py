"""Foreign bytecode: a ``.pyc`` is derived from its source only where its own distribution ships it.

Python imports ``pkg/__pycache__/mod.<tag>.pyc`` instead of ``pkg/mod.py`` when its header
matches, and an *unchecked-hash* one without looking at the source at all: a wheel that ships
only the bytecode of another distribution's module takes over ``import pkg.mod``. The bytecode
pip compiles of each distribution's own sources (listed in the same RECORD) stays exempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipguard.checks.clashes import judge, owners_of
from pipguard.findings import Clash, Finding, Owner
from pipguard.ownership import OwnershipIndex
from pipguard.paths import is_derived_pyc, relative_to

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import EnvironmentView, Transaction

__all__ = ["in_environment", "in_transaction", "source_of"]


def source_of(path: str) -> str:
    """Return the source file a ``__pycache__`` bytecode path derives from.

    ``pkg/__pycache__/mod.cpython-311.opt-1.pyc`` -> ``pkg/mod.py``: a module name has no dot.
    """
    folder, _, leaf = path.rpartition("/__pycache__/")
    return f"{folder}/{leaf.partition('.')[0]}.py"


def _clash(
    index: OwnershipIndex, path: str, site: str, owners: tuple[Owner, ...], source: str
) -> Clash:
    sources = tuple(o._replace(path=source) for o in owners_of(index, source, index.owners(source)))
    return Clash(path, relative_to(path, site), "bytecode", (*owners, *sources))


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return each installed ``.pyc`` whose owner does not ship its source, judged on disk."""
    found: list[Clash] = []
    for path in index.bytecode():
        source = source_of(path)
        rows = index.owners(path)
        sources = {number for number, _ in index.owners(source)}
        foreign = [(n, h) for n, h in rows if n not in sources]
        if not foreign:
            continue
        site = index.dists[foreign[0][0]].site
        found.append(_clash(index, path, site, owners_of(index, path, foreign), source))
    return list(judge(sorted(found, key=lambda clash: clash.display), disk))


def in_transaction(view: Transaction, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return each ``.pyc`` an incoming wheel would write without shipping its source."""
    found: list[Clash] = []
    for wheel in view.wheels:
        paths = {f.path for f in wheel.files}
        for planned in wheel.files:
            if not is_derived_pyc(planned.path) or source_of(planned.path) in paths:
                continue
            owner = Owner(wheel.name, wheel.version, planned.hash, planned.path, incoming=True)
            source = source_of(planned.path)
            found.append(_clash(index, planned.path, view.site_of(planned.path), (owner,), source))
    return list(judge(found, disk))
