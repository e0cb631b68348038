"""Bytecode is not a free pass: a .pyc without its own distribution's source is a clash."""

from __future__ import annotations

import importlib.util
import json
import py_compile
import sys
from pathlib import Path

import pytest

from pipguard.checks.bytecode import source_of

from wheels import Venv, build_wheel

pytestmark = pytest.mark.integration

TAG = sys.implementation.cache_tag


def _takeover(directory: Path) -> bytes:
    """Bytecode of a module saying it is evil, checked against no source (unchecked hash)."""
    source = directory / "evil_source.py"
    source.write_text("WHO = 'evil'\n")
    compiled = directory / "evil.pyc"
    py_compile.compile(
        str(source),
        cfile=str(compiled),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    return compiled.read_bytes()


@pytest.fixture
def wheels(wheel_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    victim = build_wheel(wheel_dir, "victim", "1.0", {"victim/__init__.py": "WHO = 'victim'\n"})
    evil = build_wheel(
        wheel_dir,
        "evil",
        "1.0",
        {f"victim/__pycache__/__init__.{TAG}.pyc": _takeover(tmp_path), "evil_helper.py": ""},
    )
    return victim, evil


def _who(venv: Venv) -> str:
    done = venv.run("-c", "import victim; print(victim.WHO)")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_source_of_a_cache_path() -> None:
    assert source_of(f"/s/pkg/__pycache__/mod.{TAG}.opt-1.pyc") == "/s/pkg/mod.py"
    assert source_of(f"/s/__pycache__/top.{TAG}.pyc") == "/s/top.py"
    # What CPython itself derives:
    cached = importlib.util.cache_from_source("/s/pkg/mod.py")
    assert source_of(cached) == importlib.util.source_from_cache(cached)


def test_foreign_bytecode_is_stopped_before_anything_is_written(
    venv_: Venv, wheels: tuple[Path, Path]
) -> None:
    victim, evil = wheels
    assert venv_.pipguard("install", "--no-deps", str(victim)).returncode == 0
    before = sorted(p.name for p in venv_.site.iterdir())
    journal = venv_.root / "j.json"
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), str(evil))
    assert done.returncode == 1, done.stderr
    assert "stopped before writing anything" in done.stderr
    assert "bytecode" in done.stderr
    assert sorted(p.name for p in venv_.site.iterdir()) == before
    assert _who(venv_) == "victim"
    (conflict,) = json.loads(journal.read_text())["conflicts"]
    assert conflict["kind"] == "bytecode"
    assert conflict["source"] == "victim/__init__.py"
    assert conflict["resolution"] == "prevented"
    assert [o["name"] for o in conflict["owners"]] == ["evil", "victim"]


def test_foreign_bytecode_installed_anyway_fails_check(
    venv_: Venv, wheels: tuple[Path, Path]
) -> None:
    victim, evil = wheels
    venv_.pip_install(victim)
    venv_.pip_install(evil)  # plain pip: the takeover happens
    assert _who(venv_) == "evil"
    for extra in ([], ["--strict", "--verify"]):
        done = venv_.pipguard("check", "--format", "json", *extra)
        assert done.returncode == 1, done.stderr
        doc = json.loads(done.stdout)
        (conflict,) = [c for c in doc["conflicts"] if c["kind"] == "bytecode"]
        assert conflict["path"] == f"victim/__pycache__/__init__.{TAG}.pyc"
        assert conflict["owners"][0]["name"] == "evil"
    table = venv_.pipguard("check")
    words = " ".join(table.stdout.split())
    assert "evil 1.0 (bytecode, no source)" in words
    assert "pipguard uninstall evil, then pipguard repair victim" in words
    assert "1 foreign bytecode file" in table.stderr


def test_a_distributions_own_bytecode_stays_exempt(venv_: Venv, wheel_dir: Path) -> None:
    # pip compiles every .py it installs and lists the .pyc in the same RECORD: no finding;
    # nor is a wheel that ships its own source and bytecode together.
    own = build_wheel(
        wheel_dir,
        "own",
        "1.0",
        {"own/__init__.py": "X = 1\n", f"own/__pycache__/__init__.{TAG}.pyc": b"\x00" * 16},
    )
    done = venv_.pipguard("install", "--no-deps", str(own))
    assert done.returncode == 0, done.stderr
    check = venv_.pipguard("check", "--format", "json")
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["conflicts"] == []
