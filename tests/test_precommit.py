"""The pre-commit hook as a repository uses it: the real pre-commit, ``repo: local``, and a
wheel of this project as the hook's additional dependency.

pre-commit is installed from the package registry into a venv of its own, once per test run;
the hook's environment is built by pre-commit itself (with pip, from the wheel built here and
the registry for pipguard's dependencies), and is shared by the tests through PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import NamedTuple

import pytest

from wheels import Venv, build_wheel

pytestmark = [
    pytest.mark.integration,
    # The real tool comes from the package registry and tests no pip version: tox runs it in
    # one environment (pip26), not in each of the matrix.
    pytest.mark.skipif(
        bool(os.environ.get("PIPGUARD_SKIP_TOOL_TESTS")),
        reason="the real tox and pre-commit are tested in the pip26 environment",
    ),
]

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
repos:
  - repo: local
    hooks:
      - id: pipguard-check
        name: pipguard check
        entry: pipguard check --project
        language: python
        additional_dependencies: ["pipguard @ {wheel}"]
        pass_filenames: false
        always_run: true
"""


class PreCommit(NamedTuple):
    """The real pre-commit, its hook cache, and the wheel of this project the hook installs."""

    exe: Path
    home: Path
    wheel: Path


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment pre-commit runs in: none of the test run's PYTHONPATH, so the hook's
    pipguard is the wheel's, not this checkout's."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "NO_COLOR": "1", **extra})
    return env


@pytest.fixture(scope="session")
def pre_commit(tmp_path_factory: pytest.TempPathFactory) -> PreCommit:
    """pre-commit in a venv of its own, and a wheel of this project built here."""
    base = tmp_path_factory.mktemp("pre-commit")
    tool = base / "tool"
    venv.EnvBuilder(with_pip=True).create(tool)
    bindir = tool / ("Scripts" if os.name == "nt" else "bin")
    installed = subprocess.run(
        [str(bindir / "python"), "-m", "pip", "install", "-q", "pre-commit"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
    )
    if installed.returncode != 0:
        pytest.skip(f"pre-commit could not be installed: {installed.stderr.strip()[-300:]}")
    wheels = base / "dist"
    command = ["wheel", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(wheels)]
    built = subprocess.run(
        [sys.executable, "-m", "pip", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("pipguard-*.whl")
    return PreCommit(bindir / "pre-commit", base / "home", wheel)


def project(root: Path, pre_commit: PreCommit) -> Path:
    """A git repository whose .pre-commit-config.yaml runs pipguard's hook."""
    root.mkdir()
    (root / ".pre-commit-config.yaml").write_text(CONFIG.format(wheel=pre_commit.wheel.as_uri()))
    (root / "app.py").write_text("print('hello')\n")
    for command in (["init", "-q"], ["add", "."]):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    return root


def run_hook(root: Path, pre_commit: PreCommit) -> subprocess.CompletedProcess[str]:
    env = _clean_env(
        PRE_COMMIT_HOME=str(pre_commit.home), PIP_FIND_LINKS=str(pre_commit.wheel.parent)
    )
    return subprocess.run(
        [str(pre_commit.exe), "run", "--all-files", "--color", "never"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_hook_passes_on_a_clean_project(tmp_path: Path, pre_commit: PreCommit) -> None:
    root = project(tmp_path / "clean", pre_commit)
    Venv(root / ".venv")
    done = run_hook(root, pre_commit)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pipguard check" in done.stdout
    assert "Passed" in done.stdout


def test_hook_fails_on_a_project_whose_venv_clashes(
    tmp_path: Path, pre_commit: PreCommit, wheel_dir: Path
) -> None:
    root = project(tmp_path / "clashing", pre_commit)
    jwt = build_wheel(wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": "# jwt\n"})
    pyjwt = build_wheel(wheel_dir, "PyJWT", "2.9.0", {"jwt/__init__.py": "# PyJWT\n"})
    environment = Venv(root / ".venv")
    environment.pip_install(jwt)
    environment.pip_install(pyjwt)
    done = run_hook(root, pre_commit)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "jwt/__init__.py" in done.stdout
    assert "1 differing clash" in done.stdout
