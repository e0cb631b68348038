"""The one module that touches ``pip._internal``: run pip in-process and wrap its install step.

pip documents in-process use as unsupported, so everything here is defensive: the rest of
pipguard sees plain data (:class:`Step`), and when pip's internals are not as expected the guard
is told so (``cannot_plan``) and falls back to comparing RECORDs after the fact.

Facts relied on (checked for pip 23.2 through 26.3):
- ``InstallCommand.run`` builds its resolver with ``self.make_resolver(...)`` and, once every
  wheel is built, takes the transaction from ``resolver.get_installation_order(requirement_set)``
  (a list of requirements, each holding a local wheel) and hands that list, unchanged, to
  ``install_given_reqs``. Nothing is written in between.
- ``pip._internal.commands.install`` binds ``install_given_reqs`` at import and calls it once with
  that list. Its other parameters changed across versions, so they are passed through untouched.
- ``InstallRequirement.install`` computes ``get_scheme(name, user=, home=, root=, isolated=,
  prefix=)`` from ``options.use_user_site``, ``options.root_path``, ``options.prefix_path`` and,
  for ``--target``, a temporary ``home`` that ``InstallCommand._handle_target_dir`` moves into
  the target afterwards.
- Between ``get_installation_order`` and ``install_given_reqs``, pip 26.1 and 26.2 start
  warning about imports, and 26.3 blocks every new import (until the command returns; it warns
  about them after). Planning at ``get_installation_order`` lets the guard import rich only
  when it has a table to show.
- ``--dry-run`` is read once between ``make_resolver`` and preparing the wheels (after pip's
  own checks of it: platform options, externally-managed); turned off there, pip downloads
  and builds as for an install and reaches ``get_installation_order``, where the dry run
  ends, before its import guard and ``install_given_reqs``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import pip
from pip._internal.cli.main import main as _pip_main
from pip._internal.exceptions import InstallationError
from pip._internal.utils.misc import write_output as _write_output

from pipguard.environment import canonical_name
from pipguard.install.plan import SCHEME_KEYS, Scheme
from pipguard.paths import to_posix

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


class Requirement(NamedTuple):
    """One distribution pip is about to install, as plain data."""

    name: str
    wheel: str | None  # the local wheel file; None when pip installs no wheel (legacy editable)
    scheme: Scheme
    reinstall: bool  # pip uninstalls the installed copy first (upgrade, --force-reinstall)
    editable: bool = False  # -e: a local project pip built an editable wheel of


class Step(NamedTuple):
    """The whole transaction, known before pip writes its first file."""

    requirements: tuple[Requirement, ...]
    target_dir: str | None  # pip install --target, resolved
    # --target with --upgrade: pip replaces each top-level entry the wheels write, whole.
    target_upgrade: bool = False
    dry_run: bool = False  # pip install --dry-run: planned and checked, never installed
    # Plan as in an empty environment: --dry-run with --ignore-installed, or for another
    # platform or Python without --target (the wheels are not for this environment).
    empty: bool = False
    python_version: tuple[int, int] | None = None  # --python-version, where given


@dataclass
class StepOutcome:
    """What happened around pip's install step, for the guard's report after pip returns."""

    reached: bool = False
    stopped: bool = False
    failed: bool = False
    interrupted: bool = False
    signal: int = 0  # the signal that ended the install, when not Ctrl-C's SIGINT
    dry_run: bool = False  # pip install --dry-run
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

    def plans_late(self) -> None:
        """Learn that ``before_step`` will run inside pip's install step, where pip 26.3
        blocks imports: whatever a report may need must be imported now."""


class _Stopped(InstallationError):
    """Raised inside pip's install step so that pip reports it as an ERROR and writes nothing."""


class _DryRunDone(Exception):
    """Raised where a dry run's plan passed, caught in pip's ``run``: pip installs nothing.

    Not an OSError: pip's ``run`` turns those into an error exit.
    """

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line  # pip's "Would install" names, or "" when nothing would be


def _would_install(requirements: Any) -> str:
    """Return what pip's dry run prints after "Would install": name-version, sorted."""
    try:
        items = sorted((r.metadata["name"], r.metadata["version"]) for r in requirements)
    except Exception:  # pip's requirements are not as expected: their names, at least
        return " ".join(sorted(str(getattr(r, "name", r)) for r in requirements))
    return " ".join("-".join(item) for item in items)


