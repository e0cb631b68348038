"""Requirements that installed distributions declare and the environment does not meet.

What ``pip check`` reports, decided the way pip 24.1+ decides it (pip 23.2, which vendors
packaging 21.3, still accepts legacy versions and specifiers, and reports a requirement
written twice twice; packaging 22+ does neither):

- a requirement applies when it has no marker, or its marker is true for the target
  interpreter with ``extra`` set to ``""``: pip check asks for no extra, neither a
  distribution's own nor one that another distribution requests (``b[x]`` is met by any
  ``b`` whose version fits; what ``b`` needs for ``x`` is not looked at);
- an applying requirement is missing when no distribution of its name is installed, and in
  conflict when the installed version is outside its specifier (pre-releases included);
- a distribution whose version is not PEP 440, or one of whose requirements does not parse
  or cannot be evaluated, is left out: its requirements go unchecked and what requires it
  counts as not installed. Each such distribution is one problem;
- of two distributions with one name, the first given (first on ``sys.path``) is the one.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Literal, NamedTuple

from pipguard.environment import Problem

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from pipguard.disk import Disk
    from pipguard.findings import Finding
    from pipguard.ownership import OwnershipIndex
    from pipguard.views import EnvironmentView

__all__ = ["Dependency", "Requires", "check_dependencies", "in_environment"]


def in_environment(view: EnvironmentView, index: OwnershipIndex, disk: Disk) -> list[Finding]:
    """Return what ``pip check`` reports: requirements not installed or not satisfied."""
    from pipguard.requires import dependency_check

    found, problems = dependency_check(view.env, view.installed)
    return [*found, *problems]


class Requires(NamedTuple):
    """What one installed distribution declares it needs: the input of the check."""

    name: str  # canonical (PEP 503)
    version: str  # as its metadata writes it
    requires: tuple[str, ...]  # its Requires-Dist values, as written
    source: str = ""  # the metadata file they come from, named in problems


class Dependency(NamedTuple):
    """A requirement of an installed distribution that the environment does not meet."""

    distribution: str  # canonical name of the distribution that requires
    version: str  # its version
    requirement: str  # the Requires-Dist value, as written
    installed: str | None  # the version installed of what it requires; None: not installed
    kind: Literal["dependency"] = "dependency"


class _Parsed(NamedTuple):
    """A requirement once parsed, and whether it applies to the target."""

    name: str  # canonical
    specifier: SpecifierSet
    applies: bool
    same: Hashable  # equal for requirements packaging's Requirement holds equal


# Release segments only: valid without asking packaging, the usual case.
_PLAIN_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_SEPARATORS = re.compile(r"[-_.]+")
_LEFT_OUT = "left out of the dependency check, as pip check leaves it"
# The usual requirement, ``name[extra,...] <spec>,<spec>; marker``, cut in its parts for
# packaging to parse each (once per distinct part); anything else goes to Requirement whole.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_CLAUSE = r"[ \t]*(?:===|~=|==|!=|<=|>=|<|>)[ \t]*[A-Za-z0-9.*+!_-]+[ \t]*"
_PLAIN_REQUIREMENT = re.compile(
    rf"({_NAME})(?:\[({_NAME}(?:,{_NAME})*)\])?[ \t]*({_CLAUSE}(?:,{_CLAUSE})*)?(?:;[ \t]*(.*))?",
    re.ASCII,
)


def check_dependencies(
    dists: Iterable[Requires], markers: Mapping[str, str]
) -> tuple[list[Dependency], list[Problem]]:
    """Return the unmet requirements among ``dists``, and the distributions left unchecked.

    ``markers``: the target interpreter's marker environment (as
    ``packaging.markers.default_environment()`` gives it there). Findings are sorted by
    distribution, then requirement.
    """
    dists = list(dists)
    if not any(d.requires for d in dists) and all(
        _PLAIN_VERSION.fullmatch(d.version) for d in dists
    ):
        return [], []  # nothing can be unmet, nothing to reject: no packaging import
    from packaging.version import InvalidVersion, Version

    reader = _Reader({**markers, "extra": ""})
    problems: list[Problem] = []
    versions: dict[str, tuple[Version, str]] = {}
    checked: list[tuple[Requires, list[tuple[str, _Parsed]]]] = []
    seen: set[str] = set()
    for dist in dists:
        if dist.name in seen:
            continue  # shadowed by the first of its name, as on sys.path
        seen.add(dist.name)
        parsed: list[tuple[str, _Parsed]] = []
        failure = None
        for raw in dist.requires:
            found = reader.parse(raw)
            if isinstance(found, str):
                failure = f"Requires-Dist {raw!r} {found}; {_LEFT_OUT}"
                break
            parsed.append((raw, found))
        if failure is None:
            try:
                versions[dist.name] = (Version(dist.version), dist.version)
            except InvalidVersion:
                failure = f"version {dist.version!r} is not PEP 440; {_LEFT_OUT}"
        if failure is not None:
            problems.append(Problem(dist.name, dist.source, failure))
            continue
        checked.append((dist, parsed))
    return _unmet(checked, versions), problems


def _unmet(
    checked: list[tuple[Requires, list[tuple[str, _Parsed]]]],
    versions: Mapping[str, tuple[Version, str]],
) -> list[Dependency]:
    """Judge every applying requirement of the distributions kept, once per equal one."""
    findings: list[Dependency] = []
    for dist, parsed in checked:
        judged: set[Hashable] = set()
        for raw, (name, specifier, applies, same) in parsed:
            if not applies or same in judged:
                continue  # pip keeps a set: an equal requirement is reported once
            judged.add(same)
            installed = versions.get(name)
            if installed is None:
                findings.append(Dependency(dist.name, dist.version, raw, None))
            elif len(specifier) and not specifier.contains(installed[0], prereleases=True):
                findings.append(Dependency(dist.name, dist.version, raw, installed[1]))
    findings.sort(key=lambda f: (f.distribution, f.requirement))
    return findings


class _Reader:
    """Parses each distinct requirement once, and each distinct specifier and marker once."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self.environment = environment
        self._parsed: dict[str, _Parsed | str] = {}
        self._specifiers: dict[str, SpecifierSet | None] = {}
        self._markers: dict[str, tuple[bool, str] | None] = {}

    def parse(self, raw: str) -> _Parsed | str:
        """Return the requirement ``raw`` parsed, or the one line saying why it is unusable."""
        found = self._parsed.get(raw)
        if found is None:
            found = self._parsed[raw] = self._in_parts(raw) or self.whole(raw)
        return found

    def _in_parts(self, raw: str) -> _Parsed | None:
        """Parse a usual requirement part by part; None: let Requirement parse it (or fail)."""
        match = _PLAIN_REQUIREMENT.fullmatch(raw)
        if match is None:
            return None
        name, extras, spec, marker_text = match.groups()
        specifier = self._specifier(spec or "")
        judged = (True, None) if marker_text is None else self._marker(marker_text)
        if specifier is None or judged is None:
            return None
        name = _canonical(name)
        extra_names = frozenset(map(_canonical, extras.split(","))) if extras else frozenset()
        same = (name, extra_names, specifier, None, judged[1])
        return _Parsed(name, specifier, judged[0], same)

    def _specifier(self, text: str) -> SpecifierSet | None:
        if text not in self._specifiers:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                self._specifiers[text] = SpecifierSet(text)
            except InvalidSpecifier:
                self._specifiers[text] = None
        return self._specifiers[text]

    def _marker(self, text: str) -> tuple[bool, str] | None:
        """Return (whether the marker holds, its normal form); None: unusable."""
        if text not in self._markers:
            from packaging.markers import Marker

            try:
                marker = Marker(text)
                self._markers[text] = (marker.evaluate(self.environment), str(marker))
            except ValueError:  # InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
                self._markers[text] = None
        return self._markers[text]

    def whole(self, raw: str) -> _Parsed | str:
        """Parse ``raw`` with packaging's Requirement and evaluate its marker."""
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            req = Requirement(raw)
        except InvalidRequirement as exc:
            return f"does not parse: {_first_line(exc)}"
        try:
            applies = req.marker is None or req.marker.evaluate(self.environment)
        except ValueError as exc:  # UndefinedComparison, UndefinedEnvironmentName
            return f"cannot be evaluated: {_first_line(exc)}"
        name = _canonical(req.name)
        marker = None if req.marker is None else str(req.marker)
        # As Requirement's own equality (PEP 685: extras compared normalised).
        same = (name, frozenset(map(_canonical, req.extras)), req.specifier, req.url, marker)
        return _Parsed(name, req.specifier, applies, same)


def _canonical(name: str) -> str:
    return _SEPARATORS.sub("-", name).lower()


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
