"""Entry points: the console and GUI scripts a distribution declares in ``entry_points.txt``."""

from __future__ import annotations

import configparser

__all__ = ["EntryPointError", "entry_points", "script_specs", "specs"]


class EntryPointError(Exception):
    """An ``entry_points.txt`` that cannot be read; the message names it."""


def specs(console: dict[str, str], gui: dict[str, str]) -> dict[str, str]:
    """Return script name -> ``group:module:attr``, spaces dropped (pip ignores them)."""
    found = {name: f"console_scripts:{spec}" for name, spec in console.items()}
    found.update((name, f"gui_scripts:{spec}") for name, spec in gui.items())
    return {name: spec.replace(" ", "") for name, spec in found.items()}


def script_specs(text: str, source: str) -> dict[str, str]:
    """Return script name -> ``group:module:attr`` from an ``entry_points.txt``'s text."""
    return specs(*entry_points(text, source))


def entry_points(text: str, source: str) -> tuple[dict[str, str], dict[str, str]]:
    """Return the (console_scripts, gui_scripts) mappings of an ``entry_points.txt``'s text."""
    # As lenient as pip: duplicates allowed; lines before any section belong to no group.
    if "[" not in text:
        return {}, {}  # no section at all (most wheels have no entry_points.txt)
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the script's case
    try:
        parser.read_string(text, source=source)
    except configparser.MissingSectionHeaderError:
        return {}, {}
    except configparser.Error as exc:
        raise EntryPointError(f"{source}: not a valid entry_points.txt: {exc.message}") from None
    groups = []
    for group in ("console_scripts", "gui_scripts"):
        groups.append(dict(parser.items(group)) if parser.has_section(group) else {})
    return groups[0], groups[1]
