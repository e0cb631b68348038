"""``pipguard check`` against real venvs filled by real pip with wheels built here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wheels import Venv, _outer_site_dirs, build_wheel, outer_path, record_hash, script_pair

pytestmark = pytest.mark.integration

JWT_OLD = "# jwt 1.3.1\n"
PYJWT = "# PyJWT 2.9.0\n"


def check_json(venv: Venv, *args: str) -> tuple[int, dict]:
    done = venv.pipguard("check", "--format", "json", *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def layer_paths(venv: Venv) -> list[str]:
    """The site directories a test venv imports from, in sys.path order.

    PYTHONPATH (the test run's directories holding distributions) comes before the venv's own.
    """
    outer = dict.fromkeys(
        os.path.realpath(d) for d in _outer_site_dirs() if any(Path(d).glob("*.dist-info"))
    )
    return [*(d for d in outer if d != str(venv.site.resolve())), str(venv.site.resolve())]


def clashing_pair(wheel_dir: Path) -> tuple[Path, Path]:
    jwt = build_wheel(
        wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": JWT_OLD, "jwt/old.py": "x=1\n"}
    )
    pyjwt = build_wheel(
        wheel_dir, "PyJWT", "2.9.0", {"jwt/__init__.py": PYJWT, "jwt/api_jwt.py": "y=2\n"}
    )
    return jwt, pyjwt


def test_clean_fresh_venv_exits_0(venv_: Venv) -> None:
    code, doc = check_json(venv_)
    assert code == 0
    assert doc["version"] == 1
    assert doc["conflicts"] == []
    assert doc["problems"] == []
    assert doc["managed"] == []
    assert doc["environment"]["paths"] == layer_paths(venv_)
    assert set(doc) == {
        "version",
        "environment",
        "distributions",
        "files",
        "managed",
        "conflicts",
        "modified",
        "missing",
        "unowned",
        "dependencies",
        "startup",
        "problems",
    }
    assert doc["unowned"] == []


@pytest.mark.parametrize("order", ["jwt-first", "pyjwt-first"])
def test_differing_clash_names_the_winner_in_either_order(
    venv_: Venv, wheel_dir: Path, order: str
) -> None:
    jwt, pyjwt = clashing_pair(wheel_dir)
    first, second = (jwt, pyjwt) if order == "jwt-first" else (pyjwt, jwt)
    venv_.pip_install(first)
    venv_.pip_install(second)
    code, doc = check_json(venv_)
    assert code == 1
    (clash,) = doc["conflicts"]
    assert clash["path"] == "jwt/__init__.py"
    assert clash["kind"] == "differing"
    expected_winner = "pyjwt" if order == "jwt-first" else "jwt"
    assert clash["winner"] == expected_winner
    owners = {o["name"]: o for o in clash["owners"]}
    assert owners["jwt"]["version"] == "1.3.1"
    assert owners["pyjwt"]["hash"] == record_hash(PYJWT.encode())
    assert owners[expected_winner]["matches_disk"] is True
    assert [o["matches_disk"] for o in owners.values()].count(True) == 1


def test_table_at_80_columns_names_the_clash(venv_: Venv, wheel_dir: Path) -> None:
    jwt, pyjwt = clashing_pair(wheel_dir)
    venv_.pip_install(jwt)
    venv_.pip_install(pyjwt)
    done = venv_.pipguard("check")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "jwt/__init__.py" in done.stdout
    assert "pyjwt 2.9.0 (on disk)" in done.stdout
    assert "jwt 1.3.1 (lost)" in done.stdout
    assert "jwt lost to pyjwt" in done.stdout
    # The way out names pipguard's removal: pip uninstall jwt would delete pyjwt's jwt/.
    words = " ".join(done.stdout.split())
    assert "pipguard uninstall --on-conflict warn jwt" in words
    assert "pip uninstall" not in words
    assert "\x1b[" not in done.stdout  # NO_COLOR, and no TTY
    assert "1 differing clash" in done.stderr


def test_identical_namespace_init_is_harmless(venv_: Venv, wheel_dir: Path) -> None:
    ns = "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    a = build_wheel(
        wheel_dir,
        "backports.zoneinfo-x",
        "1.0",
        {"backports/__init__.py": ns, "backports/zoneinfo_x.py": "a=1\n"},
    )
    b = build_wheel(
        wheel_dir,
        "backports.tarfile-x",
        "1.0",
        {"backports/__init__.py": ns, "backports/tarfile_x.py": "b=1\n"},
    )
    venv_.pip_install(a, b)
    code, doc = check_json(venv_)
    assert code == 0
    (clash,) = doc["conflicts"]
    assert clash["kind"] == "identical"
    assert clash["path"] == "backports/__init__.py"
    assert [o["matches_disk"] for o in clash["owners"]] == [None, None]  # not hashed
    _, verified = check_json(venv_, "--verify")
    assert [o["matches_disk"] for o in verified["conflicts"][0]["owners"]] == [True, True]
    table = venv_.pipguard("check")
    assert table.returncode == 0
    assert "backports" not in table.stdout  # hidden unless --verbose
    assert "1 identical overlap (harmless)" in table.stderr
    verbose = venv_.pipguard("check", "--verbose").stdout
    assert "backports/__init__.py" in verbose
    assert "backports-tarfile-x 1.0 (same hash)" in verbose
    assert venv_.pipguard("check", "--strict").returncode == 1


def test_default_check_hashes_only_the_files_of_real_clashes(
    venv_: Venv, wheel_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Identical overlaps are judged by their RECORD hashes: only differing files are read.
    from pipguard.check import run_check
    from pipguard.disk import Disk as DiskHasher
    from pipguard.environment import describe_paths

    ns = "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    pair = [
        build_wheel(wheel_dir, n, "1.0", {"ns/__init__.py": ns, f"ns/{n}.py": ""}) for n in "ab"
    ]
    venv_.pip_install(*clashing_pair(wheel_dir), *pair)
    hashed: list[str] = []
    real_hash = DiskHasher._hash

    def counting(self: DiskHasher, path: str, algorithm: str) -> str | None:
        hashed.append(path)
        return real_hash(self, path, algorithm)

    monkeypatch.setattr(DiskHasher, "_hash", counting)
    result = run_check(describe_paths([str(venv_.site)]))
    assert sorted(clash.kind for clash in result.clashes) == ["differing", "identical"]
    site = str(venv_.site.resolve()).replace(os.sep, "/")
    assert hashed == [f"{site}/jwt/__init__.py"]
    hashed.clear()
    run_check(describe_paths([str(venv_.site)]), full_verify=True)
    assert f"{site}/ns/__init__.py" in hashed


def test_pyc_rows_never_clash_on_their_own(venv_: Venv, wheel_dir: Path) -> None:
    ns = "x = 1\n"
    # Same source bytes: pip compiles both into the same __pycache__ file, listed by both RECORDs.
    a = build_wheel(wheel_dir, "aaa", "1.0", {"shared/__init__.py": ns, "shared/a.py": "a=1\n"})
    b = build_wheel(wheel_dir, "bbb", "1.0", {"shared/__init__.py": ns, "shared/b.py": "b=1\n"})
    venv_.pip_install(a, b)
    record = next(venv_.site.glob("aaa-1.0.dist-info")) / "RECORD"
    assert "__pycache__/__init__" in record.read_text()  # the premise: pip listed the pyc
    code, doc = check_json(venv_)
    assert code == 0
    assert [c["path"] for c in doc["conflicts"]] == ["shared/__init__.py"]


def test_console_script_clash_under_bin(venv_: Venv, wheel_dir: Path) -> None:
    a, b = script_pair(wheel_dir)
    venv_.pip_install(a)
    venv_.pip_install(b)
    code, doc = check_json(venv_)
    assert code == 1
    (clash,) = doc["conflicts"]
    assert clash["path"].endswith("/bin/tool")
    assert clash["path"].startswith("../")
    assert clash["winner"] == "tool-b"


def test_case_only_clash(venv_: Venv, wheel_dir: Path) -> None:
    a = build_wheel(wheel_dir, "upper", "1.0", {"Foo/__init__.py": "A = 1\n"})
    b = build_wheel(wheel_dir, "lower", "1.0", {"foo/__init__.py": "a = 1\n"})
    venv_.pip_install(a, b)
    code, doc = check_json(venv_)
    (clash,) = doc["conflicts"]
    assert clash["kind"] == "case"
    assert {o["path"].rsplit("/", 2)[-2] for o in clash["owners"]} == {"Foo", "foo"}
    # Two files on Linux: a warning here, a failure where the filesystem folds case.
    assert code == (1 if sys.platform in ("darwin", "win32") else 0)
    assert check_json(venv_, "--strict")[0] == 1


def test_distribution_without_record_is_a_problem(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(build_wheel(wheel_dir, "norecord", "1.0", {"norecord.py": "x=1\n"}))
    (venv_.site / "norecord-1.0.dist-info" / "RECORD").unlink()
    code, doc = check_json(venv_)
    assert code == 1
    (problem,) = doc["problems"]
    assert problem["distribution"] == "norecord"
    assert problem["path"].endswith("norecord-1.0.dist-info/RECORD")
    assert "ownership unknown" in problem["message"]


def test_target_directory_via_path(venv_: Venv, wheel_dir: Path, tmp_path: Path) -> None:
    jwt, pyjwt = clashing_pair(wheel_dir)
    target = tmp_path / "target"
    venv_.pip_install(jwt, extra=["--target", str(target)])
    venv_.pip_install(pyjwt, extra=["--target", str(target), "--upgrade"])
    done = venv_.pipguard("check", "--format", "json", "--path", str(target))
    doc = json.loads(done.stdout)
    assert doc["environment"]["paths"] == [str(target.resolve())]
    (clash,) = doc["conflicts"]
    assert clash["path"] == "jwt/__init__.py"
    assert clash["winner"] == "pyjwt"
    assert done.returncode == 1
    # pip cannot uninstall from a directory: the advice must not name commands that cannot.
    words = " ".join(venv_.pipguard("check", "--path", str(target)).stdout.split())
    assert "jwt lost to pyjwt" in words
    assert "install again into an empty one without jwt" in words
    assert "pipguard uninstall" not in words


def test_another_interpreter_via_python(tmp_path: Path, wheel_dir: Path) -> None:
    inner = Venv(tmp_path / "inner")
    jwt, pyjwt = clashing_pair(wheel_dir)
    inner.pip_install(jwt)
    inner.pip_install(pyjwt)
    # Run pipguard from the test environment's interpreter, aimed at the venv's.
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "check", "--format", "json", "--python", inner.python],
        capture_output=True,
        text=True,
        check=False,
    )
    doc = json.loads(done.stdout)
    assert doc["environment"]["python"] == inner.python
    # Run without the tests' PYTHONPATH: the venv's own site-packages alone.
    assert doc["environment"]["paths"] == [str(inner.site.resolve())]
    assert [c["winner"] for c in doc["conflicts"]] == ["pyjwt"]
    assert done.returncode == 1


def test_verify_lists_modified_and_missing(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(
        build_wheel(
            wheel_dir, "solo", "1.0", {"solo/__init__.py": "a=1\n", "solo/gone.py": "b=2\n"}
        )
    )
    (venv_.site / "solo" / "__init__.py").write_text("tampered\n")
    (venv_.site / "solo" / "gone.py").unlink()
    # The default check lists directories, reads no file: it sees what is gone, not changed.
    code, doc = check_json(venv_)
    assert code == 1
    assert doc["modified"] == []
    assert doc["missing"] == [{"path": "solo/gone.py", "owner": "solo"}]
    code, doc = check_json(venv_, "--verify")
    assert code == 1
    assert doc["modified"] == [{"path": "solo/__init__.py", "owner": "solo"}]
    assert doc["missing"] == [{"path": "solo/gone.py", "owner": "solo"}]


def test_owner_of_file_and_module(venv_: Venv, wheel_dir: Path) -> None:
    jwt, pyjwt = clashing_pair(wheel_dir)
    venv_.pip_install(jwt)
    venv_.pip_install(pyjwt)
    done = venv_.pipguard("owner", "jwt")
    assert done.returncode == 0
    assert done.stdout.strip() == (
        "import jwt gives jwt/__init__.py, which jwt 1.3.1 and pyjwt 2.9.0 all list "
        "(pipguard check: whose copy is on disk)"
    )
    by_file = venv_.pipguard("owner", "jwt/api_jwt.py")
    assert by_file.stdout.strip().endswith("jwt/api_jwt.py: pyjwt 2.9.0")
    assert venv_.pipguard("owner", "nothing_here").returncode == 1


def test_owner_of_a_script_as_the_tables_show_it(venv_: Venv, wheel_dir: Path) -> None:
    tool_a, _ = script_pair(wheel_dir)
    venv_.pip_install(tool_a)
    done = venv_.pipguard("owner", "bin/tool", cwd=wheel_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("/bin/tool: tool-a 1.0")


def test_bad_python_is_one_line(venv_: Venv) -> None:
    done = venv_.pipguard("check", "--python", "/nonexistent/python")
    assert done.returncode == 2
    assert done.stderr.strip() == "pipguard: error: /nonexistent/python: no such interpreter"
    assert shutil.which("python3") is not None


def test_project_finds_dot_venv(tmp_path: Path, wheel_dir: Path) -> None:
    project = tmp_path / "project"
    inner = Venv(project / ".venv")
    jwt, pyjwt = clashing_pair(wheel_dir)
    inner.pip_install(jwt)
    inner.pip_install(pyjwt)
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "check", "--project", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["environment"]["python"] == inner.python
    elsewhere = subprocess.run(
        [sys.executable, "-m", "pipguard", "check", "--project"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PIPGUARD_PYTHON"},
    )
    assert elsewhere.returncode == 2
    assert "no .venv or venv here" in elsewhere.stderr


def test_default_check_compares_the_tree_with_the_records(venv_: Venv, wheel_dir: Path) -> None:
    files = {f"pkg/a{n}/b/c/m{k}.py": f"V = {n}{k}\n" for n in range(3) for k in range(3)}
    files.update({"pkg/__init__.py": "", "pkg/a0/b/c/__pycache__/x.cpython-311.pyc": b"\0" * 16})
    venv_.pip_install(build_wheel(wheel_dir, "deep", "1.0", files))
    # Damage as a bad uninstall leaves it: a whole directory and one more file gone; bytecode
    # stripped as slim images do (never missing); leftovers of a killed install.
    shutil.rmtree(venv_.site / "pkg" / "a1")
    (venv_.site / "pkg" / "a2" / "b" / "c" / "m0.py").unlink()
    for cache in venv_.site.glob("pkg/**/__pycache__"):
        shutil.rmtree(cache)
    (venv_.site / "pkg" / "a0" / "stray.py").write_text("")
    half = venv_.site / "halfpkg" / "sub"
    half.mkdir(parents=True)
    for n in range(5):
        (half / f"f{n}.py").write_text("")
    code, doc = check_json(venv_)
    assert code == 1
    assert doc["missing"] == [
        {"path": path, "owner": "deep"}
        for path in ["pkg/a1/b/c/m0.py", "pkg/a1/b/c/m1.py", "pkg/a1/b/c/m2.py", "pkg/a2/b/c/m0.py"]
    ]
    assert {"path": "pkg/a0/stray.py", "files": 1} in doc["unowned"]
    assert {"path": "halfpkg", "files": 5} in doc["unowned"]
    table = venv_.pipguard("check")
    assert "pkg/a1/b/c/m0.py" in table.stdout
    assert "halfpkg" in table.stdout
    assert "4 missing" in table.stderr
    # Unowned entries alone fail only --strict.
    for leftover in ("pkg/a0/stray.py",):
        (venv_.site / leftover).unlink()
    shutil.rmtree(venv_.site / "deep-1.0.dist-info")
    code, doc = check_json(venv_)
    assert doc["missing"] == []
    assert code == 0, doc
    assert check_json(venv_, "--strict")[0] == 1


def test_a_renamed_file_is_missing_and_unowned_at_once(venv_: Venv, wheel_dir: Path) -> None:
    # The directory holds as many entries as its RECORD rows: counting alone would call it whole.
    files = {f"ren/m{k}.py": f"V = {k}\n" for k in range(3)}
    venv_.pip_install(build_wheel(wheel_dir, "ren", "1.0", files))
    (venv_.site / "ren" / "m1.py").rename(venv_.site / "ren" / "m1_old.py")
    code, doc = check_json(venv_)
    assert code == 1
    assert doc["missing"] == [{"path": "ren/m1.py", "owner": "ren"}]
    assert doc["unowned"] == [{"path": "ren/m1_old.py", "files": 1}]


def test_an_unlistable_directory_is_unreadable_not_missing(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(build_wheel(wheel_dir, "shut", "1.0", {"shut/inner/m.py": "x = 1\n"}))
    command = [venv_.python, "-m", "pipguard", "check", "--format", "json"]
    if os.geteuid() == 0:
        # Root reads a mode-000 directory anyway: drop the permission override, as a user has none.
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *command]
    inner = venv_.site / "shut" / "inner"
    inner.chmod(0)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": outer_path()},
        )
    finally:
        inner.chmod(0o755)
    doc = json.loads(done.stdout)
    assert doc["missing"] == []
    problems = [p for p in doc["problems"] if p["path"].endswith("shut/inner")]
    assert [p["message"] for p in problems] == ["cannot be listed: Permission denied"]
    assert done.returncode == 1
