"""Layered environments: dpkg's file lists, and every site directory an interpreter imports from."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from pipguard import _facts
from pipguard.dpkg import (
    DpkgDatabase,
    metadata_lines,
    parse_list,
    parse_md5sums,
    split_arch,
    split_files,
)
from pipguard.environment import EnvironmentError_, describe_python
from pipguard.layers import Layer, cover, home_of, plan_layers, site_rows
from pipguard.paths import is_within

SITE = "/usr/lib/python3/dist-packages"
JWT_LIST = f"""/.
/usr
/usr/lib
/usr/lib/python3
{SITE}
{SITE}/PyJWT-2.6.0.dist-info
{SITE}/PyJWT-2.6.0.dist-info/METADATA
{SITE}/PyJWT-2.6.0.dist-info/top_level.txt
{SITE}/jwt
{SITE}/jwt/__init__.py
{SITE}/jwt/api_jwt.py
/usr/share/doc/python3-jwt/copyright
"""
LIBFOO_LIST = f"""/.
/usr
/usr/lib
/usr/lib/libfoo.so.1
/usr/lib/python3
{SITE}
{SITE}/_foo.so
"""
JWT_SUMS = f"""a1a519ecc30a08b9219d4f9453562af5  {SITE[1:]}/PyJWT-2.6.0.dist-info/METADATA
68b329da9893e34099c7d8ad5cb9c940  {SITE[1:]}/jwt/__init__.py
"""


def write_dpkg(root: Path, lists: dict[str, str], sums: dict[str, str] | None = None) -> Path:
    """Write a dpkg database: info/<package>.list (and .md5sums) under ``root``."""
    info = root / "info"
    info.mkdir(parents=True)
    for package, text in lists.items():
        (info / f"{package}.list").write_text(text)
    for package, text in (sums or {}).items():
        (info / f"{package}.md5sums").write_text(text)
    return root


# -- the dpkg reader, pure parts --


def test_parse_list_names_the_lines_that_are_no_absolute_path() -> None:
    paths, bad = parse_list("/.\n/usr\nusr/lib\n\n/usr/lib/x/\n")
    assert paths == ["/usr", "/usr/lib/x"]
    assert bad == [3]


def test_split_files_tells_directories_by_what_lies_below_them() -> None:
    paths, _ = parse_list(JWT_LIST)
    files, directories = split_files(paths)
    assert f"{SITE}/PyJWT-2.6.0.dist-info" in directories
    assert {f"{SITE}/jwt", "/usr"} <= set(directories)
    assert f"{SITE}/jwt/__init__.py" in files
    assert f"{SITE}/jwt" not in files
    # "jwt-extra" sorts between "jwt" and "jwt/": still a file, "jwt" still a directory.
    files, directories = split_files(["/a/jwt", "/a/jwt-extra", "/a/jwt/x.py"])
    assert files == ("/a/jwt-extra", "/a/jwt/x.py")
    assert directories == ("/a/jwt",)


def test_parse_md5sums_makes_paths_absolute_and_names_bad_lines() -> None:
    sums, bad = parse_md5sums(JWT_SUMS + "not a sum line\nA1A519ECC30A08B9219D4F9453562AF5 *x\n")
    assert sums[f"{SITE}/jwt/__init__.py"] == "68b329da9893e34099c7d8ad5cb9c940"
    assert sums["/x"] == "a1a519ecc30a08b9219d4f9453562af5"
    assert bad == [3]


def test_metadata_lines_finds_first_and_unterminated_last_lines() -> None:
    text = "/a/x-1.dist-info\n/a/x-1.dist-info/METADATA\n/a/y.egg-info/PKG-INFO\n/a/y.egg-info"
    assert metadata_lines(text) == ["/a/x-1.dist-info", "/a/y.egg-info"]
    assert metadata_lines("/a/not-info\n/a/z.dist-info.bak\n") == []


def test_split_arch() -> None:
    assert split_arch("libc6:amd64") == ("libc6", "amd64")
    assert split_arch("python3-jwt") == ("python3-jwt", None)


# -- the dpkg reader against a database the test writes --


def test_fake_dpkg_owner_files_and_md5sums(tmp_path: Path) -> None:
    root = write_dpkg(
        tmp_path / "dpkg",
        {"python3-jwt": JWT_LIST, "libfoo:amd64": LIBFOO_LIST},
        {"python3-jwt": JWT_SUMS},
    )
    db = DpkgDatabase(str(root))
    assert db.lists_read == 0  # nothing is read until a question is asked
    assert db.owners(f"{SITE}/PyJWT-2.6.0.dist-info") == ("python3-jwt",)
    assert db.owners(f"{SITE}/PyJWT-2.6.0.dist-info/") == ("python3-jwt",)
    assert db.owners(f"{SITE}/jwt/api_jwt.py") == ("python3-jwt",)
    assert db.owners("/usr/lib/libfoo.so.1") == ("libfoo:amd64",)
    assert db.owners(f"{SITE}/_foo.so") == ("libfoo:amd64",)  # its last line
    assert sorted(db.owners(SITE)) == ["libfoo:amd64", "python3-jwt"]
    assert db.owners(f"{SITE}/other-1.0.dist-info") == ()
    assert db.lists_read == 2
    contents = db.files("python3-jwt")
    assert contents is not None
    assert f"{SITE}/jwt/__init__.py" in contents.files
    assert "/usr/share/doc/python3-jwt/copyright" in contents.files
    assert f"{SITE}/PyJWT-2.6.0.dist-info" in contents.directories
    assert not set(contents.files) & set(contents.directories)
    assert db.md5sums("python3-jwt") == {
        f"{SITE}/PyJWT-2.6.0.dist-info/METADATA": "a1a519ecc30a08b9219d4f9453562af5",
        f"{SITE}/jwt/__init__.py": "68b329da9893e34099c7d8ad5cb9c940",
    }
    # A multiarch package answers to its plain name too; one without sums has none.
    libfoo = db.files("libfoo")
    assert libfoo is not None
    assert libfoo.files == ("/usr/lib/libfoo.so.1", f"{SITE}/_foo.so")
    assert db.md5sums("libfoo") is None
    assert db.files("absent") is None
    assert db.problems == []


def test_fake_dpkg_lists_are_read_once(tmp_path: Path) -> None:
    root = write_dpkg(tmp_path / "dpkg", {"python3-jwt": JWT_LIST})
    db = DpkgDatabase(str(root))
    assert db.owners(f"{SITE}/jwt/__init__.py") == ("python3-jwt",)
    (root / "info" / "late.list").write_text("/late/file\n")
    assert db.owners("/late/file") == ()


def test_fake_dpkg_bad_lists_are_one_problem_each(tmp_path: Path) -> None:
    root = write_dpkg(
        tmp_path / "dpkg",
        {
            "python3-jwt": JWT_LIST,
            "garbled": "/ok\nnot/absolute\nalso bad\n/ok2\n",
            "binary": "/x\x00y\n",
        },
        {"python3-jwt": JWT_SUMS + "zzz\n"},
    )
    (root / "info" / "adir.list").mkdir()
    db = DpkgDatabase(str(root))
    assert db.owners(f"{SITE}/PyJWT-2.6.0.dist-info") == ("python3-jwt",)
    assert db.owners("/ok2") == ("garbled",)  # the good lines of a bad list still count
    db.md5sums("python3-jwt")
    problems = {Path(p.path).name: p.message for p in db.problems}
    assert problems == {
        "garbled.list": "line 2 (and 1 more): not a path; those lines are ignored",
        "binary.list": "holds NUL bytes: not a file list; ignored",
        "adir.list": "not a regular file; ignored",
        "python3-jwt.md5sums": "line 3: not '<md5>  <path>'; those lines are ignored",
    }
    assert all("\n" not in str(p) for p in db.problems)


def test_no_dpkg_database_is_one_problem_not_a_traceback(tmp_path: Path) -> None:
    db = DpkgDatabase(str(tmp_path / "none"))
    assert not db.present()
    assert db.owners("/usr/lib/python3/dist-packages/x-1.dist-info") == ()
    assert [p.message for p in db.problems] == ["cannot be listed: No such file or directory"]


REAL_SITE = Path("/usr/lib/python3/dist-packages")


@pytest.mark.integration
def test_real_dpkg_owns_apt_python_distributions() -> None:
    if not Path("/var/lib/dpkg/info").is_dir() or not Path("/usr/bin/python3").exists():
        pytest.skip("needs a Debian or Ubuntu system: /var/lib/dpkg/info and /usr/bin/python3")
    metadata = sorted(REAL_SITE.glob("*.dist-info")) + sorted(REAL_SITE.glob("*.egg-info"))
    if not metadata:
        pytest.skip(f"no apt Python package installed: nothing in {REAL_SITE}")
    db = DpkgDatabase()
    owners = {str(m): db.owners(str(m)) for m in metadata}
    owned = {path: found for path, found in owners.items() if found}
    assert owned, f"no metadata directory of {REAL_SITE} found in the dpkg lists"
    assert db.problems == []
    if shutil.which("dpkg-query"):
        # dpkg's own answer for a few of them: the same package.
        for path, found in list(owned.items())[:3]:
            said = subprocess.run(
                ["dpkg-query", "-S", path], capture_output=True, text=True, check=True
            )
            assert said.stdout.split(":")[0].split(",")[0].strip() == split_arch(found[0])[0]
    path, (package, *_) = next(iter(owned.items()))
    contents = db.files(package)
    assert contents is not None
    assert path in contents.directories
    assert any(f.startswith(f"{REAL_SITE}/") for f in contents.files)


# -- layers from facts, pure --


def fake_fs(dirs: set[str]) -> tuple[Any, Any]:
    return os.path.normpath, (lambda p: os.path.normpath(p) in dirs)


DEBIAN = {
    "python": "/usr/bin/python3",
    "prefix": "/usr",
    "exec_prefix": "/usr",
    "base_prefix": "/usr",
    "base_exec_prefix": "/usr",
    "paths": {
        "purelib": "/usr/local/lib/python3.11/dist-packages",
        "platlib": "/usr/local/lib/python3.11/dist-packages",
        "scripts": "/usr/local/bin",
        "data": "/usr/local",
        "include": "/usr/include/python3.11",
    },
    "user_base": "/root/.local",
    "site_dirs": [
        ["/usr/local/lib/python3.11/dist-packages", "scheme"],
        ["/usr/lib/python3/dist-packages", "site"],
    ],
}


def test_debian_layers_read_apt_site_and_write_only_to_usr_local() -> None:
    realpath, is_dir = fake_fs({d for d, _ in DEBIAN["site_dirs"]})
    plan = plan_layers(DEBIAN, realpath, is_dir)
    assert plan.layers == (
        Layer("/usr/local/lib/python3.11/dist-packages", "scheme", True),
        Layer("/usr/lib/python3/dist-packages", "site", False),
    )
    assert plan.roots == ("/usr", "/root/.local")
    assert plan.write_roots == ("/usr/local", "/root/.local")


def test_system_site_venv_reads_its_base_and_never_writes_there() -> None:
    base = "/opt/py/lib/python3.11/site-packages"
    facts = {
        **DEBIAN,
        "prefix": "/v",
        "exec_prefix": "/v",
        "base_prefix": "/opt/py",
        "base_exec_prefix": "/opt/py",
        "paths": {
            "purelib": "/v/lib/python3.11/site-packages",
            "scripts": "/v/bin",
            "data": "/v",
            "include": "/opt/py/include/python3.11",
        },
        "user_base": None,
        "site_dirs": [
            ["/v/lib/python3.11/site-packages", "scheme"],
            ["/work/outer/lib/python3.11/site-packages", "pth"],
            [base, "base"],
        ],
    }
    realpath, is_dir = fake_fs({d for d, _ in facts["site_dirs"]})
    plan = plan_layers(facts, realpath, is_dir, extra_dirs=["/nowhere"])
    assert [(layer.origin, layer.writable) for layer in plan.layers] == [
        ("scheme", True),
        ("pth", False),
        ("base", False),
    ]
    # The base's and the .pth site's homes are read (their scripts), not written.
    assert plan.roots == ("/v", "/work/outer", "/opt/py")
    assert plan.write_roots == ("/v",)


def test_a_scheme_dir_named_through_a_link_is_still_the_scheme() -> None:
    facts = {**DEBIAN, "site_dirs": [["/link/dist-packages", "site"]]}
    links = {"/link/dist-packages": "/usr/local/lib/python3.11/dist-packages"}
    plan = plan_layers(facts, lambda p: links.get(p, p), lambda p: True)
    assert plan.layers[0] == Layer("/usr/local/lib/python3.11/dist-packages", "scheme", True)
    assert len(plan.layers) == 1


@pytest.mark.parametrize(
    "junk", [None, "x", [["/a"]], [["/a", "moon"]], [[1, "site"]], [["/a", "site", "x"]]]
)
def test_site_rows_refuses_what_no_interpreter_says(junk: object) -> None:
    with pytest.raises(TypeError):
        site_rows(junk)


def test_home_of_and_cover() -> None:
    assert home_of("/v/lib/python3.11/site-packages") == "/v"
    assert home_of("/usr/lib/python3/dist-packages") == "/usr"
    assert home_of("C:/Py/Lib/site-packages") == "C:/Py"
    assert home_of("/opt/target") is None
    assert cover(["/a/b", "/a", "/c", None, "/a/b/c", "/ab"]) == ("/a", "/c", "/ab")


def test_stdlib_guess_lists_the_library_not_a_site_inside_it(tmp_path: Path) -> None:
    lib = tmp_path / "lib" / "python3.9"
    for name in ("json", "site-packages/pip", "lib-dynload", "__pycache__", "config-3.9"):
        (lib / name).mkdir(parents=True)
    (lib / "os.py").write_text("")
    (lib / "lib-dynload" / f"_ssl{importlib_suffix()}").write_text("")
    search = [str(lib), str(lib / "lib-dynload"), str(lib / "site-packages")]
    names = _facts._listed_stdlib_names(
        search, {"stdlib": str(lib)}, [[str(lib / "site-packages"), "scheme"]]
    )
    assert {"json", "os", "_ssl", "sys"} <= set(names)
    assert not {"pip", "site-packages", "__pycache__", "config-3.9"} & set(names)


def importlib_suffix() -> str:
    import importlib.machinery

    return importlib.machinery.EXTENSION_SUFFIXES[0]


# -- facts of real interpreters --


def run_facts(python: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [python, _facts.__file__],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    facts: dict[str, Any] = json.loads(done.stdout)
    return facts


def make_venv(path: Path, *options: str) -> str:
    # From the base interpreter: 3.9 makes a venv made from within a venv the outer venv again.
    command = [base_python(), "-m", "venv", "--without-pip", *options, str(path)]
    subprocess.run(command, check=True)
    return str(path / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def ask(python: str, code: str, env: dict[str, str] | None = None) -> Any:
    done = subprocess.run(
        [python, "-c", f"import json, site, sys; print(json.dumps({code}))"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(done.stdout)


def base_python() -> str:
    """The interpreter this test run's venv was made from (3.9's _base_executable is the venv's)."""
    name = "python.exe" if os.name == "nt" else f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for candidate in (
        getattr(sys, "_base_executable", ""),
        os.path.join(sys.base_prefix, name),
        os.path.join(sys.base_prefix, "bin", name),
    ):
        inside = is_within(os.path.abspath(candidate), [os.path.abspath(sys.prefix)])
        if (
            candidate
            and os.path.isfile(candidate)
            and (not inside or sys.prefix == sys.base_prefix)
        ):
            return candidate
    pytest.skip(f"no base interpreter found under {sys.base_prefix}")


