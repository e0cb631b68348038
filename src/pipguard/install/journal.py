"""The install journal: one JSON document of what the transaction installed, removed and met."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from pipguard.checks.imports import Shadowed
from pipguard.environment import InstalledDistribution, Problem
from pipguard.findings import Clash, StartupCode
from pipguard.policy import Rules

__all__ = ["check_target", "document", "is_stdout", "resolution", "write"]


def resolution(clash: Clash, harmless: bool, won: bool, word: str) -> str:
    """Return how one clash ended: ``word`` is ``prevented``, ``ignored`` or ``overwritten``."""
    if harmless:
        return "harmless"
    if won:
        return "winner"
    if word == "overwritten" and clash.kind == "removed":
        return "deleted"
    if word == "overwritten" and clash.kind == "deleted":
        return "kept" if os.path.lexists(clash.path) else "deleted"
    if word == "overwritten" and clash.kind == "skipped":
        return "not written"
    return word


def startup_entry(item: StartupCode, rules: Rules, word: str) -> dict[str, Any]:
    """Return one startup file of the transaction as the journal lists it, with how it ended.

    ``word`` is ``prevented``, ``ignored`` or ``overwritten`` (the install went ahead).
    """
    from pipguard import render
    from pipguard.policy import allowed

    entry = render.startup_to_json(item, rules)
    if not item.code or not item.changed:
        how = "harmless"
    elif entry["allowed"]:
        how = "allowed"
    else:
        how = {"overwritten": "installed"}.get(word, word)
    entry["allowed"] = allowed(item, rules)
    entry["resolution"] = how
    return entry


def document(
    *,
    policy: str,
    outcome: str,
    installed: Iterable[InstalledDistribution],
    removed: Iterable[InstalledDistribution],
    conflicts: Iterable[tuple[Clash, str]],
    directories: Iterable[tuple[str, bool]],
    restart: Sequence[str],
    partial: list[dict[str, Any]],
    problems: Iterable[Problem],
    startup: Iterable[dict[str, Any]] = (),
    shadowed: Iterable[tuple[Shadowed, str]] = (),
) -> dict[str, Any]:
    """Return the journal of one install: what was installed, removed, and every clash."""
    from pipguard import render
    from pipguard.install import pipbridge

    return {
        "version": 1,
        "pip_version": pipbridge.PIP_VERSION,
        "policy": policy,
        "installed": [_dist(d) for d in installed],
        "removed": [_dist(d) for d in removed],
        "conflicts": [render.install_to_json(c, how) for c, how in conflicts]
        + [{**render.shadowed_to_json(s), "resolution": how} for s, how in shadowed],
        "directories": [{"path": path, "bumped": bumped} for path, bumped in directories],
        "restart_needed_for": list(restart),
        "partial": partial,
        "startup": list(startup),
        "problems": [render.problem_to_json(p) for p in problems],
        "outcome": outcome,
    }


def _dist(dist: InstalledDistribution) -> dict[str, Any]:
    """Return a distribution as the journal lists it: name, version, every RECORD path."""
    return {
        "name": dist.name,
        "version": dist.version,
        "files": [entry.path for entry in dist.entries or ()],
    }


def check_target(target: str) -> str | None:
    """Return why the journal cannot be written to ``target``, checked before pip runs."""
    if target == "-":
        return None if sys.stdout is not None else "--journal -: there is no standard output"
    if not target:
        return "--journal needs a file name (or - for stdout)"
    if os.path.exists(target) and not os.path.isfile(target) and not os.path.isdir(target):
        return None  # a device or FIFO by any name (/dev/stdout): written straight
    if os.path.islink(target):
        target = os.path.realpath(target)  # written beside where the link leads
    if os.path.isdir(target):
        return f"--journal {target}: is a directory"
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        return f"--journal {target}: no such directory {parent}"
    if not os.access(parent, os.W_OK):
        return f"--journal {target}: cannot write in {parent}"
    return None


def is_stdout(target: str | None) -> bool:
    """Tell whether the journal goes to standard output (``-``, or /dev/stdout by any name)."""
    if target is None:
        return False
    if target == "-":
        return True
    try:
        journal, stdout = os.stat(target), os.fstat(sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        return False
    return (journal.st_dev, journal.st_ino) == (stdout.st_dev, stdout.st_ino)


def write(target: str, journal: dict[str, Any]) -> bool:
    """Write the journal to ``target`` (``-`` is stdout); False when it could not be."""
    text = json.dumps(journal, indent=2) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return True
    # Write beside the target and rename: a reader never sees half a journal. A link is
    # followed (the link stays); a FIFO or a device such as /dev/stdout is written straight.
    real = os.path.realpath(target) if os.path.islink(target) else target
    try:
        if os.path.exists(target) and not os.path.isfile(target):
            # Opened by its own name: /dev/stdout resolves to a pipe no path can reopen.
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
            return True
        temp = f"{real}.pipguard-tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, real)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(f"{real}.pipguard-tmp")
        print(f"pipguard: error: --journal {target}: {exc.strerror}", file=sys.stderr)
        return False
    return True
