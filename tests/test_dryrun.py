"""``pipguard install --dry-run`` with real pip: the whole plan and every check, nothing written."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pip
import pytest

from wheels import Venv, build_wheel, tree_digest

pytestmark = pytest.mark.integration

PIP = tuple(int(part) for part in pip.__version__.split(".")[:2])


@pytest.fixture
def jwt_pair(wheel_dir: Path) -> tuple[Path, Path]:
    jwt = build_wheel(wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": "OLD = 1\n"})
    pyjwt = build_wheel(
        wheel_dir, "PyJWT", "2.9.0", {"jwt/__init__.py": "NEW = 2\n", "jwt/api.py": "x=1\n"}
    )
    return jwt, pyjwt


@pytest.fixture
def serial_pair(wheel_dir: Path) -> tuple[Path, Path]:
    serial = build_wheel(wheel_dir, "serial", "0.0.97", {"serial/__init__.py": "S = 1\n"})
    pyserial = build_wheel(wheel_dir, "pyserial", "3.5", {"serial/__init__.py": "P = 3\n"})
    return serial, pyserial


def would_install(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("Would install ")]


def assert_clean(stderr: str) -> None:
    for marker in ("Traceback", "Unsafe import", "Unexpected import", "Blocked import"):
        assert marker not in stderr, stderr


def test_a_clashing_set_is_stopped_and_journaled(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    journal = tmp_path / "j.json"
    before = tree_digest(venv_.root)
    done = venv_.pipguard(
        "install", "--no-deps", "--dry-run", "--journal", str(journal), *map(str, jwt_pair)
    )
    assert done.returncode == 1, done.stderr
    assert tree_digest(venv_.root) == before
    assert "jwt/__init__.py" in done.stderr
    assert "pyjwt 2.9.0 (incoming)" in done.stderr
    assert "--dry-run: this install would be stopped" in done.stderr
    assert would_install(done.stdout) == []
    assert_clean(done.stderr)
    doc = json.loads(journal.read_text())
    assert doc["outcome"] == "dry-run"
    assert (doc["installed"], doc["removed"], doc["partial"]) == ([], [], [])
    (conflict,) = doc["conflicts"]
    assert conflict["path"] == "jwt/__init__.py"
    assert conflict["kind"] == "differing"
    assert conflict["resolution"] == "prevented"
    assert {o["name"] for o in conflict["owners"]} == {"jwt", "pyjwt"}


def test_a_clean_set_says_what_pip_would_install(venv_: Venv, wheel_dir: Path) -> None:
    beta = build_wheel(wheel_dir, "Beta", "2.0", {"beta/__init__.py": ""})
    alpha = build_wheel(wheel_dir, "alpha", "1.0", {"alpha.py": ""})
    before = tree_digest(venv_.root)
    done = venv_.pipguard("install", "--no-deps", "--dry-run", str(beta), str(alpha))
    assert done.returncode == 0, done.stderr
    assert tree_digest(venv_.root) == before
    plain = venv_.run("-m", "pip", "install", "--no-deps", "--dry-run", str(beta), str(alpha))
    assert (
        would_install(done.stdout)
        == would_install(plain.stdout)
        == ["Would install Beta-2.0 alpha-1.0"]
    )
    assert_clean(done.stderr)


def test_a_clash_with_an_installed_distribution(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    jwt, pyjwt = jwt_pair
    venv_.pip_install(jwt)
    journal = tmp_path / "j.json"
    before = tree_digest(venv_.root)
    done = venv_.pipguard(
        "install", "--no-deps", "--dry-run", "--journal", str(journal), str(pyjwt)
    )
    assert done.returncode == 1, done.stderr
    assert tree_digest(venv_.root) == before
    assert "jwt 1.3.1 (installed)" in done.stderr
    assert (venv_.site / "jwt" / "__init__.py").read_text() == "OLD = 1\n"
    doc = json.loads(journal.read_text())
    assert doc["outcome"] == "dry-run"
    assert [c["path"] for c in doc["conflicts"]] == ["jwt/__init__.py"]
    # An upgrade over its own files is no clash, in a dry run as in an install.
    newer = build_wheel(tmp_path / "newer", "jwt", "1.4.0", {"jwt/__init__.py": "NEWER = 1\n"})
    again = venv_.pipguard(
        "install", "--no-deps", "--dry-run", "--journal", str(journal), str(newer)
    )
    assert again.returncode == 0, again.stderr
    assert would_install(again.stdout) == ["Would install jwt-1.4.0"]
    assert tree_digest(venv_.root) == before
    doc = json.loads(journal.read_text())
    assert (doc["outcome"], doc["conflicts"], doc["removed"]) == ("dry-run", [], [])


def test_ignore_installed_checks_the_set_against_itself(
    venv_: Venv, jwt_pair: tuple[Path, Path], serial_pair: tuple[Path, Path]
) -> None:
    jwt, pyjwt = jwt_pair
    venv_.pip_install(jwt)
    before = tree_digest(venv_.root)
    # Clashing only with what is installed: not a clash of the set.
    alone = venv_.pipguard("install", "--no-deps", "--dry-run", "--ignore-installed", str(pyjwt))
    assert alone.returncode == 0, alone.stderr
    assert would_install(alone.stdout) == ["Would install PyJWT-2.9.0"]
    assert "as in an empty environment" in alone.stderr
    # Clashing with itself: found, whatever is installed.
    both = venv_.pipguard(
        "install", "--no-deps", "--dry-run", "--ignore-installed", *map(str, serial_pair)
    )
    assert both.returncode == 1, both.stderr
    assert "serial/__init__.py" in both.stderr
    assert "pyserial 3.5 (incoming)" in both.stderr
    assert "jwt" not in both.stderr
    assert tree_digest(venv_.root) == before
    assert_clean(alone.stderr + both.stderr)


def test_journal_of_a_dry_run_under_warn(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    before = tree_digest(venv_.root)
    done = venv_.pipguard(
        "install", "--no-deps", "--dry-run", "--on-conflict", "warn", "--journal", "-",
        *map(str, jwt_pair),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert tree_digest(venv_.root) == before
    doc = json.loads(done.stdout)  # pip's own lines went to stderr
    assert doc["outcome"] == "dry-run"
    assert doc["installed"] == []
    (conflict,) = doc["conflicts"]
    assert (conflict["path"], conflict["resolution"]) == ("jwt/__init__.py", "overwritten")
    assert would_install(done.stderr) == ["Would install PyJWT-2.9.0 jwt-1.3.1"]
    assert "the install would go ahead (--on-conflict warn)" in done.stderr
    assert "jwt/__init__.py" in done.stderr


def test_a_local_sdist_is_built_as_pip_would_and_checked(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    venv_.pip_install(jwt_pair[0])
    root = tmp_path / "src" / "jwt_fork-0.5"
    (root / "jwt").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "jwt-fork"\nversion = "0.5"\n[tool.setuptools]\npackages = ["jwt"]\n'
    )
    (root / "jwt" / "__init__.py").write_text("FORK = 1\n")
    sdist = tmp_path / "jwt_fork-0.5.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(root, arcname="jwt_fork-0.5")
    before = tree_digest(venv_.root)
    done = venv_.pipguard(
        "install", "--no-deps", "--no-build-isolation", "--dry-run", "--journal", "-", str(sdist)
    )
    assert done.returncode == 1, done.stderr
    assert tree_digest(venv_.root) == before
    assert "jwt-fork 0.5 (incoming)" in done.stderr
    assert "jwt 1.3.1 (installed)" in done.stderr
    doc = json.loads(done.stdout)
    assert doc["outcome"] == "dry-run"
    assert [c["path"] for c in doc["conflicts"]] == ["jwt/__init__.py"]


def test_a_target_dry_run_plans_against_the_target(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    jwt, pyjwt = jwt_pair
    target = tmp_path / "target"
    venv_.pip_install(jwt, extra=["--target", str(target)])
    before, env_before = tree_digest(target), tree_digest(venv_.root)
    done = venv_.pipguard(
        "install", "--no-deps", "--dry-run", "--target", str(target), "--upgrade", str(pyjwt)
    )
    assert done.returncode == 1, done.stderr
    assert "jwt/__init__.py" in done.stderr
    assert (tree_digest(target), tree_digest(venv_.root)) == (before, env_before)
    fresh = tmp_path / "fresh"
    clean = venv_.pipguard("install", "--no-deps", "--dry-run", "--target", str(fresh), str(pyjwt))
    assert clean.returncode == 0, clean.stderr
    assert would_install(clean.stdout) == ["Would install PyJWT-2.9.0"]
    assert not fresh.exists()


@pytest.mark.skipif(PIP < (24, 0), reason="pip 23 refuses --python-version without --target")
def test_another_python_without_target_is_planned_as_an_empty_environment(
    venv_: Venv, jwt_pair: tuple[Path, Path], serial_pair: tuple[Path, Path]
) -> None:
    jwt, pyjwt = jwt_pair
    venv_.pip_install(jwt)
    before = tree_digest(venv_.root)
    other = ("install", "--no-deps", "--dry-run", "--python-version", "3.13")
    alone = venv_.pipguard(*other, str(pyjwt))
    assert alone.returncode == 0, alone.stderr
    assert "as in an empty environment" in alone.stderr
    both = venv_.pipguard(*other, *map(str, serial_pair))
    assert both.returncode == 1, both.stderr
    assert "serial/__init__.py" in both.stderr
    assert tree_digest(venv_.root) == before


def test_a_dry_run_takes_no_lock(venv_: Venv, wheel_dir: Path) -> None:
    from pipguard.lock import hold

    wheel = build_wheel(wheel_dir, "waiter", "1.0", {"waiter.py": ""})
    held = hold(str(venv_.site), timeout=1)
    assert held is not None
    try:
        done = venv_.pipguard(
            "install", "--no-deps", "--dry-run", "--lock-timeout", "0", str(wheel)
        )
    finally:
        held.close()
    assert done.returncode == 0, done.stderr
    assert "waiting for another pipguard run" not in done.stderr
    assert would_install(done.stdout) == ["Would install waiter-1.0"]
