"""The tox plugin, run by the real tox (installed from the package registry) on tiny projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from collections.abc import Mapping
from pathlib import Path

import pytest

from wheels import build_wheel

pytestmark = [
    pytest.mark.integration,
    # The real tool comes from the package registry and tests no pip version: tox runs it in
    # one environment (pip26), not in each of the matrix.
    pytest.mark.skipif(
        bool(os.environ.get("PIPGUARD_SKIP_TOOL_TESTS")),
        reason="the real tox and pre-commit are tested in the pip26 environment",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
BIN = "Scripts" if os.name == "nt" else "bin"


def _clean_environ() -> dict[str, str]:
    """This process's environment without what an outer tox or venv set (the suite runs in tox)."""
    outer_bin = os.path.join(os.environ.get("VIRTUAL_ENV", "\0"), BIN)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(("TOX_", "__TOX", "PIP_", "VIRTUALENV_", "PYTHON"))
        and key.upper() not in {"VIRTUAL_ENV", "FORCE_COLOR", "PIPGUARD_TOX"}
    }
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if entry != outer_bin
    )
    return env


@pytest.fixture(scope="session")
def tox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the real tox and pipguard (from this checkout): its tox executable."""
    base = tmp_path_factory.mktemp("tox-venv")
    # A copy of the sources: building in the checkout would write build/ and egg-info there.
    source = base / "pipguard-src"
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    root = base / "venv"
    venv.EnvBuilder(with_pip=True).create(root)
    done = subprocess.run(
        [str(root / BIN / "python"), "-m", "pip", "install", "-q", "tox>=4.11", str(source)],
        capture_output=True,
        text=True,
        env={**_clean_environ(), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root / BIN / "tox"


def run_tox(
    tox: Path, project: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``tox`` in ``project`` offline, as a user would, with both streams in ``stdout``."""
    full_env = {
        **_clean_environ(),
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "NO_COLOR": "1",
        "COLUMNS": "80",
        **(env or {}),
    }
    return subprocess.run(
        [str(tox)],
        cwd=project,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def write_project(directory: Path, envs: Mapping[str, tuple[list[Path], bool]]) -> Path:
    """Write a tox.ini whose environments install local wheels; ``(wheels, pipguard_check)``."""
    directory.mkdir()
    sections = [f"[tox]\nenv_list = {', '.join(envs)}\n"]
    for name, (wheels, enabled) in envs.items():
        deps = "\n    ".join(str(wheel) for wheel in wheels)
        setting = "" if enabled else "pipguard_check = false\n"
        sections.append(
            f"[testenv:{name}]\nskip_install = true\ndeps =\n    {deps}\n{setting}"
            f"commands = python -c \"print('commands of {name} ran')\"\n"
        )
    (directory / "tox.ini").write_text("\n".join(sections))
    return directory


def test_a_clashing_environment_fails_naming_the_file(tox: Path, tmp_path: Path) -> None:
    a = build_wheel(tmp_path / "wheels", "jwt", "1.3.1", {"jwt/__init__.py": "A = 1\n"})
    b = build_wheel(tmp_path / "wheels", "PyJWT", "2.9.0", {"jwt/__init__.py": "B = 2\n"})
    project = write_project(tmp_path / "project", {"clash": ([a, b], True), "off": ([a, b], False)})

    done = run_tox(tox, project)

    assert done.returncode != 0, done.stdout
    assert "clash: pipguard> " in done.stdout
    assert "jwt/__init__.py" in done.stdout
    assert "differing" in done.stdout
    assert "clash: failed with pipguard check exited with code 1" in done.stdout
    assert "commands of clash ran" not in done.stdout
    # pipguard_check = false: the same clash, no check, the commands run.
    assert "off: pipguard> " not in done.stdout
    assert "commands of off ran" in done.stdout
    assert "off: OK" in done.stdout

    # PIPGUARD_TOX=0 turns it off for the whole run.
    again = run_tox(tox, project, {"PIPGUARD_TOX": "0"})

    assert again.returncode == 0, again.stdout
    assert "pipguard> " not in again.stdout
    assert "commands of clash ran" in again.stdout


def test_a_clean_environment_passes(tox: Path, tmp_path: Path) -> None:
    a = build_wheel(tmp_path / "wheels", "jwt", "1.3.1", {"jwt/__init__.py": "A = 1\n"})
    b = build_wheel(tmp_path / "wheels", "serial", "0.0.97", {"serial/__init__.py": "S = 1\n"})
    project = write_project(tmp_path / "project", {"clean": ([a, b], True)})
    # The project's own top-level modules must not shadow the pipguard that checks it.
    (project / "pipguard").mkdir()
    (project / "pipguard" / "__init__.py").write_text("raise SystemExit('shadowed')\n")

    done = run_tox(tox, project)

    assert done.returncode == 0, done.stdout
    assert "clean: pipguard> " in done.stdout
    assert "0 differing clashes" in done.stdout
    assert "commands of clean ran" in done.stdout

    # A value that is neither on nor off fails the run rather than turning the check off.
    bad = run_tox(tox, project, {"PIPGUARD_TOX": "nope"})

    assert bad.returncode != 0, bad.stdout
    assert "PIPGUARD_TOX='nope'" in bad.stdout
    assert "commands of clean ran" not in bad.stdout
