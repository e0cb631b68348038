"""Layered environments: a venv over a base that holds distributions, and apt's distributions.

The base is a Python installation of the test's own (the running interpreter, its standard
library linked in, and an empty site-packages), so that a distribution can be put in a base
interpreter's site-packages without touching the real one; the top is a venv made from it with
``--system-site-packages``. dpkg's lists are a small database the test writes, or the
machine's own where it has apt's Python packages.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from pipguard import managed
from pipguard.check import run_check, scan
from pipguard.checks.imports import ImportOwner, Shadowed
from pipguard.dpkg import DpkgDatabase, split_arch
from pipguard.environment import NO_RECORD, Environment, describe_paths, describe_python
from pipguard.findings import FileState
from pipguard.install.remove import refusal
from pipguard.layers import Layer
from pipguard.managed import listed_record
from pipguard.records import record_hash
from test_layers import base_python, write_dpkg

from wheels import Venv, build_wheel

APT_FILES = {
    "PyJWT-2.6.0.egg-info/PKG-INFO": "Metadata-Version: 2.1\nName: PyJWT\nVersion: 2.6.0\n\n",
    "PyJWT-2.6.0.egg-info/top_level.txt": "jwt\n",
    "jwt/__init__.py": "API = 'apt'\n",
    "jwt/api_jwt.py": "def decode(token):\n    return token\n",
    "jwt/utils.py": "",
}


def apt_install(site: Path, files: dict[str, str] = APT_FILES) -> list[str]:
    """Write ``files`` into ``site`` as apt does (no RECORD); return dpkg's list for them."""
    listed: dict[str, None] = {}
    for relative, text in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        listed.update(dict.fromkeys(str(p) for p in reversed(path.parents) if p != Path("/")))
        listed[str(path)] = None
    return ["/.", *listed, "/usr/share/doc/python3-jwt/copyright"]


def md5sums(paths: list[str]) -> str:
    """dpkg's ``.md5sums`` text for the files among ``paths``."""
    files = [p for p in paths if os.path.isfile(p)]
    return "".join(f"{hashlib.md5(Path(p).read_bytes()).hexdigest()}  {p[1:]}\n" for p in files)


def fake_dpkg(root: Path, lists: dict[str, list[str]]) -> str:
    """Write a dpkg database under ``root`` with a list and md5sums per package."""
    texts = {package: "\n".join(paths) + "\n" for package, paths in lists.items()}
    sums = {package: md5sums(paths) for package, paths in lists.items()}
    return str(write_dpkg(root, texts, sums))


# -- RECORD rows from a list, pure --


def test_listed_record_makes_rows_relative_to_the_site_with_md5s() -> None:
    site = "/usr/lib/python3/dist-packages"
    digest = hashlib.md5(b"x").hexdigest()
    text = listed_record(
        site,
        [f"{site}/jwt/__init__.py", "/usr/bin/pyjwt", f"{site}/a,b.py", f"{site}/bad\r"],
        {"/usr/bin/pyjwt": digest},
    )
    assert text.splitlines() == [
        "jwt/__init__.py,,",
        f"../../../bin/pyjwt,{record_hash('md5', bytes.fromhex(digest))},",
        '"a,b.py",,',
    ]


def test_no_dpkg_read_where_every_distribution_has_a_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "ok-1.0.dist-info").mkdir(parents=True)
    (site / "ok-1.0.dist-info" / "METADATA").write_text("Name: ok\nVersion: 1.0\n\n")
    (site / "ok-1.0.dist-info" / "RECORD").write_text("ok-1.0.dist-info/METADATA,,\n")

    def no_reading(*args: object) -> None:
        raise AssertionError("the dpkg database was read")

    monkeypatch.setattr("pipguard.dpkg.DpkgDatabase.__init__", no_reading)
    result = run_check(describe_paths([str(site)]), dpkg_root=str(tmp_path / "dpkg"))
    assert result.problems == []
    assert result.managed == ()


# -- apt's distributions against a database the test writes --


def apt_site(tmp_path: Path) -> tuple[Environment, str, Path]:
    """A plain directory holding apt's PyJWT 2.6.0 and a RECORD-less stray, and dpkg's lists."""
    site = tmp_path / "dist-packages"
    listed = apt_install(site)
    stray = site / "stray-1.0.egg-info"
    stray.mkdir()
    (stray / "PKG-INFO").write_text("Name: stray\nVersion: 1.0\n\n")
    root = fake_dpkg(tmp_path / "dpkg", {"python3-jwt": listed})
    return describe_paths([str(site)]), root, site


