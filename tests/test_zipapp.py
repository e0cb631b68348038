"""``pipguard zipapp``: one .pyz, run under venvs that have no pipguard, leaving nothing behind."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import pipguard
from pipguard.zipapp import (
    DISTRIBUTION,
    BuildError,
    DistFacts,
    plan_bundle,
    sort_files,
    supported_pythons,
)

from wheels import build_wheel, record_hash

ROOT = Path(__file__).resolve().parent.parent
WINDOW = supported_pythons(">=3.10", "3.11.7")


# Unit tests: the plan is a pure function of plain data.


def facts(
    name: str, requires: tuple[str, ...] = (), python: str | None = None, version: str = "1.0"
) -> DistFacts:
    return DistFacts(name, version, requires, python, (f"{name}/__init__.py",), "/site")


def test_distribution_name_is_the_one_in_pyproject() -> None:
    project = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^name = "([^"]+)"$', project, re.M).group(1) == DISTRIBUTION  # type: ignore[union-attr]
    # One version string, pipguard.__version__: the installed metadata is read from it.
    assert re.search(r'^version = "', project, re.M) is None
    assert metadata.version(DISTRIBUTION) == pipguard.__version__


def test_plan_follows_markers_for_every_python_and_leaves_out_pip() -> None:
    installed = {
        "rich": facts("rich", ("markdown-it-py>=2", "ipywidgets; extra == 'jupyter'"), None, "15"),
        "markdown-it-py": facts("markdown-it-py", ("mdurl~=0.1",), ">=3.10", "4.3"),
        "mdurl": facts("mdurl", version="0.1.2"),
    }
    root = facts("pip-clobber-guard", ("pip>=23.2", "rich>=13", "pytest; extra == 'test'"))
    bundle = plan_bundle(root, installed.get, WINDOW, "3.11.7")
    assert [d.name for d in bundle.bundled] == [
        "markdown-it-py",
        "mdurl",
        "pip-clobber-guard",
        "rich",
    ]
    assert bundle.left_out == ()
    assert bundle.pythons == WINDOW


def test_a_dependency_only_older_pythons_need_is_left_out_and_narrows_the_range() -> None:
    root = facts("pip-clobber-guard", ("tomli>=1.1; python_version < '3.11'",))
    bundle = plan_bundle(root, {}.get, WINDOW, "3.12.1")
    assert [lo.name for lo in bundle.left_out] == ["tomli"]
    assert bundle.left_out[0].needed_on == ("3.10",)
    assert bundle.pythons[0] == "3.11"
    installed = {"tomli": facts("tomli", version="2.2.1")}
    assert plan_bundle(root, installed.get, WINDOW, "3.12.1").pythons[0] == "3.10"


def test_requires_python_of_a_bundled_distribution_narrows_the_range() -> None:
    root = facts("pip-clobber-guard", ("packaging",))
    bundle = plan_bundle(
        root, {"packaging": facts("packaging", python=">=3.12")}.get, WINDOW, "3.13.0"
    )
    assert bundle.pythons[0] == "3.12"


def test_a_dependency_this_python_needs_must_be_installed_at_a_fitting_version() -> None:
    root = facts("pip-clobber-guard", ("rich>=13",))
    with pytest.raises(BuildError, match="rich"):
        plan_bundle(root, {}.get, WINDOW, "3.11.7")
    with pytest.raises(BuildError, match=r"rich>=13.*12\.0"):
        plan_bundle(root, {"rich": facts("rich", version="12.0")}.get, WINDOW, "3.11.7")


def test_sort_files_keeps_sources_and_licenses_only() -> None:
    keep, compiled, licenses = sort_files(
        [
            "tomli/__init__.py",
            "tomli/_parser.py",
            "tomli/_parser.cpython-311-x86_64-linux-gnu.so",
            "tomli/__pycache__/_parser.cpython-311.pyc",
            "tomli/py.typed",
            "tomli-2.2.1.dist-info/RECORD",
            "tomli-2.2.1.dist-info/licenses/LICENSE",
            "../../../bin/tool",
            "distutils-precedence.pth",
        ]
    )
    assert keep == ["tomli/__init__.py", "tomli/_parser.py", "tomli/py.typed"]
    assert compiled == ["tomli/_parser.cpython-311-x86_64-linux-gnu.so"]
    assert licenses == ["tomli-2.2.1.dist-info/licenses/LICENSE"]


# Integration: the archive built from this environment, run in venvs without pipguard.

integration = pytest.mark.integration


def pip_template(directory: Path) -> BareVenv:
    """A venv holding the pip under test, installed by pip from a wheel of its own files.

    The environment's own RECORD of pip is not copied: a pip seeded by virtualenv lists
    bytecode and directories that are not there. Installed, pip is compiled and its RECORD
    lists what is on disk, as in a venv a user made.
    """
    import pip

    template = BareVenv(directory / "template")
    package = Path(pip.__file__).parent
    files = {
        path.relative_to(package.parent).as_posix(): path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    main = "pip._internal.cli.main:main"
    scripts = {name: main for name in ("pip", "pip3", f"pip3.{sys.version_info[1]}")}
    wheel = build_wheel(directory / "wheel", "pip", pip.__version__, files, console_scripts=scripts)
    install = ["install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", template.python, *install],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return template


class BareVenv:
    """A real venv that cannot import pipguard; with ``pip``, a copy of that template's pip."""

    def __init__(
        self, root: Path, python: str = sys.executable, pip: BareVenv | None = None
    ) -> None:
        subprocess.run([python, "-m", "venv", "--without-pip", str(root)], check=True)
        self.root = root
        self.python = str(root / "bin" / "python")
        self.home = root.parent / f"{root.name}-home"
        self.home.mkdir()
        found = self.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        self.site = Path(found.stdout.strip())
        if pip is not None:
            shutil.copytree(pip.site, self.site, dirs_exist_ok=True)
            for script in (pip.root / "bin").glob("pip*"):
                shutil.copy2(script, root / "bin" / script.name)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run this venv's interpreter with a home of its own, no index and no pip cache."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PIPGUARD_", "PYTHON", "VIRTUAL_ENV", "XDG_"))
        }
        env.update(
            HOME=str(self.home),
            PIP_NO_INDEX="1",
            PIP_NO_CACHE_DIR="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            NO_COLOR="1",
            COLUMNS="80",
        )
        return subprocess.run(
            [self.python, *args], capture_output=True, text=True, env=env, check=False, timeout=300
        )


