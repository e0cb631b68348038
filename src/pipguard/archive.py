"""Running from the .pyz: which archive this is, and how to run it again under another Python.

The archive's ``__main__.py`` calls :func:`run_archive`. Everything here stays importable by
older Pythons than the archive supports, so that they are told so in one line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

__all__ = [
    "MANIFEST",
    "probe_command",
    "read_manifest",
    "require_python",
    "run_archive",
    "running_archive",
    "script_command",
    "self_command",
]

# What the builder writes of the archive into it: its Python range and what it bundles.
MANIFEST = "pipguard/_pyz.json"


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def running_archive() -> str | None:
    """Return the path of the .pyz this pipguard runs from, or None when it is installed."""
    import pipguard

    archive = getattr(pipguard.__spec__.loader if pipguard.__spec__ else None, "archive", None)
    if not isinstance(archive, str):
        return None
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zipped:
            zipped.getinfo("__main__.py")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None  # a zip on sys.path that cannot be run: not ours to re-run
    return archive


def self_command(python: str) -> list[str]:
    """Return the command that runs this very pipguard under ``python`` (append its arguments).

    From an archive it is the archive, so ``python`` needs no pipguard of its own.
    """
    archive = running_archive()
    return [python, archive] if archive else [python, "-m", "pipguard"]


def probe_command(python: str) -> list[str]:
    """Return a command that prints ``python``'s ``sys.prefix`` if ``self_command`` can run there.

    Installed, pipguard must be importable by ``python``. From an archive, pipguard is imported
    from the archive, and the archive's Python range is checked (exit 2 and one line on stderr
    if ``python`` is outside it).
    """
    archive = running_archive()
    if archive is None:
        return [python, "-c", "import sys, pipguard; print(sys.prefix)"]
    code = (
        f"import sys; sys.path.insert(0, {archive!r}); "
        "from pipguard.archive import require_python; require_python(); print(sys.prefix)"
    )
    return [python, "-c", code]


def script_command(python: str, module: ModuleType) -> list[str]:
    """Return a command that runs ``module``'s file as a script under ``python``.

    Inside an archive the file has no path of its own: its source goes on the command line,
    and the file's directory takes the working directory's place first on ``sys.path``, as
    running the file would put it.
    """
    origin = module.__file__ or ""
    if os.path.isfile(origin):
        return [python, origin]
    source = module.__loader__.get_source(module.__name__)  # type: ignore[union-attr]
    here = os.path.dirname(origin)
    code = (
        f"import sys\nif sys.path[:1] == ['']: sys.path[0] = {here!r}\n"
        f"exec(compile({source!r}, {origin!r}, 'exec'), {{'__name__': '__main__'}})"
    )
    return [python, "-c", code]


def read_manifest() -> dict[str, Any]:
    """Return what the running archive's builder wrote of it (``pipguard/_pyz.json``)."""
    import pkgutil

    data = pkgutil.get_data("pipguard", MANIFEST.split("/", 1)[1])
    if data is None:  # only a loader without get_data says None; zipimport raises
        raise OSError(f"{running_archive()}: no {MANIFEST} in it")
    manifest: dict[str, Any] = json.loads(data)
    return manifest


def require_python() -> None:
    """Exit with one line on stderr if this interpreter is outside the archive's Python range."""
    manifest = read_manifest()
    low, high = manifest["python"]["min"], manifest["python"]["max"]
    here = sys.version_info[:2]
    if _minor(low) <= here and (high is None or here <= _minor(high)):
        return
    span = f"{low} and newer" if high is None else f"{low} to {high}"
    hints = "".join(f"; built without {left['requirement']}" for left in manifest["left_out"])
    sys.stderr.write(
        f"pipguard: error: {running_archive()} runs on Python {span}; "
        f"{sys.executable} is {'.'.join(map(str, sys.version_info[:3]))}{hints}\n"
    )
    sys.exit(2)


def _require_pip(argv: Sequence[str]) -> None:
    """Exit with one line if the command needs pip and this interpreter has none."""
    import importlib.util

    from pipguard.cli import OWN_COMMANDS, PIP_COMMANDS

    first = next((arg for arg in argv if arg in OWN_COMMANDS or arg in PIP_COMMANDS), None)
    if first in (None, "check", "owner", "zipapp") or importlib.util.find_spec("pip"):
        return
    sys.stderr.write(
        f"pipguard: error: {sys.executable} has no pip, and the archive uses the pip of the "
        "interpreter that runs it (python -m ensurepip installs one)\n"
    )
    sys.exit(2)


def run_archive() -> NoReturn:
    """Run the command line from the archive (its ``__main__.py``) and exit with its code."""
    require_python()
    _require_pip(sys.argv[1:])
    from pipguard.cli import main

    try:
        code = main(prog=f"python {os.path.basename(sys.argv[0])}")
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
