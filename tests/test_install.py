"""``pipguard install`` with real pip, real venvs and wheels built here."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from wheels import Venv, add_wheel_hook, build_wheel, outer_path, record_hash, script_pair

pytestmark = pytest.mark.integration


def tree(root: Path) -> dict[str, str]:
    """Every file below ``root`` with a digest of its bytes: equal trees, nothing was written."""
    return {
        str(p.relative_to(root)): (
            f"link:{os.readlink(p)}"
            if p.is_symlink()
            else hashlib.sha256(p.read_bytes()).hexdigest()
        )
        for p in sorted(root.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def assert_clean(stderr: str) -> None:
    """No traceback, and no import pip 26.1+ would warn about or block during its step."""
    for marker in ("Traceback", "Unsafe import", "Unexpected import", "Blocked import"):
        assert marker not in stderr, stderr


def installed_names(venv: Venv) -> set[str]:
    return {p.name.split("-")[0].lower() for p in venv.site.glob("*.dist-info")}


@pytest.fixture
def jwt_pair(wheel_dir: Path) -> tuple[Path, Path]:
    jwt = build_wheel(wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": "OLD = 1\n"})
    pyjwt = build_wheel(
        wheel_dir, "PyJWT", "2.9.0", {"jwt/__init__.py": "NEW = 2\n", "jwt/api.py": "x=1\n"}
    )
    return jwt, pyjwt


def test_cross_transaction_clash_is_stopped_with_nothing_written(
    venv_: Venv, jwt_pair: tuple[Path, Path]
) -> None:
    jwt, pyjwt = jwt_pair
    assert venv_.pipguard("install", "--no-deps", str(jwt)).returncode == 0
    before = tree(venv_.root)
    done = venv_.pipguard("install", "--no-deps", str(pyjwt))
    assert done.returncode == 1
    assert tree(venv_.root) == before
    assert (venv_.site / "jwt" / "__init__.py").read_text() == "OLD = 1\n"
    assert installed_names(venv_) == {"jwt"}
    assert "stopped before writing anything" in done.stderr
    assert "jwt/__init__.py" in done.stderr
    assert "pyjwt 2.9.0 (incoming)" in done.stderr
    assert "jwt 1.3.1 (installed)" in done.stderr
    assert_clean(done.stderr)


def test_in_transaction_clash_is_stopped_with_nothing_written(
    venv_: Venv, jwt_pair: tuple[Path, Path]
) -> None:
    before = tree(venv_.root)
    done = venv_.pipguard("install", "--no-deps", *map(str, jwt_pair))
    assert done.returncode == 1, done.stderr
    assert tree(venv_.root) == before
    assert "both write these files" in done.stderr
    assert_clean(done.stderr)


def test_identical_namespace_overlap_installs(venv_: Venv, wheel_dir: Path) -> None:
    ns = "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    a = build_wheel(wheel_dir, "nsa", "1.0", {"nsp/__init__.py": ns, "nsp/a.py": "a=1\n"})
    b = build_wheel(wheel_dir, "nsb", "1.0", {"nsp/__init__.py": ns, "nsp/b.py": "b=1\n"})
    c = build_wheel(wheel_dir, "nsc", "1.0", {"nsp/__init__.py": ns, "nsp/c.py": "c=1\n"})
    assert venv_.pipguard("install", "--no-deps", str(a)).returncode == 0
    journal = venv_.root / "journal.json"
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), str(b), str(c))
    assert done.returncode == 0, done.stderr
    assert installed_names(venv_) == {"nsa", "nsb", "nsc"}
    doc = json.loads(journal.read_text())
    (conflict,) = doc["conflicts"]
    assert conflict["kind"] == "identical"
    assert conflict["resolution"] == "harmless"
    assert {o["name"] for o in conflict["owners"]} == {"nsa", "nsb", "nsc"}


def test_console_script_clash_is_stopped(venv_: Venv, wheel_dir: Path) -> None:
    a, b = script_pair(wheel_dir)
    assert venv_.pipguard("install", "--no-deps", str(a)).returncode == 0
    script = venv_.scripts / "tool"
    before = script.read_bytes()
    done = venv_.pipguard("install", "--no-deps", str(b))
    assert done.returncode == 1
    assert script.read_bytes() == before
    assert "bin/tool" in done.stderr
    assert "../bin/tool" not in done.stderr  # shown from the environment, not site-packages
    assert "--winner NAME" in done.stderr


def test_scripts_from_one_entry_point_in_one_transaction_are_identical(
    venv_: Venv, wheel_dir: Path
) -> None:
    # Before the step a generated script has no hash; pip writes the same bytes for both.
    same = [
        build_wheel(
            wheel_dir,
            f"same-{x}",
            "1.0",
            {f"same_{x}.py": ""},
            console_scripts={"sametool": "json.tool:main"},
        )
        for x in "ab"
    ]
    done = venv_.pipguard("install", "--no-deps", *map(str, same))
    assert done.returncode == 0, done.stderr  # not stopped: one pip writes both alike
    assert "lost" not in done.stderr
    assert "more than one distribution" not in done.stderr
    check = venv_.pipguard("check", "--format", "json")
    (conflict,) = json.loads(check.stdout)["conflicts"]
    assert (conflict["path"], conflict["kind"]) == ("../../../bin/sametool", "identical")
    # A third, later, declaring the same entry point: the installed scripts say the same.
    third = build_wheel(
        wheel_dir,
        "same-c",
        "1.0",
        {"same_c.py": ""},
        console_scripts={"sametool": "json.tool:main"},
    )
    assert venv_.pipguard("install", "--no-deps", str(third)).returncode == 0
    other = build_wheel(
        wheel_dir, "same-d", "1.0", {"same_d.py": ""}, console_scripts={"sametool": "json:main"}
    )
    stopped = venv_.pipguard("install", "--no-deps", str(other))
    assert stopped.returncode == 1
    assert "bin/sametool" in stopped.stderr


def test_warn_judges_a_script_clash_by_the_final_records(venv_: Venv, wheel_dir: Path) -> None:
    # A generated script has no hash until pip writes it: who won is read from pip's RECORD.
    a, b = script_pair(wheel_dir)
    assert venv_.pipguard("install", "--no-deps", str(a)).returncode == 0
    journal = venv_.root / "j.json"
    done = venv_.pipguard(
        "install", "--no-deps", "--on-conflict", "warn", "--journal", str(journal), str(b)
    )
    assert done.returncode == 0, done.stderr
    assert "tool-b 1.0 (on disk)" in done.stderr
    assert "tool-a 1.0 (lost)" in done.stderr
    assert "no hash" not in done.stderr
    (conflict,) = json.loads(journal.read_text())["conflicts"]
    assert conflict["winner"] == "tool-b"
    assert all(owner["hash"] for owner in conflict["owners"])
    assert_clean(done.stderr)


def test_unowned_file_blocks_unless_identical(venv_: Venv, wheel_dir: Path) -> None:
    body = "def main(): pass\n"
    wheel = build_wheel(wheel_dir, "stray", "1.0", {"stray.py": body})
    (venv_.site / "stray.py").write_text("left here by another tool\n")
    done = venv_.pipguard("install", "--no-deps", str(wheel))
    assert done.returncode == 1
    assert "no owner (on disk)" in done.stderr
    assert (venv_.site / "stray.py").read_text() == "left here by another tool\n"
    (venv_.site / "stray.py").write_text(body)  # the very same bytes: harmless
    assert venv_.pipguard("install", "--no-deps", str(wheel)).returncode == 0
    assert installed_names(venv_) == {"stray"}


def test_warn_over_an_unowned_file_says_it_was_overwritten(venv_: Venv, wheel_dir: Path) -> None:
    wheel = build_wheel(wheel_dir, "stray", "1.0", {"stray.py": "def main(): pass\n"})
    (venv_.site / "stray.py").write_text("left here by another tool\n")
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(wheel))
    assert done.returncode == 0, done.stderr
    assert (venv_.site / "stray.py").read_text() == "def main(): pass\n"
    # The table stays although the incoming copy now matches the disk: it was a real clash.
    assert "stray 1.0 (on disk)" in done.stderr
    assert "no owner (overwritten)" in done.stderr
    assert "1 file that no distribution listed was overwritten" in done.stderr
    assert "more than one distribution" not in done.stderr
    assert_clean(done.stderr)


def test_problems_of_untouched_distributions_are_counted_not_listed(
    venv_: Venv, wheel_dir: Path
) -> None:
    venv_.pip_install(build_wheel(wheel_dir, "broken", "1.0", {"broken.py": ""}))
    record = next(venv_.site.glob("broken-1.0.dist-info")) / "RECORD"
    record.write_text(record.read_text() + '"unterminated,,\n')
    journal = venv_.root / "j.json"
    wheel = build_wheel(wheel_dir, "fine", "1.0", {"fine.py": ""})
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), str(wheel))
    assert done.returncode == 0, done.stderr
    assert "1 problem in the metadata of distributions this install does not touch" in done.stderr
    assert "malformed CSV" not in done.stderr
    (problem,) = json.loads(journal.read_text())["problems"]
    assert problem["distribution"] == "broken"
    assert "malformed CSV" in problem["message"]


def test_upgrade_over_own_files_is_not_a_clash(venv_: Venv, wheel_dir: Path) -> None:
    old = build_wheel(wheel_dir / "1", "grow", "1.0", {"grow/__init__.py": "V = 1\n"})
    new = build_wheel(wheel_dir / "2", "grow", "2.0", {"grow/__init__.py": "V = 2\n"})
    assert venv_.pipguard("install", "--no-deps", str(old)).returncode == 0
    journal = venv_.root / "j.json"
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), str(new))
    assert done.returncode == 0, done.stderr
    assert (venv_.site / "grow" / "__init__.py").read_text() == "V = 2\n"
    doc = json.loads(journal.read_text())
    assert doc["conflicts"] == []
    assert [(d["name"], d["version"]) for d in doc["removed"]] == [("grow", "1.0")]
    assert [(d["name"], d["version"]) for d in doc["installed"]] == [("grow", "2.0")]


def test_warn_proceeds_and_names_the_winner(venv_: Venv, jwt_pair: tuple[Path, Path]) -> None:
    jwt, pyjwt = jwt_pair
    assert venv_.pipguard("install", "--no-deps", str(jwt)).returncode == 0
    journal = venv_.root / "j.json"
    done = venv_.pipguard(
        "install", "--no-deps", "--on-conflict", "warn", "--journal", str(journal), str(pyjwt)
    )
    assert done.returncode == 0, done.stderr
    assert (venv_.site / "jwt" / "__init__.py").read_text() == "NEW = 2\n"
    assert "jwt lost to pyjwt" in done.stderr
    assert "pyjwt 2.9.0 (on disk)" in done.stderr
    assert_clean(done.stderr)
    doc = json.loads(journal.read_text())
    (conflict,) = doc["conflicts"]
    assert conflict["winner"] == "pyjwt"
    assert conflict["resolution"] == "overwritten"
    assert doc["outcome"] == "installed"
    assert doc["policy"] == "warn"


def test_policy_from_environment_and_bad_policy(venv_: Venv, jwt_pair: tuple[Path, Path]) -> None:
    jwt, pyjwt = jwt_pair
    assert venv_.pipguard("install", "--no-deps", str(jwt)).returncode == 0
    done = venv_.pipguard(
        "install", "--no-deps", str(pyjwt), env={"PIPGUARD_ON_CONFLICT": "ignore"}
    )
    assert done.returncode == 0
    assert "lost" not in done.stderr
    bad = venv_.pipguard("install", "--on-conflict", "maybe", str(pyjwt))
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith("'maybe' is not one of prevent, warn, ignore")


def test_journal_lists_every_record_path(venv_: Venv, wheel_dir: Path) -> None:
    a = build_wheel(
        wheel_dir,
        "alpha",
        "1.0",
        {"alpha/__init__.py": "a=1\n", "alpha/x.py": ""},
        console_scripts={"alpha": "alpha:main"},
    )
    b = build_wheel(wheel_dir, "beta", "1.0", {"beta.py": "b=1\n"})
    done = venv_.pipguard("install", "--no-deps", "--journal", "-", str(a), str(b))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # pip's own output went to stderr
    assert doc["version"] == 1
    assert doc["outcome"] == "installed"
    assert doc["pip_version"]
    for entry in doc["installed"]:
        record = next(venv_.site.glob(f"{entry['name']}-*.dist-info")) / "RECORD"
        rows = [line.split(",")[0] for line in record.read_text().splitlines() if line]
        assert sorted(entry["files"]) == sorted(rows)
    assert {d["name"] for d in doc["installed"]} == {"alpha", "beta"}
    assert "../../../bin/alpha" in doc["installed"][0]["files"]


def test_journal_written_when_prevented(venv_: Venv, jwt_pair: tuple[Path, Path]) -> None:
    journal = venv_.root / "j.json"
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), *map(str, jwt_pair))
    assert done.returncode == 1
    doc = json.loads(journal.read_text())
    assert doc["outcome"] == "prevented"
    assert doc["installed"] == []
    assert {c["resolution"] for c in doc["conflicts"]} == {"prevented"}


def test_target_install_clash_and_success(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    jwt, pyjwt = jwt_pair
    target = tmp_path / "target"
    assert venv_.pipguard("install", "--no-deps", "--target", str(target), str(jwt)).returncode == 0
    assert (target / "jwt" / "__init__.py").read_text() == "OLD = 1\n"
    before = tree(target)
    done = venv_.pipguard("install", "--no-deps", "--target", str(target), "--upgrade", str(pyjwt))
    assert done.returncode == 1, done.stderr
    assert tree(target) == before
    assert "jwt/__init__.py" in done.stderr


def _sharing_a_directory(wheel_dir: Path, directory: str) -> tuple[Path, Path]:
    """Two wheels with a file each in one top-level directory, and a console script each."""
    alpha = build_wheel(
        wheel_dir,
        "alpha",
        "1.0",
        {f"{directory}/a.py": "A = 1\n"},
        console_scripts={"alpha": "a:m"},
    )
    beta = build_wheel(
        wheel_dir, "beta", "1.0", {f"{directory}/b.py": "B = 1\n"}, console_scripts={"beta": "b:m"}
    )
    return alpha, beta


def test_target_without_upgrade_keeps_existing_entries_and_says_so(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    # Without --upgrade pip --target leaves every top-level entry that exists (a namespace
    # directory, bin/) as it stands, warns, and reports success: beta's files are never written.
    target = tmp_path / "target"
    alpha, beta = _sharing_a_directory(wheel_dir, "ns")
    args = ("install", "--no-deps", "--target", str(target))
    assert venv_.pipguard(*args, str(alpha)).returncode == 0
    before = tree(target)
    done = venv_.pipguard(*args, str(beta))
    assert done.returncode == 1, done.stderr
    assert tree(target) == before
    words = " ".join(done.stderr.split())
    assert "ns/b.py skipped beta 1.0 (incoming, not written)" in words
    assert "bin/beta skipped beta 1.0 (incoming, not written)" in words
    assert "2 files of beta would not be written" in words
    # The same install again writes nothing new and loses nothing: not a finding.
    again = venv_.pipguard(*args, str(alpha))
    assert again.returncode == 0, again.stderr
    assert "skipped" not in again.stderr
    # Going ahead: pip leaves ns/ and bin/ as they were; the report says what is missing.
    warned = venv_.pipguard(*args, "--on-conflict", "warn", "--journal", "-", str(beta))
    assert warned.returncode == 0, warned.stderr
    assert not (target / "ns" / "b.py").exists()
    assert "2 files of this install were not written." in warned.stderr
    doc = json.loads(warned.stdout)
    assert {(c["path"], c["resolution"]) for c in doc["conflicts"]} == {
        ("ns/b.py", "not written"),
        ("bin/beta", "not written"),
    }


def test_target_without_upgrade_does_not_overwrite_and_keeps_the_winner(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    # pip keeps jwt/ as it stands: PyJWT's copy is not written, nothing of jwt is overwritten.
    jwt = build_wheel(wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": "OLD = 1\n"})
    pyjwt = build_wheel(wheel_dir, "PyJWT", "2.9.0", {"jwt/__init__.py": "NEW = 2\n"})
    target = tmp_path / "target"
    args = ("install", "--no-deps", "--target", str(target))
    assert venv_.pipguard(*args, str(jwt)).returncode == 0
    done = venv_.pipguard(*args, str(pyjwt))
    assert done.returncode == 1, done.stderr
    words = " ".join(done.stderr.split())
    assert "jwt/__init__.py skipped pyjwt 2.9.0 (incoming, not written)" in words
    assert "jwt 1.3.1 (installed, kept)" in words
    assert "overwrite" not in words
    kept = venv_.pipguard(*args, "--winner", "jwt", str(pyjwt))
    assert kept.returncode == 0, kept.stderr
    assert "1 of 1 contested file holds jwt's copy" in kept.stderr
    assert (target / "jwt" / "__init__.py").read_text() == "OLD = 1\n"


def test_target_upgrade_that_would_delete_another_distributions_files(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    # pip --target --upgrade rmtree()s every top-level entry it writes: shared/ and bin/ here.
    target = tmp_path / "target"
    alpha, beta = _sharing_a_directory(wheel_dir, "shared")
    args = ("install", "--no-deps", "--target", str(target), "--upgrade")
    assert venv_.pipguard(*args, str(alpha)).returncode == 0
    before = tree(target)
    done = venv_.pipguard(*args, str(beta))
    assert done.returncode == 1, done.stderr
    assert tree(target) == before
    words = " ".join(done.stderr.split())
    assert (
        "shared/a.py removed beta 1.0 (replaces the directory) alpha 1.0 (installed, deleted)"
        in words
    )
    # --winner cannot save a directory pip deletes whole: still stopped, nothing written.
    winner = venv_.pipguard(*args, "--winner", "alpha", str(beta))
    assert winner.returncode == 1, winner.stderr
    assert tree(target) == before
    assert "internal error" not in winner.stderr
    assert "bin/alpha removed" in words
    assert "replaces each top-level directory it writes, whole" in words
    # An upgrade of alpha itself deletes nothing of anyone else's.
    alpha2 = build_wheel(wheel_dir / "2", "alpha", "2.0", {"shared/a.py": "A = 2\n"})
    assert venv_.pipguard(*args, str(alpha2)).returncode == 0
    warned = venv_.pipguard(*args, "--on-conflict", "warn", str(beta))
    assert warned.returncode == 0, warned.stderr
    assert not (target / "shared" / "a.py").exists()  # pip did delete it: said so
    assert "2 files of other distributions were deleted" in warned.stderr
    assert "Harmless" not in warned.stderr
    assert "pip deleted these files of alpha" in " ".join(warned.stderr.split())


def test_target_upgrade_of_a_distribution_with_scripts_passes(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    # pip's --target RECORDs list scripts as ../../bin/tool (from its temporary lib/python).
    target = tmp_path / "target"
    scripts = {"toola": "toola:m"}
    old = build_wheel(wheel_dir / "1", "toola", "1.0", {"toola.py": ""}, console_scripts=scripts)
    new = build_wheel(wheel_dir / "2", "toola", "2.0", {"toola.py": "#"}, console_scripts=scripts)
    assert venv_.pipguard("install", "--no-deps", "--target", str(target), str(old)).returncode == 0
    done = venv_.pipguard("install", "--no-deps", "--target", str(target), "--upgrade", str(new))
    assert done.returncode == 0, done.stderr
    check = venv_.pipguard("check", "--format", "json", "--path", str(target))
    messages = [p["message"] for p in json.loads(check.stdout)["problems"]]
    assert not any("points outside" in m for m in messages), messages
    # pip --target --upgrade replaces toola.py and bin/ but leaves toola-1.0.dist-info.
    assert messages == ["installed twice in one directory: 1.0 and 2.0"]


@pytest.mark.parametrize("together", [False, True])
def test_a_file_where_a_directory_is_needed_is_stopped(
    venv_: Venv, wheel_dir: Path, together: bool
) -> None:
    # pip would write dirchild_ok.py, then fail on filepar_data/sub.py: 'Not a directory'.
    filepar = build_wheel(wheel_dir, "filepar", "1.0", {"filepar_data": "a file\n"})
    dirchild = build_wheel(
        wheel_dir, "dirchild", "1.0", {"dirchild_ok.py": "", "filepar_data/sub.py": ""}
    )
    if not together:
        assert venv_.pipguard("install", "--no-deps", str(filepar)).returncode == 0
    before = tree(venv_.root)
    wheels = [str(filepar), str(dirchild)] if together else [str(dirchild)]
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", *wheels)
    assert done.returncode == 1, done.stderr
    assert "filepar_data/sub.py needs a directory where the file filepar_data is" in done.stderr
    assert tree(venv_.root) == before


def test_prefix_install_clash(venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path) -> None:
    jwt, pyjwt = jwt_pair
    prefix = tmp_path / "prefix"
    ok = venv_.pipguard("install", "--no-deps", "--prefix", str(prefix), str(jwt))
    assert ok.returncode == 0, ok.stderr
    site = next(prefix.glob("lib/python*/site-packages"))
    assert (site / "jwt" / "__init__.py").exists()
    done = venv_.pipguard("install", "--no-deps", "--prefix", str(prefix), str(pyjwt))
    assert done.returncode == 1
    assert (site / "jwt" / "__init__.py").read_text() == "OLD = 1\n"


def _write_project(root: Path, name: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{name}"\nversion = "0.5"\n'
        "[tool.setuptools]\npackages = ['jwt']\n"
    )
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_sdist_goes_through_the_same_preflight(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    assert venv_.pipguard("install", "--no-deps", str(jwt_pair[0])).returncode == 0
    project = _write_project(
        tmp_path / "src" / "jwt-fork-0.5", "jwt-fork", {"jwt/__init__.py": "FORK = 1\n"}
    )
    sdist = tmp_path / "jwt_fork-0.5.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(project, arcname="jwt_fork-0.5")
    done = venv_.pipguard("install", "--no-deps", "--no-build-isolation", str(sdist))
    assert done.returncode == 1, done.stderr
    assert "jwt-fork 0.5 (incoming)" in done.stderr
    assert (venv_.site / "jwt" / "__init__.py").read_text() == "OLD = 1\n"


def test_editable_goes_through_the_same_preflight(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    assert venv_.pipguard("install", "--no-deps", str(jwt_pair[0])).returncode == 0
    project = _write_project(tmp_path / "editable", "jwt-dev", {"jwt/__init__.py": "DEV = 1\n"})
    # An editable wheel writes a .pth and a finder, not jwt/: it clashes with nothing here.
    done = venv_.pipguard(
        "install", "--no-deps", "--no-build-isolation", "--journal", "-", "-e", str(project)
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    (entry,) = doc["installed"]
    assert entry["name"] == "jwt-dev"
    assert any(path.endswith(".pth") for path in entry["files"])


def test_fallback_when_the_hook_cannot_attach(venv_: Venv, jwt_pair: tuple[Path, Path]) -> None:
    jwt, pyjwt = jwt_pair
    assert venv_.pipguard("install", "--no-deps", str(jwt)).returncode == 0
    # A pip whose install step pipguard does not know: point the bridge at a name pip lacks.
    script = (
        "import sys, pipguard.install.pipbridge as bridge; bridge._STEP = 'no_such_step'; "
        "from pipguard.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = venv_.run("-c", script, "install", "--no-deps", str(pyjwt))
    assert "clashes could only be looked for after pip wrote the files" in done.stderr
    assert "jwt lost to pyjwt" in done.stderr
    assert done.returncode == 1  # prevent could not prevent: say so with the exit code


# A pip whose resolver takes no hook: the guard then plans inside pip's install step.
_REFUSING_RESOLVER = """
import sys
from pip._internal.resolution.resolvelib.resolver import Resolver