def test_dpkg_lists_own_a_distribution_without_record(tmp_path: Path) -> None:
    env, root, site = apt_site(tmp_path)
    dists, index, problems = scan(env, dpkg_root=root)
    pyjwt = next(d for d in dists if d.name == "pyjwt")
    assert pyjwt.manager == "dpkg: python3-jwt"
    assert pyjwt.record_file == f"{root}/info/python3-jwt.list"
    assert index.dists[index.owners(f"{site}/jwt/api_jwt.py")[0][0]].name == "pyjwt"
    assert f"{site}/PyJWT-2.6.0.egg-info/PKG-INFO" in index
    assert "/usr/share/doc/python3-jwt/copyright" not in index  # outside its site
    # The stray no list names stays ownership unknown, once; pyjwt has no problem at all.
    assert [(p.distribution, p.message) for p in problems] == [("stray", NO_RECORD)]


def test_dpkg_files_take_part_in_the_tree_comparison_clashes_and_verify(tmp_path: Path) -> None:
    env, root, site = apt_site(tmp_path)
    (site / "jwt" / "utils.py").unlink()
    (site / "jwt" / "extra.py").write_text("")
    (site / "jwt" / "api_jwt.py").write_text("changed = True\n")
    # pip's jwt 1.3.1 lists jwt/__init__.py too, with bytes that are not on disk.
    info = site / "jwt-1.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Name: jwt\nVersion: 1.3.1\n\n")
    theirs = record_hash("sha256", hashlib.sha256(b"theirs").digest())
    (info / "RECORD").write_text(
        f"jwt/__init__.py,{theirs},6\njwt-1.3.1.dist-info/METADATA,,\njwt-1.3.1.dist-info/RECORD,,\n"
    )
    result = run_check(env, dpkg_root=root)
    assert result.missing == [FileState("jwt/utils.py", "pyjwt", "missing")]
    assert [u.display for u in result.unlisted] == ["jwt/extra.py"]
    (clash,) = result.clashes
    assert clash.display == "jwt/__init__.py"
    assert clash.kind == "differing"
    assert [(o.name, o.hash, o.matches_disk) for o in clash.owners] == [
        ("jwt", theirs, False),
        ("pyjwt", None, None),
    ]
    assert result.managed == (("pyjwt", "2.6.0", "dpkg: python3-jwt"),)
    assert result.modified == []  # nothing is hashed without --verify
    verified = run_check(env, full_verify=True, dpkg_root=root)
    assert FileState("jwt/api_jwt.py", "pyjwt", "modified") in verified.modified
    assert FileState("jwt/utils.py", "pyjwt", "missing") in verified.missing
    assert not any("md5" in p.message for p in verified.problems)


def test_a_package_with_two_distributions_gives_each_its_own_files(tmp_path: Path) -> None:
    # Debian's python3-cryptography: a .dist-info with a RECORD and an .egg-info without.
    site = tmp_path / "dist-packages"
    files = {
        "crypto-38.0.dist-info/METADATA": "Name: crypto\nVersion: 38.0\n\n",
        "crypto-38.0.dist-info/RECORD": "crypto/__init__.py,,\ncrypto-38.0.dist-info/METADATA,,\n",
        "crypto.egg-info/PKG-INFO": "Name: crypto\nVersion: 38.0\n\n",
        "crypto/__init__.py": "",
        "crypto/_rust.so": "",
    }
    root = fake_dpkg(tmp_path / "dpkg", {"python3-crypto": apt_install(site, files)})
    dists, index, _ = scan(describe_paths([str(site)]), dpkg_root=root)
    egg = next(d for d in dists if d.kind == "egg-info")
    assert egg.manager == "dpkg: python3-crypto"
    assert sorted(e.path for e in egg.entries or ()) == [
        "crypto.egg-info/PKG-INFO",
        "crypto/_rust.so",  # what the RECORD leaves out
    ]
    assert index.shared_paths() == []


def test_refusal_names_the_apt_package_or_the_layer(tmp_path: Path) -> None:
    env, root, site = apt_site(tmp_path)
    dists, _, _ = scan(env, dpkg_root=root)
    pyjwt = next(d for d in dists if d.name == "pyjwt")
    said = refusal(pyjwt, env, "remove")
    assert said == (
        "pyjwt 2.6.0 belongs to the system package manager (dpkg: python3-jwt): "
        "remove it with apt-get remove python3-jwt"
    )
    stray = next(d for d in dists if d.name == "stray")
    assert refusal(stray, env, "remove") is None
    base = env._replace(layers=(Layer(str(site), "base", False),))
    said = refusal(stray, base, "reinstall")
    assert said is not None
    assert "(the base interpreter's site-packages)" in said
    assert said.endswith("pipguard will not reinstall it here")


