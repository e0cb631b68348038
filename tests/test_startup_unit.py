"""Startup files: the pure classification, then each line rule against a real site.py."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipguard.checks.startup_files import (
    StartupContext,
    StartupFile,
    classify_startup_file,
    display_line,
    is_startup_path,
    matching_start,
    startup_form,
)

ENV = "/env"
SITE = "/env/lib/python3.11/site-packages"
CTX = StartupContext((3, 11), (ENV,))


def classify(name: str, data: bytes, owner: str | None = "demo", **kw: Any) -> StartupFile:
    context = kw.pop("context", CTX)
    return classify_startup_file(SITE, name, data, owner, context, **kw)


def roles(found: StartupFile) -> list[str]:
    return [line.role for line in found.lines]


# --- which files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("litellm_init.pth", "pth"),
        (".hidden.pth", "pth"),  # 3.13+ skips it, older patch releases do not
        ("X.PTH", "pth"),
        ("demo.start", "start"),
        ("sitecustomize.py", "module"),
        ("sitecustomize.pyc", "module"),
        ("sitecustomize.cpython-311-x86_64-linux-gnu.so", "module"),
        ("usercustomize.abi3.so", "module"),
        ("SiteCustomize.py", "module"),
        ("sitecustomize/__init__.py", "module"),
        ("sitecustomize/__pycache__/__init__.cpython-311.pyc", "module"),
        ("__pycache__/sitecustomize.cpython-311.pyc", "module"),
        ("usercustomize/__init__.cpython-311-x86_64-linux-gnu.so", "module"),
        ("pkg/x.pth", None),
        ("pkg/sitecustomize.py", None),
        ("sitecustomize/other.py", None),
        ("sitecustomize.pyi", None),
        ("__pycache__/other.cpython-311.pyc", None),
        ("__pycache__/sitecustomize.py", None),
        ("../../../bin/x.pth", None),
        ("demo-1.0.dist-info/RECORD", None),
    ],
)
def test_which_paths_are_startup_files(path: str, form: str | None) -> None:
    assert startup_form(path) == form
    assert is_startup_path(path) is (form is not None)
    assert is_startup_path(path.replace("/", "\\")) is (form is not None)


def test_matching_start_names_the_sibling() -> None:
    assert matching_start("demo.pth") == "demo.start"


def test_a_path_that_is_no_startup_file_is_refused() -> None:
    with pytest.raises(ValueError, match=r"pkg/mod\.py: not a startup file"):
        classify("pkg/mod.py", b"")


# --- code, paths ------------------------------------------------------------------------------

LITELLM = (
    b"import os, base64; exec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImN1cmwgLWQgQCRIT01F"
    + b"QQ" * 2000
    + b"'))\n"
)


def test_litellm_init_pth_is_code() -> None:
    found = classify("litellm_init.pth", LITELLM, "litellm")
    assert found.kind == "code"
    assert roles(found) == ["import"]
    assert found.reason is None
    assert found.path == f"{SITE}/litellm_init.pth"
    shown = display_line(found.lines[0].text)
    assert shown.startswith("import os, base64; exec(base64.b64decode(")
    assert shown.endswith(f"… ({len(LITELLM) - 1 - 120:,} more characters)")


def test_import_is_recognised_after_a_space_or_a_tab_only() -> None:
    found = classify(
        "demo.pth", b"import\tos\nimport  os\nimportos\nimport\nimport.x\n#import os\n"
    )
    assert roles(found) == ["import", "import", *["path-inside"] * 3, "comment"]


def test_path_lines_inside_the_environment_are_paths() -> None:
    data = b"# comment\n\n   \nsub\n./other/\n../../../../env/share/x  \n/env/lib/extra\n"
    found = classify("demo.pth", data)
    assert found.kind == "paths"
    assert roles(found) == ["comment", "blank", "blank", *["path-inside"] * 4]
    assert [line.target for line in found.lines[3:]] == [
        f"{SITE}/sub",
        f"{SITE}/other",
        "/env/share/x",
        "/env/lib/extra",
    ]
    assert [line.number for line in found.lines] == list(range(1, 8))


@pytest.mark.parametrize(
    "line", [b"../../../../outside", b"../../../../../etc", b"/opt/elsewhere", b"/env2/x", b"//env"]
)
def test_a_path_line_that_leaves_the_environment_is_code(line: bytes) -> None:
    found = classify("demo.pth", b"sub\n" + line + b"\n")
    assert found.kind == "code"
    assert roles(found) == ["path-inside", "path-outside"]


def test_windows_paths_resolve_with_windows_rules() -> None:
    context = StartupContext((3, 12), ("C:\\Env",))
    site = "C:\\Env\\Lib\\site-packages"
    data = b"sub\n..\\..\\Scripts\nc:\\env\\share\nD:\\x\n..\\..\\..\\elsewhere\n"
    found = classify_startup_file(site, "demo.pth", data, "demo", context)
    assert roles(found) == [*["path-inside"] * 3, *["path-outside"] * 2]
    assert found.lines[1].target == "C:\\Env\\Scripts"


def test_a_start_file_is_code_on_every_python() -> None:
    data = b"# comment\n\ndemo.hooks:run\n  demo.other:go  \n"
    for version in ((3, 11), (3, 15)):
        found = classify("demo.start", data, context=StartupContext(version, (ENV,)))
        assert found.kind == "code"
        assert roles(found) == ["comment", "blank", "entry-point", "entry-point"]


def test_a_start_file_turns_the_matching_pth_imports_off_from_3_15() -> None:
    pth = b"import demo_hook\nsub\n"
    for version, start, kind in [
        ((3, 15), b"demo.hooks:run\n", "paths"),
        ((3, 15), b"", "paths"),  # its presence is enough
        ((3, 15), b"\xff\xfe bad", "code"),  # 3.15 skips a .start that is not UTF-8
        ((3, 14), b"demo.hooks:run\n", "code"),
    ]:
        context = StartupContext(version, (ENV,))
        found = classify("demo.pth", pth, context=context, start_sibling=start)
        assert found.kind == kind, (version, start)
    suppressed = classify(
        "demo.pth", pth, context=StartupContext((3, 15), (ENV,)), start_sibling=b""
    )
    assert roles(suppressed) == ["import-suppressed", "path-inside"]


def test_python_3_15_strips_lines_before_looking_at_them() -> None:
    data = b"  import os\n\t# comment\n  sub  \n"
    old = classify("demo.pth", data, context=StartupContext((3, 14), (ENV,)))
    new = classify("demo.pth", data, context=StartupContext((3, 15), (ENV,)))
    assert roles(old) == ["path-inside"] * 3
    assert roles(new) == ["import", "comment", "path-inside"]
    assert new.lines[2].target == f"{SITE}/sub"


def test_sitecustomize_and_usercustomize_are_code() -> None:
    for name in ("sitecustomize.py", "usercustomize/__init__.py", "sitecustomize.abi3.so"):
        found = classify(name, b"print('hi')\n")
        assert (found.form, found.kind, found.lines) == ("module", "code", ())


def test_a_pth_that_is_not_utf8_is_read_as_the_locale_fallback_would() -> None:
    data = b"# caf\xe9\nimport os\n# \x85import sys\n"
    old = classify("demo.pth", data)
    assert old.utf8 is False
    assert roles(old) == ["comment", "import", "comment"]
    new = classify("demo.pth", data, context=StartupContext((3, 13), (ENV,)))
    # str.splitlines breaks at U+0085, which latin-1 makes of byte 0x85.
    assert roles(new) == ["comment", "import", "comment", "import"]


def test_a_bom_hides_the_first_import_before_3_13_only() -> None:
    data = b"\xef\xbb\xbfimport os\n"
    assert roles(classify("demo.pth", data)) == ["path-inside"]
    assert roles(classify("demo.pth", data, context=StartupContext((3, 13), (ENV,)))) == ["import"]


def test_display_line_escapes_what_a_terminal_would_obey() -> None:
    assert display_line("import os\x1b[2J\u202e\t#") == "import os\\x1b[2J\\u202e\\t#"
    assert display_line("x" * 10, limit=4) == "xxxx… (6 more characters)"
    assert display_line("plain") == "plain"


# --- standard hooks ---------------------------------------------------------------------------

# distutils-precedence.pth as setuptools generates it, from its setup.py at each tag.
PRECEDENCE = {
    "49.3.0": b"import os; enabled = os.environ.get('SETUPTOOLS_USE_DISTUTILS') == 'local'; "
    b"enabled and __import__('_distutils_hack').add_shim(); \n",
    "50.1.0": b"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, "
    b"'stdlib') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n",
    "60.1.0": b"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, "
    b"'local') == 'local'; enabled and __import__('_distutils_hack').ensure_shim(); \n",
    "60.2.0": b"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, "
    b"'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n",
}


def _installed_precedence() -> bytes:
    try:
        path = importlib.metadata.distribution("setuptools").locate_file("distutils-precedence.pth")
        return Path(str(path)).read_bytes()
    except (importlib.metadata.PackageNotFoundError, OSError):
        pytest.skip("no setuptools with distutils-precedence.pth in this interpreter")


@pytest.mark.parametrize("version", sorted(PRECEDENCE))
def test_distutils_precedence_is_standard_with_its_owner_and_content(version: str) -> None:
    data = PRECEDENCE[version]
    found = classify("distutils-precedence.pth", data, "setuptools")
    assert (found.kind, found.reason) == ("standard", "setuptools' distutils-precedence hook")
    assert classify(
        "distutils-precedence.pth", data.replace(b"\n", b"\r\n"), "setuptools"
    ).kind == ("standard")


def test_the_installed_distutils_precedence_is_standard() -> None:
    data = _installed_precedence()
    assert classify("distutils-precedence.pth", data, "setuptools").kind == "standard"


@pytest.mark.parametrize(
    ("name", "data", "owner"),
    [
        ("distutils-precedence.pth", PRECEDENCE["60.2.0"], "setuptools-evil"),
        ("distutils-precedence.pth", PRECEDENCE["60.2.0"], None),
        ("distutils-precedence.pth", PRECEDENCE["60.2.0"] + b"import evil\n", "setuptools"),
        ("distutils-precedence.pth", PRECEDENCE["60.2.0"].replace(b"add_", b"my_"), "setuptools"),
        ("distutils-precedence.pth", b"  " + PRECEDENCE["60.2.0"], "setuptools"),  # 3.15 runs it
        ("precedence.pth", PRECEDENCE["60.2.0"], "setuptools"),
    ],
)
def test_distutils_precedence_lookalikes_are_code(name: str, data: bytes, owner: str) -> None:
    assert classify(name, data, owner, context=StartupContext((3, 15), (ENV,))).kind == "code"


@pytest.fixture(autouse=True)
def _stdlib_distutils(monkeypatch: pytest.MonkeyPatch) -> None:
    # Some tests import setuptools; once another test has imported distutils (pip does),
    # setuptools' distutils hack asserts unless told to leave the standard library's alone.
    monkeypatch.setenv("SETUPTOOLS_USE_DISTUTILS", "stdlib")


def test_setuptools_editable_finder_is_standard_for_an_editable_owner_only() -> None:
    utils = pytest.importorskip("setuptools._normalization")
    finder = utils.safe_identifier("__editable__.my_proj-1.0.post1.finder")
    data = f"import {finder}; {finder}.install()".encode()
    name = "__editable__.my_proj-1.0.post1.pth"
    found = classify(name, data, "my-proj", editable=True)
    assert (found.kind, found.reason) == (
        "standard",
        "editable install of a local project (setuptools' finder)",
    )
    assert classify(name, data, "my-proj").kind == "code"
    assert classify(name, data, "other", editable=True).kind == "code"
    assert classify(name, data.replace(b"install", b"run"), "my-proj", editable=True).kind == "code"
    other = data.replace(finder.encode(), b"__editable___other_1_0_finder")
    assert classify(name, other, "my-proj", editable=True).kind == "code"
    assert classify(name, data + b"\nimport evil", "my-proj", editable=True).kind == "code"


def test_editable_path_lines_outside_the_environment_are_standard_for_an_editable_owner() -> None:
    for name in ("__editable__.my_proj-1.0.pth", "_my_proj.pth", "my_proj.pth"):
        data = b"/home/me/my-proj/src\n"
        found = classify(name, data, "my-proj", editable=True)
        assert found.kind == "standard", name
        assert found.reason == "path lines of an editable install of a local project"
        assert classify(name, data, "my-proj").kind == "code"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # hatchling with editables 0.6 (hatchling's exact dev mode)
        ("_editable_impl_my_proj.pth", "import _editable_impl_my_proj\n/home/me/my-proj/src"),
        # hatchling with editables 0.3 to 0.5 (the name gains a leading underscore)
        ("_my_proj.pth", "import _editable_impl_my_proj"),
        # pdm-backend's editables backend (a vendored editables 0.5)
        ("my_proj.pth", "import _editable_impl_my_proj"),
        # meson-python
        ("my-proj-editable.pth", "import _my_proj_editable_loader"),
        # scikit-build-core, before and after its rename (2026-06)
        ("_my_proj_editable.pth", "import _my_proj_editable\n/home/me/my-proj/src\n"),
        ("_editable_skbc_my_proj.pth", "import _editable_skbc_my_proj\n"),
        ("_editable_skbc_my_proj.start", "\ufeff_editable_skbc_my_proj:entrypoint"),
    ],
)
def test_editable_import_hooks_are_standard_for_an_editable_owner_only(
    name: str, data: str
) -> None:
    raw = data.encode()
    found = classify(name, raw, "my-proj", editable=True)
    assert found.kind == "standard"
    assert found.reason is not None
    assert found.reason.startswith("editable install of a local project (")
    assert classify(name, raw, "my-proj").kind == "code"
    assert classify(name, raw, "other-proj", editable=True).kind == "code"
    assert classify(name, raw.replace(b"my_proj", b"evil"), "my-proj", editable=True).kind == (
        "code"
    )
    assert classify(name, raw + b"\nimport evil\n", "my-proj", editable=True).kind == "code"


# Namespace lines generated by older setuptools (its _nspkg_tmpl at each tag, for zope.interface).
NSPKG_OLD = {
    "34.3-69.0": "import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys."
    "_getframe(1).f_locals['sitedir'], *('zope', 'interface'));importlib = has_mfs and __import__("
    "'importlib.util');has_mfs and __import__('importlib.machinery');m = has_mfs and sys.modules."
    "setdefault('zope.interface', importlib.util.module_from_spec(importlib.machinery.PathFinder."
    "find_spec('zope.interface', [os.path.dirname(p)])));m = m or sys.modules.setdefault('zope."
    "interface', types.ModuleType('zope.interface'));mp = (m or []) and m.__dict__.setdefault('__"
    "path__',[]);(p not in mp) and mp.append(p);m and setattr(sys.modules['zope'], 'interface', m)",
    "28.3-30": "import sys, types, os;pep420 = sys.version_info > (3, 3);p = os.path.join(sys._get"
    "frame(1).f_locals['sitedir'], *('zope', 'interface'));ie = os.path.exists(os.path.join(p,'__"
    "init__.py'));m = not ie and not pep420 and sys.modules.setdefault('zope.interface', types."
    "ModuleType('zope.interface'));mp = (m or []) and m.__dict__.setdefault('__path__',[]);(p not "
    "in mp) and mp.append(p);m and setattr(sys.modules['zope'], 'interface', m)",
}


def _nspkg_lines(*packages: str) -> bytes:
    namespaces = pytest.importorskip("setuptools.namespaces")
    installer = namespaces.Installer()
    return "".join(installer._gen_nspkg_line(pkg) for pkg in packages).encode()


def test_setuptools_namespace_lines_are_standard() -> None:
    name = "zope.interface-5.4.0-py3.11-nspkg.pth"
    for data in (_nspkg_lines("zope", "zope.interface"), *(v.encode() for v in NSPKG_OLD.values())):
        found = classify(name, data, "zope-interface")
        assert (found.kind, found.reason) == ("standard", "setuptools' namespace-package lines")


def test_namespace_lookalikes_are_code() -> None:
    name = "zope.interface-5.4.0-py3.11-nspkg.pth"
    data = _nspkg_lines("zope")
    assert classify(name, data, "other").kind == "code"
    assert classify(name, data, None).kind == "code"
    assert classify("zope.pth", data, "zope").kind == "code"
    assert classify(name, data + b"import evil\n", "zope-interface").kind == "code"
    assert classify(
        name, data.replace(b"mp.append(p)", b"mp.append(q)"), "zope-interface"
    ).kind == ("code")
    wrong_pth = data.replace(b"*('zope',)", b"*('zope', 'x')")
    assert classify(name, wrong_pth, "zope-interface").kind == "code"
    # A literal root (setuptools' editable and develop forms) only for an editable owner.
    namespaces = pytest.importorskip("setuptools.namespaces")
    develop = namespaces.DevelopInstaller()
    develop.egg_path = "/home/me/zope.interface/src"
    literal = develop._gen_nspkg_line("zope").encode()
    assert classify(name, literal, "zope-interface").kind == "code"
    assert classify(name, literal, "zope-interface", editable=True).kind == "standard"


def test_virtualenvs_own_hook_is_standard_in_an_environment_virtualenv_made() -> None:
    made = StartupContext((3, 9), (ENV,), made_by_virtualenv=True)
    found = classify("_virtualenv.pth", b"import _virtualenv", None, context=made)
    assert (found.kind, found.reason) == ("standard", "virtualenv's own hook")
    assert classify("_virtualenv.pth", b"import _virtualenv", None).kind == "code"
    assert classify("_virtualenv.pth", b"import _virtualenv", "virtualenv", context=made).kind == (
        "code"
    )
    assert classify("_virtualenv.pth", b"import _virtualenvx", None, context=made).kind == "code"
    assert classify("virtualenv.pth", b"import _virtualenv", None, context=made).kind == "code"


def test_an_allowed_looking_file_in_a_subdirectory_is_not_standard() -> None:
    found = classify("sitecustomize/__init__.py", PRECEDENCE["60.2.0"], "setuptools")
    assert found.kind == "code"


# --- the rules against a real site.py ---------------------------------------------------------
# Each case is a site directory; one interpreter process runs site.addsitedir() on every one,
# with a builtin mark() that the import lines call, and reports the marks and sys.path entries.

CASES: dict[str, dict[str, bytes]] = {
    "tab": {"a.pth": b"import\tos; mark('tab:1')\nimport os;mark('tab:2')\n"},
    "spaces": {
        "a.pth": b"import  os; mark('sp:1')\n import os; mark('sp:2')\n\timport os; mark('sp:3')\n"
        b"importos; mark('sp:4')\n#import os; mark('sp:5')\n  # import os; mark('sp:6')\n"
    },
    "paths": {
        "a.pth": b"# comment\n\n   \nsub\nsub2   \n./sub3/\nmissing\n../../outside-rel\n"
        b"@OUTSIDE@\nsub\n.\n",
        "b.pth": b"sub4\n",
    },
    "crlf": {"a.pth": b"import os; mark('crlf:1')\r\nsub\r\n\r\nimport os; mark('crlf:2')"},
    "cr": {"a.pth": b"sub\rimport os; mark('cr:2')\r"},
    "separators": {
        "a.pth": b"import os; mark('sep:0')\n# a\x0bimport os; mark('sep:1')\n"
        b"# b\x0cimport os; mark('sep:2')\n"
        b"# c\x1cimport os; mark('sep:3')\n# d\xc2\x85import os; mark('sep:4')\n"
        b"# e\xe2\x80\xa8import os; mark('sep:5')\nsub\x0bsub2\n"
    },
    "bom": {"a.pth": b"\xef\xbb\xbfimport os; mark('bom:1')\nimport os; mark('bom:2')\n"},
    "latin1": {"a.pth": b"# caf\xe9\nimport os; mark('l1:2')\n# \x85import os; mark('l1:3')\n"},
    "start": {"a.pth": b"import os; mark('start:1')\n", "a.start": b"os:getcwd\n"},
    "hidden": {".a.pth": b"import os; mark('hidden:1')\n"},
    "error": {"a.pth": b"import os; mark('err:1'); 1/0\nimport os; mark('err:2')\n"},
}
SUBDIRS = ("sub", "sub2", "sub3", "sub4")

PROBE = """
import builtins, json, locale, site, sys
ran = []
builtins.mark = ran.append
# Stand for a latin-1 locale where site.py asks for one by name (3.13+).
locale.getencoding = lambda: "latin-1"
out = {"version": list(sys.version_info[:2]), "cases": {}}
for case, directory in json.loads(sys.argv[1]).items():
    before, error = list(sys.path), None
    del ran[:]
    try:
        site.addsitedir(directory)
    except Exception as exc:
        error = repr(exc)
    added = [p for p in sys.path if p not in before and p != directory]
    out["cases"][case] = {"ran": list(ran), "added": added, "error": error}
