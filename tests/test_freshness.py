"""Running interpreters see what pipguard installed, even where directory mtimes stand still."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from pipguard.freshness import FreshnessSnapshot, directories_to_watch

from wheels import Venv, add_wheel_hook, build_wheel

# After pip writes each wheel, put back the mtimes the watched directories had, as
# clone/reflink installers and coarse clocks leave them.
FREEZER = """
_DIRS = [d for d in os.environ.get("PIPGUARD_TEST_FREEZE", "").split(os.pathsep) if d]
_ACTIVE = bool(_DIRS)


def _before():
    return {d: os.stat(d).st_mtime_ns for d in _DIRS if os.path.isdir(d)}


def _after(saved):
    for d, ns in saved.items():
        os.utime(d, ns=(ns, ns))
"""

# Imports from the venv, installs in a child process, imports again: no invalidate_caches().
DRIVER = """
import json, subprocess, sys
import oldpkg.a  # primes the finder caches of site-packages and of oldpkg/
results = {}
for name in ("newtop", "oldpkg.b"):
    try:
        __import__(name)
        results[name] = "present before the install"
    except ModuleNotFoundError:
        pass
done = subprocess.run([sys.executable, *sys.argv[1:]], capture_output=True, text=True)
results["install"] = done.returncode
results["stderr"] = done.stderr
for name in ("newtop", "oldpkg.b"):
    try:
        __import__(name)
        results[name] = "imported"
    except ModuleNotFoundError as exc:
        results[name] = f"ModuleNotFoundError: {exc}"
print(json.dumps(results))
"""


def prepare(venv: Venv, wheel_dir: Path) -> list[str]:
    venv.pip_install(
        build_wheel(
            wheel_dir, "oldpkg", "1.0", {"oldpkg/__init__.py": "", "oldpkg/a.py": "A = 1\n"}
        )
    )
    add_wheel_hook(venv.site, "_pipguard_freezer", FREEZER)
    newtop = build_wheel(wheel_dir, "newtop", "1.0", {"newtop.py": "N = 1\n"})
    plugin = build_wheel(wheel_dir, "oldpkg-b", "1.0", {"oldpkg/b.py": "B = 1\n"})
    return ["install", "--no-deps", str(newtop), str(plugin)]


def drive(venv: Venv, tool: str, install_args: list[str], freeze: list[Path]) -> dict:
    env = {
        "PIPGUARD_TEST_FREEZE": os.pathsep.join(map(str, freeze)),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = venv.run("-c", DRIVER, "-m", tool, *install_args, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.integration
def test_plain_pip_leaves_a_running_interpreter_blind(venv_: Venv, wheel_dir: Path) -> None:
    args = prepare(venv_, wheel_dir)
    result = drive(venv_, "pip", args, [venv_.site, venv_.site / "oldpkg"])
    assert result["install"] == 0, result["stderr"]
    # The control: the files are there, the running interpreter cannot see them.
    assert (venv_.site / "newtop.py").exists()
    assert result["newtop"].startswith("ModuleNotFoundError")
    assert result["oldpkg.b"].startswith("ModuleNotFoundError")


@pytest.mark.integration
def test_pipguard_makes_the_new_modules_importable(venv_: Venv, wheel_dir: Path) -> None:
    args = prepare(venv_, wheel_dir)
    journal = venv_.root / "journal.json"
    result = drive(
        venv_, "pipguard", [*args, "--journal", str(journal)], [venv_.site, venv_.site / "oldpkg"]
    )
    assert result["install"] == 0, result["stderr"]
    assert result["newtop"] == "imported"
    assert result["oldpkg.b"] == "imported"
    bumped = {d["path"] for d in json.loads(journal.read_text())["directories"] if d["bumped"]}
    assert bumped == {str(venv_.site.resolve()), str((venv_.site / "oldpkg").resolve())}


def test_settle_moves_only_changed_directories(tmp_path: Path) -> None:
    changed, untouched = tmp_path / "changed", tmp_path / "untouched"
    changed.mkdir()
    untouched.mkdir()
    (changed / "keep.txt").write_text("x")
    stamp = 1_600_000_000_000_000_000
    for directory in (changed, untouched):
        os.utime(directory, ns=(stamp, stamp))
    file_stamp = (changed / "keep.txt").stat().st_mtime_ns
    snapshot = FreshnessSnapshot([str(changed), str(untouched)], [])
    (changed / "new.py").write_text("")
    os.utime(changed, ns=(stamp, stamp))  # as a cloning installer leaves it
    (result,) = snapshot.settle()
    assert result.path == str(changed)
    assert result.bumped
    assert result.fresh
    assert changed.stat().st_mtime != stamp / 1e9
    assert untouched.stat().st_mtime_ns == stamp
    assert (changed / "keep.txt").stat().st_mtime_ns == file_stamp


def test_watch_list_stays_inside_the_roots(tmp_path: Path) -> None:
    site = tmp_path / "env" / "site"
    (site / "pkg").mkdir(parents=True)
    watched = directories_to_watch(
        created=[f"{site}/new/deep/mod.py", f"{site}/pkg/m.py"],
        removed=[f"{site}/pkg/old/x.py"],
        roots=[str(tmp_path / "env")],
        always=[str(site), "/"],
    )
    assert set(watched) == {str(site), f"{site}/pkg", f"{site}/pkg/old", str(tmp_path / "env")}


@pytest.mark.integration
def test_coarse_timestamps_on_a_real_ext2(ext2: Path, wheel_dir: Path) -> None:
    venv = Venv(ext2 / "venv")
    args = prepare(venv, wheel_dir)
    (venv.site / "_pipguard_freezer.pth").unlink()  # the filesystem itself is the fault here
    for attempt in range(6):
        # Start just after a second turns: priming and installing then share one tick.
        time.sleep(1 - time.time() % 1 + 0.01)
        os.utime(venv.site)
        journal = ext2 / f"journal{attempt}.json"
        result = drive(venv, "pipguard", [*args, "--journal", str(journal)], [])
        assert result["install"] == 0, result["stderr"]
        assert result["newtop"] == "imported"
        assert result["oldpkg.b"] == "imported"
        directories = json.loads(journal.read_text())["directories"]
        if any(d["bumped"] for d in directories):
            return  # the tick did not move, and pipguard moved the mtime itself
        venv.run("-m", "pip", "uninstall", "-y", "-q", "newtop", "oldpkg-b", check=True)
    pytest.skip("the install never finished within the second it started; nothing to prove")
