"""Rendering of findings: JSON documents and rich tables. Takes findings, returns values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

from pipguard.environment import Problem
from pipguard.findings import Clash, FileState, StartupCode, Unlisted
from pipguard.sizing import Collapsed, clash_rows, more

if TYPE_CHECKING:
    from rich.console import RenderableType

    from pipguard.check import CheckResult
    from pipguard.checks.deps import Dependency
    from pipguard.checks.imports import ImportOwner, Shadowed
    from pipguard.policy import Rules

__all__ = [
    "check_summary",
    "check_to_json",
    "clash_tables",
    "clash_to_json",
    "file_state_table",
    "group_hint",
    "install_to_json",
    "one_line",
    "overwritten_summary",
    "owner_lines",
    "problem_table",
    "problem_to_json",
    "shown_path",
    "stop_summary",
    "visible",
]


# Control characters from RECORDs and METADATA (ANSI escapes among them) are shown, not obeyed.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), *range(127, 160)) if c != 10}


def visible(text: str) -> str:
    """Return ``text`` with control characters (newline excepted) written as ``\\xNN``."""
    return text.translate(_CONTROLS)


def one_line(text: str) -> str:
    """Return ``text`` with every control character, newline included, written as ``\\xNN``.

    For names and paths printed in a message or a table cell: a newline from a RECORD or a
    directory name must not start a line that looks like pipguard's own.
    """
    return visible(text).replace("\n", "\\x0a")


def shown_path(display: str) -> str:
    """Return a RECORD-form path as a table shows it: ``../../../bin/tool`` as ``bin/tool``.

    Rows that climb out of site-packages land in the environment's other directories; read
    from the directory they climb to, they stay short and recognisable at 80 columns.
    """
    while display.startswith("../"):
        display = display[3:]
    return display


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
        "import_name": _json_text(item.import_name),
        "path": item.path and _json_text(item.path),
        "site": item.site and _json_text(item.site),
        "owners": [
            {
                "name": owner.name,
                "version": owner.version,
                "path": _json_text(owner.path),
                "site": _json_text(owner.site),
                "imported": owner.imported,
            }
            for owner in item.owners
        ],
        "winner": item.winner,
    }


def _site_shown(site: str, sites: Sequence[str]) -> str:
    """Return ``site`` as seen from above the common directory of ``sites``."""
    import posixpath

    top = posixpath.dirname(posixpath.commonpath(sites))
    return posixpath.relpath(site, top) if top not in ("", "/") else site


def _claim(owner: ImportOwner, sites: Sequence[str]) -> str:
    """``name version (path in site)``, the site shown from above the sites' common directory."""
    if len(set(sites)) < 2:
        return f"{owner.name} {owner.version} ({owner.path})"
    return f"{owner.name} {owner.version} ({owner.path} in {_site_shown(owner.site, sites)})"


def _layer_note(items: Sequence[Shadowed], planned: bool) -> str:
    """Say which site directory pip writes to, and where it stands among the others on sys.path."""
    notes: dict[str, None] = {}
    for item in items:
        sites = list(dict.fromkeys(owner.site for owner in item.owners))
        if item.writes_to is None or item.writes_to not in sites or len(sites) < 2:
            continue
        at = sites.index(item.writes_to)
        shown = [_site_shown(site, sites) for site in sites]
        said = f"pip {'writes' if planned else 'wrote'} to {shown[at]}"
        if at:
            said += f", after {', '.join(shown[:at])}"
        if at + 1 < len(shown):
            said += f", before {', '.join(shown[at + 1 :])}"
        notes.setdefault(f"{said} on sys.path.")
    return " ".join(notes)


