"""A venv for the benchmarks that holds its own pip and pipguard, as a user's venv would.

The test suite's venvs see the test run's pip and pipguard through PYTHONPATH; in a benchmark
that would make ``check`` (and ``pip check``) read the outer environment as one more layer.
So the benchmark venv gets copies of the running interpreter's pip and of pipguard's other
requirements (file for file, by their RECORDs: as pip left them) and a wheel of the working
tree's pipguard, installed by that pip. Every command then runs with PYTHONPATH unset.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from wheels import Venv

PROJECT = Path(__file__).resolve().parent.parent


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every timed command runs with: no PYTHONPATH, no index, no colour."""
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    env.pop("FORCE_COLOR", None)
    env.update(extra or {})
    return env


def _requirements_of(name: str) -> list[str]:
    """The distributions ``name`` needs here (markers evaluated, no extras), ``name`` first."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, None] = {}
    todo = [name]
    while todo:
        current = canonicalize_name(todo.pop())
        if current in found:
            continue
        found[current] = None
        for raw in metadata.requires(current) or []:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found)


def _copy_distribution(name: str, venv: Venv) -> None:
    """Copy one installed distribution into ``venv`` file for file, as its RECORD lists it."""
    dist = metadata.distribution(name)
    for item in dist.files or []:
        source = Path(str(dist.locate_file(item)))
        target = Path(os.path.normpath(venv.site / item))
        if not source.is_file() or not target.is_relative_to(venv.root):
            continue  # a RECORD row pip lists but never wrote (a .pyc), or outside the venv
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)  # the mtime too: the copied bytecode stays valid


def _project_name() -> str:
    """The distribution name the working tree builds (pyproject's ``[project] name``)."""
    text = (PROJECT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^\[project\]\n(?:[^\[].*\n)*?name = "([^"]+)"', text, re.MULTILINE)
    if found is None:
        sys.exit(f"{PROJECT / 'pyproject.toml'}: no [project] name")
    return found.group(1)


def make_venv(root: Path) -> Venv:
    """Make a venv at ``root`` with pip, pipguard's requirements and the working tree's pipguard."""
    venv = Venv(root)
    for name in _requirements_of(_project_name())[1:]:
        _copy_distribution(name, venv)
    with tempfile.TemporaryDirectory(prefix="pipguard-wheel-") as wheels:
        built = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "-w",
                wheels,
                str(PROJECT),
            ],
            env=clean_env(),
            check=False,
            capture_output=True,
            text=True,
        )
        if built.returncode != 0:
            sys.exit(f"building pipguard's wheel failed:\n{built.stderr}")
        (wheel,) = Path(wheels).glob("*.whl")
        subprocess.run(
            [venv.python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
            check=True,
            env=clean_env(),
        )
    return venv
