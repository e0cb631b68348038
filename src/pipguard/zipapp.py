"""One file that carries pipguard: ``pipguard zipapp -o pipguard.pyz`` builds it.

The archive (the standard library's ``zipapp``) holds pipguard and its pure-Python
dependencies, copied from where they are installed for the running interpreter, but not pip:
pip is always the one of the interpreter that runs the file. It holds no ``.dist-info``, so
neither pip nor ``importlib.metadata`` sees the bundled packages as installed, and zipimport
writes no bytecode: running the file leaves nothing of pipguard's in the environment.
Running from it is ``archive.py``'s part.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from importlib.metadata import Distribution

    from packaging.requirements import Requirement

__all__ = [
    "DISTRIBUTION",
    "BuildError",
    "Built",
    "Bundle",
    "Bundled",
    "DistFacts",
    "LeftOut",
    "build",
    "describe_build",
    "plan_bundle",
    "sort_files",
    "supported_pythons",
]

# The registry name of this project ([project] name in pyproject.toml): the registry's
# ``pipguard`` is another project.
DISTRIBUTION = "pip-clobber-guard"
# Never bundled: pip comes from the interpreter that runs the archive.
NOT_BUNDLED = frozenset({"pip"})
MAIN = "from pipguard.archive import run_archive\n\nrun_archive()\n"
SHEBANG = "/usr/bin/env python3"
# Every minor version a Requires-Python or a marker could name; the window is cut from it.
_MINORS = tuple(f"3.{minor}" for minor in range(0, 30))
_EXTENSIONS = (".so", ".pyd", ".dylib")
_LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "COPYRIGHT")


class BuildError(Exception):
    """The archive cannot be built from what is installed; the message says why."""


class DistFacts(NamedTuple):
    """What the builder needs of one installed distribution."""

    name: str
    version: str
    requires: tuple[str, ...]
    requires_python: str | None
    # RECORD paths, relative to ``location``; None when it has no RECORD.
    files: tuple[str, ...] | None
    location: str


class Bundled(NamedTuple):
    """A distribution put into the archive, and which of its files."""

    name: str
    version: str
    location: str
    files: tuple[str, ...]
    # Extension modules left out: zipimport cannot load them (their .py twins are used).
    compiled: tuple[str, ...]
    licenses: tuple[str, ...]


class LeftOut(NamedTuple):
    """A dependency some supported Python needs that is not installed here."""

    name: str
    requirement: str
    needed_on: tuple[str, ...]


class Bundle(NamedTuple):
    """What goes into the archive, and the Python versions it then runs on."""

    bundled: tuple[Bundled, ...]
    left_out: tuple[LeftOut, ...]
    pythons: tuple[str, ...]


class Built(NamedTuple):
    """A written archive."""

    path: str
    size: int
    version: str
    bundle: Bundle
    copied_from: str | None
    bytecode: str | None


def supported_pythons(requires_python: str | None, current: str) -> tuple[str, ...]:
    """Return the minor versions (``"3.10"``, ...) that ``requires_python`` admits.

    Each is judged at its ``.0`` release, but ``current`` (the running interpreter's full
    version) at itself.
    """
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(requires_python or "")
    running = ".".join(current.split(".")[:2])
    return tuple(
        minor
        for minor in _MINORS
        if spec.contains(current if minor == running else f"{minor}.0", prereleases=True)
    )


def sort_files(paths: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """Split a distribution's RECORD paths into (to bundle, compiled modules, license files).

    Left out altogether: paths outside the site directory (console scripts), the metadata
    directory (but its license files), bytecode, and top-level ``.pth`` files.
    """
    keep: list[str] = []
    compiled: list[str] = []
    licenses: list[str] = []
    for path in paths:
        parts = path.replace("\\", "/").split("/")
        if parts[0] in ("", "..") or ".." in parts or ":" in parts[0]:
            continue
        if parts[0].endswith((".dist-info", ".egg-info")):
            if len(parts) > 1 and (
                parts[1] == "licenses" or parts[-1].upper().startswith(_LICENSE_NAMES)
            ):
                licenses.append(path)
            continue
        if "__pycache__" in parts or path.endswith((".pyc", ".pyo")):
            continue
        if len(parts) == 1 and path.endswith(".pth"):
            continue
        (compiled if path.endswith(_EXTENSIONS) else keep).append(path)
    return keep, compiled, licenses


def _needed_on(requirement: Requirement, pythons: Sequence[str], current: str) -> set[str]:
    """The versions of ``pythons`` whose markers (this platform's, no extra) want it."""
    if requirement.marker is None:
        return set(pythons)
    running = ".".join(current.split(".")[:2])
    return {
        minor
        for minor in pythons
        if requirement.marker.evaluate(
            {
                "python_version": minor,
                "python_full_version": current if minor == running else f"{minor}.0",
                "extra": "",
            }
        )
    }


def plan_bundle(
    root: DistFacts,
    lookup: Callable[[str], DistFacts | None],
    pythons: Sequence[str],
    current: str,
) -> Bundle:
    """Find the dependencies of ``root`` (but pip) for every Python in ``pythons``.

    ``lookup`` answers with an installed distribution by canonical name, or None. A dependency
    the running Python (``current``) needs must be installed; one only other versions need is
    left out, and those versions drop from the archive's range, as do those a bundled
    distribution's Requires-Python excludes.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    running = ".".join(current.split(".")[:2])
    found: dict[str, DistFacts] = {canonicalize_name(root.name): root}
    wanted: dict[str, set[str]] = {canonicalize_name(root.name): set(pythons)}
    missing: dict[str, tuple[str, set[str]]] = {}
    queue = [canonicalize_name(root.name)]
    while queue:
        dist = found[queue.pop()]
        for line in dist.requires:
            try:
                requirement = Requirement(line)
            except InvalidRequirement as exc:
                raise BuildError(
                    f"{dist.name} {dist.version}: bad Requires-Dist {line!r}: {exc}"
                ) from None
            name = canonicalize_name(requirement.name)
            if name in NOT_BUNDLED:
                continue
            need = _needed_on(requirement, pythons, current) & wanted[canonicalize_name(dist.name)]
            if not need:
                continue
            facts = found.get(name) or lookup(name)
            if facts is None:
                if running in need:
                    raise BuildError(
                        f"{requirement.name} (required by {dist.name}) is not installed for "
                        f"{sys.executable}"
                    )
                earlier = missing.get(name, (str(requirement), set()))[1]
                missing[name] = (str(requirement), earlier | need)
                continue
            if not requirement.specifier.contains(facts.version, prereleases=True):
                raise BuildError(
                    f"{dist.name} requires {requirement.name}{requirement.specifier}, but "
                    f"{facts.name} {facts.version} is installed"
                )
            if name not in found or not need <= wanted[name]:
                found[name] = facts
                wanted[name] = wanted.get(name, set()) | need
                queue.append(name)
    unsupported = {minor for _, need in missing.values() for minor in need}
    for key, bundled in found.items():
        spec = SpecifierSet(bundled.requires_python or "")
        unsupported |= {
            minor
            for minor in wanted[key]
            if not spec.contains(current if minor == running else f"{minor}.0", prereleases=True)
        }
    return Bundle(
        bundled=tuple(
            _bundled(found[name], own=name == canonicalize_name(root.name))
            for name in sorted(found)
        ),
        left_out=tuple(
            LeftOut(name, requirement, tuple(m for m in pythons if m in need))
            for name, (requirement, need) in sorted(missing.items())
        ),
        pythons=_run_around(pythons, unsupported, running),
    )


def _bundled(facts: DistFacts, own: bool) -> Bundled:
    """The files of ``facts`` to bundle; for pipguard itself (``own``) only its licenses."""
    if own:
        licenses = sort_files(facts.files or ())[2]
        return Bundled(facts.name, facts.version, facts.location, (), (), tuple(licenses))
    if facts.files is None:
        raise BuildError(
            f"{facts.name} {facts.version} has no RECORD in {facts.location}: "
            "its files are not known"
        )
    keep, compiled, licenses = sort_files(facts.files)
    if not any(path.endswith(".py") for path in keep):
        raise BuildError(
            f"{facts.name} {facts.version} has no Python source to bundle (compiled only?)"
        )
    return Bundled(
        facts.name, facts.version, facts.location, tuple(keep), tuple(compiled), tuple(licenses)
    )


def _run_around(pythons: Sequence[str], unsupported: set[str], running: str) -> tuple[str, ...]:
    """The unbroken run of supported versions that holds the running one."""
    ordered = list(pythons)
    if running not in ordered or running in unsupported:
        return ()
    low = high = ordered.index(running)
    while low > 0 and ordered[low - 1] not in unsupported:
        low -= 1
    while high + 1 < len(ordered) and ordered[high + 1] not in unsupported:
        high += 1
    return tuple(ordered[low : high + 1])


# The disk and the running interpreter.


def _facts_of(dist: Distribution) -> DistFacts:
    files = dist.files
    location = str(dist.locate_file(""))
    return DistFacts(
        name=dist.metadata["Name"],
        version=dist.version,
        requires=tuple(dist.requires or ()),
        requires_python=dist.metadata["Requires-Python"],
        files=None if files is None else tuple(str(path) for path in files),
        location=location,
    )


def _installed(name: str) -> DistFacts | None:
    from importlib import metadata

    try:
        return _facts_of(metadata.distribution(name))
    except metadata.PackageNotFoundError:
        return None


def _own_files() -> list[tuple[str, str]]:
    """pipguard's files as this process imported them: an editable RECORD lists none."""
    import pipguard

    package = os.path.dirname(os.path.abspath(pipguard.__file__ or ""))
    members = []
    for directory, subdirs, names in os.walk(package):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(names):
            if name.startswith(".") or name.endswith((".pyc", ".pyo", "~")):
                continue
            source = os.path.join(directory, name)
            arcname = os.path.relpath(source, os.path.dirname(package)).replace(os.sep, "/")
            members.append((arcname, source))
    return members


def _licenses_text(bundle: Bundle) -> str:
    parts = ["Licenses of the distributions bundled in this archive.\n"]
    for dist in bundle.bundled:
        for path in dist.licenses:
            with open(os.path.join(dist.location, path), encoding="utf-8", errors="replace") as f:
                text = f.read()
            parts.append(f"\n==== {dist.name} {dist.version}: {path.split('/')[-1]} ====\n\n{text}")
    return "".join(parts)


def _bytecode(wanted: bool) -> str | None:
    return ".".join(map(str, sys.version_info[:2])) if wanted else None


def _compile(directory: str) -> None:
    """Write ``x.pyc`` beside every ``x.py``, where zipimport looks (unchecked: never stale)."""
    import py_compile

    for current, _, names in os.walk(directory):
        for name in names:
            source = os.path.join(current, name)
            if not name.endswith(".py") or source == os.path.join(directory, "__main__.py"):
                continue
            arcname = os.path.relpath(source, directory).replace(os.sep, "/")
            try:
                py_compile.compile(
                    source,
                    cfile=source + "c",
                    dfile=arcname,
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError as exc:
                raise BuildError(f"{arcname}: does not compile: {exc.msg}") from None


def _manifest(version: str, bundle: Bundle, bytecode: bool) -> dict[str, Any]:
    return {
        "version": 1,
        "pipguard": version,
        "built_with": ".".join(map(str, sys.version_info[:3])),
        # The Python whose .pyc files it holds; others compile its sources at each start.
        "bytecode": _bytecode(bytecode),
        "python": {
            "min": bundle.pythons[0],
            # None: no newer version is known to be excluded.
            "max": None if bundle.pythons[-1] == _MINORS[-1] else bundle.pythons[-1],
        },
        "bundled": [{"name": d.name, "version": d.version} for d in bundle.bundled],
        "left_out": [
            {"name": lo.name, "requirement": lo.requirement, "needed_on": list(lo.needed_on)}
            for lo in bundle.left_out
        ],
    }


def _stage(directory: str, members: Iterable[tuple[str, str | bytes]], stamp: float) -> None:
    """Write ``(archive name, source path or bytes)`` below ``directory``, dated ``stamp``."""
    import shutil

    for arcname, source in members:
        target = os.path.join(directory, *arcname.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if isinstance(source, bytes):
            with open(target, "wb") as f:
                f.write(source)
        elif os.path.isdir(source):  # a RECORD row that names a directory (pip 26.3's has one)
            continue
        else:
            shutil.copyfile(source, target)
        os.chmod(target, 0o644)
    # One date and mode for every entry: the same inputs give the same bytes.
    for current, subdirs, names in os.walk(directory):
        for name in subdirs:
            os.chmod(os.path.join(current, name), 0o755)
        for name in [*subdirs, *names]:
            os.utime(os.path.join(current, name), (stamp, stamp))


def build(output: str, *, bytecode: bool = False) -> Built:
    """Write the archive to ``output`` (replacing it whole) and describe what it holds.

    With ``bytecode``, each module's ``.pyc`` for the running Python goes beside its source:
    that Python then starts as fast as from an installed pipguard, others compile the sources.
    """
    import tempfile
    import zipapp

    from pipguard import __version__

    if os.path.isdir(output):
        raise BuildError(f"{output}: is a directory; name the file to write")
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise BuildError(f"{output}: no such directory: {parent}")
    from pipguard.archive import MANIFEST, running_archive

    archive = running_archive()
    if archive is not None:
        if bytecode:
            raise BuildError(
                f"--compile: {archive} can only be copied; build from an installed pipguard"
            )
        return _copy_archive(archive, output, __version__)
    root = _installed(DISTRIBUTION)
    if root is None:
        raise BuildError(
            f"{DISTRIBUTION} is not installed for {sys.executable} (its metadata names the "
            "dependencies to bundle): python -m pip install . from the clone first"
        )
    current = ".".join(map(str, sys.version_info[:3]))
    bundle = plan_bundle(
        root, _installed, supported_pythons(root.requires_python, current), current
    )
    if not bundle.pythons:
        raise BuildError(f"{DISTRIBUTION} {root.version} does not support Python {current}")
    members: list[tuple[str, str | bytes]] = list(_own_files())
    for dist in bundle.bundled:
        if dist.name != root.name:
            members += [(path, os.path.join(dist.location, path)) for path in dist.files]
    manifest = json.dumps(_manifest(__version__, bundle, bytecode), indent=1) + "\n"
    members += [
        (MANIFEST, manifest.encode()),
        ("LICENSES.txt", _licenses_text(bundle).encode()),
        ("__main__.py", MAIN.encode()),
    ]
    stamp = float(os.environ.get("SOURCE_DATE_EPOCH") or 946684800)  # 2000-01-01
    fd, partial = tempfile.mkstemp(prefix=".pipguard-", suffix=".pyz-tmp", dir=parent)
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory(prefix="pipguard-zipapp-") as staging:
            _stage(staging, members, stamp)
            if bytecode:
                _compile(staging)
            zipapp.create_archive(staging, partial, interpreter=SHEBANG, compressed=True)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o777 & ~umask)  # mkstemp's file is private; the archive is a program
        os.replace(partial, output)
    except OSError as exc:
        raise BuildError(f"{output}: cannot write it: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return Built(output, os.path.getsize(output), __version__, bundle, None, _bytecode(bytecode))


def _copy_archive(archive: str, output: str, version: str) -> Built:
    """From inside an archive, the archive itself is the build: copy it."""
    import shutil

    from pipguard.archive import read_manifest

    try:
        manifest = read_manifest()
    except (OSError, ValueError) as exc:
        raise BuildError(f"{archive}: cannot read what it bundles: {exc}") from None
    bundle = Bundle(
        bundled=tuple(
            Bundled(d["name"], d["version"], archive, (), (), ()) for d in manifest["bundled"]
        ),
        left_out=tuple(
            LeftOut(d["name"], d["requirement"], tuple(d["needed_on"]))
            for d in manifest["left_out"]
        ),
        pythons=(manifest["python"]["min"], manifest["python"]["max"] or _MINORS[-1]),
    )
    if os.path.abspath(output) != os.path.abspath(archive):
        try:
            shutil.copyfile(archive, output)
            os.chmod(output, 0o755)
        except OSError as exc:
            raise BuildError(f"{output}: cannot write it: {exc.strerror or exc}") from None
    return Built(output, os.path.getsize(output), version, bundle, archive, manifest["bytecode"])


def describe_build(built: Built) -> list[str]:
    """Return the lines that say what was written and where it runs."""
    low, high = built.bundle.pythons[0], built.bundle.pythons[-1]
    span = f"Python {low}+" if high == _MINORS[-1] else f"Python {low} to {high}"
    others = [f"{d.name} {d.version}" for d in built.bundle.bundled if d.name != DISTRIBUTION]
    source = f" (a copy of {built.copied_from})" if built.copied_from else ""
    if built.bytecode:
        span += f" (bytecode for {built.bytecode})"
    lines = [
        f"pipguard: wrote {built.path}{source}: {built.size / 1e6:.1f} MB, pipguard "
        f"{built.version} with {', '.join(others) or 'no dependencies'}; runs on {span} "
        "with that interpreter's pip"
    ]
    for left in built.bundle.left_out:
        lines.append(
            f"pipguard: note: {left.requirement} is not installed here, and Python "
            f"{', '.join(left.needed_on)} need it: the archive does not run there (install it "
            "and build again for them)"
        )
    compiled = sum(len(d.compiled) for d in built.bundle.bundled)
    if compiled:
        lines.append(
            f"pipguard: note: left out {compiled} compiled module file(s); their Python "
            "sources are used (zipimport cannot load extension modules)"
        )
    return lines
