"""What the checks find: one typed value per kind of finding, shared by install and check."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, NamedTuple, Union

from pipguard.environment import Problem

if TYPE_CHECKING:
    from pipguard.checks.deps import Dependency
    from pipguard.checks.imports import Shadowed
    from pipguard.checks.startup_files import StartupFile

__all__ = [
    "Clash",
    "ClashKind",
    "FileState",
    "Finding",
    "HashReader",
    "Owner",
    "Problem",
    "StartupCode",
    "Unlisted",
    "Unwritable",
    "unhashable",
]

ClashKind = Literal[
    "differing",
    "identical",
    "case",
    "unowned",
    "removed",
    "skipped",
    "bytecode",
    "namespace",
    "deleted",
]

# (absolute path, algorithm) -> the file's hash in RECORD form, or None when it does not exist.
# Any other answer (no ``=``) says the file could not be hashed: its owner's match is unknown.
HashReader = Callable[[str, str], "str | None"]


def unhashable(on_disk: str | None) -> bool:
    """Tell whether a :data:`HashReader` answer says the file exists but could not be hashed."""
    return on_disk is not None and "=" not in on_disk


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
    chosen: str | None = None  # the owner chosen to win it (--winner, recorded; or configured)

    @property
    def harmless(self) -> bool:
        """Tell whether the clash changes nothing: same bytes whoever writes the file."""
        if self.kind in ("identical", "namespace"):
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
    kind: Literal["modified", "missing"] = "modified"


class Unlisted(NamedTuple):
    """A file or directory no RECORD lists, in a package directory or at the top of a site.

    Left by a killed or failed install, or by another tool; ``files`` counts what it holds.
    JSON calls these ``unowned``.
    """

    path: str
    display: str  # relative to its site directory, in RECORD form
    files: int
    kind: Literal["unlisted"] = "unlisted"


class StartupCode(NamedTuple):
    """A startup file: a ``.pth``, ``.start`` or ``sitecustomize`` an interpreter start reads.

    ``file`` is its classification (code, paths only, or a standard hook), line by line.
    """

    path: str
    display: str  # relative to its site directory
    owner: str | None  # the distribution whose RECORD lists it (or that brings it); None: none
    version: str | None
    file: StartupFile
    incoming: bool = False  # brought by the install under way
    changed: bool = True  # install: not what is installed there now
    tampered: bool = False  # check: its bytes are not what its RECORD lists
    kind: Literal["startup"] = "startup"

    @property
    def code(self) -> bool:
        """Tell whether it runs code (or adds a path outside the environment) at every start."""
        return self.file.kind == "code"


class Unwritable(NamedTuple):
    """A planned file pip could not write where it belongs: stops every install but ``ignore``."""

    path: str
    message: str  # names the wheel, the member and why
    kind: Literal["unwritable"] = "unwritable"


Finding = Union[
    Clash, FileState, Unlisted, Unwritable, StartupCode, Problem, "Dependency", "Shadowed"
]