def shadowed_table(items: Sequence[Shadowed], *, planned: bool = False) -> RenderableType:
    """Return a table of import names only one of their distributions gives, and a hint."""
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=Text("shadowed import names", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=True,
    )
    table.add_column("import", overflow="fold")
    table.add_column("gives", overflow="fold")
    table.add_column("never imported", overflow="fold")
    for item in items:
        sites = [owner.site for owner in item.owners]
        gives = [_claim(o, sites) for o in item.owners if o.imported]
        if item.stdlib:
            gives = ["the standard library"]
        dead = [_claim(o, sites) for o in item.owners if not o.imported]
        table.add_row(
            Text(one_line(item.import_name)),
            Text(one_line("\n".join(gives) or item.winner)),
            Text(one_line("\n".join(dead)).replace("\\x0a", "\n")),
        )
    dead_names = sorted({name for item in items for name in item.dead})
    if all(item.stdlib for item in items):
        hint = (
            f"The standard library comes first: {', '.join(dead_names)} is a backport this "
            "Python does not need (harmless; --strict fails on it)."
        )
    elif planned:
        hint = (
            f"After this install, {', '.join(dead_names)}'s code under these names would never "
            "be imported. Leave one of them out; to install anyway, --on-conflict warn."
        )
    else:
        hint = (
            f"{', '.join(dead_names)}'s code under these names is never imported: keep one of "
            f"them (pipguard uninstall {' '.join(dead_names)})."
        )
    note = _layer_note(items, planned)
    hint = f"{hint} {note}" if note else hint
    return Group(table, Padding(Text(one_line(hint)), (0, 0, 1, 1)))


def install_to_json(clash: Clash, resolution: str) -> dict[str, Any]:
    """Return the journal form of a clash met by an install: check's form plus its resolution."""
    document = clash_to_json(clash)
    for item, owner in zip(document["owners"], clash.owners):
        item["incoming"] = owner.incoming
    document["resolution"] = resolution
    return document


