"""Console scripts: pip writes one from its entry point alone; the same entry point is no clash."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipguard.entrypoints import EntryPointError, script_specs
from pipguard.environment import InstalledDistribution
from pipguard.findings import Clash

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import Transaction

__all__ = ["same_generated_scripts"]


def same_generated_scripts(clashes: list[Clash], view: Transaction, disk: Disk) -> list[Clash]:
    """Call ``identical`` the console scripts every owner generates from one entry point.

    A generated script has no hash before pip writes it, but pip writes it from its group and
    entry point alone: where every owner, incoming or installed (by its entry_points.txt),
    declares the same one, the clash changes nothing that runs.
    """
    spec = {
        (wheel.name, f.path): f.entry_point
        for wheel in view.wheels
        for f in wheel.files
        if f.entry_point is not None
    }
    dists = {dist.name: dist for dist in view.installed}
    same = []
    for clash in clashes:
        if clash.kind != "differing" or not any((o.name, clash.path) in spec for o in clash.owners):
            same.append(clash)
            continue
        points = {
            spec.get((o.name, clash.path))
            if o.incoming
            else _declared_script(dists.get(o.name), clash.path, disk)
            for o in clash.owners
        }
        alike = len(points) == 1 and None not in points
        same.append(clash._replace(kind="identical") if alike else clash)
    return same


def _declared_script(dist: InstalledDistribution | None, path: str, disk: Disk) -> str | None:
    """Return the group and entry point an installed distribution declares for a script."""
    if dist is None:
        return None
    name = path.rpartition("/")[2].removesuffix(".exe")
    data = disk.read(f"{dist.metadata_dir}/entry_points.txt", (dist.site,))
    if data is None:
        return None
    try:
        return script_specs(data.decode("utf-8"), dist.metadata_dir).get(name)
    except (UnicodeDecodeError, EntryPointError):
        return None
