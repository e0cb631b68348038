"""``pipguard install``: pip install, with every clash found before the first file is written."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from pipguard import checks
from pipguard.checks.imports import Shadowed
from pipguard.disk import Disk, EmptyDisk
from pipguard.environment import Environment, InstalledDistribution, Problem, describe_python
from pipguard.findings import Clash, StartupCode, Unwritable
from pipguard.freshness import FreshnessSnapshot, directories_to_watch
from pipguard.install.keep import Kept, keep_file, write_back
from pipguard.install.options import (
    GuardOptions,
)
from pipguard.install.transaction import (
    Planned,
    Stop,
    lock_directory,
    plan_transaction,
    removed_paths,
    scan_step,
    step_environment,
)
from pipguard.lock import Lock, LockTimeout, hold
from pipguard.ownership import OwnershipIndex
from pipguard.paths import entry_below, resolve_row
from pipguard.policy import WinnerConflict, blocks_install, resolve_winners
from pipguard.views import PlannedFile, TargetFacts

if TYPE_CHECKING:
    from rich.console import Console

    from pipguard.install.pipbridge import Step, StepOutcome

__all__ = ["InstallGuard", "load_rendering", "stderr_console", "warm_up"]

Verdict = tuple[Clash, bool]  # a clash, and whether it was harmless before the step


def stderr_console() -> Console:
    """Return the console tables are drawn on: standard error, pip's output stays on stdout.

    One width (COLUMNS, else the terminal's, else 80) and no trailing spaces, as check's.
    """
    from pipguard.console import console_for

    return console_for(sys.stderr)


class Decided(NamedTuple):
    """What the guard decided at pip's step, kept until the report afterwards."""

    planned: Planned
    clashes: list[Clash]
    problems: list[Problem]
    # Problems of installed distributions this transaction does not touch: counted, not shown.
    elsewhere: list[Problem]
    startup: list[StartupCode]  # every startup file the transaction brings
    shadowed: list[Shadowed]  # import names the transaction leaves a distribution offering in vain
    resolved: list[tuple[Clash, str]]  # the clashes a --winner decides, with that winner
    saved: dict[str, Kept]  # installed winners' copies, written back after pip's step
    last: frozenset[str]  # incoming winners: pip installs them after the others


@dataclass
class InstallGuard:
    """Plans the transaction when pip reaches its install step, and reports it afterwards."""

    options: GuardOptions
    decided: Decided | None = None
    step: Step | None = None
    env: Environment | None = None
    before: list[InstalledDistribution] = field(default_factory=list)
    fallback_reason: str | None = None
    freshness: FreshnessSnapshot | None = None
    lock: Lock | None = None

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
        except (Stop, WinnerConflict) as exc:
            message = str(exc)
            return message if message.startswith("pipguard: ") else f"pipguard: {message}"
        finally:
            if enabled:
                gc.freeze()
                gc.enable()

    def _plan(self, step: Step) -> str | None:
        from pipguard.install import pipbridge

        self.step = step
        env = self.env = step_environment([r.scheme for r in step.requirements], step.target_dir)
        directory = None if step.dry_run else lock_directory(env)
        if directory:
            # Held until this process ends: through pip's writes and pipguard's own afterwards.
            # A dry run writes nothing and waits for no one: it plans against the disk as is.
            try:
                self.lock = hold(directory, self.options.lock_timeout)
            except LockTimeout as exc:
                raise Stop(f"pipguard: {exc}; nothing was installed") from None
        # An empty environment: nothing installed, nothing on disk, the set against itself.
        self.before, index, env_problems = scan_step(
            env._replace(scan_dirs=(), layers=()) if step.empty else env
        )
        disk = EmptyDisk(env.roots) if step.empty else Disk(env.roots)
        planned = plan_transaction(
            step,
            env,
            self.before,
            index,
            disk,
            policy=self.options.policy,
            hash_all=self.options.policy != "prevent" or bool(self.options.winners),
            script_names=pipbridge.console_script_names,
        )
        transaction = planned.transaction
        found = checks.run_transaction(transaction, index, disk)
        unwritable = [f for f in found if isinstance(f, Unwritable)]
        if unwritable and blocks_install(unwritable[0], self.options.rules):
            raise Stop(f"pipguard: {unwritable[0].message}; nothing was installed")
        clashes = [f for f in found if isinstance(f, Clash)]
        involved = {w.name for w in transaction.wheels} | {r.name for r in step.requirements}
        involved |= {o.name for c in clashes for o in c.owners}
        problems, elsewhere = _split_problems(
            [*planned.problems, *disk.problems], env_problems, involved
        )
        if not step.dry_run:  # a dry run changes no directory: nothing to settle
            self._watch(
                created=[f.path for wheel in transaction.wheels for f in wheel.files],
                removed=removed_paths(self.before, set(transaction.replaced)),
                always=[
                    d
                    for r in step.requirements[:1]
                    for d in (r.scheme.purelib, r.scheme.platlib, r.scheme.scripts)
                ],
            )
        incoming = {r.name for r in step.requirements}
        resolved = resolve_winners(clashes, self.options.winners, incoming)
        saved = self._keep_winners(resolved, incoming, problems)
        if self.options.policy == "warn":
            # pip would delete them with the old version: keep them for who still lists them.
            for clash in clashes:
                kept = keep_file(clash.path, env.roots) if clash.kind == "deleted" else None
                if kept is not None:
                    saved[clash.path] = kept
        last = frozenset(winner for _, winner in resolved if winner in incoming)
        startup = [f for f in found if isinstance(f, StartupCode)]
        shadowed = [f for f in found if isinstance(f, Shadowed)]
        self.decided = Decided(
            planned, clashes, problems, elsewhere, startup, shadowed, resolved, saved, last
        )
        rules = self.options.rules
        won = [clash.path for clash, _ in resolved]
        blocking = [c for c in clashes if blocks_install(c, rules, won)]
        code = [s for s in startup if blocks_install(s, rules)]
        dead = [s for s in shadowed if blocks_install(s, rules)]
        if clashes or problems or shadowed or any(s.code for s in startup):
            load_rendering()  # a table may be drawn, after pip's step too
        if blocking or code or dead:
            return _stop(blocking, code, dead, dry_run=step.dry_run)
        return None

    def _keep_winners(
        self, resolved: list[tuple[Clash, str]], incoming: set[str], problems: list[Problem]
    ) -> dict[str, Kept]:
        """Keep the bytes of each installed winner's copy, to write them back after pip."""
        assert self.env is not None  # described by _plan, which calls this
        saved: dict[str, Kept] = {}
        for clash, winner in resolved:
            if winner in incoming:
                continue  # installed after the others: it writes last
            owner = next(o for o in clash.owners if o.name == winner and not o.incoming)
            kept = keep_file(clash.path, self.env.roots) if owner.matches_disk else None
            if kept is not None:
                saved[clash.path] = kept
            else:
                problems.append(
                    Problem(
                        winner,
                        clash.path,
                        "the winner's copy was not on disk before this install: "
                        f"pipguard repair {winner} restores it",
                    )
                )
        return saved

    def installed_now(
        self, after: list[InstalledDistribution], *, verify: bool = False
    ) -> list[InstalledDistribution]:
        """Return the distributions of this transaction that ``after`` shows installed.

        pip writes INSTALLER after a wheel's files and scripts, and its own RECORD last, in
        place of the wheel's: a .dist-info without INSTALLER, or still holding the wheel's
        RECORD, is a wheel pip failed part-way through. ``verify`` (after a failure or an
        interrupt) also wants every planned file on disk at the size its RECORD gives:
        pip --target moves finished wheels into the target only afterwards.
        """
        if self.decided is None:
            return []
        planned = self.decided.planned
        files = {(w.name, w.version): w.files for w in planned.transaction.wheels}
        facts = planned.transaction.target
        return [
            dist
            for dist in after
            if (dist.name, dist.version) in files
            and os.path.isfile(f"{dist.metadata_dir}/INSTALLER")
            and dist.record_text != planned.own_records.get((dist.name, dist.version))
            and (not verify or _all_there(dist, files[dist.name, dist.version], facts))
        ]

    def wheels(self) -> list[tuple[str, str]]:
        """Return (name, version) of each incoming wheel that was planned."""
        if self.decided is None:
            return []
        return [(w.name, w.version) for w in self.decided.planned.transaction.wheels]

    def left_partial(self, after: list[InstalledDistribution]) -> list[dict[str, Any]]:
        """Return, per wheel pip did not finish, the files of it that are on disk now."""
        if self.decided is None:
            return []
        done = {(dist.name, dist.version) for dist in self.installed_now(after, verify=True)}
        infos = {(w.name, w.version): w.dist_info for w in self.decided.planned.transaction.wheels}
        partial = []
        for (name, version), files in self.decided.planned.fresh.items():
            if (name, version) in done:
                continue
            present = [record_path for path, record_path in files if os.path.lexists(path)]
            present += _written_beside(files, infos[name, version], set(present))
            if present:
                partial.append({"name": name, "version": version, "files": present})
        return partial

    def install_last(self) -> frozenset[str]:
        """The incoming winners: pip installs them after the others."""
        return self.decided.last if self.decided else frozenset()

    def restore_winners(self) -> list[Problem]:
        """Write back installed winners' copies that pip overwrote; return what could not be."""
        if self.decided is None or self.env is None:
            return []
        changed = {}
        for path, kept in self.decided.saved.items():
            try:
                with open(path, "rb") as handle:
                    if handle.read() == kept.data:
                        continue
            except OSError:
                pass
            changed[path] = kept
        return [
            Problem(None, failed.path, f"the winner's copy could not be put back: {failed.reason}")
            for failed in write_back(changed, self.env.write_roots)
        ]

    def plans_late(self) -> None:
        """Planning happens inside pip's step, where imports may be blocked: import now."""
        load_rendering()

    def cannot_plan(self, reason: str) -> None:
        """Fall back to comparing RECORDs before and after pip's step, and say so."""
        load_rendering()  # the clashes found afterwards are drawn
        self.fallback_reason = reason
        self.env = describe_python()
        self.before, _, _ = scan_step(self.env)
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
            directories_to_watch(created, removed, self.env.write_roots, always),
            self.env.scan_dirs,
        )

    # -- after pip returned (imports are allowed again, and were made beforehand) --

    def report(self, outcome: StepOutcome) -> tuple[list[Verdict], list[InstalledDistribution]]:
        """Re-read the final RECORDs and confirm on disk who won each clash.

        Returns each clash (judged against the final disk) with whether it was harmless
        before the step, and the distributions installed afterwards.
        """
        from pipguard.checks.clashes import find_clashes, judge

        clashes = self.decided.clashes if self.decided else []
        if outcome.dry_run:
            return [(clash, clash.harmless) for clash in clashes], []  # nothing was written
        wanted = (
            clashes
            or self.options.journal
            or self.fallback_reason
            or outcome.failed
            or outcome.interrupted
        )
        if self.env is None or not wanted:
            return [], []  # Nothing to confirm and nothing to journal: spare a second scan.
        env = self.env
        if self.step is not None:
            # Directories may exist only now (a new --target or --prefix).
            env = step_environment([r.scheme for r in self.step.requirements], self.step.target_dir)
        after, index, _ = scan_step(env)
        disk = Disk(env.roots)
        if self.fallback_reason is not None:
            known = {(d.name, d.version, d.metadata_dir) for d in self.before}
            changed = {d.name for d in after if (d.name, d.version, d.metadata_dir) not in known}
            found = [c for c in find_clashes(index) if changed & {o.name for o in c.owners}]
            return [(clash, clash.harmless) for clash in judge(found, disk)], after
        if outcome.stopped:
            return [(clash, clash.harmless) for clash in clashes], after
        final = judge([_as_recorded(clash, index) for clash in clashes], disk)
        return [(now, then.harmless) for now, then in zip(final, clashes)], after


