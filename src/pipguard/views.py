"""What the checks look at: an install's transaction, or an installed environment, as plain data."""

from __future__ import annotations

from typing import NamedTuple

from pipguard.environment import Environment, InstalledDistribution
from pipguard.layers import ImportSystem

__all__ = [
    "EnvironmentView",
    "IncomingWheel",
    "PlannedFile",
    "StartupBytes",
    "TargetFacts",
    "Transaction",
]


class PlannedFile(NamedTuple):
    """One file a wheel will write: its absolute destination, RECORD path and hash (if known).

    A named tuple: a plan holds one per file of every wheel, and tuples are made fastest.
    """

    path: str
    record_path: str
    hash: str | None
    member: str | None  # the wheel member it comes from; None for generated scripts
    # A generated script's group and entry point: pip writes the same bytes for the same one.
    entry_point: str | None = None


class StartupBytes(NamedTuple):
    """A startup file a wheel brings (a top-level ``.pth``, ``.start``, ``sitecustomize``)."""

    path: str  # absolute
    site: str  # the site directory it lands in
    name: str  # relative to that site directory
    data: bytes


class IncomingWheel(NamedTuple):
    """One distribution the transaction installs, with every file it will write.

    ``files`` hold the true hash of each contested member (hashed from the wheel's bytes, not
    taken from its RECORD), the RECORD's claim elsewhere, None for generated scripts.
    """

    name: str
    version: str
    wheel: str  # the wheel file
    site: str  # the directory its .dist-info goes to
    dist_info: str  # that .dist-info directory, absolute
    files: tuple[PlannedFile, ...]
    startup: tuple[StartupBytes, ...] = ()
    editable: bool = False  # an editable install of a local project (pip install -e)
    # The bytes of each contested package __init__.py: is it only a namespace declaration?
    inits: tuple[tuple[str, bytes], ...] = ()

    @property
    def shown(self) -> str:
        """The wheel's file name, as messages name it."""
        return self.wheel.rpartition("/")[2]


class TargetFacts(NamedTuple):
    """``pip install --target DIR``: which of its top-level entries pip keeps or replaces."""

    directory: str
    upgrade: bool
    existing: frozenset[str]  # top-level entries the wheels write that already stand there
    kept: frozenset[str]  # of those, what pip leaves as it is (all without --upgrade; links)


class Transaction(NamedTuple):
    """The whole install, known before pip writes its first file: built once at pip's step."""

    env: Environment
    installed: tuple[InstalledDistribution, ...]  # before the step
    wheels: tuple[IncomingWheel, ...]
    replaced: frozenset[str]  # installed names pip uninstalls first (upgrades, reinstalls)
    sites: tuple[str, ...]  # the site directories of the step, longest first
    target: TargetFacts | None = None
    python_version: tuple[int, int] = (0, 0)  # the interpreter pip installs for
    imports: ImportSystem | None = None  # its import path and suffixes

    def site_of(self, path: str) -> str:
        """Return the site directory ``path`` is shown from."""
        return next((s for s in self.sites if path.startswith(s + "/")), self.sites[-1])


class EnvironmentView(NamedTuple):
    """An installed environment, as ``check`` audits it."""

    env: Environment
    installed: tuple[InstalledDistribution, ...]
    verify: bool = False  # hash every file against its RECORD
    winners: frozenset[str] = frozenset()  # chosen in [tool.pipguard] or PIPGUARD_WINNER
