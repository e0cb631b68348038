"""Read what installed distributions require: their ``Requires-Dist`` values.

Only the dependency check needs them, so they are read apart from the Name and Version that
every command reads (:func:`pipguard.environment.header_fields` stops at those two).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipguard.checks.deps import Dependency, Requires, check_dependencies
from pipguard.environment import (
    Environment,
    InstalledDistribution,
    Problem,
    Refused,
    canonical_name,
    marker_environment,
    read_inside,
)

__all__ = ["dependency_check", "read_requires", "requires_dist", "requires_txt"]

_HEADER_READ = 8192
# A line the email parser takes for a header field (its headerRE, less "From " and blanks).
_FIELD = re.compile(r"[\041-\071\073-\176]*:")
# A header of named fields only, each perhaps continued; and a Requires-Dist in one.
_PLAIN_HEADER = re.compile(r"(?:[\041-\071\073-\176]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*")
# Spelt as core metadata spells it, the search runs on its literal start: twice as fast.
_REQUIRES_DIST = re.compile(r"\nRequires-Dist:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)")
_REQUIRES_DIST_ANY_CASE = re.compile(_REQUIRES_DIST.pattern, re.IGNORECASE | re.ASCII)


def requires_dist(text: str, complete: bool = True) -> tuple[list[str], bool]:
    """Return the Requires-Dist values of a METADATA header, and whether the header ended.

    Read as ``email.message_from_string`` (which importlib.metadata, and so pip, uses) reads
    it: fields end at the first blank line or at the first line that is no field; a line
    starting with a space or tab continues the field before it. ``complete``: ``text`` is
    the whole file, so a last line without an end is one.
    """
    if "\r" in text:  # rare: most METADATA end lines with \n alone
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.startswith("\n"):
        return [], bool(text)
    blank = text.find("\n\n")
    if blank >= 0:
        header, ended = text[: blank + 1], True
    elif complete:
        header, ended = (text if text.endswith("\n") else text + "\n"), False
    else:
        header, ended = text[: text.rfind("\n") + 1], False
    if _PLAIN_HEADER.fullmatch(header):  # the usual header: regular expressions, in C
        lined = "\n" + header
        values = _REQUIRES_DIST.findall(lined)
        if lined.lower().count("\nrequires-dist:") != len(values):
            values = _REQUIRES_DIST_ANY_CASE.findall(lined)
        return [value.strip() for value in values], ended
    return _requires_dist_by_line(header.split("\n")[:-1], ended)


def _requires_dist_by_line(lines: list[str], ended: bool) -> tuple[list[str], bool]:
    """:func:`requires_dist` for a header with odd lines, following the email parser."""
    values: list[str] = []
    current: list[str] | None = None  # the lines of the Requires-Dist being read
    for line in lines:
        if line[:1] in (" ", "\t"):
            if current is not None:
                current.append(line)
            continue
        if current is not None:
            values.append("\n".join(current).strip())
            current = None
        if not (line.startswith("From ") or _FIELD.match(line)):
            ended = True  # a body with no blank line before it
            break
        key, sep, value = line.partition(":")
        if sep and key.lower() == "requires-dist":
            current = [value.lstrip(" \t")]
    if current is not None:
        values.append("\n".join(current).strip())
    return values, ended


def requires_txt(text: str) -> list[str]:
    """Return an egg-info ``requires.txt`` as requirement strings, its sections as markers.

    A section ``[extra:marker]`` applies ``extra == "extra"`` (normalised) and the marker,
    the way pip reads an egg-info that has no Requires-Dist.
    """
    found: list[str] = []
    extra = marker = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line.strip("[]").partition(":")
            extra = canonical_name(extra)
            continue
        if extra and marker:
            condition = f'({marker}) and extra == "{extra}"'
        elif extra:
            condition = f'extra == "{extra}"'
        else:
            condition = marker
        found.append(f"{line} ; {condition}" if condition else line)
    return found


def _header_requires(path: str, roots: tuple[str, ...]) -> list[str]:
    """Return the Requires-Dist values of a METADATA / PKG-INFO file, reading its header."""
    # read_distributions resolved the metadata directory inside its site: only the file
    # itself can still be a link.
    head = read_inside(path, roots, parent_checked=True, limit=_HEADER_READ)
    if len(head) == _HEADER_READ:
        whole_lines = head[: head.rfind(b"\n") + 1].decode("utf-8", "replace")
        values, ended = requires_dist(whole_lines, complete=False)
        if ended:
            return values
        head = read_inside(path, roots, parent_checked=True)
    return requires_dist(head.decode("utf-8", "replace"))[0]


def _one(dist: InstalledDistribution) -> tuple[Requires, Problem | None]:
    """Read one distribution's requirements, or the problem that stopped it."""
    legacy = dist.kind == "egg-info"
    path = f"{dist.metadata_dir}/{'PKG-INFO' if legacy else 'METADATA'}"
    roots = (dist.site,)
    try:
        values = _header_requires(path, roots)
    except OSError:
        # read_distributions reported this file already (missing, refused or unreadable).
        return Requires(dist.name, dist.version, (), path), None
    if legacy and not values:  # as pip: requires.txt only when PKG-INFO lists nothing
        path = f"{dist.metadata_dir}/requires.txt"
        try:
            text = read_inside(path, roots, parent_checked=True).decode("utf-8", "replace")
        except FileNotFoundError:
            text = ""
        except Refused as exc:
            problem = Problem(dist.name, path, f"{exc}; its requirements are not checked")
            return Requires(dist.name, dist.version, (), path), problem
        except OSError as exc:
            problem = Problem(dist.name, path, f"unreadable: {exc.strerror}")
            return Requires(dist.name, dist.version, (), path), problem
        values = requires_txt(text)
    return Requires(dist.name, dist.version, tuple(values), path), None


def read_requires(
    dists: Iterable[InstalledDistribution],
) -> tuple[list[Requires], list[Problem]]:
    """Read the requirements of installed distributions, in their order, with the problems met."""
    found: list[Requires] = []
    problems: list[Problem] = []
    for dist in dists:
        requires, problem = _one(dist)
        found.append(requires)
        if problem is not None:
            problems.append(problem)
    return found, problems


def dependency_check(
    env: Environment, dists: Iterable[InstalledDistribution]
) -> tuple[list[Dependency], list[Problem]]:
    """Read the requirements of ``dists`` and judge them for ``env``'s interpreter.

    ``dists`` in the order ``read_distributions`` gives them (the first of a name counts).
    """
    requires, problems = read_requires(dists)
    # The running interpreter's markers come from packaging: only ask when there is a use.
    markers = marker_environment(env) if any(r.requires for r in requires) else {}
    findings, unusable = check_dependencies(requires, markers)
    return findings, problems + unusable
