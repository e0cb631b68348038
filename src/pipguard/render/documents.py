"""JSON documents: check's, the journal's clashes, problems and startup files."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipguard.environment import Problem
from pipguard.findings import Clash, FileState, StartupCode
from pipguard.render.text import json_text

if TYPE_CHECKING:
    from pipguard.check import CheckResult
    from pipguard.checks.imports import Shadowed
    from pipguard.policy import Rules

__all__ = [
    "check_to_json",
    "clash_to_json",
    "install_to_json",
    "problem_to_json",
    "shadowed_to_json",
    "startup_to_json",
]


def clash_to_json(clash: Clash) -> dict[str, Any]:
    """Return the JSON form of one clash, as ``check --format json`` documents it."""
    owners = []
    for owner in clash.owners:
        item: dict[str, Any] = {
            "name": owner.name,
            "version": owner.version,
            "hash": owner.hash,
            "matches_disk": owner.matches_disk,
        }
        if clash.kind == "case":
            item["path"] = owner.path
        owners.append(item)
    document = {
        "path": clash.display,
        "kind": clash.kind,
        "owners": owners,
        "winner": clash.winner,
        "chosen": clash.chosen,
    }
    if clash.kind == "bytecode":
        document["source"] = _bytecode_source(clash)
    return document


def _bytecode_source(clash: Clash) -> str:
    """The source file a ``bytecode`` clash's .pyc stands in for, shown as its path is."""
    from pipguard.checks.bytecode import source_of

    leaf = source_of("/" + clash.display)
    return leaf[1:]


def shadowed_to_json(item: Shadowed) -> dict[str, Any]:
    """Return the JSON form of a shadowed import name, as ``conflicts`` lists it."""
    return {
        "kind": "shadowed",
        "import_name": json_text(item.import_name),
        "path": item.path and json_text(item.path),
        "site": item.site and json_text(item.site),
        "owners": [
            {
                "name": owner.name,
                "version": owner.version,
                "path": json_text(owner.path),
                "site": json_text(owner.site),
                "imported": owner.imported,
            }
            for owner in item.owners
        ],
        "winner": item.winner,
    }


def install_to_json(clash: Clash, resolution: str) -> dict[str, Any]:
    """Return the journal form of a clash met by an install: check's form plus its resolution."""
    document = clash_to_json(clash)
    for item, owner in zip(document["owners"], clash.owners):
        item["incoming"] = owner.incoming
    document["resolution"] = resolution
    return document


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """Return the JSON form of one problem."""
    return {
        "distribution": problem.distribution and json_text(problem.distribution),
        "path": json_text(problem.path),
        "message": json_text(problem.message),
    }


def _states(states: Iterable[FileState]) -> list[dict[str, str]]:
    return [{"path": state.path, "owner": state.owner} for state in states]


def startup_to_json(item: StartupCode, rules: Rules) -> dict[str, Any]:
    """Return the JSON form of one startup file: its owner, kind, whether allowed, its lines."""
    from pipguard.policy import allowed

    return {
        "path": json_text(item.display),
        "owner": item.owner,
        "kind": item.file.kind,
        "allowed": allowed(item, rules),
        "lines": [json_text(line.text) for line in item.file.lines if line.role in _DOING],
    }


# The lines of a startup file that do something (see checks.startup_files.LineRole).
_DOING = frozenset({"import", "import-suppressed", "path-inside", "path-outside", "entry-point"})


def check_to_json(result: CheckResult, rules: Rules | None = None) -> dict[str, Any]:
    """Return the one JSON document ``check --format json`` prints."""
    from pipguard.policy import Rules

    rules = rules or Rules()
    return {
        "version": 1,
        "environment": {
            "python": result.environment.python,
            "paths": [json_text(path) for path in result.environment.scan_dirs],
        },
        "distributions": result.distributions,
        "files": result.files,
        "managed": [
            {"name": name, "version": version, "manager": json_text(manager)}
            for name, version, manager in result.managed
        ],
        "conflicts": [clash_to_json(clash) for clash in result.clashes]
        + [shadowed_to_json(item) for item in result.shadowed],
        "modified": _states(result.modified),
        "missing": _states(result.missing),
        "unowned": [
            {"path": json_text(entry.display), "files": entry.files} for entry in result.unlisted
        ],
        "dependencies": [
            {
                "distribution": d.distribution,
                "version": d.version,
                "requirement": json_text(d.requirement),
                "installed": d.installed,
            }
            for d in result.dependencies
        ],
        "startup": [startup_to_json(item, rules) for item in result.startup],
        "problems": [problem_to_json(problem) for problem in result.problems],
    }