def refuse(self, name, value):
    if name == "get_installation_order":
        raise AttributeError(name)
    object.__setattr__(self, name, value)

Resolver.__setattr__ = refuse
from pipguard.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_planning_inside_pips_step_when_the_resolver_takes_no_hook(
    venv_: Venv, jwt_pair: tuple[Path, Path]
) -> None:
    jwt, pyjwt = jwt_pair
    assert venv_.pipguard("install", "--no-deps", str(jwt)).returncode == 0
    before = tree(venv_.root)
    stopped = venv_.run("-c", _REFUSING_RESOLVER, "install", "--no-deps", str(pyjwt))
    assert stopped.returncode == 1, stopped.stderr
    assert tree(venv_.root) == before
    assert "stopped before writing anything" in stopped.stderr
    assert_clean(stopped.stderr)
    # Under warn the table is drawn after pip's step: rich was imported before it began.
    warned = venv_.run(
        "-c", _REFUSING_RESOLVER, "install", "--no-deps", "--on-conflict", "warn", str(pyjwt)
    )
    assert warned.returncode == 0, warned.stderr
    assert "jwt lost to pyjwt" in warned.stderr
    assert_clean(warned.stderr)


def test_a_clean_install_never_imports_rich(venv_: Venv, wheel_dir: Path) -> None:
    # rich is most of pipguard's start-up time: it is imported only when a table may be drawn.
    wheel = build_wheel(wheel_dir, "quiet", "1.0", {"quiet.py": ""})
    script = (
        "import sys; from pipguard.cli import main; code = main(sys.argv[1:]); "
        "print('rich imported:', 'rich' in sys.modules); sys.exit(code)"
    )
    done = venv_.run("-c", script, "install", "--no-deps", str(wheel))
    assert done.returncode == 0, done.stderr
    assert "rich imported: False" in done.stdout
    assert installed_names(venv_) == {"quiet"}


