"""The install command: pipguard's options, pip with the guard attached, the report afterwards."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipguard.environment import InstalledDistribution, Problem
from pipguard.findings import Clash
from pipguard.freshness import Settled
from pipguard.install import journal
from pipguard.install.guard import InstallGuard, Verdict, stderr_console, warm_up
from pipguard.install.options import (
    EXIT_USAGE,
    HELP,
    UsageError,
    run_under_python,
    split_args,
    take_python_option,
)

if TYPE_CHECKING:
    from pipguard.install.pipbridge import StepOutcome

__all__ = ["install_main"]


def install_main(argv: Sequence[str], prog: str = "pipguard") -> int:
    """Run ``pipguard install ...``: pip install with the guard attached; return the exit code."""
    argv = list(argv)
    if any(arg in ("-h", "--help") for arg in argv):
        sys.stderr.write(HELP + "\npip's own help follows.\n\n")
        from pipguard.install import pipbridge

        return pipbridge.run_pip(argv)
    try:
        options, pip_args = split_args(argv, dict(os.environ))
    except UsageError as exc:
        print(f"{prog} install: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unwritable = journal.check_target(options.journal) if options.journal is not None else None
    if unwritable:
        print(f"{prog} install: error: {unwritable}", file=sys.stderr)
        return EXIT_USAGE
    python, pip_args = take_python_option(pip_args)
    python = python or os.environ.pop("PIP_PYTHON", None)
    if python:
        os.environ.pop("PIP_PYTHON", None)
        redirected = run_under_python(python, take_python_option(argv)[1])
        if redirected is not None:
            return redirected
    warm_up(tables=False)
    from pipguard.install import pipbridge

    guard = InstallGuard(options)
    outcome = pipbridge.StepOutcome()
    stdout_for_pip = sys.stderr if journal.is_stdout(options.journal) else sys.stdout
    # What pipguard's own modules add to the heap turns plain pip's ninth collection of the
    # middle generation into a tenth, and so sets off a full collection during pip's resolve
    # that plain pip does not make (60 to 120 ms measured): frozen now, what is alive is not
    # walked again. Unfrozen before exit, below.
    gc.freeze()
    with _Termination(outcome) as termination:
        try:
            try:
                with contextlib.redirect_stdout(stdout_for_pip):
                    code = pipbridge.run_guarded_install(pip_args, guard, outcome)
            finally:
                termination.defer()  # a SIGTERM before this line is caught just below
        except KeyboardInterrupt:
            outcome.interrupted = True
            code = 130
        try:
            code = _after_step(guard, outcome, code)
        finally:
            # Frozen since the plan (see InstallGuard.before_step); the collection at exit
            # walks what it would walk after plain pip.
            gc.unfreeze()
    return 128 + outcome.signal if outcome.signal else code


class Terminated(KeyboardInterrupt):
    """SIGTERM while pip runs: raised where Ctrl-C raises KeyboardInterrupt, handled alike."""


class _Termination:
    """SIGTERM (``docker stop``, a cancelled CI job, ``timeout``) ends the install as Ctrl-C
    does: pip stops where it is, the journal says what is on disk, and the exit code is 143.

    Once pip is done (:meth:`defer`), a SIGTERM is only noted, so that the report and the
    journal are finished; a second one ends the process at once. The previous handler is put
    back on exit. A handler someone else installed (or SIG_IGN) is left alone.
    """

    def __init__(self, outcome: StepOutcome) -> None:
        self._outcome = outcome
        self._previous: Any = None
        self._deferred = False

    def __enter__(self) -> _Termination:
        try:
            previous = signal.getsignal(signal.SIGTERM)
            if previous is signal.SIG_DFL:
                signal.signal(signal.SIGTERM, self._on_signal)
                self._previous = previous
        except (AttributeError, ValueError):  # no SIGTERM here, or not the main thread
            pass
        return self

    def defer(self) -> None:
        """From now on, note a SIGTERM and let the report finish."""
        self._deferred = True

    def _on_signal(self, signum: int, frame: object) -> None:
        if self._deferred and self._outcome.signal:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # asked twice: stop at once
            os.kill(os.getpid(), signal.SIGTERM)
        self._outcome.signal = signum
        if not self._deferred:
            raise Terminated

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _after_step(guard: InstallGuard, outcome: StepOutcome, code: int) -> int:
    """Report what pip's step did, settle the directories' mtimes and write the journal."""
    options = guard.options
    quiet = options.policy == "ignore"
    if outcome.interrupted:
        code = 130
    elif code != 0 and outcome.reached and not outcome.stopped:
        outcome.failed = True  # pip began writing and did not succeed, wherever it failed
    dry_run = outcome.dry_run
    unrestored = [] if outcome.stopped or dry_run else guard.restore_winners()
    verdicts, after = guard.report(outcome)
    settled: list[Settled] = guard.freshness.settle() if guard.freshness else []
    restart = guard.freshness.changed_pth() if guard.freshness else []
    if restart and not quiet:
        _say(
            "pipguard: note: new or changed .pth files are read only when Python starts; "
            f"restart running interpreters to use them: {', '.join(restart)}"
        )
    if guard.fallback_reason is not None:
        _say(
            f"pipguard: warning: {guard.fallback_reason}; clashes could only be looked for "
            "after pip wrote the files."
        )
    resolved = guard.decided.resolved if guard.decided else []
    won = {clash.path: winner for clash, winner in resolved}
    real = [
        clash
        for clash, harmless in verdicts
        if not harmless and clash.kind not in ("identical", "deleted") and clash.path not in won
    ]
    kept = [c for c, _ in verdicts if c.kind == "deleted" and os.path.lexists(c.path)]
    if kept and not quiet and not outcome.stopped and not dry_run:
        owners = sorted({o.name for c in kept for o in c.owners if not o.incoming})
        _say(
            f"pipguard: kept {len(kept)} file{'s' if len(kept) != 1 else ''} that "
            f"{', '.join(owners)} still {'lists' if len(owners) == 1 else 'list'}, which the "
            "upgrade would have deleted with the old version."
        )
    if not outcome.stopped and not dry_run and code == 0:
        unrestored += _record_winners(resolved, verdicts, after)
    if not quiet and dry_run and not outcome.stopped:
        _report_dry_run(guard, real)
    elif not quiet and not outcome.stopped:
        _report_startup(guard)
        _report_winners(resolved, verdicts)
        if real:
            _report_overwritten(guard, real)
            if guard.fallback_reason is not None and options.policy == "prevent" and code == 0:
                code = 1
    problems = [*(guard.decided.problems if guard.decided else []), *unrestored]
    elsewhere = guard.decided.elsewhere if guard.decided else []
    if not quiet:
        _report_problems(guard, problems, elsewhere)
    if (outcome.failed or outcome.interrupted) and guard.wheels() and not dry_run:
        _report_unfinished(guard, outcome, after)  # the last line: what is installed now
    if unrestored and code == 0:
        code = 1
    if options.journal:
        document = _journal(
            guard, outcome, verdicts, after, settled, restart, [*problems, *elsewhere], code != 0
        )
        if not journal.write(options.journal, document) and code == 0:
            code = 1
    return code


def _report_unfinished(
    guard: InstallGuard, outcome: StepOutcome, after: list[InstalledDistribution]
) -> None:
    """Say how many distributions pip finished before it failed or was interrupted."""
    done_now = sorted(f"{d.name} {d.version}" for d in guard.installed_now(after, verify=True))
    how = (
        f"interrupted ({'SIGTERM' if outcome.signal else 'SIGINT'})"
        if outcome.interrupted
        else "pip failed"
    )
    _say(
        f"pipguard: {how} part-way: {len(done_now)} of {len(guard.wheels())} "
        f"distributions were installed{': ' + ', '.join(done_now) if done_now else ''}."
        + (" pip's error above says why." if outcome.failed else "")
    )


def _report_dry_run(guard: InstallGuard, real: list[Clash]) -> None:
    """Say what a dry run planned against, and what the install would go ahead over."""
    from pipguard import render
    from pipguard.policy import allowed

    step, decided = guard.step, guard.decided
    if step is None or decided is None:
        if guard.fallback_reason is None:
            _say(
                "pipguard: warning: --dry-run: pip never showed the transaction; "
                "nothing was checked."
            )
        return
    if step.empty:
        _say(
            "pipguard: note: --dry-run planned as in an empty environment (--ignore-installed, "
            "or wheels for another platform or Python): the requirement set was checked "
            "against itself."
        )
    for winner in sorted({w for _, w in decided.resolved}):
        paths = [c for c, w in decided.resolved if w == winner]
        losers = render.one_line(
            ", ".join(sorted({o.name for c in paths for o in c.owners} - {winner}))
        )
        name = render.one_line(winner)
        _say(
            f"pipguard: --dry-run: --winner {name}: {len(paths)} contested "
            f"file{'s' if len(paths) != 1 else ''} would hold {name}'s copy (over {losers})."
        )
    rules = guard.options.rules
    dead = [s for s in decided.shadowed if not allowed(s, rules)]
    code = [s for s in decided.startup if not allowed(s, rules)]
    if not (real or dead or code):
        return
    console = stderr_console()
    for table in render.clash_tables(real, planned=True):
        console.print(table)
    if dead:
        console.print(render.shadowed_table(dead, planned=True))
    if code:
        console.print(render.startup_table(code, planned=True))
    _say(
        "pipguard: warning: --dry-run: the install would go ahead "
        f"(--on-conflict {guard.options.policy}), and {render.would_summary(real, code, dead)}."
    )


def _record_winners(
    resolved: list[tuple[Clash, str]], verdicts: list[Verdict], after: list[InstalledDistribution]
) -> list[Problem]:
    """Record in each winner's metadata the files it holds as chosen: check reads it."""
    from pipguard.install.choices import record_choices
    from pipguard.paths import relative_to

    holds = {clash.path: clash.winner for clash, _ in verdicts}
    by_name: dict[str, InstalledDistribution] = {}
    for dist in after:
        by_name.setdefault(dist.name, dist)
    problems = []
    for winner in sorted({w for _, w in resolved}):
        found = by_name.get(winner)
        if found is None:
            continue
        dist = found
        won = [
            relative_to(clash.path, dist.site)
            for clash, w in resolved
            if w == winner and holds.get(clash.path) == winner
        ]
        if won:
            problem = record_choices(dist, won)
            if problem is not None:
                problems.append(problem)
    return problems