def _json_text(text: str) -> str:
    """Return a file name as valid Unicode: bytes that were not UTF-8 become ``\\xNN``.

    Python keeps such bytes as lone surrogates, which strict JSON parsers reject.
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """Return the JSON form of one problem."""
    return {
        "distribution": problem.distribution and _json_text(problem.distribution),
        "path": _json_text(problem.path),
        "message": _json_text(problem.message),
    }


def _states(states: Iterable[FileState]) -> list[dict[str, str]]:
    return [{"path": state.path, "owner": state.owner} for state in states]


def startup_to_json(item: StartupCode, rules: Rules) -> dict[str, Any]:
    """Return the JSON form of one startup file: its owner, kind, whether allowed, its lines."""
    from pipguard.policy import allowed

    return {
        "path": _json_text(item.display),
        "owner": item.owner,
        "kind": item.file.kind,
        "allowed": allowed(item, rules),
        "lines": [_json_text(line.text) for line in item.file.lines if line.role in _DOING],
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
            "paths": [_json_text(path) for path in result.environment.scan_dirs],
        },
        "distributions": result.distributions,
        "files": result.files,
        "managed": [
            {"name": name, "version": version, "manager": _json_text(manager)}
            for name, version, manager in result.managed
        ],
        "conflicts": [clash_to_json(clash) for clash in result.clashes]
        + [shadowed_to_json(item) for item in result.shadowed],
        "modified": _states(result.modified),
        "missing": _states(result.missing),
        "unowned": [
            {"path": _json_text(entry.display), "files": entry.files} for entry in result.unlisted
        ],
        "dependencies": [
            {
                "distribution": d.distribution,
                "version": d.version,
                "requirement": _json_text(d.requirement),
                "installed": d.installed,
            }
            for d in result.dependencies
        ],
        "startup": [startup_to_json(item, rules) for item in result.startup],
        "problems": [problem_to_json(problem) for problem in result.problems],
    }


def _count(number: int, word: str, plural: str | None = None) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {plural or word + 's'}"


def check_summary(result: CheckResult) -> str:
    """Return the one-line summary ``check`` prints on stderr."""
    kinds = {
        kind: sum(1 for c in result.clashes if c.kind == kind)
        for kind in ("differing", "identical", "case", "bytecode", "namespace")
    }
    parts = [
        _count(kinds["differing"], "differing clash", "differing clashes"),
        f"{_count(kinds['identical'], 'identical overlap')} (harmless)",
    ]
    if kinds["case"]:
        parts.append(_count(kinds["case"], "case-only clash", "case-only clashes"))
    if kinds["namespace"]:
        parts.append(f"{_count(kinds['namespace'], 'namespace declaration')} (harmless)")
    if kinds["bytecode"]:
        parts.append(_count(kinds["bytecode"], "foreign bytecode file"))
    if result.modified or result.missing:
        parts.append(f"{len(result.modified)} modified, {len(result.missing)} missing")
    if result.unlisted:
        parts.append(_count(len(result.unlisted), "unowned entry", "unowned entries"))
    if result.dependencies:
        parts.append(_count(len(result.dependencies), "unmet requirement"))
    if result.shadowed:
        parts.append(_count(len(result.shadowed), "shadowed import name"))
    code = sum(1 for item in result.startup if item.code)
    if code:
        parts.append(_count(code, "startup file", "startup files") + " with code")
    parts.append(_count(len(result.problems), "problem"))
    managers = ", ".join(sorted({manager.partition(":")[0] for _, _, manager in result.managed}))
    managed = f" ({len(result.managed)} owned through {managers})" if managers else ""
    return (
        f"pipguard: {_count(result.distributions, 'distribution')}{managed}, "
        f"{_count(result.files, 'file')}: " + ", ".join(parts)
    )


def _bytecode_hint(clashes: Sequence[Clash], planned: bool) -> str:
    shipping = sorted({o.name for c in clashes for o in c.owners if o.path == c.path})
    sources = sorted({o.name for c in clashes for o in c.owners if o.path != c.path})
    whose = f"{', '.join(sources)}'s source" if sources else "a source that is not there"
    said = (
        f"{', '.join(shipping)} {'would write' if planned else 'wrote'} bytecode without its "
        f"source: Python imports it instead of {whose} (an unchecked-hash .pyc is never "
        "compared with the source). "
    )
    if planned:
        return said + "Leave it out of the install; to install anyway, --on-conflict warn."
    repair = f", then pipguard repair {' '.join(sources)}" if sources else ""
    return said + f"pipguard uninstall {' '.join(shipping)}{repair}."


_NAMESPACE_HINT = (
    "Harmless: each owner's __init__.py only declares the namespace package, which they all "
    "need; their bytes differ in comments or spelling."
)


def planned_hint(clashes: Sequence[Clash]) -> str:
    """Return one sentence on a group of clashes an install would cause, before it writes."""
    incoming = sorted({o.name for c in clashes for o in c.owners if o.incoming})
    installed = sorted({o.name for c in clashes for o in c.owners if not o.incoming})
    if all(clash.kind == "namespace" for clash in clashes):
        return _NAMESPACE_HINT
    if all(clash.harmless for clash in clashes):
        return "Harmless: the files already hold the same bytes."
    if any(clash.kind == "bytecode" for clash in clashes):
        return _bytecode_hint(clashes, planned=True)
    if any(clash.kind == "deleted" for clash in clashes):
        return (
            f"Installing {', '.join(incoming)} uninstalls the version installed first, and "
            f"{', '.join(installed)} still list{'s' if len(installed) == 1 else ''} these files: "
            "pip would delete them. With --on-conflict warn pipguard keeps them."
        )
    if any(clash.kind == "skipped" for clash in clashes):
        return (
            "pip install --target leaves a top-level entry that already exists as it is (it only "
            f"warns): these files of {', '.join(incoming)} would not be written. Install into an "
            "empty --target directory, or add --upgrade to replace the entry whole (and lose "
            "what else it holds)."
        )
    if any(clash.kind == "removed" for clash in clashes):
        whose = f"of {', '.join(installed)}" if installed else "(no RECORD lists them)"
        return (
            "pip install --target --upgrade replaces each top-level directory it writes, whole: "
            f"installing {', '.join(incoming)} would delete these files {whose}. Install them "
            "into separate --target directories, or leave out --upgrade."
        )
    if installed:
        return (
            f"Installing {', '.join(incoming)} would overwrite files of {', '.join(installed)} "
            f"with different content. Keep one of them, choose whose copy stays with "
            f"--winner {incoming[0]} (or --winner {installed[0]}), or let the last writer win "
            "with --on-conflict warn."
        )
    if any(clash.kind == "unowned" for clash in clashes):
        return (
            f"{', '.join(incoming)} would overwrite files no installed distribution lists "
            "(left by another tool or another Python?). Remove them, or --on-conflict warn."
        )
    return (
        f"{' and '.join(incoming)} both write these files: whichever pip installs last wins. "
        f"Install only one of them, choose whose copy stays with --winner {incoming[0]}, "
        "or --on-conflict warn."
    )


def group_hint(clashes: Sequence[Clash], *, directory: bool = False) -> str:
    """Return one sentence on what to do about a group of clashes (one top-level name).

    The commands named are pipguard's: ``pip uninstall`` of a loser would delete the files the
    winner still needs. In a plain ``directory`` (``--target``, ``check --path``) there is no
    interpreter to uninstall from or repair in: the way out is to build it again.
    """
    names = sorted({owner.name for clash in clashes for owner in clash.owners})
    real = [clash for clash in clashes if clash.kind == "differing"]
    gone = sorted(
        {o.name for c in clashes if c.kind == "removed" for o in c.owners if not o.incoming}
    )
    if any(clash.kind == "bytecode" for clash in clashes):
        return _bytecode_hint(clashes, planned=False)
    if any(clash.kind == "skipped" for clash in clashes):
        missing = sorted({o.name for c in clashes for o in c.owners if o.incoming})
        return (
            f"pip left the entries that stood here as they were: these files of "
            f"{', '.join(missing)} were not written. Reinstall into an empty --target directory."
        )
    if any(clash.kind == "removed" for clash in clashes):
        whose = f" of {', '.join(gone)}" if gone else ""
        return (
            f"pip deleted these files{whose} with the directory it replaced. Reinstalling "
            f"{' and '.join(gone) or 'what needs them'} puts them back and deletes the others' "
            "in turn: give them separate --target directories."
        )
    if any(clash.kind == "unowned" for clash in clashes) and not real:
        return "These files, which no distribution listed, were overwritten by the install."
    if not real:
        if any(clash.kind == "case" for clash in clashes):
            return "These paths are one file on macOS and Windows: the last install wins there."
        if all(clash.kind == "namespace" for clash in clashes):
            return _NAMESPACE_HINT
        return "Harmless: every owner ships the same bytes."
    chosen = sorted({clash.chosen for clash in real if clash.chosen})
    if real and len(chosen) == 1 and all(clash.chosen == chosen[0] for clash in real):
        if all(clash.winner == chosen[0] for clash in real):
            return (
                f"{chosen[0]}'s copy stays, as chosen (--winner {chosen[0]}, recorded in its "
                "metadata or configured): no action needed."
            )
        return (
            f"{chosen[0]} was chosen to win these files, but another copy is on disk now (plain "
            f"pip wrote it back?): pipguard repair {chosen[0]}"
        )
    winners = sorted({clash.winner for clash in real if clash.winner})
    winner = winners[0] if winners else ""
    # A loser's copy is known not to be on disk; an unreadable file or a row without a hash
    # says nothing about who won.
    losers = sorted({o.name for c in real for o in c.owners if o.matches_disk is False} - {winner})
    unknown = any(o.matches_disk is None for c in real for o in c.owners)
    if len(winners) == 1 and all(clash.winner for clash in real) and losers:
        lost = f"{', '.join(losers)} lost to {winner}: these files are {winner}'s copies now. "
        if directory:
            return lost + (
                f"pip cannot uninstall from a plain directory: to keep only {winner}, install "
                f"again into an empty one without {' and '.join(losers)}."
            )
        return lost + (
            f"To keep only {winner}: pipguard uninstall --on-conflict warn {' '.join(losers)}; "
            f"to keep both on purpose, install with --winner {winner}."
        )
    if len(winners) == 1 and all(clash.winner for clash in real):
        return (
            f"These files hold {winner}'s copy; the other owners' copies cannot be compared "
            "(no hash in their RECORD, or the file could not be read)."
        )
    if not winners and unknown:
        return (
            f"{' and '.join(names)} both list these files, and which copy is on disk could "
            "not be told (the problems below say why)."
        )
    if directory:
        return (
            f"{' and '.join(names)} overwrote each other here. pip cannot uninstall or repair "
            "in a plain directory: install again into an empty one, one copy of each file."
        )
    if len(names) == 1:
        return (
            f"{names[0]} is installed more than once here, and its copies overwrote each other: "
            f"pipguard repair {names[0]}"
        )
    return (
        f"{' and '.join(names)} overwrote each other"
        + ("" if winners else ", and no owner's copy is on disk")
        + ": pipguard uninstall --on-conflict warn all but one, then pipguard repair the one "
        "you keep."
    )


def stop_summary(
    clashes: Sequence[Clash],
    startup: Sequence[StartupCode] = (),
    shadowed: Sequence[Shadowed] = (),
) -> str:
    """Return the sentence that stops an install before it writes, naming what it would do."""
    removed = [clash for clash in clashes if clash.kind in ("removed", "deleted")]
    skipped = [clash for clash in clashes if clash.kind == "skipped"]
    overwritten = [c for c in clashes if c.kind not in ("removed", "skipped", "deleted")]
    parts = []
    if overwritten:
        names = one_line(", ".join(sorted({o.name for c in overwritten for o in c.owners})))
        parts.append(
            f"{_count(len(overwritten), 'file')} would be overwritten with different content "
            f"({names})"
        )
    if removed:
        losers = sorted({o.name for c in removed for o in c.owners if not o.incoming})
        whose = f" of {one_line(', '.join(losers))}" if losers else ""
        parts.append(f"{_count(len(removed), 'file')}{whose} would be deleted")
    if skipped:
        names = one_line(
            ", ".join(sorted({o.name for c in skipped for o in c.owners if o.incoming}))
        )
        parts.append(
            f"{_count(len(skipped), 'file')} of {names} would not be written (pip --target "
            "keeps the entries that exist)"
        )
    if shadowed:
        names = one_line(", ".join(sorted({s.import_name for s in shadowed})))
        parts.append(f"{_count(len(shadowed), 'import name')} would be shadowed ({names})")
    starting = sorted({s.owner or "-" for s in startup})
    if startup:
        parts.append(
            f"{_count(len(startup), 'startup file')} of {one_line(', '.join(starting))} would "
            "run code at every Python start"
        )
    advice = []
    if overwritten:
        advice.append("to choose whose copy stays, add --winner NAME")
    if startup:
        advice.append(
            "to let trusted startup code in, add "
            + " ".join(f"--allow-startup {one_line(n)}" for n in starting if n != "-")
        )
    advice.append("to install anyway, add --on-conflict warn")
    advice_text = "; ".join(advice)
    return (
        f"pipguard: stopped before writing anything: {' and '.join(parts)}. "
        f"{advice_text[0].upper()}{advice_text[1:]}."
    )


def overwritten_summary(clashes: Sequence[Clash]) -> str:
    """Return the sentence after an install that went ahead over real clashes (``warn``)."""
    shared = sum(1 for clash in clashes if clash.kind not in ("unowned", "removed", "skipped"))
    unowned = sum(1 for clash in clashes if clash.kind == "unowned")
    skipped = sum(1 for clash in clashes if clash.kind == "skipped")
    removed = len(clashes) - shared - unowned - skipped
    parts = []
    if skipped:
        verb = "was" if skipped == 1 else "were"
        parts.append(f"{_count(skipped, 'file')} of this install {verb} not written")
    if removed:
        verb = "was" if removed == 1 else "were"
        parts.append(f"{_count(removed, 'file')} of other distributions {verb} deleted")
    if shared:
        verb = "now belongs" if shared == 1 else "now belong"
        parts.append(f"{_count(shared, 'file')} {verb} to more than one distribution")
    if unowned:
        verb = "was" if unowned == 1 else "were"
        parts.append(f"{_count(unowned, 'file')} that no distribution listed {verb} overwritten")
    whose = "; the table names whose copy is on disk" if len(parts) > bool(skipped) else ""
    return "; ".join(parts) + whose + "."


# What pip --target does to each owner of a ``removed`` or ``skipped`` file:
# kind -> (installed owner, incoming owner) -> (before the step, after it).
_TARGET_MARKS = {
    "removed": (
        ("installed, deleted", "deleted"),
        ("replaces the directory", "replaced the directory"),
    ),
    "skipped": (("installed, kept", "kept"), ("incoming, not written", "not written")),
    "deleted": (
        ("installed, would be deleted", "kept"),
        ("upgrade removes it", "removed it"),
    ),
}


def owner_lines(clash: Clash, *, planned: bool = False) -> list[str]:
    """Return each owner of ``clash`` as its table cell shows it: ``name version (mark)``."""
    return _owner_cell(clash, planned).split("\n")


def _owner_cell(clash: Clash, planned: bool) -> str:
    lines = []
    for owner in clash.owners:
        marks = _TARGET_MARKS.get(clash.kind)
        if clash.kind == "bytecode":
            mark = "bytecode, no source" if owner.path == clash.path else "source"
            if planned:
                mark = f"{'incoming' if owner.incoming else 'installed'}, {mark}"
        elif marks is not None:
            mark = marks[owner.incoming][not planned]
        elif planned:
            mark = "incoming" if owner.incoming else "installed"
        elif clash.kind == "case":
            mark = owner.path.rsplit("/", 2)[-2] if "/" in owner.path else owner.path
            mark = f"as {mark}"
        elif owner.hash is None:
            mark = "no hash"
        elif clash.kind == "namespace":
            mark = "declares the namespace"
        elif clash.kind == "identical":
            # Hashed against the disk only by --verify.
            mark = {None: "same hash", True: "same", False: "modified"}[owner.matches_disk]
        elif owner.matches_disk is None:
            mark = "unreadable"
        else:
            mark = "on disk" if owner.matches_disk else "lost"
            if owner.name == clash.chosen:
                mark += ", chosen"
        lines.append(f"{owner.name} {owner.version} ({mark})")
    if clash.kind == "removed" and all(owner.incoming for owner in clash.owners):
        lines.append("no owner (deleted)" if planned else "no owner (was deleted)")
    if clash.kind == "unowned":
        replaced = not planned and any(owner.matches_disk for owner in clash.owners)
        lines.append(f"no owner ({'overwritten' if replaced else 'on disk'})")
    return "\n".join(lines)


def clash_tables(
    clashes: Sequence[Clash],
    *,
    verbose: bool = False,
    planned: bool = False,
    directory: bool = False,
) -> list[RenderableType]:
    """Return one rich table per top-level name (``jwt/``) of the clashes worth showing.

    Without ``verbose``, a group's harmless overlaps collapse into one line per kind and more
    than ten clashes into a count (see :mod:`pipguard.sizing`); a group of harmless overlaps
    alone is not drawn. ``planned`` clashes are those an install would cause: their owners are
    marked incoming or installed, not by what is on disk.
    """
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    tables: list[RenderableType] = []
    for top, grouped in groupby(
        sorted(clashes, key=lambda c: (c.top_level, c.display)), key=lambda c: c.top_level
    ):
        group = list(grouped)
        rows = clash_rows(group, verbose=verbose)
        if not rows:
            continue  # harmless overlaps alone: counted in the summary, not drawn
        table = Table(
            title=Text(visible(top), style="bold"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            expand=True,
        )
        table.add_column("path", overflow="fold")
        table.add_column("clash", no_wrap=True)
        table.add_column("owners", overflow="fold")
        for row in rows:
            if isinstance(row, Collapsed):
                table.add_row(
                    Text(row.text, style="italic"),
                    Text(row.kind, style="green" if row.harmless else "red"),
                    Text(visible(", ".join(row.owners))),
                )
                continue
            style = "green" if row.harmless else "yellow" if row.kind == "case" else "red"
            # Paths and names come from RECORDs anyone can publish: never read them as markup.
            table.add_row(
                Text(visible(shown_path(row.display))),
                Text(row.kind, style=style),
                Text(visible(_owner_cell(row, planned))),
            )
        judged = group if verbose else [clash for clash in group if not clash.harmless]
        # The hint is a paragraph of the console's width, not a caption squeezed to the table's.
        said = planned_hint(judged) if planned else group_hint(judged, directory=directory)
        if more(rows):
            said += (
                " The journal (--journal FILE) lists every file."
                if planned
                else " --verbose lists every file (--format json too)."
            )
        tables.append(Group(table, Padding(Text(visible(said)), (0, 0, 1, 1))))
    return tables


def file_state_table(title: str, states: Sequence[FileState]) -> RenderableType:
    """Return a table of files that are modified or missing, with their owners."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=True
    )
    table.add_column("path", overflow="fold")
    table.add_column("owner", overflow="fold")
    for state in states:
        table.add_row(Text(visible(shown_path(state.path))), Text(visible(state.owner)))
    return table


