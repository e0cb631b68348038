"""Unit tests of the pure parts: RECORD parsing, path resolution, clash detection, arguments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipguard.checks.clashes import Incoming, find_clashes, find_transaction_clashes, judge
from pipguard.environment import InstalledDistribution, canonical_name
from pipguard.findings import Clash, Owner
from pipguard.install.options import UsageError, split_args
from pipguard.ownership import _CLIMB, _ODD_PATH, _clean_rows, _find_hash, build_index
from pipguard.paths import is_derived_pyc, is_within, resolve_row
from pipguard.records import RecordEntry, hash_bytes, parse_record, parse_rows

SITE = "/env/lib/python3.11/site-packages"
H1 = hash_bytes(b"one")
H2 = hash_bytes(b"two")


def dist(
    name: str, rows: list[tuple[str, str | None]], version: str = "1.0", end: str = "\n"
) -> InstalledDistribution:
    record = "".join(f"{path},{hash_value or ''},{end}" for path, hash_value in rows)
    return InstalledDistribution(name, version, f"{SITE}/{name}-{version}.dist-info", SITE, record)


def test_parse_record_keeps_good_rows_and_names_bad_ones() -> None:
    text = f"a.py,{H1},3\nb.py,md5=abc,3\nc.py,,x\nd.py,,\nonly,two\n\ne.py,{H2[:-2]},3\n"
    entries, issues = parse_record(text)
    assert [e.path for e in entries] == ["a.py", "b.py", "c.py", "d.py", "e.py"]
    assert entries[0] == RecordEntry("a.py", H1, 3)
    assert entries[1].hash is None  # an unsupported algorithm is not trusted
    assert [(i.line, i.message.split(" ")[0]) for i in issues] == [
        (2, "hash"),
        (3, "size"),
        (5, "expected"),
        (7, "hash"),
    ]


def test_parse_record_survives_an_unterminated_quote() -> None:
    entries, issues = parse_record(f'a.py,{H1},3\n"b.py,,\n')
    assert [e.path for e in entries] == ["a.py"]
    assert issues
    assert "malformed CSV" in issues[0].message


@given(st.text())
def test_parse_record_never_raises(text: str) -> None:
    entries, _ = parse_record(text)
    assert all(entry.path and "\x00" not in entry.path for entry in entries)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("jwt/__init__.py", f"{SITE}/jwt/__init__.py"),
        ("../../../bin/tool", "/env/bin/tool"),
        ("./a//b.py", f"{SITE}/a/b.py"),
        ("/etc/passwd", "/etc/passwd"),
        ("C:/Windows/x", None),
        ("a\x00b", None),
    ],
)
def test_resolve_row(row: str, expected: str | None) -> None:
    assert resolve_row(SITE, row) == expected


@given(st.lists(st.sampled_from(["..", ".", "a", "b", "", "/"]), max_size=12).map("/".join))
def test_resolved_rows_outside_are_never_within(row: str) -> None:
    path = resolve_row(SITE, row)
    if path is not None and is_within(path, ["/env"]):
        assert path == "/env" or path.startswith("/env/")
        assert "/../" not in path + "/"


def test_is_within_is_not_fooled_by_prefixes() -> None:
    assert is_within("/env/lib", ["/env"])
    assert not is_within("/env2/lib", ["/env"])


def test_pyc_is_derived_only_in_pycache() -> None:
    assert is_derived_pyc(f"{SITE}/jwt/__pycache__/x.cpython-311.pyc")
    assert not is_derived_pyc(f"{SITE}/jwt/x.pyc")


def test_find_clashes_kinds_and_pyc() -> None:
    index, problems = build_index(
        [
            dist("a", [("ns/__init__.py", H1), ("jwt/x.py", H1), ("p/__pycache__/m.pyc", None)]),
            dist("b", [("ns/__init__.py", H1), ("jwt/x.py", H2), ("p/__pycache__/m.pyc", None)]),
        ],
        ("/env",),
    )
    assert problems == []
    kinds = {c.display: c.kind for c in find_clashes(index)}
    assert kinds == {"ns/__init__.py": "identical", "jwt/x.py": "differing"}


def test_rows_escaping_the_environment_are_problems_not_owned() -> None:
    index, problems = build_index([dist("evil", [("../../../../../etc/passwd", H1)])], ("/env",))
    assert len(index) == 0
    assert "points outside the environment" in problems[0].message


def test_judge_names_the_owner_matching_disk() -> None:
    clash = Clash(
        "/env/x", "x", "differing", (Owner("a", "1", H1, "/env/x"), Owner("b", "1", H2, "/env/x"))
    )
    (judged,) = judge([clash], lambda path, algo: H2)
    assert judged.winner == "b"
    assert [o.matches_disk for o in judged.owners] == [False, True]
    (nobody,) = judge([clash], lambda path, algo: None)
    assert nobody.winner is None


def test_transaction_clashes_skip_the_replaced_distribution() -> None:
    index, _ = build_index(
        [dist("grow", [("grow/__init__.py", H1)]), dist("other", [("other.py", H1)])], ("/env",)
    )
    incoming = [
        Incoming("grow", "2.0", ((f"{SITE}/grow/__init__.py", H2),), f"{SITE}/grow-2.0.dist-info"),
        Incoming("newer", "1.0", ((f"{SITE}/other.py", H2),), f"{SITE}/newer-1.0.dist-info"),
    ]
    clashes = find_transaction_clashes(incoming, index, lambda p: True, lambda p: SITE)
    assert [(c.display, c.kind) for c in clashes] == [("other.py", "differing")]
    assert [o.incoming for o in clashes[0].owners] == [True, False]


def test_unowned_file_is_harmless_only_with_the_same_bytes() -> None:
    index, _ = build_index([], ("/env",))
    incoming = [Incoming("s", "1", ((f"{SITE}/s.py", H1),), f"{SITE}/s-1.dist-info")]
    (clash,) = find_transaction_clashes(incoming, index, lambda p: True, lambda p: SITE)
    assert clash.kind == "unowned"
    assert judge([clash], lambda p, a: H1)[0].harmless
    assert not judge([clash], lambda p, a: H2)[0].harmless


def test_split_args_takes_only_pipguards_options() -> None:
    options, pip_args = split_args(
        ["install", "--on-conflict=warn", "-r", "req.txt", "--journal", "-", "--no-deps"], {}
    )
    assert (options.policy, options.journal) == ("warn", "-")
    assert pip_args == ["install", "-r", "req.txt", "--no-deps"]
    assert split_args(["install"], {"PIPGUARD_ON_CONFLICT": "ignore"})[0].policy == "ignore"
    with pytest.raises(UsageError, match="'x' is not one of"):
        split_args(["install", "--on-conflict", "x"], {})
    with pytest.raises(UsageError, match="needs a value"):
        split_args(["install", "--journal"], {})


def test_parse_record_splits_on_newlines_only() -> None:
    entries, issues = parse_record(f"a\x0cb.py,{H1},3\r\nc\u2028d.py,,\n")
    assert [e.path for e in entries] == ["a\x0cb.py", "c\u2028d.py"]
    assert issues == []


# Path pieces that exercise every branch of the index's plain/odd split.
_PIECES = st.sampled_from(
    ["a", "b.py", "..", ".", "", "c.", "C:", "x\\y", "__pycache__", "bin", "É", " "]
)
_ROWS = st.lists(
    st.tuples(
        st.lists(_PIECES, min_size=1, max_size=5).map("/".join),
        st.sampled_from([H1, H2, None]),
    ),
    max_size=12,
)


# Rows as pip writes them: plain paths, and scripts or data files climbing out of the site.
_CLEAN_ROWS = st.lists(
    st.tuples(
        st.tuples(
            st.sampled_from(["", "../../../", "../"]),
            st.lists(
                st.sampled_from(["a", "b.py", "__pycache__", ".hidden", "É", " ", "x..y"]),
                min_size=1,
                max_size=4,
            ).map("/".join),
        ).map("".join),
        st.sampled_from([H1, H2, None]),
    ),
    min_size=1,
    max_size=12,
)


def _record(rows: list[tuple[str, str | None]], end: str) -> str:
    return "".join(f"{path},{hash_value or ''},{end}" for path, hash_value in rows)


@given(
    st.lists(st.one_of(_ROWS, _CLEAN_ROWS), min_size=1, max_size=4), st.sampled_from(["\n", "\r\n"])
)
def test_index_matches_a_row_by_row_reference(
    records: list[list[tuple[str, str | None]]], end: str
) -> None:
    # The index takes whole clean RECORDs in one pass: it must agree with resolving every row,
    # owners and hashes alike (a hash only where one row of the RECORD names the path).
    roots = ("/env",)
    dists = [dist(f"d{n}", rows, end=end) for n, rows in enumerate(records)]
    index, problems = build_index(dists, roots)
    expected: dict[str, dict[int, list[str | None]]] = {}
    outside = 0
    for number, rows in enumerate(records):
        for row, hash_value in rows:
            path = resolve_row(SITE, row) if row else None
            if row and (path is None or not is_within(path, roots)):
                outside += 1
            elif path is not None:
                expected.setdefault(path, {}).setdefault(number, []).append(hash_value)
    got = {path: dict(index.owners(path)) for path in index.paths()}
    assert set(got) == set(expected)
    assert all(len(index.owners(path)) == len(got[path]) for path in got)  # each owner once
    changed = index.changed_by_lower()
    assert sorted(changed) == sorted(path for path in got if path.lower() != path)
    for path, owners in expected.items():
        assert set(got[path]) == set(owners)
        for number, hashes in owners.items():
            if len(hashes) == 1:
                assert got[path][number] == hashes[0]
    assert sum("points outside" in p.message for p in problems) == outside


# Lines the one pass must refuse or read as the row parser does, among clean ones.
_HOSTILE_LINES = [
    *("a/,,", "a//b,,", "/abs,,", ",,", "a/./b,,", "./a,,", "a/.,,", "a.,,", "..,,", "../,,"),
    *("../a/../b,,", "a,b,,", "a\rb,,", "C:/x,,", 'a"b,,', "x\\y,,", "a\x00b,,", "a,md5=abc,"),
    *(f"a,{H1[:-1]},", f"a,{H1}x,1", "a,,x", "a,,,", "a", "", "\r"),
]


def _assert_one_pass_agrees(text: str, clean_rows: bool) -> None:
    clean = _clean_rows(text)
    parsed, issues = parse_rows(text)
    if clean_rows:
        assert clean is not None  # plain and climbing rows as pip writes them: one pass
    if clean is None:
        return
    plain, climbing = clean
    assert issues == []
    assert plain == [path for path, _, _ in parsed if not _ODD_PATH.search(path)]
    assert climbing == [path for path, _, _ in parsed if _ODD_PATH.search(path)]
    assert all(map(_CLIMB.fullmatch, climbing))
    last = {path: hash_value for path, hash_value, _ in parsed}
    assert all(_find_hash(text, path) == last[path] for path in last)


@pytest.mark.parametrize("line", _HOSTILE_LINES)
@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_the_one_pass_split_refuses_or_agrees_on_each_hostile_line(line: str, end: str) -> None:
    clean = [f"c,{H1},1", "a/b.py,,3", f"../../../bin/x,{H1},9", f"c,{H2},1"]  # c: last wins
    for at in range(len(clean) + 1):
        lines = [*clean[:at], line, *clean[at:]]
        _assert_one_pass_agrees(end.join(lines) + end, clean_rows=False)
        _assert_one_pass_agrees(end.join(lines), clean_rows=False)


@given(
    _CLEAN_ROWS,
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from(_HOSTILE_LINES)), max_size=2),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_the_one_pass_split_agrees_with_the_row_parser(
    rows: list[tuple[str, str | None]],
    hostile: list[tuple[int, str]],
    end: str,
    last_line_ended: bool,
) -> None:
    lines = [f"{path},{hash_value or ''},{len(path)}" for path, hash_value in rows]
    for at, line in hostile:
        lines.insert(at, line)
    text = end.join(lines) + (end if last_line_ended else "")
    _assert_one_pass_agrees(text, clean_rows=not hostile)


def test_a_record_as_pip_writes_it_is_split_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # pip writes RECORD through the csv module: "\r\n" line ends, scripts as ../../../bin/x.
    # Such a RECORD must not fall back to the row-by-row parser (3 x slower on a large check).
    import pipguard.ownership

    def row_by_row(text: str) -> None:
        raise AssertionError(f"parsed row by row: {text!r}")

    monkeypatch.setattr(pipguard.ownership, "record_hashes", row_by_row)
    rows = [("pkg/__init__.py", H1), ("pkg-1.0.dist-info/RECORD", None), ("../../../bin/x", H2)]
    index, problems = build_index([dist("pkg", rows, end="\r\n")], ("/env",))
    monkeypatch.undo()  # hashes asked twice of one RECORD are read all at once
    assert problems == []
    assert index.owners(f"{SITE}/pkg/__init__.py") == [(0, H1)]
    assert index.owners(f"{SITE}/pkg-1.0.dist-info/RECORD") == [(0, None)]
    assert index.owners("/env/bin/x") == [(0, H2)]


@given(st.text(alphabet="aZ9-_.é", max_size=12))
def test_canonical_name_is_pep_503_as_packaging_spells_it(name: str) -> None:
    from pip._vendor.packaging.utils import canonicalize_name

    assert canonical_name(name) == canonicalize_name(name)


@pytest.mark.parametrize(
    "where",
    [
        {},
        {"prefix": "/opt/pfx"},
        {"home": "/tmp/pipguard-home"},
        {"root": "/tmp/pipguard-root"},
    ],
)
def test_schemes_after_two_answers_are_pips_own(where: dict[str, str]) -> None:
    # pipguard asks pip's get_scheme twice, then derives: the derivation must be pip's answer.
    import os

    from pip._internal.locations import get_scheme

    from pipguard.install.pipbridge import _Schemes
    from pipguard.install.plan import SCHEME_KEYS
    from pipguard.paths import to_posix

    schemes = _Schemes(get_scheme, where)
    for name in ["first", "Second_Name", "third.dist", "x-4"]:
        raw = get_scheme(
            name,
            user=False,
            home=where.get("home"),
            root=where.get("root"),
            isolated=False,
            prefix=where.get("prefix"),
        )
        expected = [to_posix(os.path.abspath(getattr(raw, key))) for key in SCHEME_KEYS]
        assert schemes(name, False) == expected
    assert schemes._rule  # the later names were derived, not asked


@given(
    st.lists(
        st.tuples(
            # Sites differing by case only are one directory on macOS: their files clash too.
            st.sampled_from(["/env/lib/site", "/env/lib/SITE", "/Env/lib/site"]),
            st.lists(
                st.sampled_from(
                    ["a", "A", "b.py", "B.py", "é", "É", "x/Y", "../../bin/t", "../../bin/T"]
                ),
                max_size=6,
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_case_clashes_match_a_brute_force_fold(records: list[tuple[str, list[str]]]) -> None:
    from pipguard.checks.case import find_case_clashes

    dists = [
        InstalledDistribution(
            f"d{n}",
            "1",
            f"{site}/d{n}-1.dist-info",
            site,
            _record([(row, H1) for row in rows], "\r\n"),
        )
        for n, (site, rows) in enumerate(records)
    ]
    index, _ = build_index(dists, ("/env", "/Env"))
    changed = index.changed_by_lower()
    assert sorted(changed) == sorted(path for path in index.paths() if path.lower() != path)
    owners: dict[str, set[str]] = {}
    for number, (site, rows) in enumerate(records):
        for row in rows:
            owners.setdefault(resolve_row(site, row) or "", set()).add(f"d{number}")
    folded: dict[str, set[str]] = {}
    for path in owners:
        folded.setdefault(path.lower(), set()).add(path)
    expected = {
        min(variants)
        for variants in folded.values()
        if len(variants) > 1 and len(set().union(*(owners[v] for v in variants))) > 1
    }
    assert {clash.path for clash in find_case_clashes(index)} == expected


@pytest.mark.parametrize("filler", [0, 8170, 8190, 20000])
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_metadata_header_is_read_past_the_first_chunk(
    tmp_path: pytest.TempPathFactory, filler: int, end: str
) -> None:
    # METADATA is read 8 KiB at a time for its header: fields after a long header line, or
    # cut by the first read, must still be found; the body after the blank line is not read.
    from pathlib import Path

    from pipguard.environment import _metadata_fields, read_inside

    site = Path(str(tmp_path))
    text = end.join(
        [
            "Metadata-Version: 2.1",
            f"Summary: {'é' * (filler // 2)}",
            "Name: Late-Name",
            "Version: 2.0",
            "",
            "Name: body",
        ]
    )
    (site / "METADATA").write_text(text, encoding="utf-8", newline="")
    assert _metadata_fields(str(site / "METADATA"), (str(site),), True) == ("Late-Name", "2.0")
    data = text.encode()
    assert read_inside(str(site / "METADATA"), (str(site),)) == data
    assert read_inside(str(site / "METADATA"), (str(site),), limit=100) == data[:100]


@given(
    st.lists(
        st.sampled_from(
            ["Name: a", "Version: 1", "name:B", "VERSION : 2", "x", " ", "", "é" * 9000]
        ),
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)
def test_metadata_header_reads_as_a_text_file_reads_it(
    lines: list[str], end: str, ended: bool
) -> None:
    # The reference: METADATA read line by line through a universal-newline text file.
    import io
    import tempfile

    from pipguard.environment import _metadata_fields

    data = (end.join(lines) + (end if ended else "")).encode()
    name = version = None
    for line in io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace"):
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.lower() == "name" and name is None:
            name = value.strip()
        elif sep and key.lower() == "version" and version is None:
            version = value.strip()
        if name is not None and version is not None:
            break
    with tempfile.TemporaryDirectory() as site:
        with open(f"{site}/METADATA", "wb") as handle:
            handle.write(data)
        assert _metadata_fields(f"{site}/METADATA", (site,), True) == (name, version)


def test_target_skips_are_harmless_only_when_nothing_is_lost() -> None:
    from pipguard.checks.target import find_target_skips

    target = "/env/t"
    installed = [
        InstalledDistribution("a", "1", f"{target}/a-1.dist-info", target, f"ns/a.py,{H1},1\n")
    ]
    index, _ = build_index(installed, ("/env",))
    files = (
        (f"{target}/ns/a.py", H1),  # a's bytes again: nothing lost
        (f"{target}/ns/b.py", H2),  # new below a kept entry: never written
        (f"{target}/ns/__pycache__/b.cpython-311.pyc", None),  # derives from its source
        (f"{target}/fresh/c.py", H1),  # a new entry: pip writes it
        (f"{target}/a-1.dist-info/RECORD", H2),  # pip writes its own RECORD, not the wheel's
    )
    incoming = [Incoming("a", "1", files, f"{target}/a-1.dist-info")]
    skips = find_target_skips(incoming, index, target, {"ns", "a-1.dist-info"})
    assert [clash.display for clash in skips] == ["ns/a.py", "ns/b.py", "a-1.dist-info/RECORD"]
    on_disk = {f"{target}/ns/a.py": H1, f"{target}/a-1.dist-info/RECORD": H2}
    judged = judge(skips, lambda path, algorithm: on_disk.get(path))
    assert [clash.harmless for clash in judged] == [True, False, False]
    # The RECORD of a distribution already there under the same name: its own, harmless.
    installed.append(
        InstalledDistribution("a", "1", f"{target}/x", target, "a-1.dist-info/RECORD,,\n")
    )
    index, _ = build_index(installed, ("/env",))
    (record,) = find_target_skips(incoming, index, target, {"a-1.dist-info"})
    assert judge([record], lambda path, algorithm: None)[0].harmless


def test_sigterm_is_an_interrupt_while_pip_runs_then_noted_and_the_handler_restored() -> None:
    import os
    import signal

    from pipguard.install.command import Terminated, _Termination
    from pipguard.install.pipbridge import StepOutcome

    outcome = StepOutcome()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with _Termination(outcome) as termination:
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next line
        assert isinstance(Terminated(), KeyboardInterrupt)  # pip handles it as Ctrl-C
        outcome.signal = 0
        termination.defer()
        os.kill(os.getpid(), signal.SIGTERM)  # noted, not raised: the report goes on
        assert outcome.signal == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_record_pip_cannot_read_is_named_by_line() -> None:
    from pipguard.records import pip_unreadable

    assert pip_unreadable("a.py,,\n" * 50_000) is None  # long, but every field fits
    issue = pip_unreadable("a.py,,\n" + "b" * 200_000 + ".py,,\nc.py,,\n")
    assert issue is not None
    assert issue.line == 2
    assert "field larger than field limit" in issue.message
