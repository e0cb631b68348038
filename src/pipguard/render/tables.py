"""Rich tables of findings: each function takes findings and returns a renderable.

rich is imported inside each function: the fast paths that draw nothing never pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import TYPE_CHECKING

from pipguard.environment import Problem
from pipguard.findings import Clash, FileState, StartupCode, Unlisted
from pipguard.render.hints import group_hint, planned_hint
from pipguard.render.text import one_line, shown_path, visible
from pipguard.sizing import Collapsed, clash_rows, more

if TYPE_CHECKING:
    from rich.console import RenderableType

    from pipguard.checks.deps import Dependency
    from pipguard.checks.imports import ImportOwner, Shadowed

__all__ = [
    "clash_tables",
    "dependency_table",
    "file_state_table",
    "owner_lines",
    "problem_table",
    "shadowed_table",
    "startup_table",
    "unlisted_table",
]


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
