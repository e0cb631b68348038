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
    assert "--winner pyjwt: 1 of 1 contested file holds pyjwt's copy (over jwt)" in done.stderr
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


def both_installed(venv: Venv, pair: tuple[Path, Path]) -> None:
    jwt, pyjwt = pair
    venv.pip_install(jwt)
    venv.pip_install(pyjwt)  # plain pip: pyjwt's jwt/__init__.py overwrote jwt's


def test_uninstall_refused_with_nothing_removed(venv_: Venv, pair: tuple[Path, Path]) -> None:
    both_installed(venv_, pair)
    before = sorted(p.name for p in venv_.site.rglob("*"))
    done = venv_.pipguard("uninstall", "-y", "jwt")
    assert done.returncode == 1
    assert "nothing was removed" in done.stderr
    assert "still listed by pyjwt" in done.stderr
    assert sorted(p.name for p in venv_.site.rglob("*")) == before
    assert who(venv_) == "pyjwt"


def test_uninstall_warn_keeps_shared_files(venv_: Venv, pair: tuple[Path, Path]) -> None:
    both_installed(venv_, pair)
    done = venv_.pipguard("uninstall", "-y", "--on-conflict", "warn", "jwt")
    assert done.returncode == 0, done.stderr
    assert "jwt-1.3.1.dist-info" not in dist_infos(venv_)
    assert not (venv_.site / "jwt" / "jwk.py").exists()  # jwt's own file: gone
    assert who(venv_) == "pyjwt"  # the shared file: kept for PyJWT
    assert "kept 1 shared file that pyjwt still lists; each holds its copy" in done.stderr


def test_clean_uninstall_matches_pip(tmp_path: Path, wheel_dir: Path) -> None:
    wheel = build_wheel(
        wheel_dir,
        "alone",
        "1.0",
        {"alone/__init__.py": "", "alone/m.py": ""},
        console_scripts={"alone": "alone:main"},
    )
    trees = []
    for tool in ("pip", "pipguard"):
        venv = Venv(tmp_path / tool)
        venv.pip_install(wheel)
        done = venv.run("-m", tool, "uninstall", "-y", "alone")
        assert done.returncode == 0, done.stderr
        assert "Successfully uninstalled alone-1.0" in done.stdout
        trees.append(sorted(str(p.relative_to(venv.root)) for p in venv.root.rglob("*")))
    assert trees[0] == trees[1]


def test_repair_restores_a_clobbered_file(
    venv_: Venv, pair: tuple[Path, Path], wheel_dir: Path
) -> None:
    both_installed(venv_, pair)
    assert who(venv_) == "pyjwt"
    done = venv_.pipguard("repair", "jwt", "--no-index", "--find-links", str(wheel_dir))
    assert done.returncode == 0, done.stderr
    assert who(venv_) == "jwt"
    assert "1 file restored to jwt's copy" in done.stderr
    assert {"jwt-1.3.1.dist-info", "PyJWT-2.9.0.dist-info"} <= dist_infos(venv_)


def test_uninstall_never_writes_back_through_a_link_out(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.py").write_text("OUTSIDE = 1\n")
    before = (outside / "x.py").stat()
    (venv_.site / "lnk").symlink_to(outside)
    for name in ("sh-a", "sh-b"):
        info = venv_.site / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
        (info / "RECORD").write_text(f"lnk/x.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
    done = venv_.pipguard("uninstall", "-y", "--on-conflict", "warn", "sh-a")
    assert done.returncode == 0, done.stderr
    after = (outside / "x.py").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (outside / "x.py").read_text() == "OUTSIDE = 1\n"
    assert not list(outside.glob("*.pipguard-tmp"))


def test_uninstall_warns_when_another_owner_lists_nothing(
    venv_: Venv, pair: tuple[Path, Path]
) -> None:
    both_installed(venv_, pair)
    next(venv_.site.glob("PyJWT-*.dist-info")).joinpath("RECORD").unlink()
    done = venv_.pipguard("uninstall", "-y", "jwt")
    assert done.returncode == 0, done.stderr
    assert "pyjwt lists no files (no readable RECORD)" in done.stderr


def test_uninstall_of_a_record_pip_cannot_read_is_one_line(
    venv_: Venv, pair: tuple[Path, Path]
) -> None:
    both_installed(venv_, pair)
    record = next(venv_.site.glob("jwt-*.dist-info")) / "RECORD"
    record.write_bytes(record.read_bytes() + b"\xff\xfe broken\n")
    before = sorted(p.name for p in venv_.site.rglob("*"))
    done = venv_.pipguard("uninstall", "-y", "--on-conflict", "warn", "jwt")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().endswith(
        "pip cannot read this RECORD to uninstall jwt; nothing was removed"
    )
    assert sorted(p.name for p in venv_.site.rglob("*")) == before
