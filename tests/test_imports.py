"""What Python imports: shadowed names without a shared path, and namespace declarations."""

from __future__ import annotations

import json
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from wheels import Venv, build_wheel

pytestmark = pytest.mark.integration


def find_spec_origin(venv: Venv, name: str) -> str:
    """What ``import name`` loads in the venv's interpreter: a file, relative to its directory."""
    code = (
        "import importlib.util, os, sys\n"
        f"spec = importlib.util.find_spec({name!r})\n"
        "if spec.origin in (None, 'namespace'):\n"
        "    print('<namespace>')\n"
        "elif spec.origin in ('built-in', 'frozen') or 'site-packages' not in spec.origin:\n"
        "    print('<stdlib>')\n"
        "else:\n"
        "    print(spec.origin)\n"
    )
    done = venv.run("-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def shadowed(venv: Venv, *args: str) -> tuple[int, list[dict[str, object]]]:
    done = venv.pipguard("check", "--format", "json", *args)
    doc = json.loads(done.stdout)
    return done.returncode, [c for c in doc["conflicts"] if c["kind"] == "shadowed"]


def assert_winner_is_what_python_imports(venv: Venv, finding: dict[str, object]) -> None:
    origin = find_spec_origin(venv, str(finding["import_name"]))
    if finding["winner"] in ("<stdlib>", "<namespace>"):
        assert origin == finding["winner"]
        return
    assert origin == f"{finding['site']}/{finding['path']}"
    imported = [o for o in finding["owners"] if o["imported"]]  # type: ignore[attr-defined]
    assert finding["winner"] in {o["name"] for o in imported}


@pytest.mark.parametrize("order", ["module-first", "package-first"])
def test_module_beside_package(venv_: Venv, wheel_dir: Path, order: str) -> None:
    module = build_wheel(wheel_dir, "docx", "0.2.4", {"docx.py": "WHO = 'module'\n"})
    package = build_wheel(
        wheel_dir, "python-docx", "1.1", {"docx/__init__.py": "WHO = 'package'\n"}
    )
    first, second = (module, package) if order == "module-first" else (package, module)
    assert venv_.pipguard("install", "--no-deps", str(first)).returncode == 0
    before = sorted(p.name for p in venv_.site.iterdir())
    done = venv_.pipguard("install", "--no-deps", str(second))
    assert done.returncode == 1, done.stderr
    assert "1 import name would be shadowed (docx)" in done.stderr
    assert sorted(p.name for p in venv_.site.iterdir()) == before
    warned = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(second))
    assert warned.returncode == 0, warned.stderr
    assert "import names shadowed by this install: docx" in warned.stderr
    code, found = shadowed(venv_)
    assert code == 1
    (finding,) = found
    assert finding["winner"] == "python-docx"
    assert finding["path"] == "docx/__init__.py"
    assert [(o["name"], o["imported"]) for o in finding["owners"]] == [  # type: ignore[attr-defined]
        ("python-docx", True),
        ("docx", False),
    ]
    assert_winner_is_what_python_imports(venv_, finding)
    table = " ".join(venv_.pipguard("check").stdout.split())
    assert "shadowed import names" in table
    assert "docx 0.2.4 (docx.py)" in table


def test_extension_module_beside_a_module(venv_: Venv, wheel_dir: Path) -> None:
    suffix = EXTENSION_SUFFIXES[0]
    venv_.pip_install(build_wheel(wheel_dir, "speedy", "1.0", {f"fast{suffix}": b"\x7fELF"}))
    venv_.pip_install(build_wheel(wheel_dir, "slowpoke", "1.0", {"fast.py": "X = 1\n"}))
    code, (finding,) = shadowed(venv_)
    assert code == 1
    assert finding["winner"] == "speedy"
    assert_winner_is_what_python_imports(venv_, finding)


