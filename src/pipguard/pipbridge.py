"""The one module that touches ``pip._internal``: run pip in-process and wrap its install step.

pip documents in-process use as unsupported, so everything here is defensive: the rest of
pipguard sees plain data (:class:`Step`), and when pip's internals are not as expected the guard
is told so (``cannot_plan``) and falls back to comparing RECORDs after the fact.

Facts relied on (checked for pip 23.2 through 26.3):
- ``pip._internal.commands.install`` binds ``install_given_reqs`` at import and calls it once with
  every requirement to install, in order, each holding a local wheel (sdists already built).
  Its other parameters changed across versions, so they are passed through untouched.
- ``InstallRequirement.install`` computes ``get_scheme(name, user=, home=, root=, isolated=,
  prefix=)`` from the same arguments; ``--target`` installs into a temporary ``home`` that
  ``InstallCommand._handle_target_dir`` moves into the target afterwards.
- From 26.3 pip blocks every new import while installing and warns about new imports after it:
  the guard must have imported all it needs before :func:`run_guarded_install` is called.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pip
from pip._internal.cli.main import main as _pip_main
from pip._internal.exceptions import InstallationError

from pipguard.environment import canonical_name
from pipguard.paths import to_posix
from pipguard.plan import Scheme

_console_script_specs: Callable[[dict[str, str]], list[str]] | None
try:
    # Imported now, not at the install step: pip 26.3 blocks imports while it installs.
    from pip._internal.operations.install.wheel import (
        get_console_script_specs as _console_script_specs,
    )
except ImportError:  # pragma: no cover - a pip without it: scripts keep their own names
    _console_script_specs = None

__all__ = [
    "PIP_VERSION",
    "Requirement",
    "Step",
    "StepGuard",
    "StepOutcome",
    "console_script_names",
    "run_guarded_install",
    "run_pip",
    "uninstall_targets",
]

PIP_VERSION: str = pip.__version__
# The names patched while pip runs: the install step as install.py binds it, and the command's run.
_STEP = "install_given_reqs"
_RUN = "run"
_UNINSTALL = "uninstall"


@dataclass(frozen=True)
class Requirement:
    """One distribution pip is about to install, as plain data."""

    name: str
    wheel: str | None  # the local wheel file; None when pip installs no wheel (legacy editable)
    scheme: Scheme
    reinstall: bool  # pip uninstalls the installed copy first (upgrade, --force-reinstall)


@dataclass(frozen=True)
class Step:
    """The whole transaction, known before pip writes its first file."""

    requirements: tuple[Requirement, ...]
    target_dir: str | None  # pip install --target, resolved
    # --target with --upgrade: pip replaces each top-level entry the wheels write, whole.
    target_upgrade: bool = False


@dataclass
class StepOutcome:
    """What happened around pip's install step, for the guard's report after pip returns."""

    reached: bool = False
    stopped: bool = False
    failed: bool = False
    interrupted: bool = False
    error: str | None = None
    notes: list[str] = field(default_factory=list)


class StepGuard(Protocol):
    """What pipguard's install guard does at the install step; it never imports pip itself."""

    def before_step(self, step: Step) -> str | None:
        """Inspect the transaction before any write; return a reason to stop, or None."""

    def cannot_plan(self, reason: str) -> None:
        """Learn that the transaction cannot be known in advance (pip's internals differ)."""

    def install_last(self) -> frozenset[str]:
        """Name the distributions pip must install after all others (winners of clashes)."""


class _Stopped(InstallationError):
    """Raised inside pip's install step so that pip reports it as an ERROR and writes nothing."""


def run_pip(args: Sequence[str]) -> int:
    """Run any pip command in-process, exactly as ``python -m pip`` would."""
    code: int = _pip_main(list(args))
    return code


def console_script_names(console: dict[str, str]) -> list[str]:
    """Return the script names pip generates for a ``console_scripts`` mapping (pip3.X etc.)."""
    if _console_script_specs is None:
        return list(console)
    specs: list[str] = _console_script_specs(console)
    return [spec.partition("=")[0].strip() for spec in specs]


def _target_scheme(scheme: Scheme, temp_home: str, target_dir: str) -> Scheme:
    """Map a scheme inside pip's temporary --target home to where the files end up."""
    temp_lib = {scheme.purelib, scheme.platlib}
    target = to_posix(os.path.realpath(target_dir))

    def moved(path: str) -> str:
        for lib in temp_lib:
            if path == lib or path.startswith(lib + "/"):
                return target + path[len(lib) :]
        if path == temp_home or path.startswith(temp_home + "/"):
            return target + path[len(temp_home) :]
        return path

    return Scheme(
        *(
            moved(getattr(scheme, key))
            for key in ("purelib", "platlib", "headers", "scripts", "data")
        )
    )