def test_shadowed_table_says_where_pip_writes_among_the_layers() -> None:
    from rich.console import Console

    from pipguard.render import shadowed_table

    top, base = "/srv/e/top/lib/site-packages", "/srv/e/base/lib/site-packages"
    item = Shadowed(
        "layermod",
        "layermod/__init__.py",
        (
            ImportOwner("toppkg", "2.0", "layermod/__init__.py", top, True),
            ImportOwner("basepkg", "1.0", "layermod/__init__.py", base, False),
        ),
        "toppkg",
        site=top,
        writes_to=top,
    )
    out = io.StringIO()
    Console(file=out, width=300, no_color=True).print(shadowed_table([item], planned=True))
    text = words(out.getvalue())
    assert (
        "pip writes to e/top/lib/site-packages, before e/base/lib/site-packages on sys.path."
        in text
    )
    assert "(layermod/__init__.py in e/base/lib/site-packages)" in text


# -- real interpreters: a venv made with --system-site-packages over a base of the test's --


class Layered(NamedTuple):
    """A base installation with its own site-packages, and a venv made over it."""

    prefix: Path
    base_site: Path
    top: Venv


def make_layered(tmp_path: Path) -> Layered:
    """Make a base installation of the running interpreter, and a system-site venv over it.

    A venv cannot be the base (a venv made from a venv is made over the first one's base): the
    base is a prefix of its own, the standard library linked in, the interpreter a hard link or
    a copy (Python 3.9 and 3.10 follow a symbolic link to the real prefix).
    """
    if os.name == "nt":
        pytest.skip("the base installation is laid out with POSIX links")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    prefix = tmp_path / "base"
    lib = prefix / "lib" / stdlib.name
    lib.mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name not in ("site-packages", "dist-packages"):
            (lib / entry.name).symlink_to(entry)
    libdir = sysconfig.get_config_var("LIBDIR")
    for shared in Path(libdir).glob("libpython*") if libdir else ():
        (prefix / "lib" / shared.name).symlink_to(shared)
    real = os.path.realpath(base_python())
    exe = prefix / "bin" / Path(real).name
    exe.parent.mkdir()
    try:
        os.link(real, exe)
    except OSError:
        shutil.copy2(real, exe)
    top = tmp_path / "top"
    command = [str(exe), "-m", "venv", "--without-pip", "--system-site-packages", str(top)]
    subprocess.run(command, check=True)
    venv = Venv(top, create=False)
    sites = json.loads(
        venv.run(
            "-c", "import json, site; print(json.dumps(site.getsitepackages()))", check=True
        ).stdout
    )
    base_site = next(Path(s) for s in sites if Path(s).is_relative_to(prefix))
    base_site.mkdir(parents=True, exist_ok=True)
    return Layered(prefix, base_site, venv)


def install_into_base(layered: Layered, wheel: Path) -> None:
    """Install ``wheel`` into the base's site-packages (pip --target: the top's pip, no index)."""
    done = layered.top.run(
        "-m", "pip", "install", "--no-deps", "--target", str(layered.base_site), str(wheel)
    )
    assert done.returncode == 0, done.stderr


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def layered(tmp_path: Path) -> Layered:
    return make_layered(tmp_path)


@pytest.mark.integration
def test_install_over_a_base_distribution_is_stopped_naming_both_layers(
    layered: Layered, wheel_dir: Path
) -> None:
    base = build_wheel(wheel_dir, "basepkg", "1.0", {"layermod/__init__.py": "X = 'base'\n"})
    install_into_base(layered, base)
    top = build_wheel(wheel_dir, "toppkg", "2.0", {"layermod/__init__.py": "X = 'top'\n"})
    done = layered.top.pipguard("install", "--no-deps", str(top))
    said = words(done.stderr)
    assert done.returncode == 1, done.stderr
    assert "import name would be shadowed (layermod)" in said
    # Both directories, from above their common one; which one wins; where pip writes.
    where = f"{layered.prefix.parent.name}/{{}}/lib/{layered.base_site.parent.name}/site-packages"
    assert "layermod toppkg 2.0 (layermod/__init__.py basepkg 1.0" in said  # gives; never
    assert f"pip writes to {where.format('top')}, before {where.format('base')} on sys.path" in said
    assert not (layered.top.site / "layermod").exists()