def unlisted_table(entries: Sequence[Unlisted]) -> RenderableType:
    """Return a table of what no RECORD lists, with how many files each entry holds."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="unowned",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=True,
    )
    table.add_column("path", overflow="fold")
    table.add_column("files", justify="right")
    for entry in entries:
        table.add_row(Text(one_line(entry.display)), Text(str(entry.files)))
    return table


def dependency_table(dependencies: Sequence[Dependency]) -> RenderableType:
    """Return a table of the requirements ``pip check`` would report, as it words them."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="dependencies", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=True
    )
    table.add_column("distribution", overflow="fold")
    table.add_column("requires", overflow="fold")
    table.add_column("installed", overflow="fold")
    for d in dependencies:
        table.add_row(
            Text(one_line(f"{d.distribution} {d.version}")),
            Text(one_line(d.requirement)),
            Text(one_line(d.installed or "not installed")),
        )
    return table


def _startup_owner(item: StartupCode) -> str:
    if item.owner is None:
        return "no RECORD lists it"
    said = f"{item.owner} {item.version or ''}".strip()
    return said + (" (changed since installed)" if item.tampered else "")


def _startup_lines(item: StartupCode, shown: int = 3) -> str:
    from pipguard.checks.startup_files import CODE_ROLES, display_line

    if item.file.form == "module":
        return "(a module Python imports at start)"
    code = [line for line in item.file.lines if line.role in CODE_ROLES]
    said = [f"{line.number}: {display_line(line.text, 60)}" for line in code[:shown]]
    if len(code) > shown:
        said.append(f"... {len(code) - shown} more")
    return "\n".join(said)


