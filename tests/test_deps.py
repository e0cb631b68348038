"""The dependency check: what pip check reports, for the target interpreter's markers."""

from __future__ import annotations

import email
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import default_environment
from packaging.requirements import Requirement

from pipguard import _facts
from pipguard.checks.deps import Dependency, Requires, _Reader, check_dependencies
from pipguard.environment import (
    describe_paths,
    describe_python,
    marker_environment,
    read_distributions,
)
from pipguard.requires import (
    _requires_dist_by_line,
    dependency_check,
    read_requires,
    requires_dist,
    requires_txt,
)

from wheels import Venv, build_wheel

LINUX_311 = {
    **default_environment(),
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
}
WINDOWS_39 = {
    **LINUX_311,
    "python_version": "3.9",
    "python_full_version": "3.9.18",
    "sys_platform": "win32",
    "platform_system": "Windows",
    "os_name": "nt",
}


def dist(name: str, version: str = "1.0", *requires: str) -> Requires:
    return Requires(name, version, requires, f"/site/{name}-{version}.dist-info/METADATA")


def check(*dists: Requires, markers: dict[str, str] = LINUX_311) -> list[Dependency]:
    findings, problems = check_dependencies(dists, markers)
    assert problems == []
    return findings


# ---- the pure check --------------------------------------------------------------------


def test_missing_requirement_is_reported_with_no_version() -> None:
    assert check(dist("app", "1.0", "lib>=1")) == [Dependency("app", "1.0", "lib>=1", None)]


def test_wrong_version_names_the_version_installed() -> None:
    findings = check(dist("app", "1.0", "Lib_Two >= 2"), dist("lib-two", "1.5"))
    assert findings == [Dependency("app", "1.0", "Lib_Two >= 2", "1.5")]


def test_a_satisfied_requirement_and_pre_releases_pass() -> None:
    assert (
        check(dist("app", "1.0", "lib>=1", "rc>=1"), dist("lib", "1.0"), dist("rc", "2.0rc1")) == []
    )


def test_marker_false_for_the_target_is_not_a_requirement() -> None:
    app = dist("app", "1.0", 'winlib; sys_platform == "win32"', 'old; python_version < "3.10"')
    assert check(app, markers=LINUX_311) == []


def test_marker_true_for_the_target_is_a_requirement() -> None:
    app = dist("app", "1.0", 'winlib; sys_platform == "win32"', 'old; python_version < "3.10"')
    assert check(app, markers=WINDOWS_39) == [
        Dependency("app", "1.0", 'old; python_version < "3.10"', None),
        Dependency("app", "1.0", 'winlib; sys_platform == "win32"', None),
    ]


def test_the_target_markers_win_over_the_running_interpreter() -> None:
    running = default_environment()["python_version"]
    app = dist("app", "1.0", f'only-here; python_version == "{running}"')
    other = {**LINUX_311, "python_version": "2.7"}
    assert check(app, markers=other) == []
    assert check(app, markers={**LINUX_311, "python_version": running}) != []


def test_extras_are_never_requested_not_even_by_another_distribution() -> None:
    # pip check evaluates every marker with extra == "": lib's "fancy" requirements are not
    # checked although app asks for lib[fancy]; app's own extras are not either.
    app = dist("app", "1.0", "lib[fancy]>=1", 'pytest; extra == "test"')
    lib = dist("lib", "1.0", 'fancy-dep; extra == "fancy"', 'plain; extra != "fancy"')
    assert check(app, lib) == [Dependency("lib", "1.0", 'plain; extra != "fancy"', None)]


def test_a_dependency_on_an_extra_is_judged_on_the_version_only() -> None:
    app = dist("app", "1.0", "lib[fancy]>=2")
    assert check(app, dist("lib", "1.0")) == [Dependency("app", "1.0", "lib[fancy]>=2", "1.0")]


def test_a_bad_requirement_string_is_a_problem_and_leaves_the_distribution_out() -> None:
    broken = dist("broken", "1.0", "fine", "foo >=")
    user = dist("user", "1.0", "broken>=1")
    findings, problems = check_dependencies([broken, user], LINUX_311)
    # As pip check: broken's requirements go unchecked ("fine" is not installed either)
    # and what requires broken finds it not installed.
    assert findings == [Dependency("user", "1.0", "broken>=1", None)]
    assert [(p.distribution, p.path) for p in problems] == [("broken", broken.source)]
    assert "'foo >='" in problems[0].message
    assert "does not parse" in problems[0].message
    assert "\n" not in problems[0].message


