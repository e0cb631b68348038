"""An upgrade never deletes files another distribution still lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wheels import Venv, build_wheel

pytestmark = pytest.mark.integration

SHARED = {"shared/__init__.py": "", "shared/deep/er/common.py": "X = 1\n"}


@pytest.fixture
def upgraded(venv_: Venv, wheel_dir: Path) -> Path:
    """alpha 1.0 and beta 1.0 share shared/; alpha 2.0 no longer ships it."""
    one = build_wheel(wheel_dir, "alpha", "1.0", {**SHARED, "alpha.py": ""})
    beta = build_wheel(wheel_dir, "beta", "1.0", {**SHARED, "beta.py": ""})
    assert venv_.pipguard("install", "--no-deps", str(one), str(beta)).returncode == 0
    return build_wheel(wheel_dir / "two", "alpha", "2.0", {"alpha.py": "V = 2\n"})


def test_an_upgrade_that_would_delete_shared_files_is_stopped(venv_: Venv, upgraded: Path) -> None:
    journal = venv_.root / "j.json"
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), str(upgraded))
    assert done.returncode == 1, done.stderr
    assert "2 files of beta would be deleted" in done.stderr
    assert (venv_.site / "shared" / "deep" / "er" / "common.py").exists()
    assert list(venv_.site.glob("alpha-1.0.dist-info"))
    doc = json.loads(journal.read_text())
    assert {c["kind"] for c in doc["conflicts"]} == {"deleted"}
    assert venv_.pipguard("check").returncode == 0


def test_warn_upgrades_and_keeps_them_for_who_still_lists_them(venv_: Venv, upgraded: Path) -> None:
    journal = venv_.root / "j.json"
    done = venv_.pipguard(
        "install", "--no-deps", "--on-conflict", "warn", "--journal", str(journal), str(upgraded)
    )
    assert done.returncode == 0, done.stderr
    assert list(venv_.site.glob("alpha-2.0.dist-info"))
    assert (venv_.site / "shared" / "deep" / "er" / "common.py").read_text() == "X = 1\n"
    assert "kept 2 files that beta still lists" in done.stderr
    doc = json.loads(journal.read_text())
    assert {c["resolution"] for c in doc["conflicts"]} == {"kept"}
    code = venv_.pipguard("check", "--format", "json")
    assert code.returncode == 0, code.stdout
    assert venv_.run("-c", "import shared.deep.er.common").returncode == 0