def test_any_top_level_data_directory_goes_to_the_scheme(venv_: Venv, wheel_dir: Path) -> None:
    # pip takes every top-level "*.data" directory for the data directory, not only the one
    # named after the distribution: other.data/scripts/tool is written to bin/tool.
    owner = build_wheel(wheel_dir, "owner", "1.0", {"owner-1.0.data/scripts/tool": "#!/bin/sh\n"})
    assert venv_.pipguard("install", "--no-deps", str(owner)).returncode == 0
    sneaky = build_wheel(wheel_dir, "sneaky", "1.0", {"other.data/scripts/tool": "echo hi\n"})
    before = tree(venv_.root)
    done = venv_.pipguard("install", "--no-deps", str(sneaky))
    assert done.returncode == 1, done.stderr
    assert tree(venv_.root) == before
    assert "bin/tool" in done.stderr
    assert "owner 1.0 (installed)" in done.stderr
    assert_clean(done.stderr)


def test_python_option_refused_without_pipguard_there(venv_: Venv, tmp_path: Path) -> None:
    bare = Venv(tmp_path / "bare")
    # pipguard runs with the outer directories put on sys.path by hand, so that the bare
    # venv's interpreter, which inherits the environment, has no pipguard to import.
    bootstrap = (
        f"import sys; sys.path[:0] = {outer_path().split(os.pathsep)!r}; "
        "from pipguard.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = venv_.run(
        "-c", bootstrap, "--python", bare.python, "install", "anything", env={"PYTHONPATH": ""}
    )
    assert done.returncode == 2
    assert "pipguard is not installed for that interpreter" in done.stderr