@pytest.mark.integration
def test_check_after_plain_pip_reports_the_base_shadowed(layered: Layered, wheel_dir: Path) -> None:
    install_into_base(
        layered, build_wheel(wheel_dir, "basepkg", "1.0", {"layermod/__init__.py": "X = 1\n"})
    )
    layered.top.pip_install(
        build_wheel(wheel_dir, "toppkg", "2.0", {"layermod/__init__.py": "X = 2\n"})
    )
    env = describe_python(layered.top.python)
    base_layer = next(layer for layer in env.layers if layer.origin == "base")
    assert base_layer == Layer(os.path.realpath(layered.base_site), "base", False)
    result = run_check(env)
    (item,) = [s for s in result.shadowed if s.import_name == "layermod"]
    assert item.winner == "toppkg"
    assert item.dead == ("basepkg",)
    assert [o.site for o in item.owners] == [
        os.path.realpath(layered.top.site),
        os.path.realpath(layered.base_site),
    ]


@pytest.mark.integration
def test_uninstall_and_repair_take_the_first_copy_and_leave_the_base_alone(
    layered: Layered, wheel_dir: Path, tmp_path: Path
) -> None:
    old = build_wheel(tmp_path / "old", "dup", "1.0", {"dup_mod.py": "V = 1\n"})
    install_into_base(layered, old)
    install_into_base(
        layered, build_wheel(tmp_path / "old", "baseonly", "1.0", {"baseonly.py": ""})
    )
    # pip leaves the base's dup 1.0 where it is: the journal removes nothing.
    journal = tmp_path / "journal.json"
    new = build_wheel(wheel_dir, "dup", "2.0", {"dup_mod.py": "V = 2\n"})
    done = layered.top.pipguard("install", "--no-deps", "--journal", str(journal), str(new))
    assert done.returncode == 0, done.stderr
    doc = json.loads(journal.read_text())
    assert [(d["name"], d["version"]) for d in doc["installed"]] == [("dup", "2.0")]
    assert doc["removed"] == []
    for command in ("uninstall", "repair"):
        refused = layered.top.pipguard(
            command, *(["-y"] if command == "uninstall" else []), "baseonly"
        )
        assert refused.returncode == 1, refused.stderr
        assert "(the base interpreter's site-packages), which this environment imports from" in (
            words(refused.stderr)
        )
    assert (layered.base_site / "baseonly.py").exists()
    # The top's dup 2.0 is the one import finds: repair reinstalls 2.0, uninstall removes it.
    repaired = layered.top.pipguard("repair", "dup", "--no-index", "--find-links", str(wheel_dir))
    assert repaired.returncode == 0, repaired.stderr
    removed = layered.top.pipguard("uninstall", "-y", "dup")
    assert removed.returncode == 0, removed.stderr
    assert not (layered.top.site / "dup_mod.py").exists()
    assert (layered.base_site / "dup_mod.py").read_text() == "V = 1\n"


@pytest.mark.integration
def test_a_link_into_the_base_is_outside_what_pip_may_write(
    layered: Layered, wheel_dir: Path
) -> None:
    # The base is read (its distributions are a layer), never written through a link.
    (layered.base_site / "landing").mkdir()
    (layered.top.site / "linked").symlink_to(layered.base_site / "landing")
    wheel = build_wheel(wheel_dir, "linker", "1.0", {"linked/x.py": "X = 1\n"})
    done = layered.top.pipguard("install", "--no-deps", str(wheel))
    assert done.returncode == 1, done.stderr
    assert "outside the environment; nothing was installed" in words(done.stderr)
    assert list((layered.base_site / "landing").iterdir()) == []


@pytest.mark.integration
def test_the_lock_is_on_the_directory_pip_writes_not_the_first_layer(
    layered: Layered, wheel_dir: Path
) -> None:
    from pipguard.lock import hold

    if os.name == "nt":
        pytest.skip("no flock on Windows")
    wheel = build_wheel(wheel_dir, "lockme", "1.0", {"lockme.py": ""})
    layered.top.pip_install(wheel)
    # PYTHONPATH (the test run's site directories) comes first on the top's sys.path.
    held = hold(str(layered.top.site), timeout=1)
    assert held is not None
    try:
        for args in (["uninstall", "-y"], ["install", "--no-deps", "--force-reinstall"]):
            target = "lockme" if args[0] == "uninstall" else str(wheel)
            done = layered.top.pipguard(args[0], "--lock-timeout", "0.2", *args[1:], target)
            assert done.returncode == 1, done.stderr
            assert f"another pipguard run held {layered.top.site}" in words(done.stderr)
    finally:
        held.close()


