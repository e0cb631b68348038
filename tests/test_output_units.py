"""Unit tests of output for a person: the console, collapsed rows, GitHub annotations, help."""

from __future__ import annotations

import io
import re

import pytest

from pipguard.check import CheckResult
from pipguard.checks.deps import Dependency
from pipguard.console import TrimmedStream, console_for, trim_line, width_for
from pipguard.environment import Environment, Problem
from pipguard.findings import Clash, FileState, Owner, Unlisted
from pipguard.github import (
    annotation,
    check_annotations,
    escape_data,
    escape_property,
    level_of,
)
from pipguard.policy import Rules
from pipguard.records import hash_bytes
from pipguard.render import clash_tables
from pipguard.sizing import KEEP, Collapsed, clash_rows, collapse
from pipguard.usage import general_help, parse_pip_commands, suggestion, version_line

SITE = "/env/lib/python3.11/site-packages"
SAME = hash_bytes(b"same")


def clash(path: str, kind: str = "differing") -> Clash:
    """A clash of alpha and beta over ``path``: beta's copy on disk unless identical."""
    if kind == "identical":
        owners = (
            Owner("alpha", "1.0", SAME, f"{SITE}/{path}"),
            Owner("beta", "2.0", SAME, f"{SITE}/{path}"),
        )
        return Clash(f"{SITE}/{path}", path, "identical", owners)
    owners = (
        Owner("alpha", "1.0", hash_bytes(b"a"), f"{SITE}/{path}", matches_disk=False),
        Owner("beta", "2.0", hash_bytes(b"b"), f"{SITE}/{path}", matches_disk=True),
    )
    return Clash(f"{SITE}/{path}", path, kind, owners, "beta")


def big_group(differing: int = 3, identical: int = 76) -> list[Clash]:
    return [clash(f"big/d{i:02}.py") for i in range(differing)] + [
        clash(f"big/m{i:02}.py", "identical") for i in range(identical)
    ]


def draw(renderables: list[object], width: int = 80) -> str:
    out = io.StringIO()
    console = console_for(out)
    console.width = width
    for item in renderables:
        console.print(item)
    console.file.flush()
    return out.getvalue()


# The console: one width, no trailing spaces.


def test_trim_line_keeps_colour_codes_among_trailing_spaces() -> None:
    assert trim_line("path   ") == "path"
    assert trim_line("\x1b[1mbig/\x1b[0m    ") == "\x1b[1mbig/\x1b[0m"
    assert trim_line("a \x1b[31m  \x1b[0m ") == "a\x1b[31m\x1b[0m"
    assert trim_line("  inner  spaces stay") == "  inner  spaces stay"


def test_trimmed_stream_holds_a_partial_line_until_its_end() -> None:
    out = io.StringIO()
    stream = TrimmedStream(out)
    stream.write("one  \ntw")
    assert out.getvalue() == "one\n"
    stream.write("o   \n")
    assert out.getvalue() == "one\ntwo\n"
    stream.write("tail ")
    stream.flush()
    assert out.getvalue() == "one\ntwo\ntail "


@pytest.mark.parametrize(
    ("columns", "expected"), [(None, 80), ("", 80), ("120", 120), ("0", 80), ("wide", 80)]
)
def test_width_is_columns_else_80_off_a_terminal(columns: str | None, expected: int) -> None:
    environ = {} if columns is None else {"COLUMNS": columns}
    assert width_for(io.StringIO(), environ) == expected


def test_tables_are_drawn_at_the_console_width_without_trailing_spaces() -> None:
    groups = [clash("jwt/__init__.py"), clash("serial/__init__.py"), *big_group()]
    for width in (80, 120):
        text = draw(list(clash_tables(groups)), width)
        lines = text.splitlines()
        assert all(line == line.rstrip() for line in lines)
        rules = [line for line in lines if "─" in line]
        # Each table spans the whole width, whatever its content (the rule's last cell is
        # a space, trimmed).
        assert {len(line) for line in rules} == {width - 1}
        assert max(len(line) for line in lines) <= width


