"""Output sized for a person: which rows a table shows, and what collapses into a count.

A refusal over 79 shared files (3 differing, 76 identical) printed 79 rows. In a table, the
harmless rows of a group collapse into one line per kind and more than :data:`LIMIT` rows that
matter into :data:`KEEP` and a count, unless ``--verbose``; JSON and the journal list all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, TypeVar

from pipguard.findings import Clash

__all__ = ["KEEP", "LIMIT", "Collapsed", "clash_rows", "collapse", "more"]

LIMIT = 10  # rows that matter a group shows in full
KEEP = 8  # rows shown when there are more than LIMIT: the rest is one line that counts them

T = TypeVar("T")


class Collapsed(NamedTuple):
    """One line standing for ``number`` rows left out of a table."""

    number: int
    kind: str  # the rows' kind, or their kinds joined by ", "
    owners: tuple[str, ...]  # "name version" of every owner of the rows, sorted
    harmless: bool

    @property
    def text(self) -> str:
        """What the line says in the path column: ``76 more files are identical``."""
        files = "1 more file" if self.number == 1 else f"{self.number} more files"
        verb = "is" if self.number == 1 else "are"
        if self.kind == "identical":
            return f"{files} {verb} identical"
        if self.kind == "namespace":
            return f"{files} only declare{'s' if self.number == 1 else ''} the namespace"
        if self.harmless:
            return f"{files} already hold{'s' if self.number == 1 else ''} the same bytes"
        return f"{files} clash{'es' if self.number == 1 else ''}"


def collapse(items: Sequence[T], *, verbose: bool = False) -> tuple[list[T], int]:
    """Return the items a table shows and how many it leaves out (all of them if ``verbose``)."""
    if verbose or len(items) <= LIMIT:
        return list(items), 0
    return list(items[:KEEP]), len(items) - KEEP


def _collapsed(clashes: Sequence[Clash], kind: str, harmless: bool) -> Collapsed:
    owners = sorted({f"{o.name} {o.version}" for clash in clashes for o in clash.owners})
    return Collapsed(len(clashes), kind, tuple(owners), harmless)


def clash_rows(group: Sequence[Clash], *, verbose: bool = False) -> list[Clash | Collapsed]:
    """Return the rows of one group's table (clashes sorted by path): every clash if ``verbose``,
    else the ones that matter (at most :data:`LIMIT`, or :data:`KEEP` and a count) and one line
    per kind of harmless overlap. A group of harmless overlaps alone shows nothing.
    """
    ordered = sorted(group, key=lambda clash: clash.display)
    if verbose:
        return list(ordered)
    real = [clash for clash in ordered if not clash.harmless]
    if not real:
        return []
    shown, left = collapse(real)
    rows: list[Clash | Collapsed] = list(shown)
    if left:
        rest = real[len(shown) :]
        kinds = ", ".join(dict.fromkeys(clash.kind for clash in rest))
        rows.append(_collapsed(rest, kinds, harmless=False))
    harmless = [clash for clash in ordered if clash.harmless]
    for kind in dict.fromkeys(clash.kind for clash in harmless):
        same = [clash for clash in harmless if clash.kind == kind]
        rows.append(_collapsed(same, kind, harmless=True))
    return rows


def more(rows: Sequence[object]) -> bool:
    """Tell whether any of ``rows`` is a collapsed line (the table then says how to see all)."""
    return any(isinstance(row, Collapsed) for row in rows)