print(json.dumps(out))
"""


def _interpreters() -> list[str]:
    """The interpreter running the tests, and any named in PIPGUARD_TEST_PYTHONS."""
    extra = os.environ.get("PIPGUARD_TEST_PYTHONS", "").split()
    return list(dict.fromkeys([sys.executable, *extra]))


@pytest.fixture(scope="module", params=_interpreters())
def real_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("startup")
    outside = base / "outside"
    outside.mkdir()
    dirs = {}
    for case, files in CASES.items():
        site = base / "env" / case / "site-packages"
        for sub in SUBDIRS:
            (site / sub).mkdir(parents=True)
        (base / "env" / "outside-rel").mkdir(exist_ok=True)
        for name, data in files.items():
            (site / name).write_bytes(data.replace(b"@OUTSIDE@", str(outside).encode()))
        dirs[case] = str(site)
    done = subprocess.run(
        [request.param, "-S", "-c", PROBE, json.dumps(dirs)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    report["dirs"] = dirs
    return report


def ours(report: dict[str, Any], case: str) -> tuple[set[str], list[str]]:
    """Return the marks our classification says will run, and the sys.path entries it adds."""
    site = report["dirs"][case]
    context = StartupContext(tuple(report["version"]), (str(Path(site).parent),))
    marks: set[str] = set()
    added: list[str] = []
    for name in sorted(CASES[case]):
        if not name.endswith(".pth"):
            continue
        data = Path(site, name).read_bytes()
        start = Path(site, matching_start(name))
        sibling = start.read_bytes() if start.exists() else None
        found = classify_startup_file(site, name, data, "demo", context, start_sibling=sibling)
        for line in found.lines:
            if line.role == "import":
                marks.update(re.findall(r"mark\('([^']+)'\)", line.text))
            elif line.target and os.path.exists(line.target) and line.target != site:
                added.append(line.target)
    return marks, list(dict.fromkeys(added))


def real(report: dict[str, Any], case: str) -> tuple[set[str], list[str], str | None]:
    result = report["cases"][case]
    return set(result["ran"]), result["added"], result["error"]


@pytest.mark.parametrize("case", ["tab", "spaces", "crlf", "cr", "separators", "bom", "start"])
def test_import_lines_are_those_site_py_runs(real_site: dict[str, Any], case: str) -> None:
    ran, added, error = real(real_site, case)
    assert error is None
    assert ours(real_site, case) == (ran, added)
    assert ran  # every case has a line that runs somewhere


def test_path_lines_are_those_site_py_adds(real_site: dict[str, Any]) -> None:
    ran, added, error = real(real_site, "paths")
    assert error is None
    assert ours(real_site, "paths") == (ran, added)
    assert len(added) == 6  # sub, sub2, sub3, outside-rel, the absolute one, sub4
    site = Path(real_site["dirs"]["paths"])
    context = StartupContext(tuple(real_site["version"]), (str(site.parent),))
    found = classify_startup_file(str(site), "a.pth", (site / "a.pth").read_bytes(), None, context)
    outside = [line.target for line in found.lines if line.role == "path-outside"]
    assert outside == [str(site.parent.parent / "outside-rel"), str(site.parents[2] / "outside")]


def test_a_pth_that_is_not_utf8_runs_no_line_we_did_not_flag(real_site: dict[str, Any]) -> None:
    ran, _, error = real(real_site, "latin1")
    marks, _ = ours(real_site, "latin1")
    if tuple(real_site["version"]) >= (3, 13):
        # site.py's own locale fallback, with the locale encoding it asks for set to latin-1.
        assert (ran, error) == (marks, None)
    else:
        # A UTF-8 locale fails on the file; a latin-1 one would run what we flag.
        assert ran <= marks
    assert marks == {"l1:2"} | ({"l1:3"} if tuple(real_site["version"]) >= (3, 13) else set())


def test_hidden_and_failing_files_run_no_line_we_did_not_flag(real_site: dict[str, Any]) -> None:
    for case in ("hidden", "error"):
        ran, _, error = real(real_site, case)
        marks, _ = ours(real_site, case)
        assert error is None
        assert ran <= marks, case
    # 3.9 to 3.14 give up on a file at its first failing line; we flag every line.
    assert ours(real_site, "error")[0] == {"err:1", "err:2"}
