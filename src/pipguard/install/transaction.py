"""The transaction: each wheel pip is about to install, its files planned, built at pip's step."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

# Read at pip's step where apt's distributions are a layer: imported before pip starts.
import pipguard.dpkg  # noqa: F401
from pipguard.checks.startup_files import is_startup_path
from pipguard.environment import (
    Environment,
    EnvironmentError_,
    InstalledDistribution,
    Problem,
    describe_python,
)
from pipguard.install.plan import (
    OutsideError,
    Scheme,
    UnreadableError,
    WheelContents,
    WheelError,
    plan_wheel,
)
from pipguard.install.plan import read_wheel as _read_wheel
from pipguard.layers import ImportSystem, Layer, cover
from pipguard.paths import entry_below, is_within, resolve_row, to_posix
from pipguard.views import IncomingWheel, PlannedFile, StartupBytes, TargetFacts, Transaction

if TYPE_CHECKING:
    from pipguard.disk import Disk
    from pipguard.install.pipbridge import Requirement, Step
    from pipguard.ownership import OwnershipIndex
    from pipguard.policy import Policy

__all__ = [
    "Planned",
    "Stop",
    "lock_directory",
    "plan_transaction",
    "removed_paths",
    "scan_step",
    "step_environment",
]


class Stop(Exception):
    """The transaction cannot go ahead: the message says why, and nothing was installed."""


class Planned(NamedTuple):
    """A transaction and what planning it met."""

    transaction: Transaction
    problems: list[Problem]
    # Per incoming wheel, its planned (absolute path, RECORD path) pairs that were not on disk
    # before the step: what a failed pip may have left half-written.
    fresh: dict[tuple[str, str], list[tuple[str, str]]]
    # Per incoming wheel, RECORD as the wheel ships it: pip writes its own in its place last.
    own_records: dict[tuple[str, str], str]


def step_environment(schemes: Sequence[Scheme], target: str | None = None) -> Environment:
    """The environment an install step writes into, and every layer the interpreter imports from.

    pip writes to its scheme's directories only (the write roots). Where they are the running
    interpreter's own (pip installs for the interpreter it runs in), every site directory on
    its ``sys.path`` is read too, in that order, so that clashes and shadowing between layers
    are found; ``--target``, ``--prefix`` and ``--root`` elsewhere leave the scheme alone.
    """
    # Schemes differ only by their headers directory: dedupe before touching the disk.
    libs = dict.fromkeys(d for s in schemes for d in (s.purelib, s.platlib))
    scan_dirs = [d for d in libs if os.path.isdir(d)]
    writes = cover(
        d
        for s in schemes
        for d in (s.data, s.purelib, s.platlib, s.scripts, os.path.dirname(s.headers))
    )
    keys = ("purelib", "platlib", "scripts", "data")
    scheme = {key: schemes[0].get(key) for key in keys} if schemes else {}
    env = Environment(
        python=sys.executable,
        scan_dirs=tuple(scan_dirs),
        roots=writes,
        scheme=scheme,
        target_layout=bool(target),
        layers=tuple(Layer(d, "scheme", True) for d in scan_dirs),
        write_roots=writes,
    )
    return env if target else _with_layers(env, libs)


def _with_layers(env: Environment, libs: Iterable[str]) -> Environment:
    """Return ``env`` with the running interpreter's layers, when pip writes into its scheme."""
    try:
        running = describe_python()  # in-process: the interpreter pip installs for
    except (EnvironmentError_, KeyError, TypeError):
        return env
    # Layers are named with links resolved; pip's own spelling is kept for its directories,
    # which planned paths and RECORD rows are joined to.
    spelled = {to_posix(os.path.realpath(d)): d for d in libs}
    if not (set(spelled) & {layer.path for layer in running.layers}):
        return env  # --prefix, --root: not a directory this interpreter imports from
    layers = [
        Layer(
            spelled.get(layer.path, layer.path),
            layer.origin,
            layer.path in spelled or is_within(layer.path, env.write_roots),
        )
        for layer in running.layers
    ]
    layers += [Layer(d, "scheme", True) for d in env.scan_dirs if d not in {x.path for x in layers}]
    return env._replace(
        scan_dirs=tuple(layer.path for layer in layers),
        roots=cover([*env.roots, *running.roots]),
        case_insensitive=running.case_insensitive,
        layers=tuple(layers),
        imports=running.imports,
    )


def scan_step(
    env: Environment,
) -> tuple[list[InstalledDistribution], OwnershipIndex, list[Problem]]:
    """Index every layer of ``env``; return what is installed where pip writes, the index, and
    the problems met.

    A base interpreter's copy of a name pip reinstalls stays where it is: pip neither removes
    nor replaces it (its distributions are in the index, for clashes and shadowing).
    """
    from pipguard.check import scan

    dists, index, problems = scan(env)
    writable = {layer.path for layer in env.layers if layer.writable}
    return [d for d in dists if d.site in writable], index, problems


