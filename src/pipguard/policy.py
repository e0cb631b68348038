"""Policy, in one place: which findings stop an install or fail a check; what winners resolve."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

from pipguard.findings import Clash, Finding, StartupCode

__all__ = [
    "KINDS",
    "POLICIES",
    "Kind",
    "Policy",
    "Rules",
    "WinnerConflict",
    "allowed",
    "blocks_install",
    "fails_check",
    "kind_of",
    "resolve_winners",
]

Policy = Literal["prevent", "warn", "ignore"]
POLICIES: tuple[Policy, ...] = ("prevent", "warn", "ignore")
# How a kind of finding fails ``check``: always, only under --strict, or (case-only clashes)
# under --strict or where the filesystem folds case.
CheckRule = Literal["always", "strict", "case", "never"]


class Kind(NamedTuple):
    """What one kind of finding does: its stable code, the policies it stops an install under
    (unless the finding is harmless or allowed), and when it fails ``check``."""

    code: str
    stops: frozenset[Policy]
    check: CheckRule


class Rules(NamedTuple):
    """The choices a run makes: its policy, its winners and allow-list, how strict it is."""

    policy: Policy = "prevent"
    winners: frozenset[str] = frozenset()
    allow_startup: frozenset[str] = frozenset()  # distributions whose startup code may run
    strict: bool = False
    case_insensitive: bool = False


_PREVENT: frozenset[Policy] = frozenset({"prevent"})
_NEVER: frozenset[Policy] = frozenset()

KINDS: dict[str, Kind] = {
    "differing": Kind("PG101", _PREVENT, "always"),
    "identical": Kind("PG102", _NEVER, "strict"),
    "case": Kind("PG103", _NEVER, "case"),
    "unowned": Kind("PG104", _PREVENT, "never"),
    "removed": Kind("PG105", _PREVENT, "never"),
    "skipped": Kind("PG106", _PREVENT, "never"),
    # A file pip cannot write inside the environment stops every install but ``ignore``.
    "unwritable": Kind("PG107", frozenset({"prevent", "warn"}), "never"),
    "bytecode": Kind("PG108", _PREVENT, "always"),
    # An upgrade would delete a file another distribution lists (warn keeps it for that one).
    "deleted": Kind("PG110", _PREVENT, "never"),
    # Each owner's __init__.py only declares the namespace: they all need it, bytes aside.
    "namespace": Kind("PG109", _NEVER, "strict"),
    "modified": Kind("PG201", _NEVER, "always"),
    "missing": Kind("PG202", _NEVER, "always"),
    "unlisted": Kind("PG203", _NEVER, "strict"),
    "problem": Kind("PG301", _NEVER, "always"),
    "dependency": Kind("PG401", _NEVER, "always"),
    "startup": Kind("PG501", _PREVENT, "always"),
    # An import name one distribution offers in vain; the standard library's win is harmless.
    "shadowed": Kind("PG601", _PREVENT, "always"),
}


def kind_of(finding: Finding) -> str:
    """Return the kind of any finding (a problem has none of its own)."""
    return getattr(finding, "kind", "problem")


def allowed(finding: Finding, rules: Rules) -> bool:
    """Tell whether a finding changes nothing that matters, or was allowed by the run's rules.

    Startup files are allowed when they run no code, or when their distribution is on the
    allow-list; code no RECORD lists, or whose bytes are not its RECORD's, never is.
    """
    if isinstance(finding, Clash) and finding.chosen is not None:
        return finding.harmless or finding.winner == finding.chosen
    if isinstance(finding, Clash) or kind_of(finding) == "shadowed":
        return bool(getattr(finding, "harmless", False))
    if isinstance(finding, StartupCode):
        if not finding.code:
            return True
        if finding.owner is None or finding.tampered:
            return False
        return not finding.changed or finding.owner in rules.allow_startup
    return False


def blocks_install(finding: Finding, rules: Rules, resolved: Iterable[str] = ()) -> bool:
    """Tell whether ``finding`` stops an install before anything is written.

    ``resolved``: the paths whose clash a ``--winner`` decides; they do not stop it.
    """
    if rules.policy not in KINDS[kind_of(finding)].stops or allowed(finding, rules):
        return False
    return not (isinstance(finding, Clash) and finding.path in set(resolved))


def fails_check(findings: Iterable[Finding], rules: Rules) -> bool:
    """Tell whether ``check`` fails (exit 1) on ``findings``."""
    for finding in findings:
        rule = KINDS[kind_of(finding)].check
        if isinstance(finding, StartupCode) and allowed(finding, rules):
            continue
        if isinstance(finding, Clash) and finding.chosen and allowed(finding, rules):
            continue  # the chosen winner's copy is on disk
        if kind_of(finding) == "shadowed" and allowed(finding, rules):
            rule = "strict"  # shadowed by the standard library: a backport, harmless
        if rule == "always" or (rule == "strict" and rules.strict):
            return True
        if rule == "case" and (rules.strict or rules.case_insensitive):
            return True
    return False


class WinnerConflict(Exception):
    """Two ``--winner`` distributions clash with each other."""


def resolve_winners(
    clashes: Sequence[Finding], winners: frozenset[str], incoming: set[str]
) -> list[tuple[Clash, str]]:
    """Return each real clash a ``--winner`` takes part in, with that winner.

    Not resolved: a ``removed`` file (pip deletes the whole directory: no order or write-back
    saves it) and a ``skipped`` one an incoming winner would write (pip does not write it at
    all: only --upgrade could). Raises WinnerConflict when two winners clash with each other.
    """
    resolved: list[tuple[Clash, str]] = []
    for clash in clashes:
        if not isinstance(clash, Clash) or clash.harmless:
            continue
        named = sorted({o.name for o in clash.owners} & winners)
        if len(named) > 1:
            raise WinnerConflict(
                f"--winner {' and --winner '.join(named)} both write {clash.display}: "
                "only one of them can win it"
            )
        if not named or clash.kind == "removed":
            continue
        if clash.kind == "skipped" and named[0] in incoming:
            continue
        resolved.append((clash, named[0]))
    return resolved
