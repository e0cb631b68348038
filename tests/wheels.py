"""Build real wheels with zipfile, RECORD hashes included, and real venvs to install them into."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path


def record_hash(data: bytes) -> str:
    """Return ``data``'s sha256 in RECORD form, computed independently of pipguard."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel(
    directory: Path,
    name: str,
    version: str = "1.0",
    files: Mapping[str, bytes | str] | None = None,
    *,
    console_scripts: Mapping[str, str] | None = None,
    purelib: bool = True,
    record_override: str | None = None,
    requires: Sequence[str] = (),
) -> Path:
    """Write ``name-version-py3-none-any.whl`` holding ``files`` and a correct RECORD.

    ``requires``: its METADATA's ``Requires-Dist`` values, one line each.
    """
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    contents: dict[str, bytes] = {
        path: data.encode() if isinstance(data, str) else data
        for path, data in (files or {}).items()
    }
    fields = "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{fields}\n"
    contents[f"{info}/METADATA"] = metadata.encode()
    contents[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: pipguard-tests\n"
        f"Root-Is-Purelib: {'true' if purelib else 'false'}\nTag: py3-none-any\n"
    ).encode()
    if console_scripts:
        lines = ["[console_scripts]"] + [f"{k} = {v}" for k, v in console_scripts.items()]
        contents[f"{info}/entry_points.txt"] = ("\n".join(lines) + "\n").encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for path, data in contents.items():
        writer.writerow([path, record_hash(data), str(len(data))])
    writer.writerow([f"{info}/RECORD", "", ""])
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
        archive.writestr(
            f"{info}/RECORD", record_override if record_override is not None else buffer.getvalue()
        )
    return wheel


def _outer_site_dirs() -> list[str]:
    """The test run's own site directories, and wherever pipguard imports from (a checkout)."""
    import pipguard

    paths = sysconfig.get_paths()
    found = sorted({paths["purelib"], paths["platlib"]})
    home = str(Path(pipguard.__file__).resolve().parent.parent)
    return found if home in found else [*found, home]


def outer_path() -> str:
    """PYTHONPATH that shows a test venv's interpreter the test run's pip, pipguard and rich."""
    return os.pathsep.join(_outer_site_dirs())


def script_pair(directory: Path) -> tuple[Path, Path]:
    """Two wheels, tool-a and tool-b, whose console scripts are both named ``tool``."""
    return tuple(  # type: ignore[return-value]
        build_wheel(
            directory,
            f"tool-{x}",
            "1.0",
            {f"tool_{x}.py": f"def main(): print('{x}')\n"},
            console_scripts={"tool": f"tool_{x}:main"},
        )
        for x in "ab"
    )


# A .pth-loaded module for test venvs: it wraps pip's install_wheel (whether pip binds it at
# import or imports it at call time) so a test can act right after pip writes each wheel.
AFTER_EACH_WHEEL = """
import importlib.util, os, sys, time


class _AfterEachWheel:
    def find_spec(self, name, path=None, target=None):
        if name != "pip._internal.operations.install.wheel":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            real = module.install_wheel

            def install_wheel(*args, **kwargs):
                before = _before()
                try:
                    return real(*args, **kwargs)
                finally:
                    _after(before)

            module.install_wheel = install_wheel

        spec.loader.exec_module = exec_module
        return spec


%s

if _ACTIVE:
    sys.meta_path.insert(0, _AfterEachWheel())
"""


def add_wheel_hook(venv_site: Path, name: str, body: str) -> None:
    """Load a hook into every Python of the venv; ``body`` defines _ACTIVE, _before, _after."""
    (venv_site / f"{name}.py").write_text(AFTER_EACH_WHEEL % body)
    (venv_site / f"{name}.pth").write_text(f"import {name}\n")


class Venv:
    """A real venv that also sees the test environment's packages (pip, pipguard, rich).

    The test environment is itself a venv under tox, and a nested venv's system site is the base
    interpreter's: so PYTHONPATH names the outer site directories. pip and pipguard then run at
    the versions under test, and install into this venv only. (Not a ``.pth``: its import line
    would be startup code no RECORD lists, which check rightly fails on.)
    """

    def __init__(self, root: Path, *, create: bool = True) -> None:
        """Make a venv at ``root``; ``create=False``: use the one already made there."""
        self.root = root
        if create:
            venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(root)
        bindir = "Scripts" if os.name == "nt" else "bin"
        self.python = str(root / bindir / ("python.exe" if os.name == "nt" else "python"))
        self.scripts = root / bindir
        out = subprocess.run(
            [self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        )
        self.site = Path(out.stdout.strip())

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment tests run this venv's interpreter with: no index, 80 columns."""
        full_env = {
            **os.environ,
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "NO_COLOR": "1",
            "COLUMNS": "80",
            "PYTHONPATH": outer_path(),
        }
        full_env.pop("FORCE_COLOR", None)
        full_env.update(extra or {})
        return full_env

    def run(
        self,
        *args: str,
        check: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run this venv's interpreter with ``args`` and capture its output."""
        full_env = self.env(env)
        return subprocess.run(
            [self.python, *args], capture_output=True, text=True, check=check, env=full_env, cwd=cwd
        )

    def pip_install(self, *wheels: Path | str, extra: Sequence[str] = ()) -> None:
        """Install with plain pip, the way a user would, failing loudly."""
        done = self.run("-m", "pip", "install", "--no-deps", *extra, *map(str, wheels))
        assert done.returncode == 0, done.stderr

    def pipguard(
        self, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m pipguard`` in this venv."""
        done = self.run("-m", "pipguard", *args, env=env, cwd=cwd)
        if os.environ.get("PIPGUARD_CAPTURE"):
            capture_outputs(Path(os.environ["PIPGUARD_CAPTURE"]), args, done)
        return done


def capture_outputs(
    into: Path, args: Sequence[str], done: subprocess.CompletedProcess[str]
) -> None:
    """Append one run's JSON documents (check's stdout, the journal) to ``into``.

    tests/compare_outputs.py runs the suite at two commits with this on and compares the files:
    a refactoring must leave every document pipguard writes as it was.
    """
    documents: dict[str, object] = {"exit": done.returncode}
    if "json" in args:
        try:
            documents["stdout"] = json.loads(done.stdout)
        except ValueError:
            documents["stdout"] = None
    if "--journal" in args:
        journal = list(args)[list(args).index("--journal") + 1]
        try:
            if journal == "-":
                documents["journal"] = json.loads(done.stdout)
            elif Path(journal).is_file():  # never a FIFO or a device: reading one would wait
                documents["journal"] = json.loads(Path(journal).read_text())
        except (OSError, ValueError):
            documents["journal"] = None
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
    record = {"test": test, "args": list(args), **documents}
    with open(into, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def python_version() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def corrupt_member(wheel: Path, member: str) -> None:
    """Damage one member's bytes in place: its CRC no longer matches, so reading it fails."""
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(member)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + 4] = b"XXXX"
    wheel.write_bytes(bytes(data))


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry below ``root``: a file's mode and bytes, a link's target, a directory's
    mtime. Equal digests before and after a command: it wrote nothing there."""
    import hashlib

    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            found[str(path.relative_to(root))] = f"link:{os.readlink(path)}"
        elif path.is_dir():
            found[str(path.relative_to(root))] = f"dir:{info.st_mtime_ns}"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(root))] = f"{info.st_mode:o}:{digest}"
    found["."] = f"dir:{root.lstat().st_mtime_ns}"
    return found