def _report_winners(resolved: list[tuple[Clash, str]], verdicts: list[Verdict]) -> None:
    """Say, per ``--winner``, how many of its contested files hold its copy now."""
    from pipguard import render

    won = {clash.path: winner for clash, winner in resolved}
    for winner in sorted(set(won.values())):
        paths = [c for c, w in resolved if w == winner]
        held = sum(
            1 for c, _ in verdicts if c.path in won and won[c.path] == winner and c.winner == winner
        )
        losers = sorted({o.name for c in paths for o in c.owners} - {winner})
        _say(
            f"pipguard: --winner {render.one_line(winner)}: {held} of {len(paths)} contested "
            f"file{'s' if len(paths) != 1 else ''} "
            f"{'holds' if len(paths) == 1 else 'hold'} {render.one_line(winner)}'s copy "
            f"(over {render.one_line(', '.join(losers))})."
        )


def _report_startup(guard: InstallGuard) -> None:
    """Draw the startup code an install went ahead with (``warn``), and say so."""
    from pipguard import render
    from pipguard.policy import allowed

    rules = guard.options.rules
    dead = [s for s in (guard.decided.shadowed if guard.decided else []) if not allowed(s, rules)]
    if dead:
        stderr_console().print(render.shadowed_table(dead))
        names = ", ".join(sorted({s.import_name for s in dead}))
        _say(f"pipguard: warning: import names shadowed by this install: {render.one_line(names)}.")
    code = [s for s in (guard.decided.startup if guard.decided else []) if not allowed(s, rules)]
    if code:
        stderr_console().print(render.startup_table(code))
        _say(
            f"pipguard: warning: {len(code)} startup file{'s' if len(code) != 1 else ''} with "
            "code installed: it runs at every Python start from now on."
        )


