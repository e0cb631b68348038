"""What a wheel will write: its files mapped through the install scheme, plus generated scripts."""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from pipguard.entrypoints import EntryPointError, entry_points, specs
from pipguard.environment import Problem, canonical_name, header_fields
from pipguard.paths import is_within, plain_path_pattern, resolve_row, to_posix
from pipguard.records import pip_unreadable, record_hash, record_hashes
from pipguard.views import PlannedFile
from pipguard.zipindex import Unusual, read_index

__all__ = [
    "OutsideError",
    "PlannedFile",
    "Scheme",
    "UnreadableError",
    "WheelContents",
    "WheelError",
    "plan_wheel",
    "read_wheel",
]

SCHEME_KEYS = ("purelib", "platlib", "headers", "scripts", "data")
# A member that lands at site/member as it is: a plain path, not in a .data directory.
_PLAIN_MEMBER = re.compile(r"(?![^/]*\.data(?:/|$))" + plain_path_pattern()[0])


class WheelError(Exception):
    """A wheel that cannot be read or planned; the message names the file and what is wrong."""


class OutsideError(WheelError):
    """A wheel that would write outside the environment: stopped under warn as well."""


class UnreadableError(WheelError):
    """A wheel pip itself would fail on half-way through: stopped under every policy."""


class Scheme(NamedTuple):
    """Where one distribution's files go: pip's install scheme, as absolute POSIX paths."""

    purelib: str
    platlib: str
    headers: str
    scripts: str
    data: str

    def get(self, key: str) -> str:
        """Return the directory for a ``.data/<key>/`` subtree."""
        value: str = getattr(self, key)
        return value


@dataclass
class WheelContents:
    """The parts of a wheel that decide where its files go."""

    path: str
    name: str
    version: str
    dist_info: str
    root_is_purelib: bool
    members: list[str]
    record: dict[str, str | None]  # RECORD's path -> hash
    console_scripts: dict[str, str]
    gui_scripts: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    record_text: str = ""  # RECORD as the wheel ships it: pip replaces it last, when done

    def member_bytes(self, member: str) -> bytes:
        """Return one member's bytes, read and checked by zipfile."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(member)
        except (OSError, zipfile.BadZipFile, zlib.error) as exc:
            name = os.path.basename(self.path)
            raise WheelError(f"{name}: {member}: cannot be read: {exc}") from None

    def member_hash(self, member: str) -> str:
        """Hash one member's bytes (sha256, RECORD form): the truth where RECORD lies."""
        return record_hash("sha256", hashlib.sha256(self.member_bytes(member)).digest())


def read_wheel(path: str) -> WheelContents:
    """Read the member list, RECORD, WHEEL, METADATA and entry points of a wheel file."""
    try:
        with open(path, "rb") as handle:
            index = read_index(handle)
            return _read_wheel(path, index.names, index.read)
    except (OSError, Unusual):
        pass  # zipfile reads it, and says what is wrong in its own words
    shown = os.path.basename(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError) as exc:
        raise WheelError(f"{shown}: not a readable wheel: {exc}") from None
    with archive:
        return _read_wheel(path, archive.namelist(), archive.read)


