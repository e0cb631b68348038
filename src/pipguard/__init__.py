"""pipguard: know every file a pip install writes; stop two distributions clobbering one file."""

from __future__ import annotations

from collections.abc import Sequence

__version__ = "0.1.0"
__all__ = ["__version__", "install"]


def install(args: Sequence[str], *, python: str | None = None) -> int:
    """Run ``pipguard install ARGS`` and make this process able to import what it installed.

    pip documents running it inside your own process as unsupported (and pip 26.3 blocks, then
    warns about, imports around an install), so the install runs in a child process of
    ``python`` (default: this interpreter). Then this process's import caches are invalidated:
    directories whose mtime did not move would otherwise keep hiding the new modules.
    Returns pipguard's exit code.
    """
    import importlib
    import subprocess
    import sys

    from pipguard.archive import self_command

    command = [*self_command(python or sys.executable), "install", *args]
    code = subprocess.run(command, check=False).returncode
    importlib.invalidate_caches()
    return code