# Collapsed rows.


def test_identical_overlaps_collapse_into_one_line_unless_verbose() -> None:
    group = big_group()
    rows = clash_rows(group)
    assert [row.display for row in rows[:3]] == ["big/d00.py", "big/d01.py", "big/d02.py"]
    assert rows[3:] == [Collapsed(76, "identical", ("alpha 1.0", "beta 2.0"), harmless=True)]
    assert rows[3].text == "76 more files are identical"
    assert len(clash_rows(group, verbose=True)) == 79


def test_more_than_ten_differing_files_collapse_with_a_count() -> None:
    group = big_group(differing=14, identical=0)
    rows = clash_rows(group)
    assert len(rows) == KEEP + 1
    assert rows[-1] == Collapsed(14 - KEEP, "differing", ("alpha 1.0", "beta 2.0"), False)
    assert rows[-1].text == "6 more files clash"
    assert len(clash_rows(big_group(differing=10, identical=0))) == 10  # ten: all shown
    assert collapse(list(range(11))) == ([0, 1, 2, 3, 4, 5, 6, 7], 3)
    assert collapse(list(range(11)), verbose=True) == (list(range(11)), 0)


def test_a_group_of_harmless_overlaps_alone_is_not_drawn() -> None:
    assert clash_rows(big_group(differing=0)) == []
    assert clash_tables(big_group(differing=0)) == []
    assert len(clash_tables(big_group(differing=0), verbose=True)) == 1


def test_a_collapsed_table_says_how_to_see_every_file() -> None:
    text = draw(list(clash_tables(big_group())))
    assert "76 more files are identical" in text
    assert "big/m05.py" not in text
    assert "--verbose lists every file" in " ".join(text.split())
    incoming = [
        c._replace(owners=(c.owners[0]._replace(incoming=True), c.owners[1]))
        for c in big_group(14, 0)
    ]
    planned = " ".join(draw(list(clash_tables(incoming, planned=True))).split())
    assert "6 more files clash" in planned
    assert "The journal (--journal FILE) lists every file." in planned
    full = draw(list(clash_tables(big_group(), verbose=True)))
    assert "big/m75.py" in full
    assert "more files" not in full


# GitHub workflow commands.


def test_escaping_follows_the_runner() -> None:
    assert escape_data("50%\r\nnext: a, b") == "50%25%0D%0Anext: a, b"
    assert escape_property("C:\\x,y%") == "C%3A\\x%2Cy%25"
    assert annotation("error", "a\nb", title="t: x", file="/p,q") == (
        "::error file=/p%2Cq,title=t%3A x::a%0Ab"
    )
    assert annotation("warning", "m", title="t") == "::warning title=t::m"


def test_level_follows_fails_check_and_verbose() -> None:
    rules = Rules()
    assert level_of(clash("a.py"), rules) == "error"
    identical = clash("b.py", "identical")
    assert level_of(identical, rules) is None
    assert level_of(identical, rules, verbose=True) == "warning"
    assert level_of(identical, rules._replace(strict=True)) == "error"
    case = clash("c.py", "case")
    assert level_of(case, rules) == "warning"  # reported on Linux, fails where case folds
    assert level_of(case, rules._replace(case_insensitive=True)) == "error"
    unlisted = Unlisted(f"{SITE}/left", "left", 3)
    assert level_of(unlisted, rules) == "warning"


def result_of(*findings: object) -> CheckResult:
    env = Environment("/env/bin/python", (SITE,), ("/env",))
    lists: dict[str, list[object]] = {
        "clashes": [f for f in findings if isinstance(f, Clash)],
        "modified": [f for f in findings if isinstance(f, FileState)],
        "problems": [f for f in findings if isinstance(f, Problem)],
        "unlisted": [f for f in findings if isinstance(f, Unlisted)],
        "dependencies": [f for f in findings if isinstance(f, Dependency)],
    }
    return CheckResult(env, 2, 10, missing=[], startup=[], shadowed=[], **lists)