def test_namespace_portion_beside_a_module(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(build_wheel(wheel_dir, "portion", "1.0", {"thing/part.py": "X = 1\n"}))
    venv_.pip_install(build_wheel(wheel_dir, "thingmod", "1.0", {"thing.py": "X = 2\n"}))
    code, (finding,) = shadowed(venv_)
    assert code == 1
    assert finding["winner"] == "thingmod"
    assert_winner_is_what_python_imports(venv_, finding)


def test_two_namespace_portions_merge(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(build_wheel(wheel_dir, "part-a", "1.0", {"nsp/a.py": ""}))
    venv_.pip_install(build_wheel(wheel_dir, "part-b", "1.0", {"nsp/b.py": ""}))
    code, found = shadowed(venv_)
    assert found == []
    assert code == 0
    assert find_spec_origin(venv_, "nsp") == "<namespace>"


def test_the_same_name_in_two_site_directories(venv_: Venv, wheel_dir: Path) -> None:
    # A second site directory, added by a .pth path line: after site-packages on sys.path.
    extra = venv_.site / "extra_site"
    venv_.pip_install(
        build_wheel(wheel_dir, "later", "1.0", {"twice.py": "WHO = 'later'\n"}),
        extra=["--target", str(extra)],
    )
    (venv_.site / "extra.pth").write_text("extra_site\n")
    venv_.pip_install(build_wheel(wheel_dir, "earlier", "1.0", {"twice.py": "WHO = 'earlier'\n"}))
    code, (finding,) = shadowed(venv_)
    assert code == 1
    assert finding["winner"] == "earlier"
    sites = {o["name"]: o["site"] for o in finding["owners"]}  # type: ignore[attr-defined]
    assert sites == {"earlier": str(venv_.site.resolve()), "later": str(extra.resolve())}
    assert_winner_is_what_python_imports(venv_, finding)
    table = venv_.pipguard("check").stdout
    assert "site-packages/extra_site" in " ".join(table.split())  # both directories named


@pytest.mark.skipif(sys.version_info < (3, 10), reason="sys.stdlib_module_names is 3.10+")
def test_a_standard_library_backport_is_harmless(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(
        build_wheel(wheel_dir, "dataclasses", "0.8", {"dataclasses.py": "BACKPORT = 1\n"})
    )
    code, (finding,) = shadowed(venv_)
    assert code == 0
    assert finding["winner"] == "<stdlib>"
    assert_winner_is_what_python_imports(venv_, finding)
    assert shadowed(venv_, "--strict")[0] == 1


DECLARATIONS = {
    "pkgutil": "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
    "pkgutil-commented": (
        "# A namespace package: see PEP 420 for the modern way.\n"
        "from pkgutil import extend_path\n__path__ = extend_path(__path__, __name__)\n"
    ),
    "fallback": (
        '"""Backports namespace."""\n'
        "try:\n    __import__('pkg_resources').declare_namespace(__name__)\n"
        "except ImportError:\n"
        "    __path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    ),
}


def test_namespace_declarations_in_several_spellings_are_harmless(
    venv_: Venv, wheel_dir: Path
) -> None:
    pkgutil_only = {k: v for k, v in DECLARATIONS.items() if k != "fallback"}
    wheels = [
        build_wheel(
            wheel_dir,
            f"backports.{name.replace('-', '_')}",
            "1.0",
            {"backports/__init__.py": text, f"backports/{name.replace('-', '_')}.py": ""},
        )
        for name, text in pkgutil_only.items()
    ]
    assert venv_.pipguard("install", "--no-deps", str(wheels[0])).returncode == 0
    journal = venv_.root / "j.json"
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), *map(str, wheels[1:]))
    assert done.returncode == 0, done.stderr
    (conflict,) = json.loads(journal.read_text())["conflicts"]
    assert conflict["kind"] == "namespace"
    assert conflict["resolution"] == "harmless"
    check = json.loads(venv_.pipguard("check", "--format", "json").stdout)
    assert [c["kind"] for c in check["conflicts"]] == ["namespace"]


def test_a_declaration_with_one_more_statement_is_a_clash(venv_: Venv, wheel_dir: Path) -> None:
    plain = build_wheel(
        wheel_dir, "ns-one", "1.0", {"space/__init__.py": DECLARATIONS["pkgutil"], "space/a.py": ""}
    )
    more = build_wheel(
        wheel_dir,
        "ns-two",
        "1.0",
        {
            "space/__init__.py": DECLARATIONS["pkgutil"] + "VERSION = '2'\n",
            "space/b.py": "",
        },
    )
    assert venv_.pipguard("install", "--no-deps", str(plain)).returncode == 0
    done = venv_.pipguard("install", "--no-deps", str(more))
    assert done.returncode == 1, done.stderr
    assert "space/__init__.py" in done.stderr


def test_owner_answers_which_distribution_import_gives(venv_: Venv, wheel_dir: Path) -> None:
    venv_.pip_install(build_wheel(wheel_dir, "docx", "0.2.4", {"docx.py": ""}))
    venv_.pip_install(build_wheel(wheel_dir, "python-docx", "1.1", {"docx/__init__.py": ""}))
    done = venv_.pipguard("owner", "docx")
    assert done.returncode == 0, done.stderr
    assert "import docx gives python-docx 1.1 (docx/__init__.py)" in done.stdout
    assert "docx 0.2.4 (docx.py): never imported" in done.stdout