def _describe(
    requirements: Sequence[Any],
    bound: dict[str, Any],
    options: Any,
    get_scheme: Callable[..., Any],
) -> Step:
    home = bound.get("home")
    target_dir = getattr(options, "target_dir", None) if options is not None else None
    planned = []
    for req in requirements:
        name = req.req.name if getattr(req, "req", None) is not None else req.name
        raw = get_scheme(
            name,
            user=bool(bound.get("use_user_site")),
            home=home,
            root=bound.get("root"),
            isolated=bool(req.isolated),
            prefix=bound.get("prefix"),
        )
        scheme = Scheme(
            *(
                to_posix(os.path.realpath(getattr(raw, key)))
                for key in ("purelib", "platlib", "headers", "scripts", "data")
            )
        )
        if target_dir and home:
            scheme = _target_scheme(scheme, to_posix(os.path.realpath(home)), target_dir)
        wheel = req.local_file_path if req.is_wheel and req.local_file_path else None
        planned.append(Requirement(canonical_name(name), wheel, scheme, bool(req.should_reinstall)))
    upgrade = bool(getattr(options, "upgrade", False)) if options is not None else False
    if target_dir:
        target_dir = to_posix(os.path.realpath(target_dir))
    return Step(tuple(planned), target_dir, bool(target_dir) and upgrade)


def run_guarded_install(args: Sequence[str], guard: StepGuard, outcome: StepOutcome) -> int:
    """Run ``pip <args>`` (an install) in-process with ``guard`` attached to its install step."""
    try:
        install_module = importlib.import_module("pip._internal.commands.install")
        from pip._internal.locations import get_scheme

        original = getattr(install_module, _STEP)
        command_class = install_module.InstallCommand
        original_run = command_class.run
        signature = inspect.signature(original)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        guard.cannot_plan(f"pip {PIP_VERSION} has no install step pipguard knows ({exc})")
        return run_pip(args)

    captured: dict[str, Any] = {}

    def run(self: Any, options: Any, run_args: Any) -> Any:
        captured["options"] = options
        try:
            return original_run(self, options, run_args)
        except KeyboardInterrupt:
            outcome.interrupted = True
            raise

    def install_given_reqs(requirements: Any, *rest: Any, **kwargs: Any) -> Any:
        outcome.reached = True
        try:
            bound = signature.bind(requirements, *rest, **kwargs).arguments
            step = _describe(list(requirements), bound, captured.get("options"), get_scheme)
        except Exception as exc:
            guard.cannot_plan(f"pip {PIP_VERSION}: its install step is not as expected ({exc!r})")
        else:
            try:
                reason = guard.before_step(step)
            except Exception as exc:
                # A guard that failed knows nothing: stopping is the one safe answer.
                reason = (
                    f"pipguard: internal error while checking the transaction "
                    f"({type(exc).__name__}: {exc}); nothing was installed. Please report it; "
                    "--on-conflict ignore installs without the check"
                )
            if reason is not None:
                outcome.stopped = True
                raise _Stopped(reason)
            last = guard.install_last()
            if last:
                # A stable reorder: winners are written after their losers, scripts included.
                reqs = list(requirements)
                names = [r.name for r in step.requirements]
                requirements = [q for q, n in zip(reqs, names) if n not in last] + [
                    q for q, n in zip(reqs, names) if n in last
                ]
        try:
            return original(requirements, *rest, **kwargs)
        except KeyboardInterrupt:
            outcome.interrupted = True
            raise
        except BaseException as exc:
            outcome.failed = True
            outcome.error = f"{type(exc).__name__}: {exc}"
            raise

    setattr(install_module, _STEP, install_given_reqs)
    setattr(command_class, _RUN, run)
    try:
        return run_pip(args)
    finally:
        setattr(install_module, _STEP, original)
        setattr(command_class, _RUN, original_run)


def uninstall_targets(args: Sequence[str]) -> list[str] | None:
    """Return the canonical names ``pip <args>`` (an uninstall) would remove, removing nothing.

    pip's own command parses the arguments (names, ``-r`` files, options) with each
    requirement's ``uninstall`` replaced by a note of its name. None when pip's uninstall
    command is not as expected.
    """
    try:
        from pip._internal.req.req_install import InstallRequirement

        original = InstallRequirement.uninstall
    except (ImportError, AttributeError):
        return None
    names: list[str] = []

    def note(self: Any, *args: Any, **kwargs: Any) -> None:
        names.append(canonical_name(self.name))

    setattr(InstallRequirement, _UNINSTALL, note)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = run_pip([*args, "--yes"] if "-y" not in args and "--yes" not in args else args)
    finally:
        setattr(InstallRequirement, _UNINSTALL, original)
    return names if code == 0 else None