def test_one_command_per_finding_naming_path_kind_and_owners() -> None:
    result = result_of(
        clash("jwt/__init__.py"),
        clash("jwt/same.py", "identical"),
        FileState("jwt/api.py", "pyjwt"),
        Dependency("app", "1.0", "jwt>=2", None),
        Problem("odd", f"{SITE}/odd-1.0.dist-info/RECORD", "line 2: no hash"),
    )
    files = {f"{SITE}/jwt/__init__.py"}
    lines = list(check_annotations(result, Rules(), is_file=files.__contains__))
    assert len(lines) == 4  # the identical overlap is not reported without --verbose
    first = lines[0]
    assert first.startswith(
        f"::error file={SITE}/jwt/__init__.py,title=pipguard PG101%3A differing::"
    )
    assert "jwt/__init__.py: differing: alpha 1.0 (lost); beta 2.0 (on disk)%0A" in first
    assert "alpha lost to beta" in first
    assert lines[1].startswith("::error title=pipguard PG201%3A modified::jwt/api.py: modified")
    assert "app 1.0 requires jwt>=2: dependency: installed: not installed" in lines[2]
    assert "file=" not in lines[3]  # not a file in the environment (is_file says no)
    verbose = list(check_annotations(result, Rules(), verbose=True))
    assert len(verbose) == 5
    assert verbose[1].startswith("::warning title=pipguard PG102%3A identical::jwt/same.py")


def test_a_path_from_a_record_cannot_start_a_command_of_its_own() -> None:
    evil = "x\n::error::pwned\r%0A.py"
    lines = list(check_annotations(result_of(clash(evil)), Rules(), is_file=lambda p: True))
    assert len(lines) == 1
    (line,) = lines
    assert "\n" not in line
    assert "\r" not in line
    assert line.startswith("::error file=")
    # Only ::error and the end of the properties stand outside the message.
    assert line.split("::")[1].startswith("error file=")
    assert "x\\x0a::error::pwned\\x0d%250A.py: differing" in line
    assert "%250A" in line  # a literal %0A in the name stays text


# Help and version.


def test_version_line_names_pip_and_python() -> None:
    assert re.fullmatch(r"pipguard \S+ \(pip \S+, Python \d+\.\d+\.\d+\)", version_line())


def test_pip_commands_are_read_from_pips_wrapped_help() -> None:
    text = (
        "\nUsage:   \n  pip <command> [options]\n\nCommands:\n"
        "  install                     Install packages.\n"
        "  check                       Verify installed packages have compatible \n"
        "dependencies.\n"
        "  list                        List installed packages.\n\n"
        "General Options:\n  -h, --help  Show help.\n"
    )
    assert parse_pip_commands(text) == [
        ("install", "Install packages."),
        ("check", "Verify installed packages have compatible dependencies."),
        ("list", "List installed packages."),
    ]
    assert parse_pip_commands("no such section") == []


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("instal", "install"), ("chek", "check"), ("lisst", "list"), ("repiar", "repair")],
)
def test_a_mistyped_command_suggests_the_nearest_of_both_sets(typed: str, meant: str) -> None:
    known = ["check", "owner", "install", "uninstall", "repair", "help", "list", "freeze"]
    assert suggestion(typed, known) == meant
    assert suggestion("zzzzzz", known) is None


def test_general_help_lists_pipguards_commands_then_pips_one_line_each() -> None:
    text = general_help("pipguard")
    lines = text.splitlines()
    own = lines.index("pipguard's commands:")
    pips = lines.index("pip's commands, passed through to pip unchanged:")
    assert own < pips
    named = [line.split()[0] for line in lines[own + 1 : pips - 1]]
    assert named == ["check", "owner", "install", "uninstall", "repair", "zipapp", "help"]
    theirs = [line.split()[0] for line in lines[pips + 1 :] if line.startswith("  ")]
    assert {"list", "freeze", "download"} <= set(theirs)
    assert not {"install", "uninstall", "check"} & set(theirs[: theirs.index("-h,")])
    assert max(len(line) for line in lines) <= 80
