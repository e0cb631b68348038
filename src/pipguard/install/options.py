"""``pipguard install``'s own options: taken out of pip's arguments, its help, ``--python``."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import NamedTuple

from pipguard.environment import canonical_name
from pipguard.policy import POLICIES, Policy, Rules

__all__ = [
    "EXIT_USAGE",
    "HELP",
    "REPAIR_HELP",
    "UNINSTALL_HELP",
    "GuardOptions",
    "UsageError",
    "run_under_python",
    "split_args",
    "take_python_option",
]

EXIT_USAGE = 2
# pipguard's own install options, each taking a value (``--name VALUE`` or ``--name=VALUE``).
OWN_OPTIONS = (
    "--on-conflict",
    "--journal",
    "--lock-timeout",
    "--winner",
    "--allow-startup",
    "--config",
)

HELP = """\
usage: pipguard install [pipguard's options] [pip install's arguments]

pip install, guarded: before pip writes a single file, every path every wheel of the
transaction would write is checked against what is installed and against each other.
Every pip install argument passes through unchanged.

pipguard's options:
  --on-conflict {prevent,warn,ignore}
                 prevent (default): stop before writing anything when the transaction
                 would overwrite another distribution's file with different bytes;
                 warn: install anyway and report who won; ignore: report nothing.
                 Also PIPGUARD_ON_CONFLICT.
  --winner NAME  for every clash NAME takes part in, NAME's copy is the one left on
                 disk, whatever order pip installs in (repeatable; also
                 PIPGUARD_WINNER, space-separated). Such clashes do not stop.
  --allow-startup NAME
                 let NAME's startup code in: a .pth import line, a .start entry point,
                 sitecustomize (repeatable; also PIPGUARD_ALLOW_STARTUP, space-separated).
                 Without it, new startup code stops the install under prevent.
  --config FILE  read [tool.pipguard] from FILE (default: ./pyproject.toml):
                 winners, on-conflict, allow-startup; variables and flags override it.
  --lock-timeout SECONDS
                 wait this long for another pipguard run on the same environment
                 (default 600).
  --journal FILE write a JSON journal of the transaction (- for stdout; pip's own
                 output then goes to stderr).

pip's --dry-run, under pipguard, downloads and builds what pip would, runs every check as
for a real install, and stops before pip's install step: exit 1 where the install would be
stopped (with --ignore-installed: the requirements against each other only).
"""

UNINSTALL_HELP = """\
usage: pipguard uninstall [pipguard's options] [pip uninstall's arguments]

pip uninstall that spares shared files: before anything is removed, every file the removal
would delete is checked against the distributions that stay. If one still lists it, nothing
is removed (exit 1) and a table names the shared files and who would break. Every pip
uninstall argument passes through unchanged.

pipguard's options:
  --on-conflict {prevent,warn}
                 prevent (default): refuse when a file is shared; warn: remove the
                 distribution but write the shared files back, and say which of them
                 hold the removed distribution's copy. Also PIPGUARD_ON_CONFLICT.
  --lock-timeout SECONDS
                 wait this long for another pipguard run on the same environment
                 (default 600).
  -v, --verbose  list every shared file in the table (also passed to pip).
"""

REPAIR_HELP = """\
usage: pipguard repair [options] NAME...

Reinstall each NAME's own files at its installed version (pip install --force-reinstall
--no-deps NAME==VERSION, with NAME as --winner), and say how many files are NAME's copy again.
Exit 1 if some still differ from NAME's RECORD.

pipguard's options:
  -v, --verbose  name every file restored, one line each.
  --on-conflict, --lock-timeout, --journal
                 as for pipguard install.
pip install's index options (--index-url, --extra-index-url, --find-links, --no-index,
...) pass through to the reinstall.
"""


class UsageError(Exception):
    """pipguard's own install options are wrong."""


class GuardOptions(NamedTuple):
    """pipguard's own options of ``install``, taken out of the pip arguments."""

    policy: Policy = "prevent"
    journal: str | None = None
    lock_timeout: float = 600.0
    winners: frozenset[str] = frozenset()
    allow_startup: frozenset[str] = frozenset()

    @property
    def rules(self) -> Rules:
        """The policy's view of these options."""
        return Rules(self.policy, self.winners, self.allow_startup)


def _policy(value: str, source: str) -> Policy:
    for policy in POLICIES:
        if value == policy:
            return policy
    raise UsageError(f"{source}: {value!r} is not one of {', '.join(POLICIES)}")


