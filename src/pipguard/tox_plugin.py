"""The tox 4 plugin: ``pipguard check`` on every tox environment, before its commands run.

tox loads this module through the ``tox`` entry point when pipguard is installed beside it;
nothing else imports it, so tox stays out of pipguard's own dependencies. pipguard is run with
the interpreter tox runs under and pointed at the environment's python (``--python``), so it
never has to be installed into the environment it audits.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
from typing import TYPE_CHECKING

from tox.plugin import impl
from tox.tox_env.errors import Fail
from tox.tox_env.python.api import Python

if TYPE_CHECKING:
    from tox.config.sets import EnvConfigSet
    from tox.tox_env.api import ToxEnv

__all__ = ["SETTING", "VARIABLE", "check_command", "switched_on"]

#: The per-environment setting (``pipguard_check = false`` in ``[testenv]``) that turns it off.
SETTING = "pipguard_check"
#: The environment variable (``PIPGUARD_TOX=0``) that turns it off for a whole run.
VARIABLE = "PIPGUARD_TOX"

_ON = frozenset({"", "1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})
_LOGGER = logging.getLogger(__name__)
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def switched_on(value: str | None) -> bool:
    """Read ``PIPGUARD_TOX``: unset, empty, 1/true/yes/on mean on; 0/false/no/off mean off.

    Raises ValueError for anything else: a typo must not turn the check off unnoticed.
    """
    word = (value or "").strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    raise ValueError(f"{VARIABLE}={value!r}: expected 1 or 0 (true/false, yes/no, on/off)")


def check_command(env_python: str) -> list[str]:
    """Return the command that audits ``env_python``'s environment with tox's own interpreter."""
    return [sys.executable, "-m", "pipguard", "check", "--python", env_python]


@impl
def tox_add_env_config(env_conf: EnvConfigSet) -> None:
    """Declare the ``pipguard_check`` setting of every tox environment (default: on)."""
    env_conf.add_config(
        keys=[SETTING],
        of_type=bool,
        default=True,
        desc="run pipguard check on this environment after its install, before its commands",
    )


@impl
def tox_before_run_commands(tox_env: ToxEnv) -> None:
    """Audit the environment tox has just set up; fail it when ``pipguard check`` does."""
    try:
        enabled = switched_on(os.environ.get(VARIABLE))
    except ValueError as exc:
        raise Fail(str(exc)) from None
    # Only Python environments have an interpreter to audit (tox-docker and the like do not).
    if not enabled or not tox_env.conf[SETTING] or not isinstance(tox_env, Python):
        return
    command = check_command(str(tox_env.env_python()))
    _LOGGER.warning("pipguard> %s", shlex.join(command))
    env = dict(os.environ)
    if getattr(tox_env.options, "is_colored", False) and "NO_COLOR" not in env:
        env.setdefault("FORCE_COLOR", "1")
    try:
        # -m puts its working directory first on sys.path: run beside this pipguard, not in
        # the project, whose own top-level modules could shadow pipguard's or rich's.
        done = subprocess.run(command, capture_output=True, env=env, cwd=_HERE, check=False)
    except OSError as exc:
        raise Fail(f"pipguard check could not start: {exc}") from None
    # Through tox's handler, so parallel runs (-p) keep each environment's output together.
    tox_env.log_handler.write_out_err((done.stdout, done.stderr))
    if done.returncode != 0:
        raise Fail(
            f"pipguard check exited with code {done.returncode} "
            f"(to turn it off: {SETTING} = false, or {VARIABLE}=0)"
        )