def _split_problems(
    mine: list[Problem], env_problems: list[Problem], involved: set[str]
) -> tuple[list[Problem], list[Problem]]:
    """Return the problems this install touches, and those of distributions it does not."""
    elsewhere: list[Problem] = []
    for problem in env_problems:
        ours = problem.distribution is None or problem.distribution in involved
        (mine if ours else elsewhere).append(problem)
    return mine, elsewhere


def _stop(
    blocking: list[Clash], code: list[StartupCode], dead: list[Shadowed], *, dry_run: bool
) -> str:
    """Draw what stops the install, and return the sentence pip reports as its error."""
    from pipguard import render

    console = stderr_console()
    for table in render.clash_tables(blocking, planned=True):
        console.print(table)
    if dead:
        console.print(render.shadowed_table(dead, planned=True))
    if code:
        console.print(render.startup_table(code, planned=True))
    return render.stop_summary(blocking, code, dead, dry_run=dry_run)


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


def _all_there(
    dist: InstalledDistribution, files: tuple[PlannedFile, ...], target: TargetFacts | None
) -> bool:
    """Tell whether every planned file of ``dist`` is on disk, at the size its RECORD gives.

    Under --target, what pip kept (existing top-level entries, no --upgrade) is left out.
    """
    sizes: dict[str, int | None] = {}
    for entry in dist.entries or ():
        row = entry.path
        if target is not None and row.startswith("../../"):
            row = row[len("../../") :]  # pip --target: its temporary home's ../../bin is bin
        path = resolve_row(dist.base, row)
        if path is not None:
            sizes[path] = entry.size
    for planned in files:
        if target is not None and entry_below(planned.path, target.directory) in target.kept:
            continue
        try:
            size = os.lstat(planned.path).st_size
        except OSError:
            return False
        if sizes.get(planned.path) not in (None, size):
            return False
    return True


