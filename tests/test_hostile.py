"""Hostile metadata and faults: one readable line, no traceback, nothing outside is read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wheels import Venv, build_wheel, corrupt_member, record_hash

pytestmark = pytest.mark.integration


def dist_info(site: Path, name: str, record: str | bytes, metadata: bool = True) -> Path:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    if metadata:
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
    data = record.encode() if isinstance(record, str) else record
    (info / "RECORD").write_bytes(data)
    return info


def check(site: Path, *args: str) -> tuple[int, dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pipguard", "check", "--format", "json", "--path", str(site), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def run_pipguard(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pipguard ARGS`` as a user would, with ``env`` added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "pipguard", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        encoding=env.get("PYTHONIOENCODING"),
        timeout=120,
    )


def messages(doc: dict) -> list[str]:
    return [p["message"] for p in doc["problems"]]


def test_bad_records_are_problems_and_the_rest_goes_on(tmp_path: Path) -> None:
    site = tmp_path / "site"
    good = record_hash(b"x")
    dist_info(site, "latin", "caf\xe9.py,,\n".encode("latin-1"))
    dist_info(
        site, "broken", f'ok.py,{good},1\n"bad.py,,\nthree,cols\nsz.py,,\u00b2\nmd.py,md5=x,1\n'
    )
    dist_info(site, "empty", "")
    code, doc, _ = check(site)
    assert code == 1
    text = "\n".join(messages(doc))
    assert "not UTF-8" in text
    assert "malformed CSV" in text
    assert "expected 3 columns" in text
    assert "is not a number" in text
    assert "not supported" in text
    assert "empty RECORD" in text
    assert doc["files"] == 3  # ok.py, sz.py and md.py still count


def test_escaping_paths_are_never_opened_even_when_they_clash(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for name, digest in (("evil-a", record_hash(b"a")), ("evil-b", record_hash(b"b"))):
        dist_info(site, name, f"../../../../../../etc/passwd,{digest},1\n/etc/hostname,,\n")
    code, doc, _ = check(site)
    assert code == 1
    assert doc["conflicts"] == []
    assert sum("points outside the environment" in m for m in messages(doc)) == 4


def test_links_out_of_the_environment_are_not_followed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("SECRET = 1\n")
    dist_info(site, "linker-a", f"link.py,{record_hash(b'a')},1\n")
    dist_info(site, "linker-b", f"link.py,{record_hash(b'b')},1\n")
    (site / "link.py").symlink_to(outside / "secret.py")
    stolen = dist_info(site, "thief", "")
    (stolen / "RECORD").unlink()
    (stolen / "RECORD").symlink_to(outside / "secret.py")
    (site / "elsewhere-1.0.dist-info").symlink_to(outside)
    code, doc, _ = check(site)
    assert code == 1
    (clash,) = doc["conflicts"]
    assert clash["winner"] is None
    text = "\n".join(messages(doc))
    assert "outside the environment; not followed" in text
    assert "outside the environment; not read" in text
    assert any(p["path"].endswith("elsewhere-1.0.dist-info") for p in doc["problems"])


def test_fifo_and_device_records_do_not_hang(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = dist_info(site, "piped", "")
    (info / "RECORD").unlink()
    os.mkfifo(info / "RECORD")
    zero = dist_info(site, "zero", "")
    (zero / "RECORD").unlink()
    (zero / "RECORD").symlink_to("/dev/zero")
    dist_info(site, "pa", f"fifo,{record_hash(b'a')},1\n")
    dist_info(site, "pb", f"fifo,{record_hash(b'b')},1\n")
    os.mkfifo(site / "fifo")
    code, doc, _ = check(site, "--verify")
    assert code == 1
    text = "\n".join(messages(doc))
    assert "not a regular file" in text
    # A file that cannot be hashed tells nothing about who won: unknown, not lost.
    (fifo,) = [c for c in doc["conflicts"] if c["path"] == "fifo"]
    assert [o["matches_disk"] for o in fifo["owners"]] == [None, None]
    assert fifo["winner"] is None
    assert not any(m["path"] == "fifo" for m in doc["modified"])
    table = run_pipguard("check", "--path", str(site), COLUMNS="80", NO_COLOR="1")
    words = " ".join(table.stdout.split())
    assert "pa 1.0 (unreadable)" in words
    assert "(lost)" not in words
    assert "could not be told" in words


def test_control_characters_are_shown_not_obeyed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    path = "evil\x1b]0;pwned\x07/\x1b[2J.py"
    dist_info(site, "ansi-a", f"{path},{record_hash(b'a')},1\n")
    dist_info(site, "ansi-b", f"{path},{record_hash(b'b')},1\n")
    done = run_pipguard("check", "--path", str(site))
    assert done.returncode == 1
    assert "\x1b" not in done.stdout
    assert "\\x1b[2J.py" in done.stdout
    owner = run_pipguard("owner", "--path", str(site), "evil\x1b]0;pwned\x07")
    assert owner.returncode == 0, owner.stderr
    assert "\x1b" not in owner.stdout + owner.stderr
    assert "ansi-a 1.0" in owner.stdout


def test_a_terminal_that_cannot_show_a_path_gets_it_escaped(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(site, "cafe-a", f"caf\u00e9/__init__.py,{record_hash(b'a')},1\n")
    dist_info(site, "cafe-b", f"caf\u00e9/__init__.py,{record_hash(b'b')},1\n")
    done = run_pipguard("check", "--path", str(site), PYTHONIOENCODING="ascii", NO_COLOR="1")
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr
    assert "caf\\xe9/__init__.py" in done.stdout


def test_install_of_a_wheel_with_a_corrupt_member_is_one_line(venv_: Venv, wheel_dir: Path) -> None:
    first = build_wheel(wheel_dir / "a", "keeper", "1.0", {"shared.py": "A = 1\n"})
    assert venv_.pipguard("install", "--no-deps", str(first)).returncode == 0
    wheel = build_wheel(wheel_dir / "b", "corrupt", "1.0", {"shared.py": "B = 2\n" * 50})
    corrupt_member(wheel, "shared.py")
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(wheel))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "shared.py: cannot be read" in done.stderr
    assert (venv_.site / "shared.py").read_text() == "A = 1\n"


def test_unwritable_journal_is_refused_before_pip_runs(venv_: Venv, wheel_dir: Path) -> None:
    wheel = build_wheel(wheel_dir, "journaled", "1.0", {"journaled.py": ""})
    done = venv_.pipguard("install", "--no-deps", "--journal", str(venv_.root), str(wheel))
    assert done.returncode == 2
    assert done.stderr.strip().endswith("is a directory")
    missing = venv_.pipguard("install", "--journal", "/nonexistent/dir/j.json", str(wheel))
    assert missing.returncode == 2
    assert not (venv_.site / "journaled.py").exists()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_strace_shows_nothing_outside_is_touched(tmp_path: Path) -> None:
    site = tmp_path / "env" / "site"
    outside = tmp_path / "outside-zone"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not read\n")
    for name, digest in (("esc-a", record_hash(b"a")), ("esc-b", record_hash(b"b"))):
        dist_info(
            site,
            name,
            f"../../outside-zone/secret.txt,{digest},1\n"
            f"{outside}/secret.txt,{digest},1\n"
            f"linked.txt,{digest},1\n",
        )
    (site / "linked.txt").symlink_to(outside / "secret.txt")
    trace = tmp_path / "trace.txt"
    done = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-o",
            str(trace),
            "-e",
            "trace=%file",
            sys.executable,
            "-m",
            "pipguard",
            "check",
            "--verify",
            "--format",
            "json",
            "--path",
            str(site),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if "ptrace" in done.stderr or "Operation not permitted" in done.stderr:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 1, done.stderr
    # (A --path directory reads ../../x as pip's --target layout: site/x, inside. Not that.)
    touched = [line for line in trace.read_text().splitlines() if str(outside) in line]
    # Resolving the link may readlink it (inside); nothing may open or stat the target.
    assert [line for line in touched if "readlink" not in line] == []


def _failed_journal(path: Path) -> dict:
    doc = json.loads(path.read_text())
    assert doc["outcome"] == "failed"
    assert doc["installed"] == []
    return doc


def test_read_only_site_packages(tmp_path: Path, wheel_dir: Path) -> None:
    from conftest import mount_ext2

    mounts = mount_ext2(tmp_path)
    mount = next(mounts)
    try:
        venv = Venv(mount / "venv")
        wheel = build_wheel(wheel_dir, "readonly", "1.0", {"readonly.py": "R = 1\n"})
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        journal = tmp_path / "j.json"
        done = venv.pipguard("install", "--no-deps", "--journal", str(journal), str(wheel))
        plain = venv.run("-m", "pip", "install", "--no-deps", str(wheel))
        assert done.returncode == plain.returncode != 0
        assert "Read-only file system" in done.stderr
        assert "Traceback" not in done.stderr
        _failed_journal(journal)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=False)
        next(mounts, None)


def test_full_disk(tmp_path: Path, wheel_dir: Path) -> None:
    from conftest import mount_ext2

    mounts = mount_ext2(tmp_path, megabytes=16)
    mount = next(mounts)
    try:
        venv = Venv(mount / "venv")
        wheel = build_wheel(wheel_dir, "bulky", "1.0", {"bulky.py": os.urandom(3 << 20).hex()})
        with open(mount / "filler", "wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * (1 << 20))
                    filler.flush()
            except OSError:
                pass
        journal = tmp_path / "j.json"
        done = venv.pipguard("install", "--no-deps", "--journal", str(journal), str(wheel))
        assert done.returncode != 0
        assert "No space left on device" in done.stderr
        assert "pip failed part-way: 0 of 1 distributions were installed" in done.stderr
        assert "Traceback" not in done.stderr
        _failed_journal(journal)
        assert not list(mount.rglob("*.pipguard-tmp"))
    finally:
        next(mounts, None)


def test_two_versions_of_one_name_and_missing_metadata(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(site, "twice", "a.py,,\n")
    second = site / "twice-2.0.dist-info"
    second.mkdir()
    (second / "METADATA").write_text("Metadata-Version: 2.1\nName: twice\nVersion: 2.0\n\n")
    (second / "RECORD").write_text("a.py,,\n")
    dist_info(site, "nometa", "n.py,,\n", metadata=False)
    code, doc, _ = check(site)
    assert code == 1
    text = "\n".join(messages(doc))
    assert "installed twice in one directory: 1.0 and 2.0" in text
    assert "no METADATA file" in text


def test_wheel_whose_record_lies_about_a_contested_file(venv_: Venv, wheel_dir: Path) -> None:
    ns = "# namespace\n"
    first = build_wheel(wheel_dir / "a", "honest", "1.0", {"nsx/__init__.py": ns})
    assert venv_.pipguard("install", "--no-deps", str(first)).returncode == 0
    # The liar's RECORD claims the namespace file's hash, but the member holds other bytes.
    record = (
        f"nsx/__init__.py,{record_hash(ns.encode())},{len(ns)}\n"
        "liar-1.0.dist-info/METADATA,,\nliar-1.0.dist-info/WHEEL,,\nliar-1.0.dist-info/RECORD,,\n"
    )
    liar = build_wheel(
        wheel_dir / "b",
        "liar",
        "1.0",
        {"nsx/__init__.py": "import os  # evil\n"},
        record_override=record,
    )
    done = venv_.pipguard("install", "--no-deps", str(liar))
    assert done.returncode == 1
    assert "does not match its bytes" in " ".join(done.stderr.split())
    assert (venv_.site / "nsx" / "__init__.py").read_text() == ns


def test_a_killed_holder_leaves_no_stale_lock(venv_: Venv, wheel_dir: Path) -> None:
    import signal
    import time

    holder = subprocess.Popen(
        [
            venv_.python,
            "-c",
            "import sys, time; from pipguard.lock import hold; hold(sys.argv[1], 1); "
            "print('held', flush=True); time.sleep(60)",
            str(venv_.site),
        ],
        env=venv_.env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    wheel = build_wheel(wheel_dir, "after-kill", "1.0", {"after_kill.py": ""})
    started = time.monotonic()
    done = venv_.pipguard("install", "--no-deps", "--lock-timeout", "5", str(wheel))
    assert done.returncode == 0, done.stderr
    assert "waiting for another pipguard run" not in done.stderr
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("policy", ["prevent", "warn"])
def test_script_name_with_a_separator_is_refused(venv_: Venv, wheel_dir: Path, policy: str) -> None:
    # pip 23-26.1 write 'sub/evil' below bin/ or onto another script; 26.1.2+ fail half-way.
    wheel = build_wheel(
        wheel_dir, "slashed", "1.0", {"slashed.py": ""}, console_scripts={"sub/evil": "slashed:m"}
    )
    before = sorted(p.name for p in venv_.scripts.iterdir())
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", policy, str(wheel))
    assert done.returncode == 1
    assert "script name 'sub/evil' holds a path separator" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in venv_.scripts.iterdir()) == before
    assert not (venv_.site / "slashed.py").exists()


def test_install_through_a_link_out_of_the_environment_is_refused(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (venv_.site / "linked").symlink_to(outside)
    wheel = build_wheel(wheel_dir, "linked", "1.0", {"linked/new.py": "x = 1\n"})
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(wheel))
    assert done.returncode == 1
    assert "linked/new.py would be written through a link to" in done.stderr
    assert list(outside.iterdir()) == []
    assert not list(venv_.site.glob("linked-*.dist-info"))


def test_a_link_out_below_a_plain_package_directory_is_refused(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    # deep/ is a real directory (resolved first, for deep/a.py); deep/sub/ below it leaps out.
    outside = tmp_path / "outside"
    outside.mkdir()
    (venv_.site / "deep").mkdir()
    (venv_.site / "deep" / "sub").symlink_to(outside)
    files = {"deep/a.py": "a = 1\n", "deep/sub/b.py": "b = 1\n"}
    wheel = build_wheel(wheel_dir, "deep", "1.0", files)
    done = venv_.pipguard("install", "--no-deps", "--on-conflict", "warn", str(wheel))
    assert done.returncode == 1
    assert "deep/sub/b.py would be written through a link to" in done.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("value", ["nan", "-5", "inf", "soon"])
def test_lock_timeout_must_be_a_number_of_seconds(venv_: Venv, value: str) -> None:
    done = venv_.pipguard("install", "--lock-timeout", value, "nothing")
    assert done.returncode == 2
    assert done.stderr.strip().endswith(f"--lock-timeout: {value!r} is not a number of seconds")


def test_one_line_not_utf8_hides_no_other_row(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(site, "mixed", b"caf\xe9.py,,\nshared.py,,\n")
    dist_info(site, "other", "shared.py,,\n")
    code, doc, _ = check(site)
    assert code == 1
    assert [c["path"] for c in doc["conflicts"]] == ["shared.py"]
    (problem,) = doc["problems"]
    assert problem["message"] == "line 1: not UTF-8"
    assert problem["path"].endswith("mixed-1.0.dist-info/RECORD")


def test_metadata_without_a_name_is_a_problem(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = dist_info(site, "nameless", "nameless.py,,\n")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n\n")
    code, doc, _ = check(site)
    assert code == 1
    (problem,) = doc["problems"]
    assert problem["message"] == "has no Name field: named after its directory"
    assert problem["distribution"] == "nameless"


@pytest.mark.skipif(shutil.which("yes") is None, reason="needs the yes program")
def test_a_python_that_never_stops_talking_is_cut_off(tmp_path: Path) -> None:
    done = run_pipguard("check", "--python", str(shutil.which("yes")))
    assert done.returncode == 2
    assert done.stderr.strip().endswith("answered with more than 1 MiB; not a Python interpreter")


def test_a_file_name_that_is_not_utf8_stays_valid_json(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    # A .dist-info whose name is not UTF-8 (and has no RECORD): named in a problem.
    os.mkdir(os.fsencode(site) + b"/bad\xff-1.0.dist-info")
    code, doc, _ = check(site)
    assert code == 1
    paths = [p["path"] for p in doc["problems"]]
    assert any("bad\\xff-1.0.dist-info" in path for path in paths)
    text = json.dumps(doc, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate survives: strict parsers accept it


def _files_below(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _fill(mount: Path, leave: int = 0) -> None:
    """Fill the filesystem at ``mount``, then free ``leave`` bytes of it again."""
    with open(mount / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * (1 << 20))
                filler.flush()
        except OSError:
            pass
    if leave:
        os.truncate(mount / "filler", max(0, (mount / "filler").stat().st_size - leave))


def test_target_on_a_full_disk_is_not_called_installed(tmp_path: Path, wheel_dir: Path) -> None:
    # pip --target installs into a temporary home, then moves each top-level entry into the
    # target: site-packages entries first (the package, the .dist-info with INSTALLER), the
    # data directory last. Here the data does not fit: the .dist-info is there, the wheel not.
    from conftest import mount_ext2

    mounts = mount_ext2(tmp_path, megabytes=16)
    mount = next(mounts)
    try:
        venv = Venv(tmp_path / "venv")
        wheel = build_wheel(
            wheel_dir,
            "late",
            "1.0",
            {
                "late/__init__.py": "L = 1\n",
                "late-1.0.data/data/share/late/blob": os.urandom(3 << 20),
            },
        )
        _fill(mount, leave=1 << 20)
        target = mount / "target"
        journal = tmp_path / "j.json"
        done = venv.pipguard(
            "install", "--no-deps", "--target", str(target), "--journal", str(journal), str(wheel)
        )
        assert done.returncode != 0
        assert "No space left on device" in done.stderr
        assert (target / "late-1.0.dist-info" / "INSTALLER").exists()  # as pip left it
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("pipguard: pip failed part-way: 0 of 1 distributions"), last
        doc = _failed_journal(journal)
        (partial,) = doc["partial"]
        assert partial["name"] == "late"
        assert set(partial["files"]) == _files_below(target)
    finally:
        next(mounts, None)


def test_read_only_target_says_what_is_true(tmp_path: Path, wheel_dir: Path) -> None:
    from conftest import mount_ext2

    mounts = mount_ext2(tmp_path)
    mount = next(mounts)
    try:
        venv = Venv(tmp_path / "venv")
        wheel = build_wheel(wheel_dir, "readonly", "1.0", {"readonly.py": "R = 1\n"})
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        journal = tmp_path / "j.json"
        done = venv.pipguard(
            "install", "--no-deps", "--target", str(mount / "t"), "--journal", str(journal),
            str(wheel),
        )  # fmt: skip
        assert done.returncode != 0
        assert "Read-only file system" in done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("pipguard: pip failed part-way: 0 of 1 distributions"), last
        assert _failed_journal(journal)["partial"] == []
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=False)
        next(mounts, None)


def _record(files: dict[str, str], name: str, extra: str) -> str:
    """A RECORD for ``files`` and the METADATA and WHEEL build_wheel writes, with ``extra``
    after the first row."""
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n"
    wheel = (
        "Wheel-Version: 1.0\nGenerator: pipguard-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    info = f"{name}-1.0.dist-info"
    rows = [f"{path},{record_hash(data.encode())},{len(data)}\n" for path, data in files.items()]
    rows.append(extra)
    rows += [
        f"{info}/METADATA,{record_hash(metadata.encode())},{len(metadata)}\n",
        f"{info}/WHEEL,{record_hash(wheel.encode())},{len(wheel)}\n",
        f"{info}/RECORD,,\n",
    ]
    return "".join(rows)


@pytest.mark.parametrize("policy", ["prevent", "warn", "ignore"])
def test_a_record_line_pip_cannot_read_stops_before_pip(
    venv_: Venv, wheel_dir: Path, tmp_path: Path, policy: str
) -> None:
    # A 10 MB field: pip's csv reading of RECORD fails after every file is written.
    files = {"huge/__init__.py": "H = 1\n"}
    record = _record(files, "huge", "huge/" + "x" * (10 << 20) + ".py,,\n")
    wheel = build_wheel(wheel_dir, "huge", "1.0", files, record_override=record)
    journal = tmp_path / "j.json"
    before = _files_below(venv_.root)
    done = venv_.pipguard(
        "install", "--no-deps", "--on-conflict", policy, "--journal", str(journal), str(wheel)
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "huge-1.0.dist-info/RECORD line 2: pip cannot read it" in done.stderr
    assert _files_below(venv_.root) == before
    doc = json.loads(journal.read_text())
    assert (doc["outcome"], doc["installed"], doc["partial"]) == ("prevented", [], [])


def test_pips_own_traceback_leaves_a_true_journal(
    venv_: Venv, wheel_dir: Path, tmp_path: Path
) -> None:
    # A blank RECORD line: pip writes every file and INSTALLER, then fails on the empty row
    # (IndexError) before writing its own RECORD. The wheel is not installed.
    files = {"blank/__init__.py": "B = 1\n"}
    wheel = build_wheel(
        wheel_dir, "blank", "1.0", files, record_override=_record(files, "blank", "\n")
    )
    plain = Venv(tmp_path / "plain").run("-m", "pip", "install", "--no-deps", str(wheel))
    assert plain.returncode != 0
    assert "Traceback" in plain.stderr  # pip's own failure
    journal = tmp_path / "j.json"
    before = _files_below(venv_.site)
    done = venv_.pipguard("install", "--no-deps", "--journal", str(journal), str(wheel))
    assert done.returncode == plain.returncode
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("pipguard: pip failed part-way: 0 of 1 distributions"), last
    doc = _failed_journal(journal)
    (partial,) = doc["partial"]
    assert set(partial["files"]) == _files_below(venv_.site) - before  # exactly what is there
    assert "blank-1.0.dist-info/INSTALLER" in partial["files"]
