"""Decisions that stick: a --winner recorded in the environment, and [tool.pipguard]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wheels import Venv, build_wheel

pytestmark = pytest.mark.integration


@pytest.fixture
def pair(wheel_dir: Path) -> tuple[Path, Path]:
    jwt = build_wheel(wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": "WHO = 'jwt'\n"})
    pyjwt = build_wheel(
        wheel_dir, "PyJWT", "2.9.0", {"jwt/__init__.py": "WHO = 'pyjwt'\n", "jwt/api.py": ""}
    )
    return jwt, pyjwt


def check(venv: Venv, cwd: Path | None = None, *args: str) -> tuple[int, dict[str, object]]:
    done = venv.pipguard("check", "--format", "json", *args, cwd=cwd)
    return done.returncode, json.loads(done.stdout)


def test_a_winner_chosen_once_stays_chosen(
    venv_: Venv, pair: tuple[Path, Path], wheel_dir: Path
) -> None:
    jwt, pyjwt = pair
    done = venv_.pipguard("install", "--no-deps", "--winner", "PyJWT", str(jwt), str(pyjwt))
    assert done.returncode == 0, done.stderr
    code, doc = check(venv_)
    assert code == 0, doc
    (clash,) = doc["conflicts"]  # type: ignore[misc]
    assert (clash["kind"], clash["winner"], clash["chosen"]) == ("differing", "pyjwt", "pyjwt")
    table = " ".join(venv_.pipguard("check").stdout.split())
    assert "pyjwt 2.9.0 (on disk, chosen)" in table
    assert "no action needed" in table
    # Plain pip writes the loser's copy back: the choice no longer holds, check says so.
    venv_.pip_install(jwt, extra=["--force-reinstall"])
    code, doc = check(venv_)
    assert code == 1
    table = " ".join(venv_.pipguard("check").stdout.split())
    assert "pipguard repair pyjwt" in table
    repaired = venv_.pipguard("repair", "--find-links", str(wheel_dir), "pyjwt")
    assert repaired.returncode == 0, repaired.stderr
    assert check(venv_)[0] == 0
    # The choice lives in the winner's metadata, listed by its RECORD: it goes away with it.
    (info,) = venv_.site.glob("PyJWT-2.9.0.dist-info")
    assert "pipguard.json" in (info / "RECORD").read_text()
    assert venv_.pipguard("check", "--verify").returncode == 0
    gone = venv_.pipguard("uninstall", "-y", "--on-conflict", "warn", "pyjwt")
    assert gone.returncode == 0, gone.stderr
    assert not info.exists()


def test_project_winners_in_pyproject(venv_: Venv, pair: tuple[Path, Path], tmp_path: Path) -> None:
    jwt, pyjwt = pair
    venv_.pip_install(jwt)
    venv_.pip_install(pyjwt)  # plain pip: PyJWT's copy on disk, no choice recorded
    project = tmp_path / "project"
    project.mkdir()
    assert check(venv_, project)[0] == 1
    (project / "pyproject.toml").write_text('[tool.pipguard]\nwinners = ["PyJWT"]\n')
    code, doc = check(venv_, project)
    assert code == 0, doc
    assert doc["conflicts"][0]["chosen"] == "pyjwt"  # type: ignore[index]
    # install reads it too: jwt over PyJWT is no longer stopped, and PyJWT's copy stays.
    done = venv_.pipguard("install", "--no-deps", "--force-reinstall", str(jwt), cwd=project)
    assert done.returncode == 0, done.stderr
    assert "WHO = 'pyjwt'" in (venv_.site / "jwt" / "__init__.py").read_text()


def test_precedence_config_then_environment_then_flags(
    venv_: Venv, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    jwt, pyjwt = pair
    venv_.pip_install(jwt)
    (tmp_path / "pyproject.toml").write_text('[tool.pipguard]\non-conflict = "warn"\n')
    env = {"PIPGUARD_ON_CONFLICT": "prevent"}
    stopped = venv_.pipguard("install", "--no-deps", str(pyjwt), cwd=tmp_path, env=env)
    assert stopped.returncode == 1, stopped.stderr
    flagged = venv_.pipguard(
        "install", "--no-deps", "--on-conflict", "warn", str(pyjwt), cwd=tmp_path, env=env
    )
    assert flagged.returncode == 0, flagged.stderr
    other = tmp_path / "other.toml"
    other.write_text('[tool.pipguard]\non-conflict = "ignore"\n')
    quiet = venv_.pipguard(
        "install", "--no-deps", "--force-reinstall", "--config", str(other), str(jwt)
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "pipguard" not in quiet.stderr


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[tool.pipguard]\nwinners = "PyJWT"\n', "[tool.pipguard] winners: must be a list"),
        ('[tool.pipguard]\nwiners = ["x"]\n', "[tool.pipguard] winers: unknown key"),
        ('[tool.pipguard]\non-conflict = "maybe"\n', "[tool.pipguard] on-conflict: 'maybe'"),
        ("[tool.pipguard\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_line_naming_file_and_key(
    venv_: Venv, tmp_path: Path, text: str, said: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    for command in (["check"], ["install", "anything"]):
        done = venv_.pipguard(*command, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert str(tmp_path / "pyproject.toml") in line
        assert said in line
        assert "Traceback" not in done.stderr
