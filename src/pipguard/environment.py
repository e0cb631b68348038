"""The environment pipguard works on: where it installs, and what is installed there."""

from __future__ import annotations

import errno
import json
import os
import posixpath
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import IO, Any, NamedTuple

from pipguard import _facts
from pipguard.layers import ImportSystem, Layer, import_system, plan_layers
from pipguard.paths import is_within, to_posix
from pipguard.records import (
    LISTED_ALGORITHMS,
    RecordEntry,
    parse_installed_files,
    parse_record,
)

__all__ = [
    "NO_RECORD",
    "Environment",
    "EnvironmentError_",
    "InstalledDistribution",
    "Problem",
    "canonical_name",
    "describe_paths",
    "describe_python",
    "header_fields",
    "marker_environment",
    "read_distributions",
]


class EnvironmentError_(Exception):
    """The environment could not be described or read at all."""


class Problem(NamedTuple):
    """Something pipguard could not use, naming the distribution and the file."""

    distribution: str | None
    path: str
    message: str


class Environment(NamedTuple):
    """Where one environment installs files, and which directories hold its distributions."""

    python: str | None
    scan_dirs: tuple[str, ...]
    roots: tuple[str, ...]
    scheme: Mapping[str, str] = MappingProxyType({})
    case_insensitive: bool = False
    # A pip --target directory: pip wrote its RECORDs in a temporary home, relative to its
    # lib/python, so a script shows as ../../bin/tool where the target holds bin/tool.
    target_layout: bool = False
    # The PEP 508 marker environment of another interpreter (--python); None: the running one's.
    markers: Mapping[str, str] | None = None
    # scan_dirs with where each comes from, in sys.path order (see layers.py); roots are what
    # pipguard may read, write_roots the part it may change (never a base interpreter's site).
    layers: tuple[Layer, ...] = ()
    write_roots: tuple[str, ...] = ()
    imports: ImportSystem | None = None  # None: plain directories, no interpreter


class InstalledDistribution(NamedTuple):
    """One installed distribution: its metadata directory and the rows of its RECORD."""

    name: str
    version: str
    metadata_dir: str
    base: str
    record_text: str | None  # RECORD (or legacy installed-files.txt); None when unreadable
    kind: str = "dist-info"
    not_utf8: tuple[int, ...] = ()  # RECORD lines that are not UTF-8 (left empty in the text)
    # Owned by the system package manager ("dpkg: python3-jwt"): record_text is then RECORD
    # rows made from its file list (list_file), relative to the site, whatever the kind.
    manager: str | None = None
    list_file: str | None = None

    @property
    def entries(self) -> list[RecordEntry] | None:
        """The usable rows of the record, parsed anew on each call (kept as text: less memory)."""
        if self.record_text is None:
            return None
        if self.manager is not None:
            return parse_record(self.record_text, LISTED_ALGORITHMS)[0]
        if self.kind == "egg-info":
            return parse_installed_files(self.record_text)
        return parse_record(self.record_text)[0]

    @property
    def record_file(self) -> str:
        """The file listing this distribution's paths: RECORD, installed-files.txt, or the
        system package manager's list."""
        if self.list_file is not None:
            return self.list_file
        leaf = "installed-files.txt" if self.kind == "egg-info" else "RECORD"
        return f"{self.metadata_dir}/{leaf}"

    @property
    def site(self) -> str:
        """The directory holding the metadata directory (site-packages, or a --target dir)."""
        return self.metadata_dir.rsplit("/", 1)[0]


_SEPARATORS = re.compile(r"[-_.]+")


def canonical_name(name: str) -> str:
    """Return the PEP 503 normalised form of a distribution name.

    The specification's own definition, in one line: packaging.utils would pull in
    packaging.tags and its ELF readers (3 ms) on every install.
    """
    return _SEPARATORS.sub("-", name).lower()


def _absolute(path: str) -> str:
    return to_posix(os.path.realpath(path))


def _from_facts(facts: dict[str, Any], extra_dirs: Iterable[str] = ()) -> Environment:
    plan = plan_layers(facts, _absolute, os.path.isdir, extra_dirs)
    scheme = {key: _absolute(value) for key, value in facts["paths"].items() if value}
    markers = facts.get("markers")
    if markers is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in markers.items()
    ):
        raise TypeError("markers")
    return Environment(
        python=facts.get("python"),
        scan_dirs=tuple(layer.path for layer in plan.layers),
        roots=plan.roots,
        scheme=scheme,
        case_insensitive=bool(facts.get("case_insensitive")),
        markers=markers,
        layers=plan.layers,
        write_roots=plan.write_roots,
        imports=import_system(facts),
    )


