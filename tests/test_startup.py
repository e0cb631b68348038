"""Startup code: an install never adds code that runs at every Python start without being asked."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from wheels import Venv, build_wheel

pytestmark = pytest.mark.integration

# The shape of litellm 1.82.7's litellm_init.pth; the payload here is only "import os".
LITELLM = "import os, base64; exec(base64.b64decode('aW1wb3J0IG9z'))\n"


def site_names(venv: Venv) -> list[str]:
    return sorted(p.name for p in venv.site.iterdir())


def stopped_with_nothing_written(venv: Venv, wheel: Path, *extra: str) -> str:
    before = site_names(venv)
    journal = venv.root / "j.json"
    done = venv.pipguard("install", "--no-deps", "--journal", str(journal), *extra, str(wheel))
    assert done.returncode == 1, done.stderr
    assert site_names(venv) == before
    assert "would run code at every Python start" in done.stderr
    doc = json.loads(journal.read_text())
    assert doc["outcome"] == "prevented"
    assert [entry["resolution"] for entry in doc["startup"]] == ["prevented"]
    return done.stderr


def check(venv: Venv, *args: str) -> tuple[int, dict[str, object]]:
    done = venv.pipguard("check", "--format", "json", *args)
    return done.returncode, json.loads(done.stdout)


def test_a_pth_import_line_is_stopped_and_allow_startup_lets_it_in(
    venv_: Venv, wheel_dir: Path
) -> None:
    wheel = build_wheel(
        wheel_dir, "litellm", "1.82.7", {"litellm_init.pth": LITELLM, "litellm/__init__.py": ""}
    )
    said = stopped_with_nothing_written(venv_, wheel)
    words = " ".join(said.split())
    assert "litellm_init.pth" in words
    assert "litellm 1.82.7" in words
    assert "1: import os, base64; exec(base64.b64decode(" in words
    assert "--allow-startup litellm" in words
    journal = venv_.root / "allowed.json"
    done = venv_.pipguard(
        "install", "--no-deps", "--allow-startup", "litellm", "--journal", str(journal), str(wheel)
    )
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads(journal.read_text())["startup"]
    assert entry == {
        "path": "litellm_init.pth",
        "owner": "litellm",
        "kind": "code",
        "allowed": True,
        "lines": [LITELLM.strip()],
        "resolution": "allowed",
    }
    # check fails on owned code nobody allowed, and passes once it is.
    code, doc = check(venv_)
    assert code == 1
    assert [s["path"] for s in doc["startup"]] == ["litellm_init.pth"]  # type: ignore[index]
    assert check(venv_, "--allow-startup", "litellm")[0] == 0
    env = {"PIPGUARD_ALLOW_STARTUP": "other litellm"}
    assert venv_.pipguard("check", env=env).returncode == 0


def test_warn_installs_and_reports(venv_: Venv, wheel_dir: Path) -> None:
    wheel = build_wheel(wheel_dir, "hooky", "1.0", {"hooky.pth": "import hooky\n", "hooky.py": ""})
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(wheel))
    assert done.returncode == 0, done.stderr
    assert (venv_.site / "hooky.pth").exists()
    assert "1 startup file with code installed" in done.stderr


def test_path_lines_inside_the_environment_pass(venv_: Venv, wheel_dir: Path) -> None:
    wheel = build_wheel(
        wheel_dir,
        "extra-paths",
        "1.0",
        {"extra_paths.pth": "# vendored\nextra_paths_lib\n", "extra_paths_lib/mod.py": ""},
    )
    done = venv_.pipguard("install", "--no-deps", str(wheel))
    assert done.returncode == 0, done.stderr
    code, doc = check(venv_)
    assert code == 0, doc
    (entry,) = doc["startup"]  # type: ignore[misc]
    assert entry["kind"] == "paths"
    assert entry["allowed"] is True


@pytest.mark.parametrize("line", ["/tmp/elsewhere", "../../../../../../outside"])
def test_a_path_line_leaving_the_environment_is_code(
    venv_: Venv, wheel_dir: Path, line: str
) -> None:
    wheel = build_wheel(wheel_dir, "leaky", "1.0", {"leaky.pth": f"{line}\n"})
    stopped_with_nothing_written(venv_, wheel)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("early.start", "early.hook:run\n"),
        ("sitecustomize.py", "import os\n"),
        ("usercustomize.py", "print('hi')\n"),
    ],
)
def test_start_files_and_customize_modules_are_stopped(
    venv_: Venv, wheel_dir: Path, name: str, content: str
) -> None:
    wheel = build_wheel(wheel_dir, "early", "1.0", {name: content, "early/hook.py": ""})
    stopped_with_nothing_written(venv_, wheel)


def test_a_standard_name_with_other_content_or_owner_is_code(venv_: Venv, wheel_dir: Path) -> None:
    # setuptools' own file name, shipped by another distribution: not setuptools' hook.
    content = (
        "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') "
        "== 'local'; enabled and __import__('_distutils_hack').add_shim(); \n"
    )
    impostor = build_wheel(wheel_dir, "impostor", "1.0", {"distutils-precedence.pth": content})
    stopped_with_nothing_written(venv_, impostor)
    # setuptools' name and owner, other content.
    fake = build_wheel(
        wheel_dir, "setuptools", "99.0", {"distutils-precedence.pth": "import os; os.getcwd()\n"}
    )
    stopped_with_nothing_written(venv_, fake)


def _bundled_setuptools() -> Path:
    import ensurepip

    found = sorted((Path(ensurepip.__file__).parent / "_bundled").glob("setuptools-*.whl"))
    if not found:
        pytest.skip(f"Python {sys.version_info[:2]} bundles no setuptools wheel with ensurepip")
    return found[-1]


def test_setuptools_installed_over_itself_passes(venv_: Venv) -> None:
    wheel = _bundled_setuptools()
    first = venv_.pipguard("install", "--no-deps", str(wheel))
    assert first.returncode == 0, first.stderr
    assert (venv_.site / "distutils-precedence.pth").exists()
    again = venv_.pipguard("install", "--no-deps", "--force-reinstall", str(wheel))
    assert again.returncode == 0, again.stderr
    code, doc = check(venv_)
    assert code == 0, doc
    entries = {s["path"]: s for s in doc["startup"]}  # type: ignore[union-attr]
    assert entries["distutils-precedence.pth"]["kind"] == "standard"
    assert entries["distutils-precedence.pth"]["owner"] == "setuptools"


def test_unowned_and_tampered_startup_code_fails_check(venv_: Venv, wheel_dir: Path) -> None:
    (venv_.site / "dropped.pth").write_text("import os\n")
    code, doc = check(venv_)
    assert code == 1
    (entry,) = doc["startup"]  # type: ignore[misc]
    assert entry["owner"] is None
    assert entry["allowed"] is False
    # Allowing names distributions: unowned code stays failing.
    assert check(venv_, "--allow-startup", "anything")[0] == 1
    (venv_.site / "dropped.pth").unlink()
    wheel = build_wheel(wheel_dir, "hooky", "1.0", {"hooky.pth": "import hooky\n", "hooky.py": ""})
    assert (
        venv_.pipguard("install", "--no-deps", "--allow-startup", "hooky", str(wheel)).returncode
        == 0
    )
    assert check(venv_, "--allow-startup", "hooky")[0] == 0
    (venv_.site / "hooky.pth").write_text(
        "import hooky; import os; os.environ.setdefault('X', '')\n"
    )
    code, doc = check(venv_, "--allow-startup", "hooky")
    assert code == 1  # not what its RECORD lists: allowing the owner does not cover it
    table = venv_.pipguard("check", "--allow-startup", "hooky")
    assert "hooky 1.0 (changed since" in " ".join(table.stdout.split())


def test_an_unchanged_startup_file_on_upgrade_is_no_new_finding(
    venv_: Venv, wheel_dir: Path
) -> None:
    files = {"hooky.pth": "import hooky\n", "hooky.py": ""}
    one = build_wheel(wheel_dir, "hooky", "1.0", files)
    assert (
        venv_.pipguard("install", "--no-deps", "--allow-startup", "hooky", str(one)).returncode == 0
    )
    two = build_wheel(wheel_dir / "two", "hooky", "2.0", files)
    done = venv_.pipguard("install", "--no-deps", str(two))
    assert done.returncode == 0, done.stderr
    three = build_wheel(wheel_dir / "three", "hooky", "3.0", {**files, "hooky.pth": "import os\n"})
    stopped_with_nothing_written(venv_, three)


def test_an_editable_install_of_a_local_project_passes(venv_: Venv, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "proj").mkdir(parents=True)
    (project / "proj" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "proj"\nversion = "0.1"\n'
    )
    done = venv_.pipguard("install", "--no-deps", "--no-build-isolation", "-e", str(project))
    assert done.returncode == 0, done.stderr
    code, doc = check(venv_)
    assert code == 0, doc
    assert [s["kind"] for s in doc["startup"]] == ["standard"]  # type: ignore[union-attr]
