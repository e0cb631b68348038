"""A project's own choices: ``[tool.pipguard]`` in its ``pyproject.toml``.

    [tool.pipguard]
    winners = ["PyJWT"]
    on-conflict = "prevent"
    allow-startup = ["my-plugin-loader"]

Read by install and check (and so by the pre-commit hook, which runs in the repository) from
the current directory's ``pyproject.toml``, or the file ``--config`` names; environment
variables override it, flags override both. Parsed with the standard library's ``tomllib``
(``tomli`` on Python 3.9 and 3.10), never by hand.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

from pipguard.environment import canonical_name

__all__ = ["Config", "ConfigError", "load_config"]

_POLICIES = ("prevent", "warn", "ignore")
_KEYS = ("winners", "on-conflict", "allow-startup")


class ConfigError(Exception):
    """The configuration file cannot be used: the message names the file and the key."""


class Config(NamedTuple):
    """What ``[tool.pipguard]`` chose (empty where it chose nothing)."""

    source: str | None = None  # the file read, None when there was none
    winners: frozenset[str] = frozenset()
    on_conflict: str | None = None
    allow_startup: frozenset[str] = frozenset()


def _names(table: Mapping[str, Any], key: str, source: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{source}: [tool.pipguard] {key}: must be a list of distribution names")
    return frozenset(canonical_name(v) for v in value)


def parse_config(text: str, source: str) -> Config:
    """Read ``[tool.pipguard]`` of a pyproject.toml's text; ``source`` names it in errors."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.9 and 3.10
        import tomli as tomllib
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    tool = document.get("tool", {})
    table = tool.get("pipguard", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.pipguard] must be a table")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: [tool.pipguard] {unknown[0]}: unknown key (known: {', '.join(_KEYS)})"
        )
    policy = table.get("on-conflict")
    if policy is not None and policy not in _POLICIES:
        raise ConfigError(
            f"{source}: [tool.pipguard] on-conflict: {policy!r} is not one of "
            + ", ".join(_POLICIES)
        )
    return Config(
        source,
        _names(table, "winners", source),
        policy,
        _names(table, "allow-startup", source),
    )


def load_config(explicit: str | None, cwd: str) -> Config:
    """Read the ``--config`` file, or the current directory's pyproject.toml if there is one."""
    path = explicit or os.path.join(cwd, "pyproject.toml")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{explicit}: no such file") from None
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8") from None
    return parse_config(text, path)