def site_order(facts: dict[str, Any]) -> list[tuple[str, str]]:
    return [(os.path.realpath(d), origin) for d, origin in facts["site_dirs"]]


@pytest.mark.integration
def test_system_site_venv_lists_its_own_site_then_the_base(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", "--system-site-packages")
    facts = run_facts(python, {"PYTHONNOUSERSITE": "1"})
    own = os.path.realpath(ask(python, "__import__('sysconfig').get_paths()['purelib']"))
    base_sites = [os.path.realpath(d) for d in ask(python, "site.getsitepackages()")[1:]]
    order = site_order(facts)
    assert order[0] == (own, "scheme")
    bases = [d for d, origin in order if origin == "base"]
    assert bases
    assert set(bases) <= set(base_sites)
    # Exactly the interpreter's own sys.path order, without the running program's entry.
    real_path = ask(python, "sys.path[1:]", {"PYTHONNOUSERSITE": "1"})
    assert facts["sys_path"] == [os.path.abspath(p) for p in real_path]
    positions = [facts["sys_path"].index(d) for d, _ in facts["site_dirs"]]
    assert positions == sorted(positions)
    assert str(Path(_facts.__file__).parent) not in facts["sys_path"]
    assert facts["system_site_packages"] is True
    assert facts["in_venv"] is True
    assert facts["virtualenv"] is None
    assert facts["extension_suffixes"] == ask(
        python, "__import__('importlib.machinery').machinery.EXTENSION_SUFFIXES"
    )
    assert facts["version_info"][:2] == list(sys.version_info[:2])
    assert "os" in facts["stdlib_module_names"]

    env = describe_python(python)
    assert env.scan_dirs == tuple(layer.path for layer in env.layers)
    assert env.layers[0] == Layer(own, "scheme", True)
    base_layers = [layer for layer in env.layers if layer.origin == "base"]
    assert base_layers
    assert not any(layer.writable for layer in base_layers)
    assert not any(is_within(layer.path, env.write_roots) for layer in base_layers)
    # A base distribution's console scripts (../../../bin/x) stay readable.
    base_prefix = os.path.realpath(facts["base_prefix"])
    assert is_within(base_prefix, env.roots)


@pytest.mark.integration
def test_user_site_comes_before_site_packages(tmp_path: Path) -> None:
    userbase = tmp_path / "userbase"
    env = {"PYTHONUSERBASE": str(userbase)}
    python = make_venv(tmp_path / "venv", "--system-site-packages")
    user_site = Path(ask(python, "site.getusersitepackages()", env))
    user_site.mkdir(parents=True)
    for interpreter in (python, base_python()):  # the venv, and its base interpreter itself
        facts = run_facts(interpreter, env)
        order = site_order(facts)
        origins = [origin for _, origin in order]
        assert (os.path.realpath(user_site), "user") in order, order
        later = "base" if interpreter == python else "scheme"
        assert origins.index("user") < origins.index(later), order
        assert facts["user_site"] == str(user_site)
    # Off when the user site is disabled: no user layer at all.
    facts = run_facts(python, {**env, "PYTHONNOUSERSITE": "1"})
    assert "user" not in [origin for _, origin in facts["site_dirs"]]
    assert describe_python(python).layers  # and describe_python still answers


@pytest.mark.integration
def test_pth_lines_and_pythonpath_add_site_dirs_only_where_distributions_are(
    tmp_path: Path,
) -> None:
    python = make_venv(tmp_path / "venv")
    site_dir = Path(ask(python, "__import__('sysconfig').get_paths()['purelib']"))
    layer = tmp_path / "layer"
    (layer / "extra-1.0.dist-info").mkdir(parents=True)
    source = tmp_path / "src"  # an editable project: import path, no installed distributions
    (source / "proj.egg-info").mkdir(parents=True)
    vendored = tmp_path / "vendored"
    (vendored / "vend-2.0.dist-info").mkdir(parents=True)
    (site_dir / "zz_paths.pth").write_text(f"{layer}\n# a comment\n{source}\n")
    facts = run_facts(python, {"PYTHONPATH": str(vendored)})
    assert {str(layer), str(source)} <= set(facts["sys_path"])
    assert site_order(facts) == [
        (os.path.realpath(vendored), "pythonpath"),
        (os.path.realpath(site_dir), "scheme"),
        (os.path.realpath(layer), "pth"),
    ]
    env = describe_python(python)  # no PYTHONPATH here: the vendored layer is gone
    assert [(Path(layer_.path).name, layer_.origin) for layer_ in env.layers] == [
        ("site-packages", "scheme"),
        ("layer", "pth"),
    ]
    assert not env.layers[1].writable  # outside the venv: pipguard reads it, never writes


@pytest.mark.integration
def test_pyvenv_cfg_says_virtualenv_made_it(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    cfg = tmp_path / "venv" / "pyvenv.cfg"
    cfg.write_text(cfg.read_text() + "virtualenv = 20.26.6\n")
    facts = run_facts(python)
    assert facts["virtualenv"] == "20.26.6"
    assert facts["system_site_packages"] is False
    assert [origin for _, origin in facts["site_dirs"]] == ["scheme"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("key", "junk"),
    [("site_dirs", [["/x", "moon"]]), ("site_dirs", {"a": 1}), ("paths", {"purelib": "/x\u0000"})],
)
def test_junk_facts_are_one_line_error(tmp_path: Path, key: str, junk: object) -> None:
    if os.name == "nt":
        pytest.skip("a POSIX shell script stands in for the interpreter")
    facts = run_facts(sys.executable)
    facts[key] = junk
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(facts)}\nEOF\n")
    fake.chmod(0o755)
    with pytest.raises(EnvironmentError_, match="did not describe itself"):
        describe_python(str(fake))


def test_facts_in_process_match_sysconfig() -> None:
    facts = _facts.facts()
    purelib = sysconfig.get_paths()["purelib"]
    assert facts["paths"]["purelib"] == purelib
    assert [origin for _, origin in facts["site_dirs"]].count("scheme") >= 1
    assert facts["stdlib_module_names_exact"] is (sys.version_info >= (3, 10))
