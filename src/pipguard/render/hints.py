"""Sentences: what a group of clashes means and what to do, and the one-line summaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipguard.findings import Clash, StartupCode
from pipguard.render.text import count, one_line

if TYPE_CHECKING:
    from pipguard.check import CheckResult
    from pipguard.checks.imports import Shadowed

__all__ = [
    "check_summary",
    "group_hint",
    "overwritten_summary",
    "planned_hint",
    "stop_summary",
    "would_summary",
]


def check_summary(result: CheckResult) -> str:
    """Return the one-line summary ``check`` prints on stderr."""
    kinds = {
        kind: sum(1 for c in result.clashes if c.kind == kind)
        for kind in ("differing", "identical", "case", "bytecode", "namespace")
    }
    parts = [
        count(kinds["differing"], "differing clash", "differing clashes"),
        f"{count(kinds['identical'], 'identical overlap')} (harmless)",
    ]
    if kinds["case"]:
        parts.append(count(kinds["case"], "case-only clash", "case-only clashes"))
    if kinds["namespace"]:
        parts.append(f"{count(kinds['namespace'], 'namespace declaration')} (harmless)")
    if kinds["bytecode"]:
        parts.append(count(kinds["bytecode"], "foreign bytecode file"))
    if result.modified or result.missing:
        parts.append(f"{len(result.modified)} modified, {len(result.missing)} missing")
    if result.unlisted:
        parts.append(count(len(result.unlisted), "unowned entry", "unowned entries"))
    if result.dependencies:
        parts.append(count(len(result.dependencies), "unmet requirement"))
    if result.shadowed:
        parts.append(count(len(result.shadowed), "shadowed import name"))
    code = sum(1 for item in result.startup if item.code)
    if code:
        parts.append(count(code, "startup file", "startup files") + " with code")
    parts.append(count(len(result.problems), "problem"))
    managers = ", ".join(sorted({manager.partition(":")[0] for _, _, manager in result.managed}))
    managed = f" ({len(result.managed)} owned through {managers})" if managers else ""
    return (
        f"pipguard: {count(result.distributions, 'distribution')}{managed}, "
        f"{count(result.files, 'file')}: " + ", ".join(parts)
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
    real = [clash for clash in clashes if clash.kind == "differing"]
    said = _what_happened(clashes, real)
    if said is not None:
        return said
    chosen = sorted({clash.chosen for clash in real if clash.chosen})
    if len(chosen) == 1 and all(clash.chosen == chosen[0] for clash in real):
        if all(clash.winner == chosen[0] for clash in real):
            return (
                f"{chosen[0]}'s copy stays, as chosen (--winner {chosen[0]}, recorded in its "
                "metadata or configured): no action needed."
            )
        return (
            f"{chosen[0]} was chosen to win these files, but another copy is on disk now (plain "
            f"pip wrote it back?): pipguard repair {chosen[0]}"
        )
    return _who_won(clashes, real, directory)


def _what_happened(clashes: Sequence[Clash], real: Sequence[Clash]) -> str | None:
    """The sentence for a group that holds no differing clash to judge, or None."""
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
    return None


def _who_won(clashes: Sequence[Clash], real: Sequence[Clash], directory: bool) -> str:
    """The sentence for differing clashes: who won, who lost, and the way out."""
    names = sorted({owner.name for clash in clashes for owner in clash.owners})
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


def would_summary(
    clashes: Sequence[Clash],
    startup: Sequence[StartupCode] = (),
    shadowed: Sequence[Shadowed] = (),
) -> str:
    """Return what an install would do over its clashes, startup code and shadowed names."""
    removed = [clash for clash in clashes if clash.kind in ("removed", "deleted")]
    skipped = [clash for clash in clashes if clash.kind == "skipped"]
    overwritten = [c for c in clashes if c.kind not in ("removed", "skipped", "deleted")]
    parts = []
    if overwritten:
        names = one_line(", ".join(sorted({o.name for c in overwritten for o in c.owners})))
        parts.append(
            f"{count(len(overwritten), 'file')} would be overwritten with different content "
            f"({names})"
        )
    if removed:
        losers = sorted({o.name for c in removed for o in c.owners if not o.incoming})
        whose = f" of {one_line(', '.join(losers))}" if losers else ""
        parts.append(f"{count(len(removed), 'file')}{whose} would be deleted")
    if skipped:
        names = one_line(
            ", ".join(sorted({o.name for c in skipped for o in c.owners if o.incoming}))
        )
        parts.append(
            f"{count(len(skipped), 'file')} of {names} would not be written (pip --target "
            "keeps the entries that exist)"
        )
    if shadowed:
        names = one_line(", ".join(sorted({s.import_name for s in shadowed})))
        parts.append(f"{count(len(shadowed), 'import name')} would be shadowed ({names})")
    starting = sorted({s.owner or "-" for s in startup})
    if startup:
        parts.append(
            f"{count(len(startup), 'startup file')} of {one_line(', '.join(starting))} would "
            "run code at every Python start"
        )
    return " and ".join(parts)


def stop_summary(
    clashes: Sequence[Clash],
    startup: Sequence[StartupCode] = (),
    shadowed: Sequence[Shadowed] = (),
    *,
    dry_run: bool = False,
) -> str:
    """Return the sentence that stops an install before it writes, naming what it would do.

    ``dry_run``: said of ``install --dry-run``, which would have installed nothing anyway.
    """
    overwritten = [c for c in clashes if c.kind not in ("removed", "skipped", "deleted")]
    starting = sorted({s.owner or "-" for s in startup})
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
    said = (
        "--dry-run: this install would be stopped" if dry_run else "stopped before writing anything"
    )
    return (
        f"pipguard: {said}: {would_summary(clashes, startup, shadowed)}. "
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
        parts.append(f"{count(skipped, 'file')} of this install {verb} not written")
    if removed:
        verb = "was" if removed == 1 else "were"
        parts.append(f"{count(removed, 'file')} of other distributions {verb} deleted")
    if shared:
        verb = "now belongs" if shared == 1 else "now belong"
        parts.append(f"{count(shared, 'file')} {verb} to more than one distribution")
    if unowned:
        verb = "was" if unowned == 1 else "were"
        parts.append(f"{count(unowned, 'file')} that no distribution listed {verb} overwritten")
    whose = "; the table names whose copy is on disk" if len(parts) > bool(skipped) else ""
    return "; ".join(parts) + whose + "."


# What pip --target does to each owner of a ``removed`` or ``skipped`` file:
# kind -> (installed owner, incoming owner) -> (before the step, after it).