def files_below(root: Path) -> dict[str, str]:
    """Every file below ``root`` and a digest of its bytes."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def pip_copy(tmp_path_factory: pytest.TempPathFactory) -> BareVenv:
    return pip_template(tmp_path_factory.mktemp("pip"))


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("pyz") / "pipguard.pyz"
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "zipapp", "-o", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pipguard: wrote" in done.stderr
    return output


def manifest(pyz: Path) -> dict:
    with zipfile.ZipFile(pyz) as archive:
        return json.loads(archive.read("pipguard/_pyz.json"))


@functools.cache
def machine_pythons() -> dict[tuple[int, int], str]:
    """Every CPython 3.x this machine can run, by version: PATH's python3.X, pyenv's shims too.

    A pyenv shim answers only for the versions pyenv is told to expose: the probe names its
    own (a prefix such as ``3.12`` picks the newest 3.12.x); elsewhere the variable is ignored.
    """
    found = {sys.version_info[:2]: sys.executable}
    for minor in range(6, 30):
        exe = shutil.which(f"python3.{minor}")
        if exe is None or (3, minor) in found:
            continue
        probe = subprocess.run(
            [exe, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYENV_VERSION": f"3.{minor}"},
        )
        if probe.returncode == 0 and probe.stdout.strip():
            found[(3, minor)] = probe.stdout.strip()
    return found


@integration
def test_archive_holds_pipguard_and_its_dependencies_but_no_pip_and_no_metadata(
    pyz: Path,
) -> None:
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"__main__.py", "pipguard", "rich", "pygments", "markdown_it", "mdurl"} <= tops
    assert "pip" not in tops
    # No .dist-info: pip and importlib.metadata would take the bundled packages for installed.
    assert not [n for n in names if ".dist-info" in n or n.endswith((".pyc", ".so"))]
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert manifest(pyz)["pipguard"] == pipguard.__version__


@integration
def test_building_twice_gives_the_same_bytes(pyz: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.pyz"
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "zipapp", "-o", str(again)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == pyz.read_bytes()


@integration
def test_bad_output_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "zipapp", "-o", str(tmp_path / "no" / "x.pyz")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "no such directory" in done.stderr


@integration
def test_check_clash_install_and_pass_through_leave_nothing_of_pipguard(
    pyz: Path, pip_copy: BareVenv, tmp_path: Path
) -> None:
    venv = BareVenv(tmp_path / "venv", pip=pip_copy)
    assert "No module named 'pipguard'" in venv.run("-c", "import pipguard").stderr
    wheels = tmp_path / "wheels"
    jwt = build_wheel(wheels, "jwt", "1.3.1", {"jwt/__init__.py": "OLD = 1\n"})
    pyjwt = build_wheel(wheels, "PyJWT", "2.9.0", {"jwt/__init__.py": "NEW = 2\n"})
    before = files_below(venv.root)

    checked = venv.run(str(pyz), "check")
    assert checked.returncode == 0, checked.stderr
    assert files_below(venv.root) == before

    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{jwt}\n")
    installed = venv.run(str(pyz), "install", "--no-deps", "-r", str(requirements))
    assert installed.returncode == 0, installed.stderr
    after = files_below(venv.root)
    gained = {path for path in after if path not in before}
    assert {p for p in before if after.get(p) != before[p]} == set()
    site = venv.site.relative_to(venv.root).as_posix()
    record = (venv.site / "jwt-1.3.1.dist-info" / "RECORD").read_text()
    listed = {f"{site}/{row.split(',')[0]}" for row in record.splitlines()}
    assert gained == listed  # the install's own files, and nothing else
    assert any("__pycache__" in path for path in gained)  # pip compiled jwt: its RECORD says so

    stopped = venv.run(str(pyz), "install", "--no-deps", str(pyjwt))
    assert stopped.returncode == 1
    assert "jwt/__init__.py" in stopped.stdout + stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert files_below(venv.root) == after  # nothing written, not one file

    owner = venv.run(str(pyz), "owner", "jwt/__init__.py")
    assert owner.returncode == 0
    assert "jwt 1.3.1" in owner.stdout
    listed_by_pip = venv.run("-m", "pip", "list", "--format", "freeze")
    through = venv.run(str(pyz), "list", "--format", "freeze")
    assert through.returncode == 0
    assert through.stdout == listed_by_pip.stdout
    assert "jwt==1.3.1" in through.stdout
    assert "rich" not in through.stdout.lower()

    assert files_below(venv.root) == after
    removed = venv.run(str(pyz), "uninstall", "-y", "jwt")
    assert removed.returncode == 0, removed.stderr
    assert files_below(venv.root) == before  # as it was: nothing of pipguard's, nor of jwt
    # The home holds only what plain pip leaves there too (pip asks rustc its version, and
    # a rustup proxy writes ~/.rustup): no cache or config of pipguard's.
    control = BareVenv(tmp_path / "control", pip=pip_copy)
    assert control.run("-m", "pip", "install", "--no-deps", str(jwt)).returncode == 0
    assert {p.name for p in venv.home.iterdir()} <= {p.name for p in control.home.iterdir()}
    assert [p.name for p in pyz.parent.iterdir()] == ["pipguard.pyz"]  # no bytecode beside it


@integration
def test_check_python_runs_the_facts_script_from_inside_the_archive(
    pyz: Path, tmp_path: Path
) -> None:
    runner = BareVenv(tmp_path / "runner")
    other = BareVenv(tmp_path / "other")
    done = runner.run(str(pyz), "check", "--format", "json", "--python", other.python)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["environment"]["paths"] == [str(other.site)]


@integration
def test_facts_from_inside_the_archive_are_the_facts_of_the_file(pyz: Path, tmp_path: Path) -> None:
    other = BareVenv(tmp_path / "other")
    ask = (
        f"import sys; sys.path.insert(0, {str(pyz)!r}); "
        "import json; from pipguard import _facts, archive; "
        "print(json.dumps(archive.script_command(sys.argv[1], _facts)))"
    )
    built = subprocess.run(
        [sys.executable, "-c", ask, other.python], capture_output=True, text=True, check=True
    )
    command = json.loads(built.stdout)
    assert command[1] == "-c"
    from_archive = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path)
    from pipguard import _facts

    from_file = subprocess.run(
        [other.python, _facts.__file__], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert json.loads(from_archive.stdout) == json.loads(from_file.stdout)


@integration
def test_install_python_runs_the_archive_under_the_other_interpreter(
    pyz: Path, pip_copy: BareVenv, tmp_path: Path
) -> None:
    runner = BareVenv(tmp_path / "runner", pip=pip_copy)
    target = BareVenv(tmp_path / "target", pip=pip_copy)
    jwt = build_wheel(tmp_path / "wheels", "jwt", "1.3.1", {"jwt/__init__.py": "OLD = 1\n"})
    pyjwt = build_wheel(tmp_path / "wheels", "PyJWT", "2.9.0", {"jwt/__init__.py": "NEW = 2\n"})
    runner_before = files_below(runner.root)
    done = runner.run(str(pyz), "install", "--python", target.python, "--no-deps", str(jwt))
    assert done.returncode == 0, done.stderr
    assert (target.site / "jwt" / "__init__.py").read_text() == "OLD = 1\n"
    assert files_below(runner.root) == runner_before
    after = files_below(target.root)
    stopped = runner.run(str(pyz), "install", "--python", target.python, "--no-deps", str(pyjwt))
    assert stopped.returncode == 1, stopped.stderr
    assert files_below(target.root) == after
    assert not list(target.site.glob("pipguard*"))


@integration
@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_archive_runs_under_the_oldest_and_newest_python_here(
    pyz: Path, tmp_path: Path, which: str
) -> None:
    low = tuple(map(int, manifest(pyz)["python"]["min"].split(".")))
    usable = sorted(v for v in machine_pythons() if v >= low)
    version = usable[0] if which == "oldest" else usable[-1]
    venv = BareVenv(tmp_path / "venv", python=machine_pythons()[version])
    assert venv.run("-c", "import sys; print(sys.version_info[:2])").stdout.strip() == str(version)
    assert venv.run(str(pyz), "--version").stdout.startswith(f"pipguard {pipguard.__version__} ")
    # Two distributions that list one file with different bytes: a table drawn with rich.
    for name, data in (("jwt", b"OLD = 1\n"), ("pyjwt", b"NEW = 2\n")):
        info = venv.site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
        (info / "RECORD").write_text(
            f"jwt/__init__.py,{record_hash(data)},{len(data)}\n{info.name}/RECORD,,\n"
        )
    (venv.site / "jwt").mkdir()
    (venv.site / "jwt" / "__init__.py").write_bytes(b"NEW = 2\n")
    before = files_below(venv.root)
    done = venv.run(str(pyz), "check")
    assert done.returncode == 1, done.stderr
    assert "jwt/__init__.py" in done.stdout
    assert "Traceback" not in done.stderr
    assert files_below(venv.root) == before


@integration
def test_archive_refuses_a_python_below_its_range_in_one_line(pyz: Path, tmp_path: Path) -> None:
    low = tuple(map(int, manifest(pyz)["python"]["min"].split(".")))
    older = sorted(v for v in machine_pythons() if (3, 6) <= v < low)
    if not older:
        pytest.skip(f"no Python older than {low} on this machine")
    done = subprocess.run(
        [machine_pythons()[older[-1]], str(pyz), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "runs on Python" in done.stderr


@integration
def test_compiled_archive_uses_its_bytecode_here_and_the_sources_elsewhere(
    tmp_path: Path,
) -> None:
    compiled = tmp_path / "compiled.pyz"
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "zipapp", "--compile", "-o", str(compiled)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert manifest(compiled)["bytecode"] == here
    where = f"import sys; sys.path.insert(0, {str(compiled)!r}); import rich.console as c; "
    where += "print(c.__file__)"
    runs = [(sys.version_info[:2], sys.executable)]
    others = [v for v in machine_pythons() if v != sys.version_info[:2] and v >= (3, 10)]
    runs += [(v, machine_pythons()[v]) for v in others[-1:]]
    for version, python in runs:
        loaded = subprocess.run([python, "-c", where], capture_output=True, text=True, check=True)
        suffix = ".pyc" if version == sys.version_info[:2] else ".py"
        assert loaded.stdout.strip().endswith(f"rich/console{suffix}"), (version, loaded.stdout)
        ran = subprocess.run(
            [python, str(compiled), "--version"], capture_output=True, text=True, check=False
        )
        assert ran.stdout.startswith(f"pipguard {pipguard.__version__} "), ran.stderr
