"""The command line as a person meets it, in real venvs: help, version, typos, GitHub
annotations, and output sized for a terminal or a build log."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from wheels import Venv, build_wheel

pytestmark = pytest.mark.integration

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One venv for the tests that only ask pipguard about itself."""
    return Venv(tmp_path_factory.mktemp("plain") / "venv")


def shared_pair(wheel_dir: Path, differing: int = 3, identical: int = 76) -> tuple[Path, Path]:
    """alpha and beta sharing ``big/``: some files with other bytes, most the same."""
    same = {f"big/m{i:02}.py": f"x = {i}\n" for i in range(identical)}
    alpha = {**same, **{f"big/d{i:02}.py": "WHO = 'alpha'\n" for i in range(differing)}}
    beta = {**same, **{f"big/d{i:02}.py": "WHO = 'beta'\n" for i in range(differing)}}
    return (
        build_wheel(wheel_dir, "alpha", "1.0", alpha),
        build_wheel(wheel_dir, "beta", "2.0", beta),
    )


@pytest.fixture
def shared(venv_: Venv, wheel_dir: Path) -> Venv:
    """alpha, then beta installed by plain pip: 3 files differ (beta's on disk), 76 identical."""
    alpha, beta = shared_pair(wheel_dir)
    venv_.pip_install(alpha)
    venv_.pip_install(beta)
    return venv_


# Help and version.


def test_help_lists_pipguards_commands_then_pips(plain: Venv) -> None:
    done = plain.pipguard("help")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("pipguard's commands:") < out.index("pip's commands")
    for command in ("check", "owner", "install", "uninstall", "repair"):
        assert re.search(rf"^  {command} +\S", out, re.MULTILINE), command
    assert re.search(r"^  freeze +Output installed packages", out, re.MULTILINE)
    assert plain.pipguard("--help").stdout == out


@pytest.mark.parametrize(
    ("args", "own", "pips"),
    [
        (("help", "check"), "--format {table,json,github}", None),
        (("check", "--help"), "--format {table,json,github}", None),
        (("help", "install"), "--on-conflict {prevent,warn,ignore}", "Install packages"),
        (("install", "--help"), "--on-conflict {prevent,warn,ignore}", "Install packages"),
        (("uninstall", "--help"), "--on-conflict {prevent,warn}", "Uninstall packages"),
        (("help", "uninstall"), "--on-conflict {prevent,warn}", "Uninstall packages"),
        (("repair", "--help"), "-v, --verbose  name every file restored", "Install packages"),
        (("help", "repair"), "-v, --verbose  name every file restored", "Install packages"),
    ],
)
def test_each_command_explains_itself(
    plain: Venv, args: tuple[str, ...], own: str, pips: str | None
) -> None:
    done = plain.pipguard(*args)
    assert done.returncode == 0, done.stderr
    assert own in done.stdout
    assert "Traceback" not in done.stderr
    if pips is not None:
        # pipguard's options first, then pip's own help of the command it wraps.
        assert done.stdout.index(own) < done.stdout.index(pips)
        assert "--no-color" in done.stdout  # one of pip's general options


def test_help_of_a_pip_command_is_pips(plain: Venv) -> None:
    done = plain.pipguard("help", "freeze")
    assert done.returncode == 0, done.stderr
    assert "Output installed packages in requirements format." in done.stdout


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_names_pipguard_pip_and_python(plain: Venv, flag: str) -> None:
    done = plain.pipguard(flag)
    assert done.returncode == 0, done.stderr
    pip_version = plain.run("-c", "import pip; print(pip.__version__)").stdout.strip()
    python = plain.run("-c", "import platform; print(platform.python_version())").stdout.strip()
    assert done.stdout == f"pipguard 0.1.0 (pip {pip_version}, Python {python})\n"


@pytest.mark.parametrize(
    ("args", "meant"),
    [
        (("instal", "jwt"), "install"),
        (("chekc",), "check"),
        (("--cache-dir", "/tmp", "frezze"), "freeze"),
        (("help", "uninstal"), "uninstall"),
    ],
)
def test_a_mistyped_command_suggests_the_nearest(
    plain: Venv, args: tuple[str, ...], meant: str
) -> None:
    done = plain.pipguard(*args)
    assert done.returncode == 2
    assert f'maybe you meant "{meant}"' in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


# check --format github.


