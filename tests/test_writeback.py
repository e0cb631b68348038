"""Writing shared files back never loses them: warn-uninstall and repair, three levels deep."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheels import Venv, build_wheel, record_hash

pytestmark = pytest.mark.integration

# Shared by both distributions, three directories deep; the last three differ in content.
IDENTICAL = {
    f"deep/sub{n}/inner/mod{m}.py": f"VALUE = {n * 10 + m}\n" for n in range(3) for m in range(4)
}
IDENTICAL.update({f"deep/sub{n}/inner/__init__.pyi": "" for n in range(3)})
IDENTICAL.update({f"deep/sub{n}/__init__.py": "" for n in range(3)})
DIFFERING = [f"deep/sub{n}/inner/__init__.py" for n in range(3)]


def _wheels(directory: Path) -> dict[str, Path]:
    made = {}
    for name in ("alpha", "beta"):
        files: dict[str, str] = {"deep/__init__.py": "", **IDENTICAL}
        files.update({path: f"WHO = {name!r}\n" for path in DIFFERING})
        files[f"{name}_own.py"] = f"OWN = {name!r}\n"
        made[name] = build_wheel(directory, name, "1.0", files)
    return made


def _record(venv: Venv, name: str) -> dict[str, str]:
    (record,) = venv.site.glob(f"{name}-*.dist-info/RECORD")
    rows = {}
    for line in record.read_text().splitlines():
        path, hash_value, _ = line.rsplit(",", 2)
        if hash_value:
            rows[path] = hash_value
    return rows


def _wrong_files(venv: Venv, name: str) -> list[str]:
    """Return the RECORD files of ``name`` that are missing or do not hold its recorded hash."""
    wrong = []
    for path, hash_value in _record(venv, name).items():
        full = (venv.site / path).resolve()
        if not full.is_file() or record_hash(full.read_bytes()) != hash_value:
            wrong.append(path)
    return sorted(wrong)


def _who(venv: Venv) -> list[str]:
    code = "import deep.sub0.inner as a, deep.sub2.inner as c; print(a.WHO, c.WHO)"
    done = venv.run("-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.fixture
def both(venv_: Venv, wheel_dir: Path) -> Venv:
    """alpha, then beta over it (--on-conflict warn): beta's copies of the differing files win."""
    made = _wheels(wheel_dir)
    assert venv_.pipguard("install", "--no-deps", str(made["alpha"])).returncode == 0
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(made["beta"]))
    assert done.returncode == 0, done.stderr
    assert _who(venv_) == ["beta", "beta"]
    return venv_


def test_warn_uninstall_of_the_loser_keeps_every_file_of_the_winner(both: Venv) -> None:
    done = both.pipguard("uninstall", "-y", "--on-conflict", "warn", "alpha")
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert not list(both.site.glob("alpha-*.dist-info"))
    assert not (both.site / "alpha_own.py").exists()
    assert _wrong_files(both, "beta") == []
    assert _who(both) == ["beta", "beta"]
    assert "kept 22 shared files that beta still lists; each holds its copy." in done.stderr


def test_warn_uninstall_of_the_winner_keeps_every_file_then_repair_restores(
    both: Venv, wheel_dir: Path
) -> None:
    done = both.pipguard("uninstall", "-y", "--on-conflict", "warn", "beta")
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert not list(both.site.glob("beta-*.dist-info"))
    # Every file is there; the three that differed hold beta's copy, and the summary says so.
    assert _wrong_files(both, "alpha") == sorted(DIFFERING)
    assert "3 of them hold the removed distribution's copy: pipguard repair alpha" in done.stderr
    repaired = both.pipguard("repair", "--find-links", str(wheel_dir), "alpha")
    assert repaired.returncode == 0, repaired.stderr
    assert _wrong_files(both, "alpha") == []
    assert _who(both) == ["alpha", "alpha"]


# Runs in the venv's pip: once pip has removed the distribution's files (and the directories
# it emptied), a plain file takes the place of one of those directories.
_OBSTACLE = """
import importlib.util, os, sys

class _Obstacle:
    def find_spec(self, name, path=None, target=None):
        if name != "pip._internal.req.req_uninstall":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            commit = module.UninstallPathSet.commit

            def committed(self):
                commit(self)
                os.makedirs(os.path.dirname(os.environ["PIPGUARD_TEST_OBSTACLE"]), exist_ok=True)
                with open(os.environ["PIPGUARD_TEST_OBSTACLE"], "w") as handle:
                    handle.write("in the way")

            module.UninstallPathSet.commit = committed

        spec.loader.exec_module = exec_module
        return spec

if os.environ.get("PIPGUARD_TEST_OBSTACLE"):
    sys.meta_path.insert(0, _Obstacle())
"""


def test_a_file_that_cannot_be_put_back_is_named_and_the_others_are_written(both: Venv) -> None:
    (both.site / "_pipguard_obstacle.py").write_text(_OBSTACLE)
    (both.site / "_pipguard_obstacle.pth").write_text("import _pipguard_obstacle\n")
    obstacle = both.site / "deep" / "sub1"
    done = both.pipguard(
        "uninstall",
        "-y",
        "--on-conflict",
        "warn",
        "alpha",
        env={"PIPGUARD_TEST_OBSTACLE": str(obstacle)},
    )
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr
    assert obstacle.read_text() == "in the way"  # pipguard never removes what it did not write
    blocked = sorted(p for p in IDENTICAL.keys() | set(DIFFERING) if p.startswith("deep/sub1/"))
    assert f"{len(blocked)} shared files that beta still lists could not be put back" in done.stderr
    for path in blocked:
        assert path in done.stderr
    assert "pipguard repair beta" in done.stderr
    # Everything else came back, with beta's bytes.
    assert _wrong_files(both, "beta") == blocked
