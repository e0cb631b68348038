"""``pipguard install``: pip install, with every clash found before the first file is written."""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pipguard.check import DiskHasher, ExistingPaths, scan
from pipguard.detect import (
    Clash,
    Incoming,
    find_clashes,
    find_target_replacements,
    find_target_skips,
    find_transaction_clashes,
    judge,
)
from pipguard.environment import (
    Environment,
    InstalledDistribution,
    Problem,
    canonical_name,
    describe_python,
    open_inside,
    resolve_inside,
)
from pipguard.freshness import FreshnessSnapshot, Settled, directories_to_watch
from pipguard.lock import Lock, LockTimeout, hold
from pipguard.ownership import OwnershipIndex
from pipguard.paths import entry_below, is_within, resolve_row, to_posix
from pipguard.plan import (
    OutsideError,
    PlannedFile,
    Scheme,
    WheelContents,
    WheelError,
    plan_wheel,
    read_wheel,
    script_specs,
)

if TYPE_CHECKING:
    from rich.console import Console

    from pipguard.pipbridge import Requirement, Step, StepOutcome

__all__ = [
    "EXIT_USAGE",
    "GuardOptions",
    "InstallGuard",
    "UsageError",
    "install_main",
    "keep_file",
    "load_rendering",
    "removed_paths",
    "split_args",
    "stderr_console",
    "warm_up",
    "write_atomically",
]

Policy = Literal["prevent", "warn", "ignore"]
Verdict = tuple[Clash, bool]  # a clash, and whether it was harmless before the step
POLICIES: tuple[Policy, ...] = ("prevent", "warn", "ignore")
EXIT_USAGE = 2

_HELP = """\
pipguard install: pip install, guarded against two distributions writing one file.

Every pip install argument passes through unchanged. pipguard's own options:
  --on-conflict {prevent,warn,ignore}
                 prevent (default): stop before writing anything when the transaction
                 would overwrite another distribution's file with different bytes;
                 warn: install anyway and report who won; ignore: report nothing.
                 Also PIPGUARD_ON_CONFLICT.
  --winner NAME  for every clash NAME takes part in, NAME's copy is the one left on
                 disk, whatever order pip installs in (repeatable; also
                 PIPGUARD_WINNER, space-separated). Such clashes do not stop.
  --lock-timeout SECONDS
                 wait this long for another pipguard run on the same environment
                 (default 600).
  --journal FILE write a JSON journal of the transaction (- for stdout; pip's own
                 output then goes to stderr).
"""


class UsageError(Exception):
    """pipguard's own install options are wrong."""


class WinnerConflict(Exception):
    """Two ``--winner`` distributions clash with each other."""


def keep_file(path: str, roots: tuple[str, ...]) -> tuple[bytes, int] | None:
    """Read a file's bytes and permission bits, to write it back after pip.

    None for what pipguard will not read or write back: no such file, not a regular file, or
    a path that a link carries out of the environment.
    """
    real, inside = resolve_inside(path, roots)
    if not inside or real != path:
        return None  # written back through a link, it could land anywhere
    try:
        with open_inside(path, roots) as handle:
            return handle.read(), os.fstat(handle.fileno()).st_mode & 0o7777
    except OSError:
        return None