@pytest.mark.integration
def test_apt_distributions_in_the_base_and_the_venv_are_owned_through_dpkg(
    layered: Layered, wheel_dir: Path, tmp_path: Path
) -> None:
    serial = {
        "pyserial-3.5.egg-info/PKG-INFO": "Name: pyserial\nVersion: 3.5\n\n",
        "serial/__init__.py": "",
    }
    root = fake_dpkg(
        tmp_path / "dpkg",
        {
            "python3-jwt": apt_install(layered.base_site),
            "python3-serial": apt_install(layered.top.site, serial),
        },
    )
    env = {managed.ROOT_VARIABLE: root}
    checked = layered.top.pipguard("check", "--format", "json", env=env)
    doc: dict[str, Any] = json.loads(checked.stdout)
    assert {"name": "pyjwt", "version": "2.6.0", "manager": "dpkg: python3-jwt"} in doc["managed"]
    assert not [p for p in doc["problems"] if p["distribution"] in ("pyjwt", "pyserial")]
    owner = layered.top.pipguard("owner", str(layered.base_site / "jwt" / "api_jwt.py"), env=env)
    assert owner.stdout.strip().endswith(": pyjwt 2.6.0 (dpkg: python3-jwt)")
    name = layered.top.pipguard("owner", "jwt", env=env)
    assert "  pyjwt 2.6.0 (dpkg: python3-jwt): the system's package" in name.stdout
    for dist, package in (("pyjwt", "python3-jwt"), ("pyserial", "python3-serial")):
        done = layered.top.pipguard("uninstall", "-y", dist, env=env)
        assert done.returncode == 1
        assert done.stderr.strip().endswith(
            f"(dpkg: {package}): remove it with apt-get remove {package}; nothing was removed"
        )
    assert (layered.top.site / "serial" / "__init__.py").exists()
    # pip's jwt into the venv: apt's jwt below it would never be imported again.
    jwt = build_wheel(wheel_dir, "jwt", "1.3.1", {"jwt/__init__.py": "API = 'pip'\n"})
    done = layered.top.pipguard("install", "--no-deps", str(jwt), env=env)
    assert done.returncode == 1
    assert "shadowed (jwt)" in words(done.stderr)
    # No list names them: ownership unknown, once for each.
    unknown = layered.top.pipguard(
        "check", "--format", "json", env={managed.ROOT_VARIABLE: str(tmp_path / "none")}
    )
    problems = json.loads(unknown.stdout)["problems"]
    assert [p["distribution"] for p in problems if p["message"] == NO_RECORD] == [
        "pyserial",
        "pyjwt",
    ]


# -- the machine's own dpkg and Debian Python --

APT_SITE = Path("/usr/lib/python3/dist-packages")


@pytest.mark.integration
def test_real_debian_python_lists_apt_distributions_with_their_packages() -> None:
    if not Path("/var/lib/dpkg/info").is_dir() or not Path("/usr/bin/python3").exists():
        pytest.skip("needs a Debian or Ubuntu system: /var/lib/dpkg/info and /usr/bin/python3")
    listed = DpkgDatabase()
    apt = [
        m
        for m in sorted(APT_SITE.glob("*.*-info"))
        if m.is_dir()
        and not (m / "RECORD").exists()
        and not (m / "installed-files.txt").exists()
        and listed.owners(str(m))
    ]
    if not apt:
        pytest.skip(f"no apt Python package without a RECORD in {APT_SITE}")
    environ = {k: v for k, v in os.environ.items() if k != managed.ROOT_VARIABLE}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipguard",
            "check",
            "--python",
            "/usr/bin/python3",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    doc = json.loads(done.stdout)
    assert str(APT_SITE) in doc["environment"]["paths"]
    assert doc["managed"], done.stderr
    assert all(entry["manager"].startswith("dpkg: ") for entry in doc["managed"])
    unknown = [p["path"] for p in doc["problems"] if p["message"] == NO_RECORD]
    assert not [p for p in unknown if Path(p).parent in apt], unknown
    packages = {e["name"]: e["manager"] for e in doc["managed"]}
    for metadata in apt:
        package = split_arch(listed.owners(str(metadata))[0])[0]
        assert f"dpkg: {package}" in packages.values(), (metadata, packages)