def _read_wheel(path: str, names: list[str], read: Callable[[str], bytes]) -> WheelContents:
    shown = os.path.basename(path)
    members = [name for name in names if not name.endswith("/")]
    dist_infos = sorted(
        {
            m.split("/", 1)[0]
            for m in members
            if "/" in m and m.split("/", 1)[0].endswith(".dist-info")
        }
    )
    if len(dist_infos) != 1:
        raise WheelError(f"{shown}: expected one .dist-info directory, found {len(dist_infos)}")
    dist_info = dist_infos[0]

    def text(leaf: str, required: bool = True) -> str:
        member = f"{dist_info}/{leaf}"
        try:
            return read(member).decode("utf-8")
        except KeyError:
            if required:
                raise WheelError(f"{shown}: {member} is missing") from None
            return ""
        except UnicodeDecodeError:
            raise WheelError(f"{shown}: {member} is not UTF-8") from None
        except (OSError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
            raise WheelError(f"{shown}: {member} cannot be read: {exc}") from None

    name, version, _ = header_fields(text("METADATA"))
    if not name or not version:
        raise WheelError(f"{shown}: {dist_info}/METADATA has no Name or Version")
    wheel_fields = {
        key.strip().lower(): value.strip()
        for key, _, value in (line.partition(":") for line in text("WHEEL").splitlines())
    }
    record_text = text("RECORD")
    unreadable = pip_unreadable(record_text)
    if unreadable is not None:
        raise UnreadableError(
            f"{shown}: {dist_info}/RECORD line {unreadable.line}: pip cannot read it "
            f"({unreadable.message})"
        )
    record, issues = record_hashes(record_text)
    try:
        console, gui = entry_points(
            text("entry_points.txt", required=False), f"{shown}: {dist_info}/entry_points.txt"
        )
    except EntryPointError as exc:
        raise WheelError(str(exc)) from None
    problems = [
        Problem(
            canonical_name(name),
            f"{shown}: {dist_info}/RECORD",
            f"line {issue.line}: {issue.message}",
        )
        for issue in issues
    ]
    return WheelContents(
        path=path,
        name=canonical_name(name),
        version=version,
        dist_info=dist_info,
        root_is_purelib=wheel_fields.get("root-is-purelib", "true").lower() == "true",
        members=members,
        record=record,
        console_scripts=console,
        gui_scripts=gui,
        problems=problems,
        record_text=record_text,
    )


def _destination(wheel: WheelContents, member: str, scheme: Scheme) -> tuple[str, str]:
    """Return (base directory, path below it) for one wheel member, as pip maps it.

    pip takes every top-level directory whose name ends in ``.data`` for the data directory,
    not only ``{name}-{version}.data``: its ``scripts/``, ``headers/``... go to the scheme.
    """
    head, _, rest = member.partition("/")
    if head.endswith(".data"):
        key, _, below = rest.partition("/")
        if key not in SCHEME_KEYS or not below:
            raise WheelError(
                f"{os.path.basename(wheel.path)}: {member}: unknown .data directory {key!r}"
            )
        return scheme.get(key), below
    return (scheme.purelib if wheel.root_is_purelib else scheme.platlib), member


def plan_wheel(
    wheel: WheelContents,
    scheme: Scheme,
    roots: Iterable[str],
    script_names: Callable[[dict[str, str]], list[str]],
) -> list[PlannedFile]:
    """Return every file that installing ``wheel`` with ``scheme`` writes, generated scripts too.

    ``script_names`` turns a console-script mapping into the names pip will generate (pip adds
    versioned ``pipX.Y`` names for itself). Paths are checked against ``roots``.
    """
    roots = tuple(roots)
    site = scheme.purelib if wheel.root_is_purelib else scheme.platlib
    # A plain member below an inside site lands at site/member: no resolving, no root check.
    site_inside = is_within(site, roots)
    record = wheel.record
    planned: list[PlannedFile] = []
    for member in wheel.members:
        if site_inside and _PLAIN_MEMBER.fullmatch(member):
            planned.append(PlannedFile(f"{site}/{member}", member, record.get(member), member))
            continue
        base, below = _destination(wheel, member, scheme)
        path = resolve_row(base, below)
        if path is None or not is_within(path, roots):
            raise OutsideError(
                f"{os.path.basename(wheel.path)}: {member[:200]!r} would be "
                "written outside the environment"
            )
        record_path = to_posix(os.path.relpath(path, site)) if base != site else below
        planned.append(PlannedFile(path, record_path, record.get(member), member))
    suffix = ".exe" if os.name == "nt" else ""
    names = script_names(dict(wheel.console_scripts)) + list(wheel.gui_scripts)
    script_specs = specs(wheel.console_scripts, wheel.gui_scripts)
    for script in names:
        if "/" in script or "\\" in script:
            # pip 26.1.2 and later refuse such a name part-way through the install; older ones
            # write it below the scripts directory or out of it.
            raise OutsideError(
                f"{os.path.basename(wheel.path)}: script name {script[:100]!r} holds a path "
                "separator: it would not land in the scripts directory"
            )
        path = resolve_row(scheme.scripts, script + suffix)
        if path is None or not is_within(path, roots):
            raise OutsideError(
                f"{os.path.basename(wheel.path)}: script {script[:100]!r} would be "
                "written outside the environment"
            )
        record_path = to_posix(os.path.relpath(path, site))
        planned.append(PlannedFile(path, record_path, None, None, script_specs.get(script)))
    return planned