def startup_table(items: Sequence[StartupCode], *, planned: bool = False) -> RenderableType:
    """Return a table of startup files that run code, with their owners and lines, and a hint."""
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=Text("startup code (runs at every Python start)", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=True,
    )
    table.add_column("file", overflow="fold")
    table.add_column("distribution", overflow="fold")
    table.add_column("lines", overflow="fold")
    for item in items:
        table.add_row(
            Text(one_line(item.display)),
            Text(one_line(_startup_owner(item))),
            Text(visible(_startup_lines(item))),
        )
    owners = sorted({item.owner for item in items if item.owner and not item.tampered})
    flags = " ".join(f"--allow-startup {one_line(name)}" for name in owners)
    if planned:
        hint = (
            f"Installing {one_line(', '.join(owners))} would add code that every Python start "
            f"runs, unasked. If you trust it: {flags} (or PIPGUARD_ALLOW_STARTUP)."
        )
    else:
        hint = "This code runs at every Python start. "
        if owners:
            hint += f"If you trust it: pipguard check {flags} (or PIPGUARD_ALLOW_STARTUP). "
        if any(item.owner is None or item.tampered for item in items):
            hint += (
                "Code no RECORD lists, or that is not what its RECORD lists, cannot be allowed: "
                "find out who wrote it, and remove it."
            )
    return Group(table, Padding(Text(hint.strip()), (0, 0, 1, 1)))


def _shorter(path: str, bases: Sequence[str]) -> str:
    for base in bases:
        if path.startswith(base + "/"):
            return path[len(base) + 1 :]
    return path


def problem_table(problems: Sequence[Problem], bases: Sequence[str] = ()) -> RenderableType:
    """Return a table of the problems met; paths inside ``bases`` are shown relative to them."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="problems", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=True
    )
    table.add_column("distribution", overflow="fold")
    table.add_column("file", overflow="fold")
    table.add_column("problem", overflow="fold")
    for problem in problems:
        table.add_row(
            Text(one_line(problem.distribution or "-")),
            Text(one_line(_shorter(problem.path, bases))),
            Text(one_line(problem.message)),
        )
    return table