def marker_environment(env: Environment) -> dict[str, str]:
    """Return the PEP 508 marker environment requirements are evaluated in for ``env``.

    The target interpreter's, as it described itself; for the running interpreter (and for
    plain directories, which have none of their own) the running one's, computed now.
    """
    return dict(env.markers) if env.markers is not None else _facts.marker_environment()


def describe_python(executable: str | None = None, *, timeout: float = 60.0) -> Environment:
    """Describe the environment of ``executable``, or of the running interpreter when None.

    ``executable`` is run with ``timeout`` seconds to answer and 1 MiB to say it in.
    """
    if executable is None:
        return _from_facts(_facts.facts())
    import shutil  # only for --python: 2 ms a check otherwise

    from pipguard.probe import ProbeOverflow, ProbeTimeout, run_bounded  # and subprocess

    exe = executable if os.sep in executable else (shutil.which(executable) or executable)
    if not os.path.exists(exe):
        raise EnvironmentError_(f"{executable}: no such interpreter")
    try:
        from pipguard.archive import script_command  # _facts has no file of its own in a .pyz

        command = script_command(exe, _facts)
        code, out, err = run_bounded(command, timeout=timeout, limit=1 << 20)
    except ProbeTimeout:
        raise EnvironmentError_(f"{executable}: did not answer within {timeout:g} s") from None
    except ProbeOverflow:
        raise EnvironmentError_(
            f"{executable}: answered with more than 1 MiB; not a Python interpreter"
        ) from None
    except OSError as exc:
        raise EnvironmentError_(f"{executable}: cannot run it: {exc.strerror or exc}") from None
    if code != 0:
        last = (err.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentError_(f"{executable}: failed to describe itself: {last}")
    try:
        facts = json.loads(out)
        return _from_facts(facts)
    except (ValueError, AttributeError, KeyError, TypeError):  # ValueError: JSON, or a NUL
        raise EnvironmentError_(
            f"{executable}: did not describe itself as a Python interpreter would"
        ) from None


def describe_paths(directories: Iterable[str]) -> Environment:
    """Describe plain directories (such as ``pip install --target`` ones) as one environment."""
    dirs: list[str] = []
    for directory in directories:
        if not os.path.isdir(directory):
            raise EnvironmentError_(f"{directory}: not a directory")
        resolved = _absolute(directory)
        if resolved not in dirs:
            dirs.append(resolved)
    return Environment(
        python=None,
        scan_dirs=tuple(dirs),
        roots=tuple(dirs),
        scheme={"purelib": dirs[0], "platlib": dirs[0]} if dirs else {},
        case_insensitive=sys.platform in ("darwin", "win32"),
        target_layout=True,
        layers=tuple(Layer(d, "given", True) for d in dirs),
        write_roots=tuple(dirs),
    )


class Refused(OSError):
    """A file pipguard will not open: a link out of the environment, or not a regular file."""


_MAX_LINKS = 40


def resolve_inside(path: str, roots: tuple[str, ...]) -> tuple[str, bool]:
    """Resolve the links in ``path`` one component at a time, never looking outside ``roots``.

    Returns (the resolved path, True) or (the first path that leaves ``roots``, False).
    Unlike ``os.path.realpath``, nothing outside the roots is ever stat-ed on the way.
    """
    root = next((r for r in roots if is_within(path, (r,))), None)
    if root is None:
        return path, False
    parts = [p for p in path[len(root) :].split("/") if p]
    current = root
    hops = 0
    while parts:
        part = parts.pop(0)
        candidate = posixpath.normpath(f"{current}/{part}")
        if not is_within(candidate, roots):
            return candidate, False
        try:
            info = os.lstat(candidate)
        except OSError:
            current = candidate
            continue
        if not stat.S_ISLNK(info.st_mode):
            current = candidate
            continue
        hops += 1
        target = to_posix(os.readlink(candidate))
        if hops > _MAX_LINKS:
            return candidate, False
        if target.startswith("/"):
            landing = posixpath.normpath(target)
            root = next((r for r in roots if is_within(landing, (r,))), None)
            if root is None:
                return landing, False
            parts = [p for p in target[len(root) :].split("/") if p] + parts
            current = root
        else:
            parts = [p for p in target.split("/") if p] + parts
    return current, True


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_fd(path: str, roots: tuple[str, ...], parent_checked: bool) -> tuple[int, int]:
    """Open a regular file inside ``roots`` (see :func:`open_inside`); return (fd, size)."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    fd = -1
    if parent_checked and _NOFOLLOW:
        try:
            fd = os.open(path, flags | _NOFOLLOW)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.EMLINK):  # a link (EMLINK on BSD)
                raise
    if fd < 0:
        real, inside = resolve_inside(path, roots)
        if not inside:
            raise Refused(f"is a link to {real}, outside the environment")
        fd = os.open(real, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def open_inside(path: str, roots: tuple[str, ...], *, parent_checked: bool = False) -> IO[bytes]:
    """Open a regular file for reading, refusing links that leave ``roots``, FIFOs and devices.

    ``parent_checked``: the directory holding ``path`` is known to be no link and inside, so
    only the file itself can be one: it is opened without following a link, and only a link
    is resolved component by component.
    """
    fd, _ = _open_fd(path, roots, parent_checked)
    try:
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_inside(
    path: str, roots: tuple[str, ...], *, parent_checked: bool = False, limit: int = -1
) -> bytes:
    """Return the bytes of a file :func:`open_inside` would open, or its first ``limit``.

    Read with os.read into a buffer the size fstat gave (no file object: 2.6 x faster on
    1,000 small RECORDs); a file that grows meanwhile is read on to its end.
    """
    fd, size = _open_fd(path, roots, parent_checked)
    try:
        if limit >= 0:
            return os.read(fd, limit)
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data
        chunks = [data]
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_text(path: str, roots: tuple[str, ...], parent_checked: bool) -> tuple[str, list[int]]:
    """Read a UTF-8 record; return its text and the numbers of lines that are not UTF-8.

    Such lines are left empty (so later line numbers hold): one bad row hides no other.
    """
    data = read_inside(path, roots, parent_checked=parent_checked)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    bad: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append("")
            bad.append(number)
    return "\n".join(lines), bad


_HEADER_READ = 8192
# The problem of a distribution without a record (pipguard.managed looks for it by equality).
NO_RECORD = "no RECORD: ownership unknown, its files cannot be checked"


def header_fields(text: str, complete: bool = True) -> tuple[str | None, str | None, bool]:
    """Return (Name, Version, whether the header ended) of a METADATA or PKG-INFO text.

    Lines end as in a text file (``\n``, ``\r\n`` or ``\r``); the header ends at the first
    blank line. ``complete``: ``text`` is the whole file, so a last line without an end is one.
    """
    name = version = None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    last = lines.pop()  # after the last line end: nothing, or a line cut short
    if complete and last:
        lines.append(last)
    for line in lines:
        if not line.strip():
            return name, version, True
        key, sep, value = line.partition(":")
        if not sep:
            continue
        lowered = key.lower()
        if lowered == "name" and name is None:
            name = value.strip()
        elif lowered == "version" and version is None:
            version = value.strip()
        if name is not None and version is not None:
            return name, version, True
    return name, version, False


def _metadata_fields(
    path: str, roots: tuple[str, ...], parent_checked: bool
) -> tuple[str | None, str | None]:
    """Return the Name and Version of a METADATA / PKG-INFO file, reading only its header."""
    head = read_inside(path, roots, parent_checked=parent_checked, limit=_HEADER_READ)
    if len(head) == _HEADER_READ:
        # Perhaps more to read: take the whole lines of this first part, then all if need be.
        whole_lines = head[: head.rfind(b"\n") + 1].decode("utf-8", "replace")
        name, version, ended = header_fields(whole_lines, complete=False)
        if ended:
            return name, version
        head = read_inside(path, roots, parent_checked=parent_checked)
    name, version, _ = header_fields(head.decode("utf-8", "replace"))
    return name, version


def _name_from_dirname(dirname: str) -> tuple[str, str]:
    stem = dirname.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    return name, version.split("-")[0] if version else ""


def _read_one(
    base: str, dirname: str, linked: bool, problems: list[Problem]
) -> InstalledDistribution | None:
    """Read one metadata directory of ``base``; ``linked``: the listing shows it is a link."""
    metadata_dir = f"{base}/{dirname}"
    legacy = dirname.endswith(".egg-info")
    if legacy and not os.path.isdir(metadata_dir):
        return None  # A bare PKG-INFO file from distutils: it lists no files at all.
    fallback_name, fallback_version = _name_from_dirname(dirname)
    roots = (base,)
    real_dir, inside = resolve_inside(metadata_dir, roots) if linked else (metadata_dir, True)
    if not inside:
        problems.append(
            Problem(
                canonical_name(fallback_name),
                metadata_dir,
                f"is a link to {real_dir}, outside the environment; not read",
            )
        )
        return None
    plain_dir = real_dir == metadata_dir  # no link on the way: its files open directly
    meta_file = f"{metadata_dir}/{'PKG-INFO' if legacy else 'METADATA'}"
    meta_read = False
    try:
        raw_name, raw_version = _metadata_fields(meta_file, roots, plain_dir)
        meta_read = True
    except Refused as exc:
        raw_name = raw_version = None
        problems.append(Problem(canonical_name(fallback_name), meta_file, f"{exc}; not read"))
    except FileNotFoundError:
        raw_name = raw_version = None
        problems.append(Problem(canonical_name(fallback_name), meta_file, "no METADATA file"))
    except OSError as exc:
        raw_name = raw_version = None
        problems.append(
            Problem(canonical_name(fallback_name), meta_file, f"unreadable: {exc.strerror}")
        )
    if meta_read and not raw_name:
        problems.append(
            Problem(
                canonical_name(fallback_name),
                meta_file,
                "has no Name field: named after its directory",
            )
        )
    name = canonical_name(raw_name or fallback_name)
    version = raw_version or fallback_version
    record_file = f"{metadata_dir}/{'installed-files.txt' if legacy else 'RECORD'}"
    text: str | None = None
    not_utf8: list[int] = []
    try:
        text, not_utf8 = _read_text(record_file, roots, plain_dir)
        problems.extend(Problem(name, record_file, f"line {n}: not UTF-8") for n in not_utf8)
    except Refused as exc:
        problems.append(Problem(name, record_file, f"{exc}; not read: ownership unknown"))
    except FileNotFoundError:
        problems.append(Problem(name, record_file, NO_RECORD))
    except OSError as exc:
        problems.append(Problem(name, record_file, f"unreadable: {exc.strerror}"))
    base_for_rows = metadata_dir if legacy else base
    # The rows are parsed (and their issues reported) once, where the index is built.
    return InstalledDistribution(
        name,
        version,
        metadata_dir,
        base_for_rows,
        text,
        "egg-info" if legacy else "dist-info",
        tuple(not_utf8),
    )


def _metadata_dirs(directory: str, problems: list[Problem]) -> list[tuple[str, bool]]:
    """Return the metadata directories of ``directory``, sorted, and whether each is a link."""
    try:
        with os.scandir(directory) as listing:
            # The listing's file types answer is_symlink() without a stat per entry.
            return sorted(
                (entry.name, entry.is_symlink())
                for entry in listing
                if entry.name.endswith((".dist-info", ".egg-info"))
            )
    except OSError as exc:
        # An unreadable site-packages must not pass as an empty, clean one.
        problems.append(Problem(None, directory, f"cannot be listed: {exc.strerror}"))
        return []


def read_distributions(env: Environment) -> tuple[list[InstalledDistribution], list[Problem]]:
    """Read every installed distribution in the environment's directories, with the problems met."""
    dists: list[InstalledDistribution] = []
    problems: list[Problem] = []
    for directory in env.scan_dirs:
        seen: dict[str, InstalledDistribution] = {}
        for dirname, linked in _metadata_dirs(directory, problems):
            dist = _read_one(directory, dirname, linked, problems)
            if dist is None:
                continue
            other = seen.setdefault(dist.name, dist)
            if other is not dist:
                problems.append(
                    Problem(
                        dist.name,
                        dist.metadata_dir,
                        f"installed twice in one directory: {other.version} and {dist.version}",
                    )
                )
            dists.append(dist)
    return dists, problems
