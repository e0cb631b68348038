"""--python EXE that is no Python: it is cut off at its limits and nothing of it is left running.

Each "python" is a real shell script; the pids it starts are written to a file and looked up
in /proc afterwards. A call that hangs fails its test after HANG_GUARD seconds instead of
hanging the suite (the old reader did exactly that).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipguard import _facts, probe
from pipguard.environment import EnvironmentError_, describe_python
from pipguard.probe import ProbeOverflow, run_bounded

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="shell scripts, process groups and /proc"
)

HANG_GUARD = 30.0
GARBAGE = 'while :; do echo "not a python, not JSON: garbage without end"; done'


def fake_python(tmp_path: Path, body: str) -> str:
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs; a zombie (killed, not yet reaped by its parent) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def still_running(pid_file: Path) -> list[int]:
    """The pids listed in ``pid_file`` that are alive, after SIGKILL had a moment to land."""
    pids = [int(word) for word in pid_file.read_text().split()]
    assert pids, "the script wrote no pids"
    end = time.monotonic() + 5
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < end:
        time.sleep(0.02)
    return left


def outcome(call: Callable[[], object]) -> object:
    """Return what ``call`` returns or raises; fail the test if it is still running at the guard."""
    box: list[object] = []

    def run() -> None:
        try:
            box.append(call())
        except Exception as exc:
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    if thread.is_alive():
        pytest.fail(f"still waiting after {HANG_GUARD:g} s: it hangs")
    return box[0]


@pytest.fixture
def pid_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pids"
    path.touch()
    yield path
    # Whatever a failing run left behind must not outlive the test.
    for pid in [int(word) for word in path.read_text().split()]:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("parent", ["exit 0", "exec sleep 3600"], ids=["exits", "sleeps"])
def test_a_child_holding_the_pipes_is_killed_at_the_limit(
    tmp_path: Path, pid_file: Path, parent: str
) -> None:
    pids = shlex.quote(str(pid_file))
    exe = fake_python(tmp_path, f"sleep 3600 &\necho $! >> {pids}\necho $$ >> {pids}\n{parent}")
    result = outcome(lambda: describe_python(exe, timeout=2))
    assert isinstance(result, EnvironmentError_)
    assert str(result) == f"{exe}: did not answer within 2 s"
    assert still_running(pid_file) == []


@pytest.mark.parametrize("stream", ["", ">&2"], ids=["stdout", "stderr"])
def test_endless_garbage_is_cut_off_and_its_child_killed(
    tmp_path: Path, pid_file: Path, stream: str
) -> None:
    # The garbage has no end: that the call returns at all shows it stopped reading at 1 MiB.
    pids = shlex.quote(str(pid_file))
    exe = fake_python(
        tmp_path, f"sleep 3600 &\necho $! >> {pids}\necho $$ >> {pids}\n{GARBAGE} {stream}"
    )
    result = outcome(lambda: describe_python(exe, timeout=10))
    assert isinstance(result, EnvironmentError_)
    assert str(result) == f"{exe}: answered with more than 1 MiB; not a Python interpreter"
    assert still_running(pid_file) == []


def test_a_valid_answer_is_used_and_a_detached_child_killed(tmp_path: Path, pid_file: Path) -> None:
    facts = {**_facts.facts(), "python": "/the/fake/python"}
    answer = tmp_path / "facts.json"
    answer.write_text(json.dumps(facts))
    pids = shlex.quote(str(pid_file))
    exe = fake_python(
        tmp_path,
        f"sleep 3600 < /dev/null > /dev/null 2>&1 &\necho $! >> {pids}\n"
        f"cat {shlex.quote(str(answer))}\nexit 0",
    )
    result = outcome(lambda: describe_python(exe, timeout=10))
    assert not isinstance(result, Exception), result
    assert getattr(result, "python", None) == "/the/fake/python"
    assert still_running(pid_file) == []


def test_a_time_out_names_the_interpreter_and_the_limit(tmp_path: Path, pid_file: Path) -> None:
    exe = fake_python(tmp_path, f"echo $$ >> {shlex.quote(str(pid_file))}\nexec sleep 3600")
    result = outcome(lambda: describe_python(exe, timeout=0.5))
    assert isinstance(result, EnvironmentError_)
    assert str(result) == f"{exe}: did not answer within 0.5 s"
    assert still_running(pid_file) == []


def test_a_program_that_cannot_start_is_not_a_time_out(tmp_path: Path) -> None:
    exe = tmp_path / "python"
    exe.write_text("#!/bin/sh\necho hello\n")
    exe.chmod(0o644)  # not executable
    with pytest.raises(EnvironmentError_) as caught:
        describe_python(str(exe), timeout=5)
    assert str(caught.value) == f"{exe}: cannot run it: Permission denied"


def test_the_overflow_names_the_stream(tmp_path: Path) -> None:
    exe = fake_python(tmp_path, "head -c 2000 /dev/zero >&2")
    with pytest.raises(ProbeOverflow) as caught:
        run_bounded([exe], timeout=10, limit=1000)
    assert (caught.value.stream, caught.value.limit) == ("stderr", 1000)
    assert str(caught.value) == f"{exe}: wrote more than 1000 bytes on stderr"


@pytest.mark.parametrize(
    ("body", "within", "expected"),
    [
        ("echo out; echo err >&2", 10, (b"out\n", b"err\n")),
        (GARBAGE, 10, probe._Overflow),
        ("exec sleep 3600", 0.5, probe._Late),
    ],
    ids=["answers", "talks", "sleeps"],
)
def test_the_windows_reader_here(
    tmp_path: Path, body: str, within: float, expected: object
) -> None:
    # Windows cannot select on pipes; its reader is plain Python, so it is run here too.
    proc = subprocess.Popen(
        [fake_python(tmp_path, body)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        result = outcome(lambda: probe._read_threaded(proc, time.monotonic() + within, 1 << 16))
    finally:
        proc.kill()
        proc.wait()
    if isinstance(expected, tuple):
        assert result == expected
    else:
        assert type(result) is expected


def test_install_python_probe_has_the_same_limits(
    tmp_path: Path, pid_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipguard.install.options import EXIT_USAGE, run_under_python

    pids = shlex.quote(str(pid_file))
    hangs = fake_python(tmp_path, f"sleep 3600 &\necho $! >> {pids}\necho $$ >> {pids}\nexit 0")
    assert outcome(lambda: run_under_python(hangs, ["install", "x"], timeout=2)) == EXIT_USAGE
    assert f"--python {hangs}: did not answer within 2 s" in capsys.readouterr().err
    assert still_running(pid_file) == []
    talks = tmp_path / "talks"
    talks.mkdir()
    endless = fake_python(talks, GARBAGE)
    assert outcome(lambda: run_under_python(endless, ["install", "x"])) == EXIT_USAGE
    assert "answered with more than 1 MiB" in capsys.readouterr().err