def lock_directory(env: Environment) -> str | None:
    """Return the directory two runs on one environment take turns on: the scheme's purelib.

    Where pip writes, not the first layer (which may be a PYTHONPATH or user directory).
    """
    return env.scheme.get("purelib") or None


def removed_paths(before: Sequence[InstalledDistribution], replaced: set[str]) -> list[str]:
    """Return the paths pip will remove when it uninstalls the replaced distributions."""
    paths = []
    for dist in before:
        if dist.name in replaced:
            for entry in dist.entries or ():
                path = resolve_row(dist.base, entry.path)
                if path is not None:
                    paths.append(path)
    return paths


def _read(
    step: Step,
    env: Environment,
    policy: Policy,
    script_names: Callable[[dict[str, str]], list[str]],
) -> tuple[list[tuple[Requirement, WheelContents, list[PlannedFile]]], list[Problem]]:
    """Read and plan each wheel of ``step``; raise Stop where one cannot be planned."""
    planned = []
    problems: list[Problem] = []
    for requirement in step.requirements:
        if requirement.wheel is None:
            problems.append(
                Problem(
                    requirement.name,
                    "-",
                    "not installed from a wheel: its files cannot be known in advance",
                )
            )
            continue
        try:
            wheel = _read_wheel(requirement.wheel)
            # Only inside the write roots: a base interpreter's prefix is read, never written.
            files = plan_wheel(wheel, requirement.scheme, env.write_roots, script_names)
        except WheelError as exc:
            # pip would fail half-way on an unreadable wheel: nothing is lost by stopping.
            stops_warn = isinstance(exc, OutsideError) and policy == "warn"
            if policy == "prevent" or stops_warn or isinstance(exc, UnreadableError):
                raise Stop(f"pipguard: {exc}; nothing was installed") from None
            problems.append(Problem(requirement.name, requirement.wheel, str(exc)))
            continue
        problems.extend(wheel.problems)
        planned.append((requirement, wheel, files))
    return planned, problems


def _true_hashes(
    wheel: WheelContents,
    files: list[PlannedFile],
    *,
    verify: Callable[[PlannedFile], bool],
    problems: list[Problem],
) -> tuple[PlannedFile, ...]:
    """Return the planned files with, where ``verify`` says so, the hash of the wheel's bytes.

    A RECORD hash is the wheel's claim: where it decides whether a file may be overwritten,
    the member's real bytes decide instead.
    """
    result = []
    for planned in files:
        hashed = planned
        if planned.member is not None and verify(planned):
            actual = wheel.member_hash(planned.member)
            claimed = planned.hash
            if claimed is not None and claimed.startswith("sha256=") and actual != claimed:
                problems.append(
                    Problem(
                        wheel.name,
                        os.path.basename(wheel.path),
                        f"RECORD hash of {planned.member} does not match its bytes",
                    )
                )
            hashed = planned._replace(hash=actual)
        result.append(hashed)
    return tuple(result)


def _claims_to_verify(
    planned: list[tuple[Requirement, WheelContents, list[PlannedFile]]],
    index: OwnershipIndex,
    disk: Disk,
    hash_all: bool,
) -> Callable[[PlannedFile], bool]:
    """Return which planned files' RECORD claims are checked against the wheel's bytes.

    Every taken path's, with ``hash_all`` (an install that goes ahead over a clash reads each
    contested member first, so that a corrupt one stops it before pip writes). Otherwise only
    a claim that would make the clash harmless: the same hash as another claim or an installed
    owner's, a file on disk that nobody lists, or no sha256 at all; a claim of other bytes
    stops the install whatever they are, and a large wheel is not hashed whole for it.
    """
    claims: dict[str, list[str | None]] = {}
    for _, _, files in planned:
        for f in files:
            claims.setdefault(f.path, []).append(f.hash)

    def verify(planned_file: PlannedFile) -> bool:
        path = planned_file.path
        owned = path in index
        if len(claims[path]) < 2 and not owned:
            return disk.exists(path)  # unowned on disk: its bytes decide
        claim = planned_file.hash
        if hash_all or claim is None or not claim.startswith("sha256="):
            return True
        if claims[path].count(claim) > 1:
            return True  # another incoming wheel claims the same bytes
        return claim in {h for _, h in index.owners(path)} if owned else disk.exists(path)

    count = sum(1 for _, _, files in planned for f in files if f.member and verify(f))
    if count > _SAY_AFTER:
        print(
            f"pipguard: reading {count} files of the wheels that other distributions list too",
            file=sys.stderr,
            flush=True,
        )
    return verify


