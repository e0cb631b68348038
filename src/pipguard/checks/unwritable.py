"""Files pip cannot write where they belong: through a link out, or a file where a directory is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipguard.findings import Finding, Unwritable
from pipguard.ownership import OwnershipIndex
from pipguard.paths import is_within

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.views import Transaction

__all__ = ["in_the_way", "in_transaction", "linked_out"]


def in_transaction(view: Transaction, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return the first planned file pip could not write inside the environment, if any.

    A link out of the environment is looked for first; then a file and a directory that would
    share one path, on which pip would fail half-way through, with the wheels before it written.
    """
    found = linked_out(view, disk) or in_the_way(view, index, disk)
    return [found] if found is not None else []


def linked_out(view: Transaction, disk: Disk) -> Unwritable | None:
    """Say which planned file a link would carry outside the environment, or return None.

    Each directory the wheels write into is resolved once, link by link, never outside; one
    whose parent resolved to itself needs only its own last step looked at.
    """
    seen: set[str] = set()
    plain: set[str] = set()  # directories that resolve to themselves, inside
    # Where pip may write: a base interpreter's prefix is read, but is outside all the same.
    writes = view.env.write_roots or None
    roots = writes or disk.roots
    for wheel in view.wheels:
        for planned in wheel.files:
            parent = planned.path.rpartition("/")[0]
            if parent in seen:
                continue
            seen.add(parent)
            if parent.rpartition("/")[0] in plain and not disk.islink(parent):
                plain.add(parent)  # below a plain directory, only its own last step can leap
                continue
            real, inside = disk.resolve(parent, writes)
            above = parent
            # Resolved to itself: so did every directory above it, up to its root.
            while inside and real == parent and above not in plain and is_within(above, roots):
                plain.add(above)
                above = above.rpartition("/")[0]
            if not inside:
                return Unwritable(
                    planned.path,
                    f"{wheel.shown}: {planned.record_path} would be "
                    f"written through a link to {real}, outside the environment",
                )
    return None


def in_the_way(view: Transaction, index: OwnershipIndex, disk: Disk) -> Unwritable | None:
    """Say which planned file pip could not write, a file and a directory sharing one path.

    A file stands where a planned file needs a directory (on disk, or planned by another
    wheel), or a directory stands where a file is planned. What pip removes first (the files
    of the distributions it replaces) is not in the way.
    """

    def goes_first(path: str) -> bool:
        owners = {index.dists[n].name for n, _ in index.owners(path)}
        return bool(owners) and owners <= view.replaced

    files = {f.path for wheel in view.wheels for f in wheel.files}
    fine: set[str] = set()  # directories known to exist, or to be creatable
    for wheel in view.wheels:
        for planned in wheel.files:
            path = planned.path
            is_dir = disk.exists(path) and disk.isdir(path) and not disk.islink(path)
            if is_dir and not any(goes_first(p) for p in disk.files_below(path)):
                return Unwritable(
                    path,
                    f"{wheel.shown}: {planned.record_path} would be a file where a directory is",
                )
            parent = path.rpartition("/")[0]
            while parent and parent not in fine:
                on_disk = disk.lexists(parent) and not disk.isdir(parent)
                if parent in files or (on_disk and not goes_first(parent)):
                    return Unwritable(
                        path,
                        f"{wheel.shown}: {planned.record_path} needs a directory where the file "
                        f"{parent.rpartition('/')[2]} is",
                    )
                fine.add(parent)
                if disk.isdir(parent):
                    break
                parent = parent.rpartition("/")[0]
    return None