def _config_option(argv: Sequence[str]) -> str | None:
    """Return the value of ``--config FILE`` (or ``--config=FILE``) in ``argv``, if any."""
    items = iter(argv)
    for arg in items:
        name, eq, value = arg.partition("=")
        if name == "--config":
            value = value if eq else next(items, "")
            if not value:
                raise UsageError("--config needs a file name")
            return value
    return None


def split_args(
    argv: Sequence[str], environ: dict[str, str], cwd: str | None = None
) -> tuple[GuardOptions, list[str]]:
    """Take pipguard's own options out of ``argv``; return them and the arguments for pip.

    ``[tool.pipguard]`` of the project's pyproject.toml (``cwd``'s, or ``--config FILE``)
    comes first, environment variables next, flags last: a policy set later replaces one set
    before; winners and allowed startup code add up.
    """
    from pipguard.config import ConfigError, load_config

    try:
        config = load_config(_config_option(argv), cwd or os.getcwd())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    policy = _policy(config.on_conflict, config.source or "") if config.on_conflict else "prevent"
    if environ.get("PIPGUARD_ON_CONFLICT"):
        policy = _policy(environ["PIPGUARD_ON_CONFLICT"], "PIPGUARD_ON_CONFLICT")
    journal = None
    lock_timeout = 600.0
    winners = [*config.winners]
    winners += [canonical_name(n) for n in environ.get("PIPGUARD_WINNER", "").split() if n]
    allow = [*config.allow_startup]
    allow += [canonical_name(n) for n in environ.get("PIPGUARD_ALLOW_STARTUP", "").split() if n]
    pip_args: list[str] = []
    items = iter(argv)
    for arg in items:
        name, eq, value = arg.partition("=")
        if name in OWN_OPTIONS:
            if not eq:
                value = next(items, "")
                if not value:
                    raise UsageError(f"{name} needs a value")
            if name == "--on-conflict":
                policy = _policy(value, "--on-conflict")
            elif name == "--winner":
                winners.append(canonical_name(value))
            elif name == "--allow-startup":
                allow.append(canonical_name(value))
            elif name == "--lock-timeout":
                lock_timeout = _seconds(value)
            elif name == "--journal":
                journal = value
            continue
        pip_args.append(arg)
    options = GuardOptions(policy, journal, lock_timeout, frozenset(winners), frozenset(allow))
    return options, pip_args


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:  # nan fails every comparison
        raise UsageError(f"--lock-timeout: {value!r} is not a number of seconds")
    return seconds


def take_python_option(args: list[str]) -> tuple[str | None, list[str]]:
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


def run_under_python(python: str, argv: list[str], *, timeout: float = 60.0) -> int | None:
    """Honour pip's ``--python``: run pipguard itself under that interpreter, or refuse.

    pip would re-run itself there in a subprocess, out of the guard's reach. Returns None when
    ``python`` is this very environment, so the install goes on in-process.
    """
    env = {
        k: v for k, v in os.environ.items() if k not in ("PIP_PYTHON", "_PIP_RUNNING_IN_SUBPROCESS")
    }
    from pipguard.archive import probe_command, running_archive, self_command
    from pipguard.probe import ProbeOverflow, ProbeTimeout, run_bounded

    try:
        probe = run_bounded(probe_command(python), timeout=timeout, env=env)
    except ProbeTimeout as exc:
        print(f"pipguard: error: --python {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ProbeOverflow:
        print(
            f"pipguard: error: --python {python}: answered with more than 1 MiB; "
            "not a Python interpreter",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except OSError:
        probe = None
    if probe is None or probe.code != 0:
        if running_archive() is not None:
            last = (probe.err.strip().splitlines() or ["no answer"])[-1] if probe else "no answer"
            print(f"pipguard: error: --python {python}: {last}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"pipguard: error: --python {python}: pipguard is not installed for that interpreter, "
            "so it cannot guard the install there. Run this pipguard as one file under it "
            f"(pipguard zipapp -o pipguard.pyz; {python} pipguard.pyz install ...), or install "
            f"it there ({python} -m pip install pip-clobber-guard; the registry's 'pipguard' is "
            "another project)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if os.path.realpath(probe.out.strip()) == os.path.realpath(sys.prefix):
        return None
    return subprocess.run([*self_command(python), *argv], env=env, check=False).returncode
