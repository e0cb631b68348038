"""``pipguard check``: read an environment, index its owners, and run the checks over it."""

from __future__ import annotations

from typing import NamedTuple

from pipguard import checks
from pipguard.checks.deps import Dependency
from pipguard.checks.imports import Shadowed
from pipguard.disk import Disk
from pipguard.environment import Environment, InstalledDistribution, Problem, read_distributions
from pipguard.findings import Clash, FileState, Finding, StartupCode, Unlisted
from pipguard.managed import adopt
from pipguard.ownership import OwnershipIndex, build_index
from pipguard.views import EnvironmentView

__all__ = ["CheckResult", "run_check", "scan"]


class CheckResult(NamedTuple):
    """What ``check`` found in one environment."""

    environment: Environment
    distributions: int
    files: int
    clashes: list[Clash]
    modified: list[FileState]
    missing: list[FileState]
    problems: list[Problem]
    unlisted: list[Unlisted]
    dependencies: list[Dependency]
    startup: list[StartupCode]
    shadowed: list[Shadowed]
    # (name, version, package) of each distribution the system package manager's lists own.
    managed: tuple[tuple[str, str, str], ...] = ()

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the check, whatever its kind."""
        return [
            *self.clashes,
            *self.startup,
            *self.shadowed,
            *self.modified,
            *self.missing,
            *self.unlisted,
            *self.dependencies,
            *self.problems,
        ]


def scan(
    env: Environment, *, sums: bool = False, dpkg_root: str | None = None
) -> tuple[list[InstalledDistribution], OwnershipIndex, list[Problem]]:
    """Read every distribution of ``env`` and index the paths their RECORDs list.

    Distributions without a RECORD that the system package manager lists are owned through
    its lists (see pipguard.managed; ``sums``: with its MD5s, ``dpkg_root``: its database).
    """
    dists, problems = read_distributions(env)
    dists, problems = adopt(dists, problems, env.roots, root=dpkg_root, sums=sums)
    index, index_problems = build_index(dists, env.roots, env.target_layout)
    return dists, index, problems + index_problems


def run_check(
    env: Environment,
    *,
    full_verify: bool = False,
    winners: frozenset[str] = frozenset(),
    dpkg_root: str | None = None,
) -> CheckResult:
    """Audit ``env``: every check over its distributions, and with ``full_verify`` every file."""
    dists, index, problems = scan(env, sums=full_verify, dpkg_root=dpkg_root)
    disk = Disk(env.roots)
    view = EnvironmentView(env, tuple(dists), verify=full_verify, winners=winners)
    found = checks.run_environment(view, index, disk)
    return CheckResult(
        environment=env,
        distributions=len(dists),
        files=len(index),
        clashes=[f for f in found if isinstance(f, Clash)],
        modified=[f for f in found if isinstance(f, FileState) and f.kind == "modified"],
        missing=[f for f in found if isinstance(f, FileState) and f.kind == "missing"],
        problems=problems + [f for f in found if isinstance(f, Problem)] + disk.problems,
        unlisted=[f for f in found if isinstance(f, Unlisted)],
        dependencies=[f for f in found if isinstance(f, Dependency)],
        startup=[f for f in found if isinstance(f, StartupCode)],
        shadowed=[f for f in found if isinstance(f, Shadowed)],
        managed=tuple((d.name, d.version, d.manager) for d in dists if d.manager is not None),
    )
