"""Deterministic winners (--winner), guarded uninstall, and repair, with real pip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wheels import Venv, build_wheel

pytestmark = pytest.mark.integration

JWT = "WHO = 'jwt'\n"
PYJWT = "WHO = 'pyjwt'\n"


@pytest.fixture
def pair(wheel_dir: Path) -> tuple[Path, Path]:
    jwt = build_wheel(wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": JWT, "jwt/jwk.py": "K=1\n"})
    pyjwt = build_wheel(
        wheel_dir,
        "PyJWT",
        "2.9.0",
        {"jwt/__init__.py": PYJWT, "jwt/api_jwt.py": "A=1\n"},
        console_scripts={"jwt": "jwt:main"},
    )
    return jwt, pyjwt


def who(venv: Venv) -> str:
    done = venv.run("-c", "import jwt; print(jwt.WHO)")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def dist_infos(venv: Venv) -> set[str]:
    return {p.name for p in venv.site.glob("*.dist-info")}


@pytest.mark.parametrize("order", ["winner-first", "winner-last"])
def test_winner_holds_in_one_transaction(venv_: Venv, pair: tuple[Path, Path], order: str) -> None:
    jwt, pyjwt = pair
    wheels = [pyjwt, jwt] if order == "winner-first" else [jwt, pyjwt]
    journal = venv_.root / "j.json"
    done = venv_.pipguard(
        "install", "--no-deps", "--winner", "PyJWT", "--journal", str(journal), *map(str, wheels)
    )
    assert done.returncode == 0, done.stderr
    assert who(venv_) == "pyjwt"
    assert {"jwt-1.3.1.dist-info", "PyJWT-2.9.0.dist-info"} <= dist_infos(venv_)
    assert "--winner pyjwt: 1 of 1 contested file hold pyjwt's copy (over jwt)" in done.stderr
    (conflict,) = json.loads(journal.read_text())["conflicts"]
    assert conflict["resolution"] == "winner"
    assert conflict["winner"] == "pyjwt"


def test_winner_installed_first_survives_a_later_loser(
    venv_: Venv, pair: tuple[Path, Path]
) -> None:
    jwt, pyjwt = pair
    assert venv_.pipguard("install", "--no-deps", str(pyjwt)).returncode == 0
    done = venv_.pipguard("install", "--no-deps", str(jwt), env={"PIPGUARD_WINNER": "pyjwt"})
    assert done.returncode == 0, done.stderr
    assert who(venv_) == "pyjwt"
    assert "jwt-1.3.1.dist-info" in dist_infos(venv_)
    # Both RECORDs stay as pip wrote them; check shows the clash with the winner's copy on disk.
    check = json.loads(venv_.pipguard("check", "--format", "json").stdout)
    (clash,) = check["conflicts"]
    assert clash["winner"] == "pyjwt"


def test_two_winners_that_clash_are_refused(venv_: Venv, pair: tuple[Path, Path]) -> None:
    done = venv_.pipguard(
        "install", "--no-deps", "--winner", "jwt", "--winner", "pyjwt", *map(str, pair)
    )
    assert done.returncode == 1
    assert "only one of them can win it" in done.stderr
    assert not (venv_.site / "jwt").exists()