def _dry_run_facts(options: Any, ignore_installed: bool) -> tuple[bool, tuple[int, int] | None]:
    """Return whether a dry run plans as in an empty environment, and ``--python-version``.

    ``ignore_installed`` is the user's ``--ignore-installed`` (pip sets it for ``--target``).
    """
    version = getattr(options, "python_version", None)
    restricted = any(
        getattr(options, name, None) for name in ("python_version", "platforms", "abis")
    ) or bool(getattr(options, "implementation", None))
    empty = ignore_installed or (restricted and not getattr(options, "target_dir", None))
    pair = (int(version[0]), int(version[1])) if version and len(version) >= 2 else None
    return empty, pair


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

    return Scheme(*(moved(getattr(scheme, key)) for key in SCHEME_KEYS))


# pip installs --target into a temporary home and moves it into the target afterwards; before
# that home exists, a stand-in gives the same scheme (paths are mapped as text, never resolved).
_TARGET_HOME = os.path.abspath(os.sep + "pipguard-target-home")


class _Schemes:
    """pip's ``get_scheme`` per requirement, asked of pip at most twice per kind of requirement.

    It takes 0.2 ms a call (sysconfig, and its comparison with distutils): 10 ms for 50 wheels.
    A distribution's name changes only its headers directory (``include/.../<name>``): once two
    answers for two names show that, and nothing else differs, the rest are derived.
    """

    def __init__(self, get_scheme: Callable[..., Any], where: dict[str, Any]) -> None:
        self._get_scheme = get_scheme
        self._where = where
        self._asked: dict[bool, list[tuple[str, list[str]]]] = {}
        self._rule: dict[bool, tuple[list[str], str]] = {}

    def __call__(self, name: str, isolated: bool) -> list[str]:
        """Return the scheme's paths (``SCHEME_KEYS`` order), absolute, with '/'."""
        rule = self._rule.get(isolated)
        if rule is not None:
            paths, include = rule
            return [paths[0], paths[1], f"{include}/{name}", paths[3], paths[4]]
        raw = self._get_scheme(
            name,
            user=bool(self._where.get("use_user_site")),
            home=self._where.get("home"),
            root=self._where.get("root"),
            isolated=isolated,
            prefix=self._where.get("prefix"),
        )
        paths = [to_posix(os.path.abspath(getattr(raw, key))) for key in SCHEME_KEYS]
        asked = self._asked.setdefault(isolated, [])
        if len(asked) < 2:
            asked.append((name, paths))
        if len(asked) == 2 and isolated not in self._rule:
            (first, one), (second, other) = asked
            include = one[2].rpartition("/")[0]
            if (
                first != second
                and one[:2] + one[3:] == other[:2] + other[3:]
                and one[2] == f"{include}/{first}"
                and other[2] == f"{include}/{second}"
            ):
                self._rule[isolated] = (one, include)
        return paths


def _describe(
    requirements: Sequence[Any],
    where: dict[str, Any],
    options: Any,
    get_scheme: Callable[..., Any],
) -> Step:
    """Describe ``requirements`` as plain data; ``where`` holds pip's install_given_reqs
    arguments ``use_user_site``, ``root``, ``prefix`` and ``home``."""
    home = where.get("home")
    target_dir = getattr(options, "target_dir", None) if options is not None else None
    schemes = _Schemes(get_scheme, where)
    real: dict[str, str] = {}  # each directory resolved once, not once per requirement
    planned = []
    for req in requirements:
        name = req.req.name if getattr(req, "req", None) is not None else req.name
        paths = schemes(name, bool(req.isolated))
        if target_dir and home:
            scheme = _target_scheme(Scheme(*paths), to_posix(os.path.abspath(home)), target_dir)
        else:
            for path in paths:
                if path not in real:
                    real[path] = to_posix(os.path.realpath(path))
            scheme = Scheme(*(real[path] for path in paths))
        wheel = req.local_file_path if req.is_wheel and req.local_file_path else None
        planned.append(
            Requirement(
                canonical_name(name),
                wheel,
                scheme,
                bool(req.should_reinstall),
                bool(getattr(req, "editable", False)),
            )
        )
    upgrade = bool(getattr(options, "upgrade", False)) if options is not None else False
    if target_dir:
        target_dir = to_posix(os.path.realpath(target_dir))
    return Step(tuple(planned), target_dir, bool(target_dir) and upgrade)


def run_guarded_install(args: Sequence[str], guard: StepGuard, outcome: StepOutcome) -> int:
    """Run ``pip <args>`` (an install) in-process with ``guard`` attached to its install step.

    The guard plans when the resolver hands pip the installation order: the last moment before
    pip writes, and, from pip 26.1, before it restricts imports. Should that hook not take
    (another resolver, another pip), the guard plans at ``install_given_reqs`` instead.
    """
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
    attached = _Attached(
        guard,
        outcome,
        get_scheme=get_scheme,
        original=original,
        original_run=original_run,
        signature=signature,
    )

    def run(command: Any, options: Any, run_args: Any) -> Any:
        return attached.run(command, options, run_args)

    setattr(install_module, _STEP, attached.install_given_reqs)
    setattr(command_class, _RUN, run)
    try:
        return run_pip(args)
    finally:
        setattr(install_module, _STEP, original)
        setattr(command_class, _RUN, original_run)


