"""The install command: pipguard's options, pip with the guard attached, the report afterwards."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

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
    try:
        with contextlib.redirect_stdout(stdout_for_pip):
            code = pipbridge.run_guarded_install(pip_args, guard, outcome)
    except KeyboardInterrupt:
        outcome.interrupted = True
        code = 130
    try:
        return _after_step(guard, outcome, code)
    finally:
        # Frozen since the plan (see InstallGuard.before_step); the collection at exit walks
        # what it would walk after plain pip.
        gc.unfreeze()


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _after_step(guard: InstallGuard, outcome: StepOutcome, code: int) -> int:
    """Report what pip's step did, settle the directories' mtimes and write the journal."""
    options = guard.options
    quiet = options.policy == "ignore"
    if outcome.interrupted:
        code = 130
    unrestored = [] if outcome.stopped else guard.restore_winners()
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
        if not harmless and clash.kind != "identical" and clash.path not in won
    ]
    if not quiet and not outcome.stopped:
        _report_startup(guard)
        _report_winners(resolved, verdicts)
        if real:
            _report_overwritten(guard, real)
            if guard.fallback_reason is not None and options.policy == "prevent" and code == 0:
                code = 1
    if outcome.failed and guard.wheels():
        done_now = sorted(f"{d.name} {d.version}" for d in guard.installed_now(after))
        _say(
            f"pipguard: pip failed part-way: {len(done_now)} of {len(guard.wheels())} "
            f"distributions were installed{': ' + ', '.join(done_now) if done_now else ''}. "
            "pip's error above says why."
        )
    problems = [*(guard.decided.problems if guard.decided else []), *unrestored]
    elsewhere = guard.decided.elsewhere if guard.decided else []
    if not quiet:
        _report_problems(guard, problems, elsewhere)
    if unrestored and code == 0:
        code = 1
    if options.journal:
        document = _journal(
            guard, outcome, verdicts, after, settled, restart, [*problems, *elsewhere], code != 0
        )
        if not journal.write(options.journal, document) and code == 0:
            code = 1
    return code


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
    elif outcome.stopped:
        word = "prevented"
    else:
        word = "failed" if failed else "installed"
    how = "prevented" if outcome.stopped else "ignored" if policy == "ignore" else "overwritten"
    won = {clash.path for clash, _ in (guard.decided.resolved if guard.decided else [])}
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
