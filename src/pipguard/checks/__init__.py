"""The checks: pure functions of one shape, run as one list by ``install`` and ``check`` alike.

A check looks at a view — the transaction an install is about to carry out, or an installed
environment — with the ownership index of what is installed, and reaches the disk only through
the :class:`~pipguard.disk.Disk` passed in. It returns typed findings (``pipguard.findings``);
what blocks an install or fails a check is decided once, by kind, in ``pipguard.policy``.

A new kind of finding is one module here and one line in :data:`CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from pipguard.checks import (
    bytecode,
    case,
    clashes,
    deps,
    files,
    shadowing,
    startup,
    target,
    unwritable,
    upgrades,
)

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.findings import Finding
    from pipguard.ownership import OwnershipIndex
    from pipguard.views import EnvironmentView, Transaction

__all__ = ["CHECKS", "Check", "CheckFailed", "run_environment", "run_transaction"]

TransactionCheck = Callable[["Transaction", "OwnershipIndex", "Disk"], "list[Finding]"]
EnvironmentCheck = Callable[["EnvironmentView", "OwnershipIndex", "Disk"], "list[Finding]"]


class Check(NamedTuple):
    """One check: its name, and what it does to a transaction and to an environment (if any)."""

    name: str
    transaction: TransactionCheck | None
    environment: EnvironmentCheck | None


class CheckFailed(Exception):
    """A check raised: reported naming the check, never as a bare traceback."""


# In order: the findings of each come before those of the next.
CHECKS: tuple[Check, ...] = (
    Check("unwritable", unwritable.in_transaction, None),
    Check("clashes", clashes.in_transaction, clashes.in_environment),
    Check("case", None, case.in_environment),
    Check("target", target.in_transaction, None),
    Check("upgrades", upgrades.in_transaction, None),
    Check("bytecode", bytecode.in_transaction, bytecode.in_environment),
    Check("startup", startup.in_transaction, startup.in_environment),
    Check("shadowed", shadowing.in_transaction, shadowing.in_environment),
    Check("files", None, files.in_environment),
    Check("dependencies", None, deps.in_environment),
)


def _run(
    checks: Sequence[tuple[str, Callable[[Any, OwnershipIndex, Disk], list[Finding]] | None]],
    view: Any,
    index: OwnershipIndex,
    disk: Disk,
) -> list[Finding]:
    found: list[Finding] = []
    for name, check in checks:
        if check is None:
            continue
        try:
            found += check(view, index, disk)
        except Exception as exc:
            raise CheckFailed(f"the {name} check failed: {type(exc).__name__}: {exc}") from exc
    return found


def run_transaction(
    view: Transaction, index: OwnershipIndex, disk: Disk, checks: Sequence[Check] = CHECKS
) -> list[Finding]:
    """Run every check that applies to a transaction; return their findings in order."""
    return _run([(check.name, check.transaction) for check in checks], view, index, disk)


def run_environment(
    view: EnvironmentView, index: OwnershipIndex, disk: Disk, checks: Sequence[Check] = CHECKS
) -> list[Finding]:
    """Run every check that applies to an installed environment; return their findings."""
    return _run([(check.name, check.environment) for check in checks], view, index, disk)