class _Attached:
    """The guard attached to one pip install command: its resolver hook and its install step."""

    def __init__(
        self,
        guard: StepGuard,
        outcome: StepOutcome,
        *,
        get_scheme: Callable[..., Any],
        original: Callable[..., Any],
        original_run: Callable[..., Any],
        signature: inspect.Signature,
    ) -> None:
        self.guard = guard
        self.outcome = outcome
        self.get_scheme = get_scheme
        self.original = original
        self.original_run = original_run
        self.signature = signature
        self.planned = False
        self.ignore_installed = False  # the user's --ignore-installed, before --target sets it
        self.options: Any = None  # the install command's, once pip has parsed them

    def plan(self, requirements: list[Any], where: dict[str, Any], options: Any) -> list[Any]:
        """Let the guard judge the transaction; return it with the winners last, or raise.

        A dry run ends here: raising _Stopped if the install would stop, else _DryRunDone.
        """
        guard, outcome = self.guard, self.outcome
        self.planned = True
        try:
            step = _describe(requirements, where, options, self.get_scheme)
            if outcome.dry_run:
                empty, version = _dry_run_facts(options, self.ignore_installed)
                step = step._replace(dry_run=True, empty=empty, python_version=version)
        except Exception as exc:
            guard.cannot_plan(f"pip {PIP_VERSION}: its install step is not as expected ({exc!r})")
            if outcome.dry_run:
                raise _DryRunDone(_would_install(requirements)) from None
            return requirements
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
        if outcome.dry_run:
            raise _DryRunDone(_would_install(requirements))
        last = guard.install_last()
        if not last:
            return requirements
        # A stable reorder: winners are written after their losers, scripts included.
        names = [r.name for r in step.requirements]
        return [q for q, n in zip(requirements, names) if n not in last] + [
            q for q, n in zip(requirements, names) if n in last
        ]

    def run(self, command: Any, options: Any, run_args: Any) -> Any:
        """pip's ``InstallCommand.run``, with the resolver it makes hooked."""
        outcome = self.outcome
        self.options = options
        self.ignore_installed = bool(getattr(options, "ignore_installed", False))
        outcome.dry_run = bool(getattr(options, "dry_run", False))
        make_resolver = command.make_resolver

        def guarded_resolver(*resolver_args: Any, **resolver_kwargs: Any) -> Any:
            if outcome.dry_run:
                # pip's own checks of --dry-run are behind us; without it pip downloads and
                # builds as for an install, and the dry run ends at the installation order.
                options.dry_run = False
            resolver = make_resolver(*resolver_args, **resolver_kwargs)
            installation_order = resolver.get_installation_order

            def get_installation_order(requirement_set: Any) -> Any:
                where = {
                    "use_user_site": options.use_user_site,
                    "root": options.root_path,
                    "prefix": options.prefix_path,
                    "home": _TARGET_HOME if options.target_dir else None,
                }
                return self.plan(list(installation_order(requirement_set)), where, options)

            try:
                resolver.get_installation_order = get_installation_order
            except AttributeError:
                self.guard.plans_late()
            return resolver

        command.make_resolver = guarded_resolver
        try:
            return self.original_run(command, options, run_args)
        except _DryRunDone as done:
            if done.line:
                _write_output("Would install %s", done.line)
            return 0
        except KeyboardInterrupt:
            outcome.interrupted = True
            raise
        finally:
            if outcome.dry_run:
                options.dry_run = True

    def install_given_reqs(self, requirements: Any, *rest: Any, **kwargs: Any) -> Any:
        """pip's install step: planned here if the resolver took no hook; never in a dry run."""
        outcome = self.outcome
        if not self.planned:
            try:
                where = self.signature.bind(requirements, *rest, **kwargs).arguments
            except TypeError as exc:
                self.guard.cannot_plan(
                    f"pip {PIP_VERSION}: its install step is not as expected ({exc})"
                )
            else:
                requirements = self.plan(list(requirements), where, self.options)
        if outcome.dry_run:
            raise _DryRunDone(_would_install(requirements))  # never install in a dry run
        outcome.reached = True
        try:
            return self.original(requirements, *rest, **kwargs)
        except KeyboardInterrupt:
            outcome.interrupted = True
            raise
        except BaseException as exc:
            outcome.failed = True
            outcome.error = f"{type(exc).__name__}: {exc}"
            raise


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