def test_a_marker_that_cannot_be_evaluated_is_a_problem() -> None:
    findings, problems = check_dependencies(
        [dist("odd", "1.0", 'x; python_version ~= "abc"')], LINUX_311
    )
    assert findings == []
    assert len(problems) == 1
    assert "cannot be evaluated" in problems[0].message


def test_a_version_that_is_not_pep_440_is_a_problem() -> None:
    findings, problems = check_dependencies(
        [dist("weird", "not-a-version"), dist("user", "1.0", "weird")], LINUX_311
    )
    assert findings == [Dependency("user", "1.0", "weird", None)]
    assert [p.distribution for p in problems] == ["weird"]
    assert "'not-a-version' is not PEP 440" in problems[0].message


def test_equal_requirements_are_reported_once_and_the_first_of_a_name_wins() -> None:
    app = dist("app", "1.0", "lib>=2", "lib >= 2", "LIB>=2")
    shadowed = dist("app", "9.0", "nothing-at-all")
    assert check(app, shadowed, dist("lib", "1.0")) == [Dependency("app", "1.0", "lib>=2", "1.0")]


def test_findings_are_sorted_by_distribution_then_requirement() -> None:
    findings = check(dist("zed", "1.0", "b", "a"), dist("app", "1.0", "c"))
    assert [(f.distribution, f.requirement) for f in findings] == [
        ("app", "c"),
        ("zed", "a"),
        ("zed", "b"),
    ]


