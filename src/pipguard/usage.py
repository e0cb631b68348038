"""What pipguard says about itself: its version line, its commands' help and pip's, and the
nearest command to a mistyped one.

pip's side is asked of pip itself (its ``help`` output, through pipbridge), never copied: the
list follows the pip that runs.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import sys
from collections.abc import Sequence

from pipguard import __version__
from pipguard.render import one_line

__all__ = [
    "HELP_FLAGS",
    "OWN_SUMMARIES",
    "REPLACED",
    "WRAPPED",
    "command_word",
    "general_help",
    "parse_pip_commands",
    "pip_commands",
    "pip_says",
    "say_pip",
    "suggestion",
    "unknown_command",
    "version_line",
    "wrapped_help",
]

# pipguard's commands, one line each: ``pipguard help`` and argparse's list share them.
OWN_SUMMARIES = {
    "check": "audit an environment for clobbered files and unmet requirements",
    "owner": "which installed distributions own a file or an import name",
    "install": "pip install, stopped before two distributions write one file",
    "uninstall": "pip uninstall that keeps the files other distributions still list",
    "repair": "reinstall a distribution's own files at its installed version",
    "zipapp": "write pipguard and its dependencies (not pip) into one .pyz file",
    "help": "show this help, or one command's (pipguard help COMMAND)",
}
# pip's commands that pipguard's own stand in for: not listed again among pip's.
REPLACED = frozenset({"install", "uninstall", "check", "help"})
# Used when pip's help cannot be read: the commands of pip 23.2 to 26.3 that pass through.
_FALLBACK = (
    *("download", "lock", "freeze", "inspect", "list", "show", "config", "search"),
    *("cache", "index", "wheel", "hash", "completion", "debug"),
)

_COMMAND_LINE = re.compile(r"^  (\S+)\s+(.*)$")
# pip's global options that take a value: the word after one is not a command.
_PIP_VALUE_OPTIONS = frozenset(
    {
        "--python",
        "--log",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--cache-dir",
        "--use-feature",
        "--use-deprecated",
        "--keyring-provider",
        "--resume-retries",
    }
)
HELP_FLAGS = ("-h", "--help")
# The commands that wrap pip's: their help is pipguard's options, then pip's help of this one.
WRAPPED = {"install": "install", "uninstall": "uninstall", "repair": "install"}


def version_line() -> str:
    """Return ``pipguard X (pip Y, Python Z)``: what ``-V`` and ``--version`` print."""
    try:
        import pip  # pip's __init__ only: its version, none of pip._internal

        pip_version = str(pip.__version__)
    except ImportError:
        pip_version = "not installed"
    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"pipguard {__version__} (pip {pip_version}, Python {python})"


def pip_says(args: Sequence[str]) -> tuple[int, str]:
    """Run a pip command in-process that only prints (its help); return its code and stdout."""
    from pipguard.install import pipbridge

    buffer = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buffer):
        try:
            code = pipbridge.run_pip(list(args))
        except SystemExit as exc:  # pip's help exits through optparse
            code = exc.code if isinstance(exc.code, int) else 0
    return code, buffer.getvalue()


def parse_pip_commands(text: str) -> list[tuple[str, str]]:
    """Return (name, summary) of each command in the ``Commands:`` section of pip's help.

    pip wraps a long summary at the terminal's width, its rest starting at column 0.
    """
    found: list[tuple[str, str]] = []
    lines = text.splitlines()
    if "Commands:" not in lines:
        return found
    for line in lines[lines.index("Commands:") + 1 :]:
        if not line.strip():
            break
        match = _COMMAND_LINE.match(line)
        if match:
            found.append((match.group(1), match.group(2).strip()))
        elif found:
            name, summary = found[-1]
            found[-1] = (name, f"{summary} {line.strip()}")
    return found


def pip_commands() -> list[tuple[str, str]]:
    """Return pip's commands that pass through pipguard unchanged, with pip's summaries."""
    _, text = pip_says(["help"])
    found = parse_pip_commands(text)
    if not found:
        return [(name, "") for name in _FALLBACK]
    return [(name, summary) for name, summary in found if name not in REPLACED]


def _lines(commands: Sequence[tuple[str, str]]) -> list[str]:
    width = max(len(name) for name, _ in commands) + 2
    return [f"  {name:<{width}}{summary}".rstrip() for name, summary in commands]


def general_help(prog: str) -> str:
    """Return ``pipguard help``: pipguard's commands one line each, then pip's, then options."""
    own = list(OWN_SUMMARIES.items())
    return "\n".join(
        [
            f"usage: {prog} COMMAND [options]",
            "",
            "Find files that two distributions write, and stop pip from clobbering them.",
            "",
            "pipguard's commands:",
            *_lines(own),
            "",
            "pip's commands, passed through to pip unchanged:",
            *_lines(pip_commands()),
            "",
            "options:",
            *_lines(
                [
                    ("-h, --help", "show this help"),
                    ("-V, --version", "show pipguard's version and the pip and Python it runs"),
                ]
            ),
            "",
            f"{prog} help COMMAND, or {prog} COMMAND --help, shows one command's help.",
            "",
        ]
    )


def suggestion(word: str, known: Sequence[str]) -> str | None:
    """Return the command nearest to a mistyped ``word`` (difflib's measure), or None."""
    nearest = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return nearest[0] if nearest else None


def command_word(args: Sequence[str]) -> str | None:
    """Return the word that stands where a command would, past pip's global options."""
    items = iter(args)
    for arg in items:
        if arg in _PIP_VALUE_OPTIONS:
            next(items, None)
        elif not arg.startswith("-"):
            return arg
    return None


def say_pip(args: Sequence[str]) -> int:
    """Print what pip prints for ``args`` (its help) on stdout; return pip's code."""
    code, text = pip_says(args)
    sys.stdout.write(text)
    return code


def wrapped_help(command: str) -> int:
    """Print the help of a command that wraps pip's: pipguard's options, then pip's help."""
    from pipguard.install.options import HELP, REPAIR_HELP, UNINSTALL_HELP

    own = {"install": HELP, "uninstall": UNINSTALL_HELP, "repair": REPAIR_HELP}[command]
    pip_command = WRAPPED[command]
    sys.stdout.write(f"{own}\npip {pip_command}'s own help follows; its options pass through.\n")
    return say_pip([pip_command, "--help"])


def unknown_command(word: str, prog: str = "pipguard") -> int:
    """Say that ``word`` is no command, suggesting the nearest of pipguard's and pip's."""
    known = [*OWN_SUMMARIES, *(name for name, _ in pip_commands())]
    nearest = suggestion(word, known)
    maybe = f' - maybe you meant "{nearest}"' if nearest else ""
    print(
        f'pipguard: error: unknown command "{one_line(word)}"{maybe} '
        f"({prog} help lists every command)",
        file=sys.stderr,
    )
    return 2  # usage error