def _report_overwritten(guard: InstallGuard, real: list[Clash]) -> None:
    """Draw the real clashes pip's step went ahead over, and say what they changed."""
    from pipguard import render

    # Real before the step: shown even where the incoming copy now matches the disk.
    console = stderr_console()
    directory = bool(guard.step and guard.step.target_dir)
    for table in render.clash_tables(real, verbose=True, directory=directory):
        console.print(table)
    _say(f"pipguard: warning: {render.overwritten_summary(real)}")


def _report_problems(
    guard: InstallGuard, problems: list[Problem], elsewhere: list[Problem]
) -> None:
    from pipguard import render

    if problems:
        stderr_console().print(
            render.problem_table(problems, guard.env.scan_dirs if guard.env else ())
        )
    if elsewhere:
        _say(
            f"pipguard: note: {len(elsewhere)} "
            + ("problem" if len(elsewhere) == 1 else "problems")
            + " in the metadata of distributions this install does not touch; "
            "pipguard check lists them."
        )


def _journal(  # noqa: PLR0917
    guard: InstallGuard,
    outcome: StepOutcome,
    verdicts: list[Verdict],
    after: list[InstalledDistribution],
    settled: list[Settled],
    restart: list[str],
    problems: list[Problem],
    failed: bool,
) -> dict[str, object]:
    """Return the journal document of this install."""
    policy = guard.options.policy
    if outcome.interrupted:
        word = "interrupted"
    elif outcome.dry_run and (outcome.stopped or not failed):
        word = "dry-run"  # the conflicts' resolutions say what the install would do
    elif outcome.stopped:
        word = "prevented"
    else:
        word = "failed" if failed else "installed"
    how = "prevented" if outcome.stopped else "ignored" if policy == "ignore" else "overwritten"
    won = {clash.path for clash, _ in (guard.decided.resolved if guard.decided else [])}
    installed = guard.installed_now(after, verify=failed or outcome.interrupted)
    replaced = {r.name for r in guard.step.requirements if r.reinstall} if guard.step else set()
    done = {d.name for d in installed}
    still = {(d.name, d.version) for d in after}
    removed = [
        d
        for d in guard.before
        if not outcome.stopped
        and not outcome.dry_run
        and d.name in replaced
        and ((d.name, d.version) not in still or d.name in done)
    ]
    return journal.document(
        policy=policy,
        outcome=word,
        installed=installed,
        removed=removed,
        conflicts=[
            (c, journal.resolution(c, harmless, c.path in won, how)) for c, harmless in verdicts
        ],
        directories=[(s.path, s.bumped) for s in settled],
        restart=restart,
        partial=guard.left_partial(after) if failed or outcome.interrupted else [],
        problems=problems,
        startup=[
            journal.startup_entry(item, guard.options.rules, how)
            for item in (guard.decided.startup if guard.decided else [])
        ],
        shadowed=[
            (item, "harmless" if item.harmless else how)
            for item in (guard.decided.shadowed if guard.decided else [])
        ],
    )