def write_atomically(path: str, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` by rename: never a half-written file."""
    temp = f"{path}.pipguard-tmp"
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class GuardOptions(NamedTuple):
    """pipguard's own options of ``install``, taken out of the pip arguments."""

    policy: Policy = "prevent"
    journal: str | None = None
    lock_timeout: float = 600.0
    winners: frozenset[str] = frozenset()


def _policy(value: str, source: str) -> Policy:
    for policy in POLICIES:
        if value == policy:
            return policy
    raise UsageError(f"{source}: {value!r} is not one of {', '.join(POLICIES)}")


def split_args(argv: Sequence[str], environ: dict[str, str]) -> tuple[GuardOptions, list[str]]:
    """Take pipguard's own options out of ``argv``; return them and the arguments for pip."""
    policy = (
        _policy(environ["PIPGUARD_ON_CONFLICT"], "PIPGUARD_ON_CONFLICT")
        if environ.get("PIPGUARD_ON_CONFLICT")
        else "prevent"
    )
    journal = None
    lock_timeout = 600.0
    winners = [canonical_name(n) for n in environ.get("PIPGUARD_WINNER", "").split() if n]
    pip_args: list[str] = []
    items = iter(argv)
    for arg in items:
        name, eq, value = arg.partition("=")
        if name in ("--on-conflict", "--journal", "--lock-timeout", "--winner"):
            if not eq:
                value = next(items, "")
                if not value:
                    raise UsageError(f"{name} needs a value")
            if name == "--on-conflict":
                policy = _policy(value, "--on-conflict")
            elif name == "--winner":
                winners.append(canonical_name(value))
            elif name == "--lock-timeout":
                try:
                    lock_timeout = float(value)
                except ValueError:
                    lock_timeout = math.nan
                if not 0 <= lock_timeout < math.inf:  # nan fails every comparison
                    raise UsageError(f"--lock-timeout: {value!r} is not a number of seconds")
            else:
                journal = value
            continue
        pip_args.append(arg)
    return GuardOptions(policy, journal, lock_timeout, frozenset(winners)), pip_args


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False)


@dataclass
class InstallGuard:
    """Plans the transaction when pip reaches its install step, and reports it afterwards."""

    options: GuardOptions
    clashes: list[Clash] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Problems of installed distributions this transaction does not touch: counted, not shown.
    elsewhere: list[Problem] = field(default_factory=list)
    # (name, version) of each incoming wheel: the wheels' contents are not kept past the plan.
    wheels: list[tuple[str, str]] = field(default_factory=list)
    step: Step | None = None
    before: list[InstalledDistribution] = field(default_factory=list)
    fallback_reason: str | None = None
    env: Environment | None = None
    freshness: FreshnessSnapshot | None = None
    resolved: list[tuple[Clash, str]] = field(default_factory=list)
    saved: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    last: frozenset[str] = frozenset()
    lock: Lock | None = None
    # Per incoming wheel, its planned (absolute path, RECORD path) pairs that were not on disk
    # before the step: what a failed pip may have left half-written.
    fresh_files: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    # -- at the install step (pip's imports are blocked from 26.3: import nothing here) --

    def before_step(self, step: Step) -> str | None:
        """Plan every wheel of ``step``, find its clashes; return why to stop, or None."""
        # The plan allocates tens of thousands of small objects at once; the collector, counting
        # them, walks pip's whole heap: collections plain pip would not make (gen 0 and 1 during
        # the plan, and then one full collection during pip's writes, 15 to 35 ms measured).
        # So the plan runs without the collector (it builds no cycles), and what is alive when
        # pip starts writing (modules, pip's resolved state, the plan) is frozen until the
        # report is done: collections until then walk only what was allocated since.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._plan(step)
        finally:
            if enabled:
                gc.freeze()
                gc.enable()

    def _plan(self, step: Step) -> str | None:
        from pipguard import pipbridge

        self.step = step
        self.env = _step_environment([r.scheme for r in step.requirements], step.target_dir)
        if self.env.scan_dirs:
            # Held until this process ends: through pip's writes and pipguard's own afterwards.
            try:
                self.lock = hold(self.env.scan_dirs[0], self.options.lock_timeout)
            except LockTimeout as exc:
                return f"pipguard: {exc}; nothing was installed"
        self.before, index, env_problems = scan(self.env)
        planned: list[tuple[Requirement, WheelContents, list[PlannedFile]]] = []
        for requirement in step.requirements:
            if requirement.wheel is None:
                self.problems.append(
                    Problem(
                        requirement.name,
                        "-",
                        "not installed from a wheel: its files cannot be known in advance",
                    )
                )
                continue
            try:
                wheel = read_wheel(requirement.wheel)
                files = plan_wheel(
                    wheel, requirement.scheme, self.env.roots, pipbridge.console_script_names
                )
            except WheelError as exc:
                if self.options.policy == "prevent" or (
                    isinstance(exc, OutsideError) and self.options.policy == "warn"
                ):
                    return f"pipguard: {exc}; nothing was installed"
                self.problems.append(Problem(requirement.name, requirement.wheel, str(exc)))
                continue
            self.wheels.append((wheel.name, wheel.version))
            self.problems.extend(wheel.problems)
            planned.append((requirement, wheel, files))
        # Every question below is about a planned path: asked of the disk once per path.
        listed = ExistingPaths()
        exists = frozenset(
            f.path for _, _, files in planned for f in files if listed(f.path)
        ).__contains__
        replaced = {r.name for r in step.requirements if r.reinstall}

        def goes_first(path: str) -> bool:
            # pip removes the replaced distributions' files before it writes the new ones.
            owners = {index.dists[n].name for n, _ in index.owners(path)}
            return bool(owners) and owners <= replaced

        unwritable = _linked_out(planned, self.env.roots) or _in_the_way(
            planned, exists, goes_first
        )
        if unwritable and self.options.policy != "ignore":
            return f"pipguard: {unwritable}; nothing was installed"
        claimed = Counter(f.path for _, _, files in planned for f in files)
        for _, wheel, files in planned:
            self.fresh_files[(wheel.name, wheel.version)] = [
                (f.path, f.record_path) for f in files if not exists(f.path)
            ]
        try:
            incoming = [
                Incoming(
                    wheel.name,
                    wheel.version,
                    tuple(
                        _true_hashes(
                            wheel,
                            files,
                            index=index,
                            claimed=claimed,
                            exists=exists,
                            problems=self.problems,
                        )
                    ),
                    f"{_site(requirement.scheme, wheel)}/{wheel.dist_info}",
                )
                for requirement, wheel, files in planned
            ]
        except WheelError as exc:
            # pip could not install a wheel it cannot read either: say so before it tries.
            return f"pipguard: {exc}; nothing was installed"
        sites = sorted(
            {s for r in step.requirements for s in (r.scheme.purelib, r.scheme.platlib)},
            key=len,
            reverse=True,
        )
        found = find_transaction_clashes(
            incoming,
            index,
            exists,
            lambda path: next((s for s in sites if path.startswith(s + "/")), sites[-1]),
        )
        found = _same_generated_scripts(found, planned, self.before)
        if step.target_dir:
            found = _through_target(step.target_dir, step.target_upgrade, found, incoming, index)
        hasher = DiskHasher(self.env.roots)
        self.clashes = judge(found, hasher)
        self.problems.extend(hasher.problems)
        involved = {r.name for r in step.requirements} | {
            o.name for c in self.clashes for o in c.owners
        }
        for problem in env_problems:
            mine = problem.distribution is None or problem.distribution in involved
            (self.problems if mine else self.elsewhere).append(problem)
        self._watch(
            created=[path for wheel in incoming for path, _ in wheel.files],
            removed=removed_paths(self.before, {r.name for r in step.requirements if r.reinstall}),
            always=[
                d
                for r in step.requirements[:1]
                for d in (r.scheme.purelib, r.scheme.platlib, r.scheme.scripts)
            ],
        )
        try:
            self._resolve_winners(step)
        except WinnerConflict as exc:
            return f"pipguard: {exc}; nothing was installed"
        resolved = {clash.path for clash, _ in self.resolved}
        blocking = [c for c in self.clashes if not c.harmless and c.path not in resolved]
        if self.clashes or self.problems:
            load_rendering()  # a table may be drawn, after pip's step too
        if blocking and self.options.policy == "prevent":
            console = stderr_console()
            from pipguard import render

            for table in render.clash_tables(blocking, planned=True):
                console.print(table)
            return render.stop_summary(blocking)
        return None

    def _resolve_winners(self, step: Step) -> None:
        """Decide the clashes a ``--winner`` takes part in, and how its copy will stay on disk.

        An incoming winner is installed after the other wheels (it then writes last); an
        installed winner's current bytes are kept now and written back after pip's step.
        """
        winners = self.options.winners
        if not winners:
            return
        assert self.env is not None  # described by before_step, which calls this
        incoming = {r.name for r in step.requirements}
        last: set[str] = set()
        for clash in self.clashes:
            if clash.harmless:
                continue
            named = sorted({o.name for o in clash.owners} & winners)
            if len(named) > 1:
                raise WinnerConflict(
                    f"--winner {' and --winner '.join(named)} both write {clash.display}: "
                    "only one of them can win it"
                )
            if not named:
                continue
            winner = named[0]
            if clash.kind == "removed":
                continue  # pip deletes the whole directory: no order or write-back saves it
            if clash.kind == "skipped" and winner in incoming:
                continue  # pip does not write it at all: only --upgrade could
            self.resolved.append((clash, winner))
            if winner in incoming:
                last.add(winner)
                continue
            mine = next(o for o in clash.owners if o.name == winner and not o.incoming)
            kept = keep_file(clash.path, self.env.roots) if mine.matches_disk else None
            if kept is not None:
                self.saved[clash.path] = kept
            else:
                self.problems.append(
                    Problem(
                        winner,
                        clash.path,
                        "the winner's copy was not on disk before this install: "
                        f"pipguard repair {winner} restores it",
                    )
                )
        self.last = frozenset(last)

    def installed_now(self, after: list[InstalledDistribution]) -> list[InstalledDistribution]:
        """Return the distributions of this transaction that ``after`` shows installed.

        pip writes INSTALLER after a wheel's files and scripts: a .dist-info without it is a
        wheel pip failed part-way through.
        """
        versions = set(self.wheels)
        return [
            dist
            for dist in after
            if (dist.name, dist.version) in versions
            and os.path.isfile(f"{dist.metadata_dir}/INSTALLER")
        ]

    def left_partial(self, after: list[InstalledDistribution]) -> list[dict[str, Any]]:
        """Return, per wheel pip did not finish, the files of it that are on disk now."""
        done = {(dist.name, dist.version) for dist in self.installed_now(after)}
        partial = []
        for (name, version), files in self.fresh_files.items():
            if (name, version) in done:
                continue
            present = [record_path for path, record_path in files if os.path.lexists(path)]
            if present:
                partial.append({"name": name, "version": version, "files": present})
        return partial

    def install_last(self) -> frozenset[str]:
        """The incoming winners: pip installs them after the others."""
        return self.last

    def restore_winners(self) -> list[str]:
        """Write back installed winners' copies that pip overwrote; return their paths."""
        restored = []
        for path, (data, mode) in self.saved.items():
            try:
                with open(path, "rb") as handle:
                    if handle.read() == data:
                        continue
            except OSError:
                pass
            write_atomically(path, data, mode)
            restored.append(path)
        return restored

    def plans_late(self) -> None:
        """Planning happens inside pip's step, where imports may be blocked: import now."""
        load_rendering()

    def cannot_plan(self, reason: str) -> None:
        """Fall back to comparing RECORDs before and after pip's step, and say so."""
        load_rendering()  # the clashes found afterwards are drawn
        self.fallback_reason = reason
        self.env = describe_python()
        self.before, _, _ = scan(self.env)
        # Not knowing the files, watch the install directories and every package directory.
        packages = [
            entry.path
            for site in self.env.scan_dirs
            for entry in _scandir(site)
            if entry.is_dir(follow_symlinks=False)
        ]
        scripts = self.env.scheme.get("scripts")
        self._watch(
            created=[],
            removed=[],
            always=[*self.env.scan_dirs, *packages, *([scripts] if scripts else [])],
        )

    def _watch(self, created: list[str], removed: list[str], always: list[str]) -> None:
        assert self.env is not None
        self.freshness = FreshnessSnapshot(
            directories_to_watch(created, removed, self.env.roots, always), self.env.scan_dirs
        )

    # -- after pip returned (imports are allowed again, and were made beforehand) --

    def report(self, outcome: StepOutcome) -> tuple[list[Verdict], list[InstalledDistribution]]:
        """Re-read the final RECORDs and confirm on disk who won each clash.

        Returns each clash (judged against the final disk) with whether it was harmless
        before the step, and the distributions installed afterwards.
        """
        wanted = self.clashes or self.options.journal or self.fallback_reason or outcome.failed
        if self.env is None or not wanted:
            return [], []  # Nothing to confirm and nothing to journal: spare a second scan.
        env = self.env
        if self.step is not None:
            # Directories may exist only now (a new --target or --prefix).
            env = _step_environment(
                [r.scheme for r in self.step.requirements], self.step.target_dir
            )
        after, index, _ = scan(env)
        hasher = DiskHasher(env.roots)
        if self.fallback_reason is not None:
            known = {(d.name, d.version, d.metadata_dir) for d in self.before}
            changed = {d.name for d in after if (d.name, d.version, d.metadata_dir) not in known}
            found = [c for c in find_clashes(index) if changed & {o.name for o in c.owners}]
            return [(clash, clash.harmless) for clash in judge(found, hasher)], after
        if outcome.stopped:
            return [(clash, clash.harmless) for clash in self.clashes], after
        final = judge([_as_recorded(clash, index) for clash in self.clashes], hasher)
        return [(now, then.harmless) for now, then in zip(final, self.clashes)], after


def _as_recorded(clash: Clash, index: OwnershipIndex) -> Clash:
    """Return ``clash`` with each owner's hash as its final RECORD lists it.

    Planned hashes are the wheels' claims, and a generated script has none until pip writes
    it: who won is judged by what pip recorded.
    """
    recorded = {index.dists[number].name: value for number, value in index.owners(clash.path)}
    owners = tuple(
        owner._replace(hash=recorded[owner.name]) if owner.name in recorded else owner
        for owner in clash.owners
    )
    kind = clash.kind
    if kind == "differing" and len({o.hash for o in owners}) == 1 and owners[0].hash:
        kind = "identical"  # scripts pip generated from the same entry point: the same bytes
    return clash._replace(owners=owners, kind=kind)


def _scandir(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as listing:
            return list(listing)
    except OSError:
        return []


def removed_paths(before: list[InstalledDistribution], replaced: set[str]) -> list[str]:
    """Return the paths pip will remove when it uninstalls the replaced distributions."""
    paths = []
    for dist in before:
        if dist.name in replaced:
            for entry in dist.entries or ():
                path = resolve_row(dist.base, entry.path)
                if path is not None:
                    paths.append(path)
    return paths


def _same_generated_scripts(
    clashes: list[Clash],
    planned: list[tuple[Requirement, WheelContents, list[PlannedFile]]],
    installed: list[InstalledDistribution],
) -> list[Clash]:
    """Call ``identical`` the console scripts every owner generates from one entry point.

    A generated script has no hash before pip writes it, but pip writes it from its group and
    entry point alone: where every owner, incoming or installed (by its entry_points.txt),
    declares the same one, the clash changes nothing that runs.
    """
    spec = {
        (wheel.name, f.path): f.entry_point
        for _, wheel, files in planned
        for f in files
        if f.entry_point is not None
    }
    dists = {dist.name: dist for dist in installed}
    same = []
    for clash in clashes:
        if clash.kind != "differing" or not any((o.name, clash.path) in spec for o in clash.owners):
            same.append(clash)
            continue
        points = {
            spec.get((o.name, clash.path))
            if o.incoming
            else _declared_script(dists.get(o.name), clash.path)
            for o in clash.owners
        }
        alike = len(points) == 1 and None not in points
        same.append(clash._replace(kind="identical") if alike else clash)
    return same


def _declared_script(dist: InstalledDistribution | None, path: str) -> str | None:
    """Return the group and entry point an installed distribution declares for a script."""
    if dist is None:
        return None
    name = path.rpartition("/")[2].removesuffix(".exe")
    try:
        with open_inside(f"{dist.metadata_dir}/entry_points.txt", (dist.site,)) as handle:
            text = handle.read().decode("utf-8")
        return script_specs(text, dist.metadata_dir).get(name)
    except (OSError, UnicodeDecodeError, WheelError):
        return None


def _through_target(
    target: str,
    upgrade: bool,
    found: list[Clash],
    incoming: list[Incoming],
    index: OwnershipIndex,
) -> list[Clash]:
    """Return the clashes ``found`` as pip install --target turns them.

    pip moves each top-level entry of the new tree into ``target``. One that already exists
    it leaves as it stands, with a warning, unless --upgrade (and a link even then): nothing
    below it is overwritten, and the wheels' files there are not written. With --upgrade it
    deletes each other existing entry whole before moving the new one in.
    """
    entries = {entry_below(path, target) for wheel in incoming for path, _ in wheel.files}
    existing = {top for top in entries if top is not None and os.path.lexists(f"{target}/{top}")}
    kept = {top for top in existing if not upgrade or os.path.islink(f"{target}/{top}")}
    clashes = [clash for clash in found if entry_below(clash.path, target) not in kept]
    clashes += find_target_skips(incoming, index, target, kept)
    if upgrade:
        doomed: list[str] = []
        for top in sorted(existing - kept):
            entry = f"{target}/{top}"
            doomed += _files_below(entry) if os.path.isdir(entry) else [entry]
        clashes += find_target_replacements(incoming, index, target, doomed)
    return clashes


def _in_the_way(
    planned: list[tuple[Requirement, WheelContents, list[PlannedFile]]],
    exists: Callable[[str], bool],
    goes_first: Callable[[str], bool],
) -> str | None:
    """Say which planned file pip could not write, a file and a directory sharing one path.

    pip would fail on it half-way through, with the wheels before it written: a file stands
    where a planned file needs a directory (on disk, or planned by another wheel), or a
    directory stands where a file is planned.
    """
    files = {f.path for _, _, fs in planned for f in fs}
    fine: set[str] = set()  # directories known to exist, or to be creatable
    for _, wheel, fs in planned:
        shown = os.path.basename(wheel.path)
        for planned_file in fs:
            path = planned_file.path
            is_dir = exists(path) and os.path.isdir(path) and not os.path.islink(path)
            if is_dir and not any(goes_first(p) for p in _files_below(path)):
                return f"{shown}: {planned_file.record_path} would be a file where a directory is"
            parent = planned_file.path.rpartition("/")[0]
            while parent and parent not in fine:
                on_disk = os.path.lexists(parent) and not os.path.isdir(parent)
                if parent in files or (on_disk and not goes_first(parent)):
                    return (
                        f"{shown}: {planned_file.record_path} needs a directory where the file "
                        f"{parent.rpartition('/')[2]} is"
                    )
                fine.add(parent)
                if os.path.isdir(parent):
                    break
                parent = parent.rpartition("/")[0]
    return None


def _files_below(directory: str) -> list[str]:
    """Return every file below ``directory``, and each link to a directory, not followed."""
    found = []
    for folder, dirs, names in os.walk(directory):
        posix = to_posix(folder)
        found += [f"{posix}/{name}" for name in names]
        found += [f"{posix}/{name}" for name in dirs if os.path.islink(f"{folder}/{name}")]
    return found


def _linked_out(
    planned: list[tuple[Requirement, WheelContents, list[PlannedFile]]], roots: tuple[str, ...]
) -> str | None:
    """Say which planned file a link would carry outside the environment, or return None.

    Each directory the wheels write into is resolved once, link by link, never outside.
    """
    seen: set[str] = set()
    for _, wheel, files in planned:
        for planned_file in files:
            parent = planned_file.path.rpartition("/")[0]
            if parent in seen:
                continue
            seen.add(parent)
            real, inside = resolve_inside(parent, roots)
            if not inside:
                return (
                    f"{os.path.basename(wheel.path)}: {planned_file.record_path} would be "
                    f"written through a link to {real}, outside the environment"
                )
    return None


def _site(scheme: Scheme, wheel: WheelContents) -> str:
    return scheme.purelib if wheel.root_is_purelib else scheme.platlib


def _step_environment(schemes: list[Scheme], target: str | None = None) -> Environment:
    """The environment an install step writes into: its scheme's directories and install base."""
    # Schemes differ only by their headers directory: dedupe before touching the disk.
    libs = dict.fromkeys(d for s in schemes for d in (s.purelib, s.platlib))
    scan_dirs = [d for d in libs if os.path.isdir(d)]
    roots: list[str] = []
    bases = dict.fromkeys(
        d
        for s in schemes
        for d in (s.data, s.purelib, s.platlib, s.scripts, os.path.dirname(s.headers))
    )
    for candidate in bases:
        if not is_within(candidate, roots):
            roots = [r for r in roots if not is_within(r, [candidate])] + [candidate]
    return Environment(
        python=sys.executable,
        scan_dirs=tuple(scan_dirs),
        roots=tuple(roots),
        target_layout=bool(target),
    )


def _true_hashes(
    wheel: WheelContents,
    files: list[PlannedFile],
    *,
    index: OwnershipIndex,
    claimed: Counter[str],
    exists: Callable[[str], bool],
    problems: list[Problem],
) -> list[tuple[str, str | None]]:
    """Return (path, hash) per planned file; where the path is taken, hash the wheel's bytes.

    A RECORD hash is the wheel's claim: where it decides whether a file may be overwritten,
    the member's real bytes decide instead.
    """
    result = []
    for planned in files:
        hash_value = planned.hash
        taken = claimed[planned.path] > 1 or planned.path in index
        if planned.member is not None and (taken or exists(planned.path)):
            actual = wheel.member_hash(planned.member)
            if hash_value is not None and hash_value.startswith("sha256=") and actual != hash_value:
                problems.append(
                    Problem(
                        wheel.name,
                        os.path.basename(wheel.path),
                        f"RECORD hash of {planned.member} does not match its bytes",
                    )
                )
            hash_value = actual
        result.append((planned.path, hash_value))
    return result


def _journal_document(
    guard: InstallGuard,
    outcome: StepOutcome,
    verdicts: list[Verdict],
    after: list[InstalledDistribution],
    *,
    settled: list[Settled],
    restart: list[str],
    failed: bool,
) -> dict[str, Any]:
    """Return the journal of one install: what was installed, removed, and every clash."""
    from pipguard import pipbridge, render

    policy = guard.options.policy
    if outcome.interrupted:
        word = "interrupted"
    elif outcome.stopped:
        word = "prevented"
    else:
        word = "failed" if failed else "installed"
    resolution = (
        "prevented" if outcome.stopped else "ignored" if policy == "ignore" else ("overwritten")
    )
    won = {clash.path for clash, _ in guard.resolved}
    installed = guard.installed_now(after)
    replaced = {r.name for r in guard.step.requirements if r.reinstall} if guard.step else set()
    done = {d.name for d in installed}
    still = {(d.name, d.version) for d in after}
    removed = [
        d
        for d in guard.before
        if not outcome.stopped
        and d.name in replaced
        and ((d.name, d.version) not in still or d.name in done)
    ]
    return {
        "version": 1,
        "pip_version": pipbridge.PIP_VERSION,
        "policy": policy,
        "installed": [_journal_dist(d) for d in installed],
        "removed": [_journal_dist(d) for d in removed],
        "conflicts": [
            render.install_to_json(
                c,
                "harmless"
                if harmless
                else "winner"
                if c.path in won
                else "deleted"
                if c.kind == "removed" and resolution == "overwritten"
                else "not written"
                if c.kind == "skipped" and resolution == "overwritten"
                else resolution,
            )
            for c, harmless in verdicts
        ],
        "directories": [{"path": s.path, "bumped": s.bumped} for s in settled],
        "restart_needed_for": restart,
        "partial": guard.left_partial(after) if failed or outcome.interrupted else [],
        "problems": [render.problem_to_json(p) for p in (*guard.problems, *guard.elsewhere)],
        "outcome": word,
    }


def _journal_dist(dist: InstalledDistribution) -> dict[str, Any]:
    return {
        "name": dist.name,
        "version": dist.version,
        "files": [entry.path for entry in dist.entries or ()],
    }


def _journal_problem(target: str) -> str | None:
    """Return why the journal cannot be written to ``target``, checked before pip runs."""
    if target == "-":
        return None if sys.stdout is not None else "--journal -: there is no standard output"
    if not target:
        return "--journal needs a file name (or - for stdout)"
    if os.path.exists(target) and not os.path.isfile(target) and not os.path.isdir(target):
        return None  # a device or FIFO by any name (/dev/stdout): written straight
    if os.path.islink(target):
        target = os.path.realpath(target)  # written beside where the link leads
    if os.path.isdir(target):
        return f"--journal {target}: is a directory"
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        return f"--journal {target}: no such directory {parent}"
    if not os.access(parent, os.W_OK):
        return f"--journal {target}: cannot write in {parent}"
    return None


def _is_stdout(target: str | None) -> bool:
    """Tell whether the journal goes to standard output (``-``, or /dev/stdout by any name)."""
    if target is None:
        return False
    if target == "-":
        return True
    try:
        journal, stdout = os.stat(target), os.fstat(sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        return False
    return (journal.st_dev, journal.st_ino) == (stdout.st_dev, stdout.st_ino)


def _write_journal(target: str, document: dict[str, Any]) -> bool:
    text = json.dumps(document, indent=2) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return True
    # Write beside the target and rename: a reader never sees half a journal. A link is
    # followed (the link stays); a FIFO or a device such as /dev/stdout is written straight.
    real = os.path.realpath(target) if os.path.islink(target) else target
    try:
        if os.path.exists(target) and not os.path.isfile(target):
            # Opened by its own name: /dev/stdout resolves to a pipe no path can reopen.
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
            return True
        temp = f"{real}.pipguard-tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, real)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(f"{real}.pipguard-tmp")
        print(f"pipguard: error: --journal {target}: {exc.strerror}", file=sys.stderr)
        return False
    return True


def load_rendering() -> None:
    """Import what drawing a table needs: rich's modules, some of which rich loads lazily.

    pip 26.3 refuses new imports while it installs, and 26.1 and later warn about them
    afterwards: whatever may be drawn after pip's step is imported before it begins. The test
    suite draws tables after pip's step under each pip of the matrix.
    """
    import rich._emoji_codes  # loaded lazily by rich's first print
    import rich.box
    import rich.console
    import rich.padding
    import rich.table
    import rich.text  # noqa: F401


def warm_up(tables: bool = True) -> None:
    """Import everything used during and after pip's step, before pip starts.

    ``tables=False`` leaves rich to :func:`load_rendering`, called once it is known whether
    anything will be drawn (rich is most of pipguard's own start-up time).
    """
    with contextlib.suppress(ImportError):
        import fcntl  # noqa: F401  # the lock, taken at the install step (not on Windows)
    from pipguard import pipbridge, render  # noqa: F401

    if tables:
        load_rendering()


def _take_python_option(args: list[str]) -> tuple[str | None, list[str]]:
    """Split pip's ``--python EXE`` (or ``--python=EXE``) off ``args``."""
    value = None
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--python":
            value = next(items, None)
        elif arg.startswith("--python="):
            value = arg.partition("=")[2]
        else:
            rest.append(arg)
    return value, rest


def _run_under_python(python: str, argv: list[str]) -> int | None:
    """Honour pip's ``--python``: run pipguard itself under that interpreter, or refuse.

    pip would re-run itself there in a subprocess, out of the guard's reach. Returns None when
    ``python`` is this very environment, so the install goes on in-process.
    """
    env = {
        k: v for k, v in os.environ.items() if k not in ("PIP_PYTHON", "_PIP_RUNNING_IN_SUBPROCESS")
    }
    try:
        probe = subprocess.run(
            [python, "-c", "import sys, pipguard; print(sys.prefix)"],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    except OSError:
        probe = None
    if probe is None or probe.returncode != 0:
        print(
            f"pipguard: error: --python {python}: pipguard is not installed for that interpreter, "
            "so it cannot guard the install there. Install it there first "
            f"({python} -m pip install pipguard) and run {python} -m pipguard install ...",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if os.path.realpath(probe.stdout.strip()) == os.path.realpath(sys.prefix):
        return None
    return subprocess.run([python, "-m", "pipguard", *argv], env=env, check=False).returncode


def install_main(argv: Sequence[str], prog: str = "pipguard") -> int:
    """Run ``pipguard install ...``: pip install with the guard attached; return the exit code."""
    argv = list(argv)
    if any(arg in ("-h", "--help") for arg in argv):
        sys.stderr.write(_HELP + "\npip's own help follows.\n\n")
        from pipguard import pipbridge

        return pipbridge.run_pip(argv)
    try:
        options, pip_args = split_args(argv, dict(os.environ))
    except UsageError as exc:
        print(f"{prog} install: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unwritable = _journal_problem(options.journal) if options.journal is not None else None
    if unwritable:
        print(f"{prog} install: error: {unwritable}", file=sys.stderr)
        return EXIT_USAGE
    python, pip_args = _take_python_option(pip_args)
    python = python or os.environ.pop("PIP_PYTHON", None)
    if python:
        os.environ.pop("PIP_PYTHON", None)
        redirected = _run_under_python(python, _take_python_option(argv)[1])
        if redirected is not None:
            return redirected
    warm_up(tables=False)
    from pipguard import pipbridge

    guard = InstallGuard(options)
    outcome = pipbridge.StepOutcome()
    stdout_for_pip = sys.stderr if _is_stdout(options.journal) else sys.stdout
    try:
        with contextlib.redirect_stdout(stdout_for_pip):
            code = pipbridge.run_guarded_install(pip_args, guard, outcome)
    except KeyboardInterrupt:
        outcome.interrupted = True
        code = 130
    try:
        return _after_step(guard, outcome, code)
    finally:
        # Frozen since the plan (see before_step); the collection at exit walks what it would
        # walk after plain pip.
        gc.unfreeze()


def _after_step(guard: InstallGuard, outcome: StepOutcome, code: int) -> int:
    """Report what pip's step did, settle the directories' mtimes and write the journal."""
    from pipguard import render

    options = guard.options
    if outcome.interrupted:
        code = 130
    if not outcome.stopped:
        guard.restore_winners()
    won = {clash.path: winner for clash, winner in guard.resolved}
    verdicts, after = guard.report(outcome)
    settled: list[Settled] = guard.freshness.settle() if guard.freshness else []
    restart = guard.freshness.changed_pth() if guard.freshness else []
    if restart and options.policy != "ignore":
        print(
            "pipguard: note: new or changed .pth files are read only when Python starts; "
            f"restart running interpreters to use them: {', '.join(restart)}",
            file=sys.stderr,
        )
    if guard.fallback_reason is not None:
        print(
            f"pipguard: warning: {guard.fallback_reason}; clashes could only be looked for "
            "after pip wrote the files.",
            file=sys.stderr,
        )
    real = [
        clash
        for clash, harmless in verdicts
        if not harmless and clash.kind != "identical" and clash.path not in won
    ]
    if won and options.policy != "ignore" and not outcome.stopped:
        for winner in sorted(set(won.values())):
            paths = [c for c, w in guard.resolved if w == winner]
            held = sum(
                1
                for c, _ in verdicts
                if c.path in won and won[c.path] == winner and c.winner == winner
            )
            losers = sorted({o.name for c in paths for o in c.owners} - {winner})
            print(
                f"pipguard: --winner {render.one_line(winner)}: {held} of {len(paths)} contested "
                f"file{'s' if len(paths) != 1 else ''} "
                f"{'holds' if len(paths) == 1 else 'hold'} {render.one_line(winner)}'s copy "
                f"(over {render.one_line(', '.join(losers))}).",
                file=sys.stderr,
            )
    if real and options.policy != "ignore" and not outcome.stopped:
        # Real before the step: shown even where the incoming copy now matches the disk.
        console = stderr_console()
        directory = bool(guard.step and guard.step.target_dir)
        for table in render.clash_tables(real, verbose=True, directory=directory):
            console.print(table)
        print(f"pipguard: warning: {render.overwritten_summary(real)}", file=sys.stderr)
        if guard.fallback_reason is not None and options.policy == "prevent" and code == 0:
            code = 1
    if outcome.failed and guard.wheels:
        done_now = sorted(f"{d.name} {d.version}" for d in guard.installed_now(after))
        print(
            f"pipguard: pip failed part-way: {len(done_now)} of {len(guard.wheels)} "
            f"distributions were installed{': ' + ', '.join(done_now) if done_now else ''}. "
            "pip's error above says why.",
            file=sys.stderr,
        )
    if guard.problems and options.policy != "ignore":
        stderr_console().print(
            render.problem_table(guard.problems, guard.env.scan_dirs if guard.env else ())
        )
    if guard.elsewhere and options.policy != "ignore":
        print(
            f"pipguard: note: {len(guard.elsewhere)} "
            + ("problem" if len(guard.elsewhere) == 1 else "problems")
            + " in the metadata of distributions this install does not touch; "
            "pipguard check lists them.",
            file=sys.stderr,
        )
    if options.journal:
        document = _journal_document(
            guard, outcome, verdicts, after, settled=settled, restart=restart, failed=code != 0
        )
        if not _write_journal(options.journal, document) and code == 0:
            code = 1
    return code
