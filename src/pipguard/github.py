"""``check --format github``: one GitHub Actions workflow command per finding.

``::error`` for what fails check, ``::warning`` for what is reported but does not fail it;
harmless findings (identical overlaps, allowed startup code) are warnings only where
``--verbose`` would show them in the table. Text is escaped as the runner reads it: ``%``,
``\\r`` and ``\\n`` in messages, and ``:`` and ``,`` as well in properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal

from pipguard.checks.deps import Dependency
from pipguard.environment import Problem
from pipguard.findings import Clash, FileState, Finding, StartupCode, Unlisted, Unwritable
from pipguard.policy import KINDS, Rules, allowed, fails_check, kind_of
from pipguard.render import group_hint, one_line, owner_lines, shown_path

if TYPE_CHECKING:
    from pipguard.check import CheckResult

__all__ = ["annotation", "check_annotations", "escape_data", "escape_property", "level_of"]

Level = Literal["error", "warning"]


def escape_data(text: str) -> str:
    """Escape a workflow command's message: ``%``, ``\\r`` and ``\\n``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value: as a message, and ``:`` and ``,`` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: Level, message: str, *, title: str, file: str | None = None) -> str:
    """Return one workflow command line: ``::error file=F,title=T::message``."""
    properties = ([f"file={escape_property(file)}"] if file else []) + [
        f"title={escape_property(title)}"
    ]
    return f"::{level} {','.join(properties)}::{escape_data(message)}"


def level_of(finding: Finding, rules: Rules, *, verbose: bool = False) -> Level | None:
    """Return how ``check --format github`` reports ``finding``: error, warning, or not at all."""
    if isinstance(finding, StartupCode) and not finding.code:
        return None  # paths only, or a standard hook: no table shows it either
    if fails_check([finding], rules):
        return "error"
    if allowed(finding, rules) and not verbose:
        return None
    return "warning"


def _startup_owner(item: StartupCode) -> str:
    if item.owner is None:
        return "no RECORD lists it"
    said = f"{item.owner} {item.version or ''}".strip()
    return said + (" (changed since installed)" if item.tampered else "")


def _described(finding: Finding, directory: bool) -> tuple[str, str, str | None]:
    """Return what ``finding`` is (its path, kind and owners), a hint, and its absolute path."""
    kind = kind_of(finding)
    if isinstance(finding, Clash):
        owners = "; ".join(owner_lines(finding))
        hint = group_hint([finding], directory=directory)
        path = None if finding.kind == "case" else finding.path
        return f"{shown_path(finding.display)}: {kind}: {owners}", hint, path
    if isinstance(finding, FileState):
        said = "other bytes than its RECORD lists" if kind == "modified" else "gone from disk"
        return f"{shown_path(finding.path)}: {kind}: {finding.owner}'s file holds {said}", "", None
    if isinstance(finding, Unlisted):
        files = "1 file" if finding.files == 1 else f"{finding.files} files"
        return f"{finding.display}: unowned: no RECORD lists it ({files})", "", finding.path
    if isinstance(finding, StartupCode):
        said = f"{finding.display}: startup: {_startup_owner(finding)}"
        return said, "This code runs at every Python start.", finding.path
    if isinstance(finding, Problem):
        who = f" ({finding.distribution})" if finding.distribution else ""
        return f"{finding.path}: problem{who}: {finding.message}", "", finding.path
    if isinstance(finding, Unwritable):
        return f"{finding.path}: unwritable: {finding.message}", "", None
    if isinstance(finding, Dependency):
        installed = finding.installed or "not installed"
        said = f"{finding.distribution} {finding.version} requires {finding.requirement}"
        return f"{said}: dependency: installed: {installed}", "", None
    gives = [f"{o.name} {o.version} ({o.path})" for o in finding.owners if o.imported]
    dead = [f"{o.name} {o.version} ({o.path})" for o in finding.owners if not o.imported]
    said = "the standard library" if finding.stdlib else ", ".join(gives) or finding.winner
    path = f"{finding.site}/{finding.path}" if finding.site and finding.path else None
    what = f"import {finding.import_name}: shadowed: gives {said}; never imported: "
    return what + ", ".join(dead), "", path


def check_annotations(
    result: CheckResult,
    rules: Rules,
    *,
    verbose: bool = False,
    is_file: Callable[[str], bool] = lambda path: False,
) -> Iterator[str]:
    """Yield the workflow command of each finding ``check --format github`` reports.

    ``is_file`` tells which absolute paths are files in the environment: they get a
    ``file=`` property.
    """
    directory = result.environment.python is None
    for finding in result.findings:
        level = level_of(finding, rules, verbose=verbose)
        if level is None:
            continue
        kind = kind_of(finding)
        what, hint, path = _described(finding, directory)
        # Names and paths come from RECORDs: shown, never a line of their own.
        message = "\n".join(one_line(part) for part in (what, hint) if part)
        title = f"pipguard {KINDS[kind].code}: {kind}"
        yield annotation(level, message, title=title, file=path if path and is_file(path) else None)