def test_github_format_one_error_per_differing_file(shared: Venv) -> None:
    done = shared.pipguard("check", "--format", "github")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3  # the 76 identical overlaps pass without --verbose
    for number, line in enumerate(lines):
        path = shared.site / "big" / f"d{number:02}.py"
        assert line.startswith(f"::error file={path},title=pipguard PG101%3A differing::")
        assert f"big/d{number:02}.py: differing: alpha 1.0 (lost); beta 2.0 (on disk)" in line
    assert done.stderr.startswith("pipguard: ")
    assert "3 differing clashes, 76 identical overlaps (harmless)" in done.stderr
    verbose = shared.pipguard("check", "--format", "github", "--verbose").stdout.splitlines()
    assert len(verbose) == 79
    assert sum(line.startswith("::warning ") for line in verbose) == 76
    strict = shared.pipguard("check", "--format", "github", "--strict").stdout.splitlines()
    assert sum(line.startswith("::error ") for line in strict) == 79


def test_github_format_of_a_clean_environment_prints_nothing_and_exits_0(venv_: Venv) -> None:
    done = venv_.pipguard("check", "--format", "github")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "0 differing clashes" in done.stderr


# Output sized for a person.


def test_check_collapses_identical_overlaps_but_json_lists_them(shared: Venv) -> None:
    table = shared.pipguard("check")
    assert table.returncode == 1
    assert "76 more files are identical" in table.stdout
    assert "big/m05.py" not in table.stdout
    assert table.stdout.count("(lost)") == 3
    full = shared.pipguard("check", "--verbose").stdout
    assert "big/m75.py" in full
    assert "more files" not in full
    doc = json.loads(shared.pipguard("check", "--format", "json").stdout)
    assert len(doc["conflicts"]) == 79


def piped_check(venv: Venv, **env: str) -> str:
    """``pipguard check`` as a Docker build runs it: no terminal, COLUMNS as given."""
    full = venv.env(env)
    if "COLUMNS" not in env:
        full.pop("COLUMNS")
    done = subprocess.run(
        [venv.python, "-m", "pipguard", "check"],
        capture_output=True,
        text=True,
        env=full,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    return done.stdout


@pytest.mark.parametrize(("columns", "width"), [(None, 80), ("", 80), ("120", 120)])
def test_piped_tables_have_one_width_and_no_trailing_spaces(
    shared: Venv, columns: str | None, width: int
) -> None:
    text = piped_check(shared, **({} if columns is None else {"COLUMNS": columns}))
    lines = text.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    assert {len(line) for line in lines if "─" in line} == {width - 1}
    assert max(len(line) for line in lines) <= width


def test_colours_follow_no_color_and_force_color(shared: Venv) -> None:
    forced = piped_check(shared, FORCE_COLOR="1", NO_COLOR="")
    assert ANSI.search(forced)
    assert all(ANSI.sub("", line) == ANSI.sub("", line).rstrip() for line in forced.splitlines())
    assert not ANSI.search(piped_check(shared))  # NO_COLOR=1, as Venv runs everything


def test_uninstall_refusal_collapses_the_identical_shared_files(shared: Venv) -> None:
    before = sorted(p.name for p in shared.site.rglob("*"))
    done = shared.pipguard("uninstall", "-y", "alpha")
    assert done.returncode == 1
    assert "76 more files are identical" in done.stderr
    assert done.stderr.count("big/d0") == 3
    assert "big/m05.py" not in done.stderr
    assert "79 files of alpha are still listed by beta" in done.stderr
    assert "--verbose lists every file" in done.stderr
    assert [line for line in done.stderr.splitlines() if line != line.rstrip()] == []
    full = shared.pipguard("uninstall", "-y", "--verbose", "alpha")
    assert full.returncode == 1
    assert "big/m75.py" in full.stderr
    assert "more files" not in full.stderr
    assert sorted(p.name for p in shared.site.rglob("*")) == before


def test_repair_says_one_line_and_each_file_only_when_verbose(
    shared: Venv, wheel_dir: Path
) -> None:
    index = ("--no-index", "--find-links", str(wheel_dir))
    done = shared.pipguard("repair", "alpha", *index)
    assert done.returncode == 0, done.stderr
    assert "pipguard: 3 files restored to alpha's copy (--verbose names each)" in done.stderr
    assert "pipguard: repaired" not in done.stderr
    # pip wrote beta's copies back: repair alpha again, naming each file.
    shared.pip_install(*sorted(wheel_dir.glob("beta-*.whl")), extra=["--force-reinstall"])
    verbose = shared.pipguard("repair", "--verbose", "alpha", *index)
    assert verbose.returncode == 0, verbose.stderr
    repaired = [line for line in verbose.stderr.splitlines() if "pipguard: repaired" in line]
    assert [os.path.basename(line) for line in repaired] == ["d00.py", "d01.py", "d02.py"]
    assert "pipguard: 3 files restored to alpha's copy\n" in verbose.stderr