# Past this many members to read and hash, pipguard says what it is doing: it takes a while.
_SAY_AFTER = 500


def _startup_files(
    wheel: WheelContents, files: list[PlannedFile], scheme: Scheme
) -> tuple[StartupBytes, ...]:
    """Return the bytes of each startup file the wheel writes into a site directory."""
    found = []
    # Asked of every planned file: the prefixes are built once, not per file and site.
    sites = [(site, f"{site}/") for site in dict.fromkeys((scheme.purelib, scheme.platlib))]
    for planned in files:
        if planned.member is None:
            continue
        path = planned.path
        for site, prefix in sites:
            if path.startswith(prefix) and is_startup_path(path[len(prefix) :]):
                name = path[len(prefix) :]
                found.append(StartupBytes(path, site, name, wheel.member_bytes(planned.member)))
                break
    return tuple(found)


def _contested_inits(
    wheel: WheelContents, files: list[PlannedFile], contested: Callable[[str], bool]
) -> tuple[tuple[str, bytes], ...]:
    """Return the bytes of each package ``__init__.py`` the wheel writes that another lists."""
    return tuple(
        (f.path, wheel.member_bytes(f.member))
        for f in files
        if f.member is not None and f.path.endswith("/__init__.py") and contested(f.path)
    )


def _target_facts(step: Step, wheels: Sequence[IncomingWheel], disk: Disk) -> TargetFacts | None:
    """Return which top-level entries of ``--target`` pip will keep or replace."""
    target = step.target_dir
    if not target:
        return None
    entries = {entry_below(f.path, target) for wheel in wheels for f in wheel.files}
    existing = frozenset(
        top for top in entries if top is not None and disk.lexists(f"{target}/{top}")
    )
    upgrade = step.target_upgrade
    kept = frozenset(top for top in existing if not upgrade or disk.islink(f"{target}/{top}"))
    return TargetFacts(target, upgrade, existing, kept)


def _running_imports() -> ImportSystem | None:
    """The import system of the interpreter pip runs in, which is the one it installs for."""
    from pipguard import _facts
    from pipguard.layers import import_system

    try:
        return import_system(_facts.facts())
    except (KeyError, TypeError):
        return None


def plan_transaction(
    step: Step,
    env: Environment,
    before: Sequence[InstalledDistribution],
    index: OwnershipIndex,
    disk: Disk,
    *,
    policy: Policy,
    script_names: Callable[[dict[str, str]], list[str]],
    hash_all: bool = True,
) -> Planned:
    """Describe ``step`` as a Transaction: each wheel's files where pip will write them.

    ``hash_all``: hash every contested member. Without it (prevent, no winner: a clash stops
    the install whatever the bytes), only the claims that would make a clash harmless are.
    Raises Stop when a wheel cannot be planned (under prevent) or read at all.
    """
    planned, problems = _read(step, env, policy, script_names)
    claimed = Counter(f.path for _, _, files in planned for f in files)
    fresh = {
        (wheel.name, wheel.version): [
            (f.path, f.record_path) for f in files if not disk.exists(f.path)
        ]
        for _, wheel, files in planned
    }
    verify = _claims_to_verify(planned, index, disk, hash_all)
    try:
        wheels = tuple(
            IncomingWheel(
                wheel.name,
                wheel.version,
                wheel.path,
                site,
                f"{site}/{wheel.dist_info}",
                _true_hashes(wheel, files, verify=verify, problems=problems),
                _startup_files(wheel, files, requirement.scheme),
                requirement.editable,
                _contested_inits(wheel, files, lambda path: claimed[path] > 1 or path in index),
            )
            for requirement, wheel, files in planned
            for site in [
                requirement.scheme.purelib if wheel.root_is_purelib else requirement.scheme.platlib
            ]
        )
    except WheelError as exc:
        # pip could not install a wheel it cannot read either: say so before it tries.
        raise Stop(f"pipguard: {exc}; nothing was installed") from None
    sites = sorted(
        {s for r in step.requirements for s in (r.scheme.purelib, r.scheme.platlib)},
        key=len,
        reverse=True,
    )
    transaction = Transaction(
        env=env,
        installed=tuple(before),
        wheels=wheels,
        replaced=frozenset(r.name for r in step.requirements if r.reinstall),
        sites=tuple(sites),
        target=_target_facts(step, wheels, disk),
        python_version=step.python_version or (sys.version_info[0], sys.version_info[1]),
        imports=env.imports or _running_imports(),
    )
    own_records = {(wheel.name, wheel.version): wheel.record_text for _, wheel, _ in planned}
    return Planned(transaction, problems, fresh, own_records)