def test_other_pip_commands_pass_through(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(build_wheel(wheel_dir, "listed", "3.1", {"listed.py": ""}))
    done = venv_.pipguard("list", "--format", "json")
    assert done.returncode == 0
    assert {"name": "listed", "version": "3.1"} in json.loads(done.stdout)
    assert venv_.pipguard("show", "no-such-dist").returncode == 1


def test_record_hash_helper_matches_pip() -> None:
    # The wheels' RECORDs must be what pip would accept: sha256, urlsafe, unpadded.
    assert record_hash(b"") == "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"


def test_python_option_guards_the_other_interpreter(
    venv_: Venv, jwt_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    other = Venv(tmp_path / "other")
    jwt, pyjwt = jwt_pair
    ok = venv_.pipguard("--python", other.python, "install", "--no-deps", str(jwt))
    assert ok.returncode == 0, ok.stderr
    assert (other.site / "jwt" / "__init__.py").exists()
    assert not (venv_.site / "jwt").exists()
    stopped = venv_.pipguard("--python", other.python, "install", "--no-deps", str(pyjwt))
    assert stopped.returncode == 1
    assert (other.site / "jwt" / "__init__.py").read_text() == "OLD = 1\n"


def test_concurrent_runs_wait_for_the_lock(venv_: Venv, wheel_dir: Path) -> None:
    from pipguard.lock import hold

    wheel = build_wheel(wheel_dir, "waiter", "1.0", {"waiter.py": ""})
    held = hold(str(venv_.site), timeout=1)
    assert held is not None
    try:
        done = venv_.pipguard("install", "--no-deps", "--lock-timeout", "0.3", str(wheel))
    finally:
        held.close()
    assert done.returncode == 1
    assert "waiting for another pipguard run" in done.stderr
    assert "nothing was installed" in done.stderr
    assert installed_names(venv_) == set()
    assert venv_.pipguard("install", "--no-deps", str(wheel)).returncode == 0


def test_pip_failing_mid_transaction_is_journaled(venv_: Venv, wheel_dir: Path) -> None:
    # The second wheel's console script has no module:attr: pip writes its files, then
    # refuses the script, after the first wheel is in. Under warn, pipguard lets pip try,
    # keeps pip's exit code and says in the journal what had been written.
    good = build_wheel(wheel_dir, "good", "1.0", {"good.py": "G = 1\n"})
    bad = build_wheel(wheel_dir, "bad", "1.0", {"bad.py": ""}, console_scripts={"bad": "nocolon"})
    journal = venv_.root / "j.json"
    done = venv_.pipguard(
        "install",
        "--no-deps",
        "--on-conflict",
        "warn",
        "--journal",
        str(journal),
        str(good),
        str(bad),
    )
    plain = Venv(venv_.root.parent / "plain").run("-m", "pip", "install", "--no-deps", str(bad))
    assert done.returncode == plain.returncode != 0
    assert "Traceback" not in done.stderr
    doc = json.loads(journal.read_text())
    assert doc["outcome"] == "failed"
    assert [d["name"] for d in doc["installed"]] == ["good"]
    assert str(venv_.site.resolve()) in {d["path"] for d in doc["directories"]}


def test_a_wheel_pip_failed_half_way_is_journaled_as_partial(venv_: Venv, wheel_dir: Path) -> None:
    half = build_wheel(
        wheel_dir, "half", "1.0", {"half/a.py": "A = 1\n"}, console_scripts={"half": "nocolon"}
    )
    journal = venv_.root / "j.json"
    done = venv_.pipguard(
        "install", "--no-deps", "--on-conflict", "warn", "--journal", str(journal), str(half)
    )
    assert done.returncode != 0
    assert "0 of 1 distributions were installed" in done.stderr
    doc = json.loads(journal.read_text())
    assert doc["installed"] == []
    (partial,) = doc["partial"]
    assert (partial["name"], partial["version"]) == ("half", "1.0")
    assert "half/a.py" in partial["files"]
    assert all((venv_.site / f).exists() for f in partial["files"])  # really there


# After pip writes a wheel: say so in a marker file, then keep pip busy for the interrupt.
SLOW = """
_ACTIVE = bool(os.environ.get("PIPGUARD_TEST_SLOW"))


def _before():
    return None


def _after(_):
    open(os.environ["PIPGUARD_TEST_SLOW"], "w").close()
    time.sleep(30)
"""


def test_ctrl_c_during_the_install_exits_130_with_a_journal(venv_: Venv, wheel_dir: Path) -> None:
    import signal
    import subprocess
    import time

    add_wheel_hook(venv_.site, "_pipguard_slow", SLOW)
    first = build_wheel(wheel_dir, "first", "1.0", {"first.py": ""})
    second = build_wheel(wheel_dir, "second", "1.0", {"second.py": ""})
    marker = venv_.root / "first-written"
    journal = venv_.root / "j.json"
    env = venv_.env({"PIPGUARD_TEST_SLOW": str(marker)})
    child = subprocess.Popen(
        [
            venv_.python,
            "-m",
            "pipguard",
            "install",
            "--no-deps",
            "--journal",
            str(journal),
            str(first),
            str(second),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr
    doc = json.loads(journal.read_text())
    assert doc["outcome"] == "interrupted"
    # pip chooses the order; whichever wheel it wrote before the interrupt is journaled alone.
    (written,) = doc["installed"]
    assert written["name"] in {"first", "second"}
    assert (venv_.site / f"{written['name']}.py").exists()


def test_journal_follows_a_link_and_writes_a_fifo_straight(venv_: Venv, wheel_dir: Path) -> None:
    # `--journal /dev/stdout` in a Docker build: the device is written, never replaced.
    wheel = build_wheel(wheel_dir, "journaled", "1.0", {"journaled.py": ""})
    real = venv_.root / "real.json"
    link = venv_.root / "link.json"
    link.symlink_to(real)
    done = venv_.pipguard("install", "--no-deps", "--journal", str(link), str(wheel))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert json.loads(real.read_text())["outcome"] == "installed"
    fifo = venv_.root / "journal.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    again = venv_.pipguard(
        "install", "--no-deps", "--force-reinstall", "--journal", str(fifo), str(wheel)
    )
    reader.join(timeout=60)
    assert again.returncode == 0, again.stderr
    assert json.loads(received[0])["outcome"] == "installed"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    # /dev/stdout of a process whose output is a pipe, as in a Docker build log.
    piped = venv_.pipguard(
        "install", "--no-deps", "--force-reinstall", "--journal", "/dev/stdout", str(wheel)
    )  # pip's own lines go to stderr, as with -: stdout holds the journal alone
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["outcome"] == "installed"


# A startup hook for a test venv: pip compiles a module named slowpoint.py (after writing
# every file of its wheel, before INSTALLER and RECORD): say so in a marker file, then wait.
PAUSE_IN_COMPILE = """
import compileall, os, time

_compile_file = compileall.compile_file


def _paused(fullname, *args, **kwargs):
    if os.path.basename(str(fullname)) == "slowpoint.py" and os.environ.get("PIPGUARD_TEST_PAUSE"):
        open(os.environ["PIPGUARD_TEST_PAUSE"], "w").close()
        time.sleep(30)
    return _compile_file(fullname, *args, **kwargs)


compileall.compile_file = _paused
"""


def test_sigterm_mid_wheel_exits_143_with_a_true_journal(venv_: Venv, wheel_dir: Path) -> None:
    import signal
    import subprocess
    import time

    (venv_.site / "_pipguard_pause.py").write_text(PAUSE_IN_COMPILE)
    (venv_.site / "_pipguard_pause.pth").write_text("import _pipguard_pause\n")
    first = build_wheel(wheel_dir, "first", "1.0", {"first.py": ""})
    second = build_wheel(
        wheel_dir, "second", "1.0", {"second/__init__.py": "", "second/slowpoint.py": "S = 1\n"}
    )
    marker = venv_.root / "paused"
    journal = venv_.root / "j.json"
    # The hook's own bytecode is written at the first start (where bytecode is written at all).
    assert venv_.run("-c", "pass").returncode == 0
    before = {p for p in venv_.site.rglob("*") if p.is_file()}
    child = subprocess.Popen(
        [venv_.python, "-m", "pipguard", "install", "--no-deps", "--journal", str(journal),
         str(first), str(second)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=venv_.env({"PIPGUARD_TEST_PAUSE": str(marker)}),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGTERM)  # what docker stop, a cancelled CI job and timeout send
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert "pipguard: interrupted (SIGTERM) part-way" in stderr.strip().splitlines()[-1]
    doc = json.loads(journal.read_text())
    assert doc["outcome"] == "interrupted"
    # pip chooses the order: first may be in; second is not, and its files are on disk.
    assert [d["name"] for d in doc["installed"]] in ([], ["first"])
    (partial,) = doc["partial"]
    assert partial["name"] == "second"
    finished = {f for d in doc["installed"] for f in d["files"]}
    on_disk = {
        str(p.relative_to(venv_.site))
        for p in venv_.site.rglob("*")
        if p.is_file() and p not in before
    }
    assert set(partial["files"]) == on_disk - finished
    assert "second/slowpoint.py" in partial["files"]


def test_a_large_clash_is_stopped_without_hashing_the_wheel_and_says_what_it_reads(
    venv_: Venv, wheel_dir: Path
) -> None:
    # Under prevent a clash of other bytes stops whatever they are: the members are not read.
    # An install that goes ahead (warn) reads every contested member first, and says so.
    files = {f"big/m{n}.py": f"A = {n}\n" for n in range(600)}
    venv_.pip_install(build_wheel(wheel_dir / "a", "big-a", "1.0", files))
    other = {path: text.replace("A", "B") for path, text in files.items()}
    fork = build_wheel(wheel_dir / "b", "big-b", "1.0", other)
    stopped = venv_.pipguard("install", "--no-deps", str(fork))
    assert stopped.returncode == 1, stopped.stderr
    assert "600 files would be overwritten" in stopped.stderr
    assert "pipguard: reading" not in stopped.stderr
    warned = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(fork))
    assert warned.returncode == 0, warned.stderr
    assert "pipguard: reading 600 files of the wheels that other distributions list too" in (
        warned.stderr
    )
