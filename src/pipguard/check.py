"""``pipguard check``: read an environment, index its owners, and find its clashes."""

from __future__ import annotations

import os
from typing import NamedTuple

from pipguard.detect import Clash, FileState, find_case_clashes, find_clashes, judge, verify
from pipguard.environment import (
    Environment,
    InstalledDistribution,
    Problem,
    Refused,
    open_inside,
    read_distributions,
    resolve_inside,
)
from pipguard.ownership import OwnershipIndex, build_index
from pipguard.records import record_hash

__all__ = ["CheckResult", "DiskHasher", "ExistingPaths", "run_check", "scan"]

_CHUNK = 1 << 20


class DiskHasher:
    """Hash files inside the environment on demand, never following a link out of it."""

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots
        self.problems: list[Problem] = []
        self._cache: dict[tuple[str, str], str | None] = {}

    def __call__(self, path: str, algorithm: str) -> str | None:
        """Return ``path``'s hash in RECORD form, or None when there is no such file."""
        key = (path, algorithm)
        if key not in self._cache:
            self._cache[key] = self._hash(path, algorithm)
        return self._cache[key]

    def _hash(self, path: str, algorithm: str) -> str | None:
        if not os.path.lexists(path):
            return None
        real, inside = resolve_inside(path, self.roots)
        if not inside:
            self.problems.append(
                Problem(None, path, f"is a link to {real}, outside the environment; not followed")
            )
            return "outside"
        import hashlib  # only a clash or --verify reads a file

        if algorithm not in hashlib.algorithms_available:
            return "unknown-algorithm"
        digest = hashlib.new(algorithm)
        try:
            with open_inside(real, self.roots) as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except Refused as exc:
            self.problems.append(Problem(None, path, f"{exc}; not hashed"))
            return "not-a-file"
        except OSError as exc:
            self.problems.append(Problem(None, path, f"unreadable: {exc.strerror}"))
            return "unreadable"
        return record_hash(algorithm, digest.digest())


class ExistingPaths:
    """Answer "is anything at this path?" from one listing per directory, not a stat per file."""

    def __init__(self) -> None:
        self._listings: dict[str, frozenset[str]] = {}

    def __call__(self, path: str) -> bool:
        """Tell whether ``path`` exists (a broken link counts, as with ``os.path.lexists``)."""
        parent, _, name = path.rpartition("/")
        listing = self._listings.get(parent)
        if listing is None:
            try:
                listing = frozenset(os.listdir(parent or "/"))
            except OSError:
                listing = frozenset()
            self._listings[parent] = listing
        return name in listing


class CheckResult(NamedTuple):
    """What ``check`` found in one environment."""

    environment: Environment
    distributions: int
    files: int
    clashes: list[Clash]
    modified: list[FileState]
    missing: list[FileState]
    problems: list[Problem]


def scan(env: Environment) -> tuple[list[InstalledDistribution], OwnershipIndex, list[Problem]]:
    """Read every distribution of ``env`` and index the paths their RECORDs list."""
    dists, problems = read_distributions(env)
    index, index_problems = build_index(dists, env.roots, env.target_layout)
    return dists, index, problems + index_problems


def run_check(env: Environment, *, full_verify: bool = False) -> CheckResult:
    """Audit ``env``: every clash judged against the disk, and with ``full_verify`` every file."""
    dists, index, problems = scan(env)
    hasher = DiskHasher(env.roots)
    # An identical overlap is harmless whatever the disk holds (a changed file is --verify's
    # finding): only the other clashes are hashed, unless every file is.
    clashes = [
        clash if clash.kind == "identical" and not full_verify else judge([clash], hasher)[0]
        for clash in find_clashes(index) + find_case_clashes(index)
    ]
    modified: list[FileState] = []
    missing: list[FileState] = []
    if full_verify:
        differing = {clash.path for clash in clashes if clash.kind == "differing"}
        modified, missing = verify(index, hasher, differing)
    return CheckResult(
        environment=env,
        distributions=len(dists),
        files=len(index),
        clashes=clashes,
        modified=modified,
        missing=missing,
        problems=problems + hasher.problems,
    )