def test_no_requirements_no_packaging_import(tmp_path: Path) -> None:
    info = tmp_path / "plain-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plain\nVersion: 1.0\n\n")
    code = (
        "import sys\n"
        "from pipguard.environment import describe_python, read_distributions\n"
        "from pipguard.requires import dependency_check\n"
        "env = describe_python()._replace(scan_dirs=(sys.argv[1],), roots=(sys.argv[1],))\n"
        "dists, _ = read_distributions(env)\n"
        "print(len(dists), dependency_check(env, dists))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'packaging'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == ["1 ([], [])", "[]"]


_PIECES = st.tuples(
    st.sampled_from(["a", "Foo_Bar", "x.y-z9", "a-", "-a", "a b", "é"]),
    st.sampled_from(["", "[x]", "[X_Y,z]", "[ x ]", "[]", "[x-]", "[x,]"]),
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from(
        [
            "",
            ">=1.0",
            " >= 1.0 ",
            "==1.*",
            ">=1.*",
            "<2,>=1",
            "<2 , >=1",
            ">=1,",
            "~=1",
            "~=1.0",
            "===x",
            "==1.0+local",
            "!=1!2.0",
            "(>=1)",
            "@ https://x.invalid/a.whl",
            ">=1.0.post1.dev2",
            "=>1",
            ">=",
            "==1.0 extra",
        ]
    ),
    st.sampled_from(["", ";", " ;", "; ", " ; "]),
    st.sampled_from(
        [
            "",
            "python_version > '3'",
            'extra == "Test_X"',
            "os_name=='nt' and python_version<'3.8'",
            "(sys_platform == 'linux' or python_version >= \"3.9\")",
            "bar",
            "python_version ~= 'abc'",
            'extra != "x" ',
            "platform_release >= '6'",
            "python_version >= '3' and",
        ]
    ),
)


@given(_PIECES)
def test_parsing_in_parts_agrees_with_requirement(pieces: tuple[str, ...]) -> None:
    name, extras, space, spec, semicolon, marker = pieces
    raw = f"{name}{extras}{space}{spec}{semicolon if marker else ''}{marker}"
    environment = {**LINUX_311, "extra": ""}
    assert _Reader(environment).parse(raw) == _Reader(environment).whole(raw)


# ---- reading Requires-Dist -------------------------------------------------------------


def test_requires_dist_reads_the_header_only() -> None:
    text = (
        "Metadata-Version: 2.1\r\nName: app\r\nrequires-dist: a>=1 \r\n"
        "Requires-Dist: b;\r\n  python_version > '3'\r\nSummary: x\r\n\r\n"
        "Requires-Dist: in-the-body\r\n"
    )
    assert requires_dist(text) == (["a>=1", "b;\n  python_version > '3'"], True)


def test_requires_dist_of_a_cut_header_says_it_did_not_end() -> None:
    assert requires_dist("Name: a\nRequires-Dist: b\nRequires-Dist: c", complete=False) == (
        ["b"],
        False,
    )


_LINES = st.sampled_from(
    [
        "Requires-Dist: a>=1",
        "requires-dist:b",
        "REQUIRES-DIST:\t c ; python_version > '3' ",
        "Requires-Dist :spaced",
        "  continued",
        "\tcontinued",
        " ",
        "",
        "Name: x",
        "From somebody",
        "no colon here",
        ":no name",
        "Summary: é",
    ]
)


@given(st.lists(_LINES, max_size=10), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_requires_dist_agrees_with_the_email_parser(
    lines: list[str], end: str, last_end: bool
) -> None:
    text = end.join(lines) + (end if last_end else "")
    # importlib.metadata reads METADATA with universal newlines, then parses it as email.
    message = email.message_from_string(text.replace("\r\n", "\n").replace("\r", "\n"))
    expected = [value.strip() for value in message.get_all("Requires-Dist", [])]
    assert requires_dist(text)[0] == expected
    # Line by line (the way for odd headers) agrees too, as does a header cut short.
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    assert _requires_dist_by_line(normal.split("\n"), False)[0] == expected
    for cut in range(len(text)):
        values, ended = requires_dist(text[:cut], complete=False)
        if ended:
            assert values == expected


def test_requires_txt_becomes_requirements_with_markers() -> None:
    text = (
        "plain>=1\n# a comment\n\n[Test_Extra]\npytest\n"
        "[:python_version < '3.10']\ntomli\n[docs:sys_platform == 'win32']\ncolorama\n"
    )
    assert requires_txt(text) == [
        "plain>=1",
        'pytest ; extra == "test-extra"',
        "tomli ; python_version < '3.10'",
        "colorama ; (sys_platform == 'win32') and extra == \"docs\"",
    ]
    for requirement in requires_txt(text):
        Requirement(requirement)


def _site_with(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    big = site / "big-1.0.dist-info"
    big.mkdir(parents=True)
    folded = "\n        |".join(["A long description, folded into the header."] * 400)
    (big / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: big\nVersion: 1.0\nDescription: {folded}\n"
        "Requires-Dist: after-the-description>=1\n\nRequires-Dist: in-the-body\n"
    )
    (big / "RECORD").write_text("")
    egg = site / "egg-2.0-py3.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: egg\nVersion: 2.0\n\n")
    (egg / "requires.txt").write_text("one\n[:os_name == 'nt']\ntwo\n")
    modern = site / "modern_egg-3.0-py3.egg-info"
    modern.mkdir()
    (modern / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: modern-egg\nVersion: 3.0\nRequires-Dist: listed\n\n"
    )
    (modern / "requires.txt").write_text("not-read\n")
    (site / "gone-1.0.dist-info").mkdir()
    return site


def test_read_requires_reads_long_headers_and_egg_info(tmp_path: Path) -> None:
    site = _site_with(tmp_path)
    dists, _ = read_distributions(describe_paths([str(site)]))
    requires, problems = read_requires(dists)
    assert problems == []  # gone's missing METADATA is read_distributions' to report
    assert {r.name: r.requires for r in requires} == {
        "big": ("after-the-description>=1",),
        "egg": ("one", "two ; os_name == 'nt'"),
        "modern-egg": ("listed",),
        "gone": (),
    }
    by_name = {r.name: r for r in requires}
    assert by_name["egg"].source.endswith("/egg-2.0-py3.egg-info/requires.txt")
    assert by_name["big"].source.endswith("/big-1.0.dist-info/METADATA")


def test_read_requires_refuses_a_requires_txt_linked_outside(tmp_path: Path) -> None:
    site = _site_with(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    requires_txt_file = site / "egg-2.0-py3.egg-info" / "requires.txt"
    requires_txt_file.unlink()
    requires_txt_file.symlink_to(outside)
    dists, _ = read_distributions(describe_paths([str(site)]))
    requires, problems = read_requires(dists)
    assert {r.name: r.requires for r in requires}["egg"] == ()
    assert [(p.distribution, Path(p.path).name) for p in problems] == [("egg", "requires.txt")]
    assert "outside the environment" in problems[0].message


# ---- the marker environment ------------------------------------------------------------


def test_every_way_of_computing_markers_agrees_with_packaging() -> None:
    assert _facts.marker_environment() == default_environment()
    assert _facts._stdlib_marker_environment() == default_environment()


def _other_python() -> str | None:
    """A CPython 3.9+ of another minor version: on PATH, or installed by pyenv."""
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for minor in range(9, 16):
        if f"3.{minor}" == mine:
            continue
        pyenv = sorted(Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/python3"))
        for exe in [shutil.which(f"python3.{minor}"), *map(str, pyenv)]:
            if exe is None:
                continue
            done = subprocess.run([exe, "-c", "pass"], capture_output=True, check=False)
            if done.returncode == 0:
                return exe
    return None


@pytest.mark.integration
def test_another_interpreter_gives_its_own_markers() -> None:
    exe = _other_python()
    if exe is None:
        pytest.skip("needs a second Python 3 minor version on PATH")
    asked = subprocess.run(
        [exe, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    markers = marker_environment(describe_python(exe))
    assert markers["python_full_version"] == asked
    assert markers["python_version"] == ".".join(asked.split(".")[:2])
    assert markers["python_version"] != default_environment()["python_version"]


# ---- against real pip check ------------------------------------------------------------

_MISSING = re.compile(r"(\S+) (\S+) requires (\S+), which is not installed\.")
_CONFLICT = re.compile(r"(\S+) (\S+) has requirement (.+), but you have (\S+) (\S+)\.")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_check_lines(venv: Venv, ours: set[str]) -> list[str]:
    """pip check's findings about ``ours`` (the venv also sees the test environment)."""
    done = venv.run("-m", "pip", "check")
    assert "Traceback" not in done.stderr, done.stderr
    lines = []
    for line in done.stdout.splitlines():
        found = _MISSING.fullmatch(line) or _CONFLICT.fullmatch(line)
        if found and found.group(1) in ours:
            lines.append(line)
    return sorted(lines)


def as_pip_says(finding: Dependency) -> str:
    req = Requirement(finding.requirement)
    head = f"{finding.distribution} {finding.version}"
    if finding.installed is None:
        return f"{head} requires {_canonical(req.name)}, which is not installed."
    return f"{head} has requirement {req}, but you have {_canonical(req.name)} {finding.installed}."


def pipguard_findings(venv: Venv) -> tuple[list[Dependency], list[str]]:
    """Return what ``pipguard check --format json`` reports, and the distributions left out."""
    env = describe_python(venv.python)
    dists, _ = read_distributions(env)
    findings, problems = dependency_check(env, dists)
    done = venv.pipguard("check", "--format", "json")
    reported = [Dependency(**item) for item in json.loads(done.stdout)["dependencies"]]
    assert reported == findings  # the command reports exactly what the check finds
    if findings or problems:
        assert done.returncode == 1, done.stderr
    return reported, sorted(p.distribution or "" for p in problems)


def _pip_version(venv: Venv) -> tuple[int, ...]:
    said = venv.run("-c", "import pip; print(pip.__version__)", check=True).stdout
    return tuple(int(part) for part in re.findall(r"\d+", said)[:2])


def _write_egg_info(site: Path) -> None:
    """A legacy egg-info as ``setup.py install`` left them: requirements in requires.txt."""
    info = site / "legacy_egg-2.0-py3.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy-egg\nVersion: 2.0\n\n")
    (info / "requires.txt").write_text(
        "egg-missing\nlib-two>=5\n[test]\negg-test-only\n[:python_version >= '3']\negg-py3\n"
    )
    (info / "installed-files.txt").write_text("PKG-INFO\nrequires.txt\n")


def _add_requirement(site: Path, info: str, requirement: str) -> None:
    """Add a Requires-Dist to an installed METADATA (pip refuses to install a bad one)."""
    meta = site / info / "METADATA"
    text = meta.read_text()
    meta.write_text(text.replace("\n\n", f"\nRequires-Dist: {requirement}\n\n", 1))


def _break_version(site: Path, name: str, version: str) -> None:
    """Give an installed distribution a version that is not PEP 440, in METADATA and name."""
    info = site / f"{name}-{version}.dist-info"
    meta = info / "METADATA"
    meta.write_text(meta.read_text().replace(f"Version: {version}", "Version: not-a-version"))
    info.rename(site / f"{name}-not-a-version.dist-info")


@pytest.mark.integration
def test_findings_agree_exactly_with_pip_check(venv_: Venv, wheel_dir: Path) -> None:
    here = default_environment()
    modern = _pip_version(venv_) >= (24, 1)
    # pip 23.2 (packaging 21.3, no Requirement equality) reports equal requirements twice.
    twice = ["Lib_Two >= 2"] if modern else []
    wheels = [
        build_wheel(
            wheel_dir,
            "App",
            "1.0",
            {"app.py": ""},
            requires=[
                "missing-dep",
                "lib-two>=2",
                *twice,
                "rc-lib>=1",
                'never; python_version < "3"',
                f'other-platform; sys_platform != "{here["sys_platform"]}"',
                f'here-dep>=1; python_version == "{here["python_version"]}"',
                "lib-two[fancy]>=1.0",
                "lib-two[fancy]>=5",
                'app-test-only; extra == "test"',
                "broken-meta>=1",
            ],
        ),
        build_wheel(
            wheel_dir,
            "lib_two",
            "1.5",
            {"lib_two.py": ""},
            requires=['fancy-dep; extra == "fancy"', 'not-fancy; extra != "fancy"'],
        ),
        build_wheel(wheel_dir, "rc_lib", "2.0rc1", {"rc_lib.py": ""}),
        build_wheel(wheel_dir, "broken_meta", "1.0", {"broken_meta.py": ""}, requires=["ok"]),
        build_wheel(wheel_dir, "user", "1.0", {"user.py": ""}, requires=["weird-version"]),
        build_wheel(wheel_dir, "weird_version", "1.0", {"weird_version.py": ""}),
    ]
    venv_.pip_install(*wheels)
    _write_egg_info(venv_.site)
    _add_requirement(venv_.site, "broken_meta-1.0.dist-info", "foo; bar")
    if modern:  # pip 23.2 (packaging 21.3) still takes it for a legacy version
        _break_version(venv_.site, "weird_version", "1.0")
    ours = {"app", "lib-two", "rc-lib", "broken-meta", "user", "weird-version", "legacy-egg"}

    findings, problems = pipguard_findings(venv_)

    assert sorted(map(as_pip_says, findings)) == pip_check_lines(venv_, ours)
    assert problems == (["broken-meta", "weird-version"] if modern else ["broken-meta"])
    # The scenarios are all there: a test that agrees on nothing proves nothing.
    said = {(f.distribution, Requirement(f.requirement).name) for f in findings}
    assert {
        ("app", "missing-dep"),
        ("app", "lib-two"),
        ("app", "here-dep"),
        ("app", "broken-meta"),
        ("lib-two", "not-fancy"),
        ("legacy-egg", "egg-missing"),
        ("legacy-egg", "egg-py3"),
        ("legacy-egg", "lib-two"),
    } <= said
    assert not {"never", "other-platform", "app-test-only", "fancy-dep", "egg-test-only"} & {
        name for _, name in said
    }
    if modern:
        assert ("user", "weird-version") in said


@pytest.mark.integration
def test_a_clean_environment_agrees_with_pip_check(venv_: Venv, wheel_dir: Path) -> None:
    wheels = [
        build_wheel(wheel_dir, "top", "1.0", {"top.py": ""}, requires=["mid>=1,<2"]),
        build_wheel(wheel_dir, "mid", "1.2", {"mid.py": ""}, requires=['base; os_name != "x"']),
        build_wheel(wheel_dir, "base", "3.0", {"base.py": ""}),
    ]
    venv_.pip_install(*wheels)
    findings, problems = pipguard_findings(venv_)
    assert findings == []
    assert problems == []
    assert pip_check_lines(venv_, {"top", "mid", "base"}) == []
