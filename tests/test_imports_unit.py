"""Which distribution ``import x`` gives: the pure path finder, checked against a real one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from pipguard.checks.imports import (
    NAMESPACE,
    STDLIB,
    Claimant,
    DeclaresNamespace,
    ImportOwner,
    Listing,
    LoaderSuffixes,
    Shadowed,
    SiteDir,
    TopEntry,
    build_site_dirs,
    find_shadowed,
    group_rows,
    resolve_import,
)
from pipguard.checks.namespace import is_namespace_declaration

LINUX_311 = (".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so")
STDLIB_NAMES = frozenset({"enum", "dataclasses", "json", "sys"})
DECLARE = b"__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
CODE = b"VALUE = 1\n"
DECLARE_TOO = (
    b"# another comment\nfrom pkgutil import extend_path\n"
    b"__path__ = extend_path(__path__, __name__)\n"
)


class Row(NamedTuple):
    site: str  # a directory name below the scenario's root
    path: str  # RECORD form, relative to ``site``
    dist: str
    version: str = "1.0"
    content: bytes = b""


class Scenario(NamedTuple):
    name: str  # the import name
    search: tuple[str, ...]  # the search path, as directory names below the root
    rows: tuple[Row, ...]
    winner: str
    path: str | None  # the imported file, relative to ``site``
    site: str | None
    dead: tuple[str, ...] = ()
    declares: bool = False  # the winner's __init__ declares a namespace: check __path__ too


def scenarios(ext: tuple[str, ...]) -> dict[str, Scenario]:
    """The cases, with file names for extension suffixes ``ext`` (the target's, in order)."""
    s0, s1 = ("s0",), ("s0", "s1")
    cases = [
        Scenario(
            "docx",
            s0,
            (
                Row("s0", "docx.py", "docx"),
                Row("s0", "docx/__init__.py", "python-docx"),
                Row("s0", "docx/api.py", "python-docx"),
            ),
            "python-docx",
            "docx/__init__.py",
            "s0",
            ("docx",),
        ),
        Scenario(
            "docx",
            s0,
            (
                Row("s0", "docx/__init__.py", "python-docx"),
                Row("s0", "docx/api.py", "python-docx"),
                Row("s0", "docx.py", "docx"),
            ),
            "python-docx",
            "docx/__init__.py",
            "s0",
            ("docx",),
        ),
        Scenario(
            "fastx",
            s0,
            (
                Row("s0", "fastx.py", "fastx-py"),
                Row("s0", f"fastx{ext[-1]}", "fastx-last"),
                Row("s0", f"fastx{ext[0]}", "fastx-c"),
            ),
            "fastx-c",
            f"fastx{ext[0]}",
            "s0",
            ("fastx-last", "fastx-py"),
        ),
        # An extension built for another Python has no name here: only the module claims it.
        Scenario(
            "oldx",
            s0,
            (
                Row("s0", "oldx.cpython-30-x86_64-linux-gnu.so", "oldx-c"),
                Row("s0", "oldx.py", "oldx"),
            ),
            "oldx",
            "oldx.py",
            "s0",
        ),
        Scenario(
            "plug",
            s0,
            (Row("s0", "plug/a.py", "plug-ns"), Row("s0", "plug.py", "plug")),
            "plug",
            "plug.py",
            "s0",
            ("plug-ns",),
        ),
        Scenario(
            "plug",
            s1,
            (Row("s0", "plug/a.py", "plug-ns"), Row("s1", "plug.py", "plug")),
            "plug",
            "plug.py",
            "s1",
            ("plug-ns",),
        ),
        Scenario(
            "nsx",
            s1,
            (
                Row("s0", "nsx/a.py", "nsx-a"),
                Row("s1", "nsx/b.py", "nsx-b"),
                Row("s1", "nsx/c/__init__.py", "nsx-c"),
            ),
            NAMESPACE,
            None,
            None,
        ),
        Scenario(
            "nsy",
            s0,
            (Row("s0", "nsy/a.py", "nsy-a"), Row("s0", "nsy/b.py", "nsy-b")),
            NAMESPACE,
            None,
            None,
        ),
        Scenario(
            "dup",
            s1,
            (Row("s1", "dup/__init__.py", "dup-two"), Row("s0", "dup.py", "dup-one")),
            "dup-one",
            "dup.py",
            "s0",
            ("dup-two",),
        ),
        Scenario(
            "enum",
            s0,
            (Row("s0", "enum/__init__.py", "enum34"),),
            STDLIB,
            None,
            None,
            ("enum34",),
        ),
        Scenario(
            "dataclasses",
            s0,
            (Row("s0", "dataclasses.py", "dataclasses"),),
            STDLIB,
            None,
            None,
            ("dataclasses",),
        ),
        Scenario(
            "legacy",
            s0,
            (Row("s0", "legacy/x.py", "legacy-ns"), Row("s0", "legacy.pyc", "legacy-bin")),
            "legacy-bin",
            "legacy.pyc",
            "s0",
            ("legacy-ns",),
        ),
        Scenario(
            "both",
            s0,
            (Row("s0", "both.pyc", "both-bin"), Row("s0", "both.py", "both-src")),
            "both-src",
            "both.py",
            "s0",
            ("both-bin",),
        ),
        Scenario(
            "extpkg",
            s0,
            (Row("s0", "extpkg.py", "other"), Row("s0", f"extpkg/__init__{ext[0]}", "extpkg")),
            "extpkg",
            f"extpkg/__init__{ext[0]}",
            "s0",
            ("other",),
        ),
        # A plugin writing into another's package is reached through the package.
        Scenario(
            "host",
            s0,
            (Row("s0", "host/__init__.py", "host"), Row("s0", "host/plugin.py", "host-plugin")),
            "host",
            "host/__init__.py",
            "s0",
        ),
        # One project in two sites (a user-site upgrade) is one distribution.
        Scenario(
            "same",
            s1,
            (
                Row("s0", "same/__init__.py", "same", "2.0"),
                Row("s1", "same/__init__.py", "same", "1.0"),
            ),
            "same",
            "same/__init__.py",
            "s0",
        ),
        Scenario(
            "decl",
            s1,
            (
                Row("s0", "decl/__init__.py", "decl-a", content=DECLARE),
                Row("s1", "decl/__init__.py", "decl-b", content=DECLARE_TOO),
                Row("s1", "decl/b.py", "decl-b"),
                Row("s1", "decl.py", "decl-mod"),
            ),
            "decl-a",
            "decl/__init__.py",
            "s0",
            ("decl-mod",),
            declares=True,
        ),
        Scenario(
            "mix",
            s1,
            (
                Row("s0", "mix/__init__.py", "mix-a", content=DECLARE),
                Row("s1", "mix/__init__.py", "mix-b", content=CODE),
                Row("s1", "mix/core.py", "mix-core"),
            ),
            "mix-a",
            "mix/__init__.py",
            "s0",
            ("mix-b",),
            declares=True,
        ),
        # pywin32's .pth adds a directory below site-packages: its entries are top-level too.
        Scenario(
            "nest",
            ("s0", "s0/lib"),
            (Row("s0", "lib/nest.py", "nest-mod"), Row("s0", "nest/__init__.py", "nest-pkg")),
            "nest-pkg",
            "nest/__init__.py",
            "s0",
            ("nest-mod",),
        ),
        Scenario(
            "nest",
            ("s0/lib", "s0"),
            (Row("s0", "lib/nest.py", "nest-mod"), Row("s0", "nest/__init__.py", "nest-pkg")),
            "nest-mod",
            "nest.py",
            "s0/lib",
            ("nest-pkg",),
        ),
        # A row that climbs out of its site lands in another.
        Scenario(
            "climb",
            s1,
            (Row("s0", "../s1/climb.py", "climber"), Row("s1", "climb/__init__.py", "climb-pkg")),
            "climb-pkg",
            "climb/__init__.py",
            "s1",
            ("climber",),
        ),
    ]
    if ".abi3.so" in ext and ".so" in ext:
        cases.append(
            Scenario(
                "abi",
                s0,
                (Row("s0", "abi.so", "abi-plain"), Row("s0", "abi.abi3.so", "abi-stable")),
                "abi-stable",
                "abi.abi3.so",
                "s0",
                ("abi-plain",),
            )
        )
    # Keyed by the import name and its count: docx-0, docx-1, ...
    keys = [f"{c.name}-{[o.name for o in cases[:i]].count(c.name)}" for i, c in enumerate(cases)]
    return dict(zip(keys, cases))


SCENARIOS = scenarios(LINUX_311)


def lay_out(scenario: Scenario, root: str) -> tuple[list[SiteDir], dict[tuple[str, str], bytes]]:
    """Return the scenario's search path (sites below ``root``) and each row's content."""
    rows = [(f"{root}/{r.site}", r.path, r.dist, r.version) for r in scenario.rows]
    search = [f"{root}/{name}" for name in scenario.search]
    contents = {(f"{root}/{r.site}", r.path): r.content for r in scenario.rows}
    return build_site_dirs(search, group_rows(rows)), contents


def declares_in(contents: dict[tuple[str, str], bytes]) -> DeclaresNamespace:
    def declares(site: str, path: str) -> bool:
        return is_namespace_declaration(contents[(site, path)])

    return declares


def resolve(
    scenario: Scenario, root: str, suffixes: LoaderSuffixes, stdlib: frozenset[str]
) -> Shadowed:
    search, contents = lay_out(scenario, root)
    resolved = resolve_import(scenario.name, search, suffixes, stdlib, declares_in(contents))
    assert resolved is not None
    return resolved


@pytest.mark.parametrize("key", SCENARIOS)
def test_resolution(key: str) -> None:
    scenario = SCENARIOS[key]
    resolved = resolve(scenario, "/sp", LoaderSuffixes(LINUX_311), STDLIB_NAMES)
    site = None if scenario.site is None else f"/sp/{scenario.site}"
    assert (resolved.winner, resolved.path, resolved.site) == (scenario.winner, scenario.path, site)
    assert resolved.dead == scenario.dead
    assert resolved.stdlib == (scenario.winner == STDLIB) == resolved.harmless


@pytest.mark.parametrize("key", SCENARIOS)
def test_find_shadowed_reports_exactly_the_dead(key: str) -> None:
    scenario = SCENARIOS[key]
    search, contents = lay_out(scenario, "/sp")
    found = find_shadowed(search, LoaderSuffixes(LINUX_311), STDLIB_NAMES, declares_in(contents))
    expected = [resolve(scenario, "/sp", LoaderSuffixes(LINUX_311), STDLIB_NAMES)]
    assert found == (expected if scenario.dead else [])


def test_module_against_package_names_every_claim() -> None:
    for key in ("docx-0", "docx-1"):
        resolved = resolve(SCENARIOS[key], "/sp", LoaderSuffixes(LINUX_311), STDLIB_NAMES)
        assert set(resolved.owners) == {
            ImportOwner("python-docx", "1.0", "docx/__init__.py", "/sp/s0", True),
            ImportOwner("docx", "1.0", "docx.py", "/sp/s0", False),
        }
        assert resolved.owners[0].name == "python-docx"  # the directory is tried first


def test_a_declared_namespace_reaches_other_directories_but_not_their_code() -> None:
    resolved = resolve(SCENARIOS["mix-0"], "/sp", LoaderSuffixes(LINUX_311), STDLIB_NAMES)
    assert resolved.owners == (
        ImportOwner("mix-a", "1.0", "mix/__init__.py", "/sp/s0", True),
        ImportOwner("mix-b", "1.0", "mix/__init__.py", "/sp/s1", False),
        ImportOwner("mix-core", "1.0", "mix/", "/sp/s1", True),
    )
    # Without knowing the declaration, the second directory is dead.
    search, _ = lay_out(SCENARIOS["decl-0"], "/sp")
    plain = resolve_import("decl", search, LoaderSuffixes(LINUX_311), STDLIB_NAMES)
    assert plain is not None
    assert plain.dead == ("decl-b", "decl-mod")


def test_the_stdlib_shadows_without_another_distribution() -> None:
    search, _ = lay_out(SCENARIOS["enum-0"], "/sp")
    assert [
        s.import_name for s in find_shadowed(search, LoaderSuffixes(LINUX_311), STDLIB_NAMES)
    ] == ["enum"]
    # On 3.9 the lead has no stdlib names: then the backport is simply imported.
    assert find_shadowed(search, LoaderSuffixes(LINUX_311)) == []


def test_a_name_nobody_claims_resolves_to_nothing() -> None:
    search, _ = lay_out(SCENARIOS["docx-0"], "/sp")
    assert resolve_import("json", search, LoaderSuffixes(LINUX_311), STDLIB_NAMES) is None


def test_builder_entries() -> None:
    rows = [
        ("/sp", "pkg/__init__.py", "a", "1"),
        ("/sp", "pkg/sub/__init__.py", "a", "1"),
        ("/sp", "a-1.dist-info/RECORD", "a", "1"),
        ("/sp", "pkg/__init__.pyi", "a", "1"),  # not contiguous with its directory's rows
        ("/sp", "pkg/extra.py", "b", "2"),
        ("/sp", "__pycache__/mod.cpython-311.pyc", "a", "1"),
        ("/sp", "mod.py", "a", "1"),
        ("/sp", "../../../bin/tool", "a", "1"),
        ("/sp", "../sp/climbed.py", "a", "1"),
        ("/sp", "./dotted.py", "a", "1"),
        ("/sp", "/sp/absolute/__init__.py", "a", "1"),
        ("/sp", "bad\nname/x.py", "a", "1"),
        ("/elsewhere", "mod.py", "c", "3"),
    ]
    [site] = build_site_dirs(["/sp", "/sp"], group_rows(rows))
    a, b = Claimant("a", "1"), Claimant("b", "2")
    assert site.path == "/sp"
    # A .dist-info, a row holding a newline and rows outside every search directory are
    # not entries; rows that climb or are absolute land where they point.
    assert site.entries == {
        "pkg": TopEntry((a, b), True, (("__init__.py", (a,)), ("__init__.pyi", (a,)))),
        "__pycache__": TopEntry((a,), True),
        "mod.py": TopEntry((a,)),
        "climbed.py": TopEntry((a,)),
        "dotted.py": TopEntry((a,)),
        "absolute": TopEntry((a,), True, (("__init__.py", (a,)),)),
    }
    # The cache directory is not an import name.
    cache = SiteDir("/sp2", {"__pycache__": TopEntry((b,), True)})
    assert find_shadowed([site, cache], LoaderSuffixes(LINUX_311)) == []


def test_group_rows_keeps_each_distribution_and_site_apart() -> None:
    rows = [
        ("/a", "x.py", "x", "1"),
        ("/a", "y.py", "x", "1"),
        ("/b", "z.py", "x", "1"),
        ("/a", "w.py", "w", "1"),
    ]
    assert list(group_rows(rows)) == [
        Listing("/a", "x", "1", ["x.py", "y.py"]),
        Listing("/b", "x", "1", ["z.py"]),
        Listing("/a", "w", "1", ["w.py"]),
    ]


def test_a_record_listing_one_name_as_file_and_directory() -> None:
    # Only one can exist on disk; the directory is what a finder would list.
    rows = [("/sp", "odd", "a", "1"), ("/sp", "odd/x.py", "b", "1")]
    [site] = build_site_dirs(["/sp"], group_rows(rows))
    assert site.entries["odd"] == TopEntry((Claimant("b", "1"),), True)


# --- the same scenarios, as files, against the interpreter's own finder ---------------------

_FIND = r"""
import importlib, importlib.machinery, importlib.util, json, sys
base = list(sys.path)
cases = json.loads(sys.argv[1])
out = {}
for key, name, dirs, load in cases:
    sys.path[:] = base + dirs
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or [])
    path = attrs = None
    if load:
        module = importlib.import_module(name)
        path, attrs = sorted(module.__path__), sorted(vars(module))
    out[key] = [spec.origin if spec.has_location else None, locations, path, attrs]
print(json.dumps(out))
"""


def target_facts() -> tuple[tuple[str, ...], frozenset[str]]:
    code = (
        "import importlib.machinery as m, json, sys;"
        "print(json.dumps([m.EXTENSION_SUFFIXES, sorted(getattr(sys, 'stdlib_module_names', ()))]))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True
    )
    ext, names = json.loads(out.stdout)
    return tuple(ext), frozenset(names)


def test_the_interpreter_finds_what_resolve_import_computes(tmp_path: Path) -> None:
    ext, stdlib = target_facts()
    if not stdlib:
        stdlib = frozenset({"enum", "dataclasses"})  # Python 3.9 has no sys.stdlib_module_names
    cases = scenarios(ext)
    roots: dict[str, str] = {}
    for key, scenario in cases.items():
        root = tmp_path / key
        for directory in scenario.search:
            (root / directory).mkdir(parents=True, exist_ok=True)
        for row in scenario.rows:
            target = (root / row.site / row.path).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(row.content)
        roots[key] = str(root)
    request = [
        (key, s.name, [f"{roots[key]}/{d}" for d in s.search], s.declares)
        for key, s in cases.items()
    ]
    run = subprocess.run(
        [sys.executable, "-S", "-c", _FIND, json.dumps(request)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    for key, scenario in cases.items():
        origin, locations, extended, attrs = found[key]
        resolved = resolve(scenario, roots[key], LoaderSuffixes(ext), stdlib)
        if resolved.winner == STDLIB:
            assert origin is None or not origin.startswith(str(tmp_path)), key
        elif resolved.winner == NAMESPACE:
            assert origin is None, key
            portions = {f"{o.site}/{scenario.name}" for o in resolved.owners if o.imported}
            assert set(locations) == portions, key
        else:
            assert origin == f"{resolved.site}/{resolved.path}", key
        if scenario.declares:
            # Every directory with a reached claim is on __path__, and no other.
            reached = {f"{o.site}/{scenario.name}" for o in resolved.owners if o.imported}
            assert extended == sorted(reached), key
            # An __init__ with code of its own ran exactly when its claim is reached.
            coded = {(f"{roots[key]}/{r.site}", r.path) for r in scenario.rows if r.content == CODE}
            ran = any(o.imported for o in resolved.owners if (o.site, o.path) in coded)
            assert ("VALUE" in attrs) == ran, key


def test_absolute_rows_land_in_the_directory_they_name() -> None:
    # The ownership index keys a distribution outside its root by absolute path: such rows
    # must reach that site directory's entries, not be taken for the first (empty) row's run.
    from pipguard.checks.imports import Listing, build_site_dirs

    listing = Listing("/root", "speedy", "1.0", ["/v/site/fast.py", "/v/site/x-1.dist-info/RECORD"])
    other, site = build_site_dirs(["/root", "/v/site"], [listing])
    assert other.entries == {}
    assert list(site.entries) == ["fast.py"]