def _written_beside(files: list[tuple[str, str]], dist_info: str, listed: set[str]) -> list[str]:
    """Return the RECORD paths of what pip writes beside a wheel's own files, on disk now.

    The byte-code of its new modules; and, if its .dist-info is new, what pip adds there
    (INSTALLER, REQUESTED, direct_url.json, a temporary file): what an unfinished wheel left.
    """
    found = []
    for path, record_path in files:
        if path.endswith(".py"):
            pyc = importlib.util.cache_from_source(path)
            if os.path.lexists(pyc):
                folder = record_path.rpartition("/")[0]
                found.append(f"{folder}/__pycache__/{os.path.basename(pyc)}".lstrip("/"))
    metadata = next((r for path, r in files if path == f"{dist_info}/METADATA"), None)
    if metadata is not None:  # METADATA was not there before: the directory is pip's
        folder = metadata.rpartition("/")[0]
        for entry in _scandir(dist_info):
            shown = f"{folder}/{entry.name}"
            if shown not in listed and not entry.is_dir(follow_symlinks=False):
                found.append(shown)
    return found


def _scandir(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as listing:
            return list(listing)
    except OSError:
        return []


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
    from pipguard import check, console, render, sizing  # noqa: F401
    from pipguard.checks import scripts  # noqa: F401
    from pipguard.install import choices, pipbridge  # noqa: F401

    if tables:
        load_rendering()
