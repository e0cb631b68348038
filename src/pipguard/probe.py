"""Run a program that may not be what it claims, with a time limit and an output limit.

``--python EXE`` runs EXE to ask where it installs: EXE may never exit, leave a child holding
the pipes, or talk without end. :func:`run_bounded` starts it in a session of its own, reads
both pipes in this thread against one deadline, and kills the whole process group at the end.
"""

from __future__ import annotations

import contextlib
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, NamedTuple

__all__ = ["Answer", "ProbeOverflow", "ProbeTimeout", "run_bounded"]

_CHUNK = 1 << 16


class Answer(NamedTuple):
    """What a program said before it exited: its exit code, output and error output."""

    code: int
    out: str
    err: str


class ProbeTimeout(Exception):
    """The program was still running or holding its pipes at its time limit; it was killed."""

    def __init__(self, program: str, timeout: float) -> None:
        super().__init__(f"{program}: did not answer within {timeout:g} s")
        self.program = program
        self.timeout = timeout


class ProbeOverflow(Exception):
    """The program wrote more than its limit on one stream; it was killed."""

    def __init__(self, program: str, stream: str, limit: int) -> None:
        super().__init__(f"{program}: wrote more than {_size(limit)} on {stream}")
        self.program = program
        self.stream = stream
        self.limit = limit


def _size(count: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift and count % (1 << shift) == 0:
            return f"{count >> shift} {unit}"
    return f"{count} bytes"


def run_bounded(
    command: Sequence[str],
    *,
    timeout: float,
    limit: int = 1 << 20,
    env: Mapping[str, str] | None = None,
) -> Answer:
    """Run ``command`` with no input; return its exit code and what it wrote, decoded as UTF-8.

    Raises :class:`ProbeTimeout` when it (or anything it started) still holds its pipes, or it
    has not exited, ``timeout`` seconds after the start; :class:`ProbeOverflow` when it writes
    more than ``limit`` bytes on stdout or stderr; OSError when it cannot be started. Either
    way, and on success too, no process it started is left running: on POSIX its whole process
    group is killed (a process that starts a session of its own escapes that), on Windows the
    program itself.
    """
    deadline = time.monotonic() + timeout
    proc = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group, so that one killpg ends it all
    )
    program = command[0]
    try:
        if sys.platform == "win32":
            out, err = _read_threaded(proc, deadline, limit)
        else:
            out, err = _read_selecting(proc, deadline, limit)
        _await_exit(proc, deadline)
    except _Overflow as exc:
        raise ProbeOverflow(program, exc.stream, limit) from None
    except _Late:
        raise ProbeTimeout(program, timeout) from None
    finally:
        _end(proc)
    return Answer(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


class _Late(Exception):
    """The deadline passed (named by run_bounded, which knows the program)."""


class _Overflow(Exception):
    """A stream went past the limit (named by run_bounded)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.stream = stream


def _pipes(proc: subprocess.Popen[bytes]) -> tuple[IO[bytes], IO[bytes]]:
    if proc.stdout is None or proc.stderr is None:  # pragma: no cover - both are PIPE
        raise RuntimeError("the program's pipes are missing")
    return proc.stdout, proc.stderr


def _read_selecting(
    proc: subprocess.Popen[bytes], deadline: float, limit: int
) -> tuple[bytes, bytes]:
    """Read both pipes to their end in this thread; never wait past ``deadline``."""
    stdout, stderr = _pipes(proc)
    said = {stdout.fileno(): bytearray(), stderr.fileno(): bytearray()}
    names = {stdout.fileno(): "stdout", stderr.fileno(): "stderr"}
    with selectors.DefaultSelector() as selector:
        for fd in said:
            if sys.platform != "win32":  # (always true here; tells mypy on Windows < 3.12)
                os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Late
            for key, _ in selector.select(left):
                try:
                    chunk = os.read(key.fd, _CHUNK)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                buffer = said[key.fd]
                buffer += chunk
                if len(buffer) > limit:
                    raise _Overflow(names[key.fd])
    return bytes(said[stdout.fileno()]), bytes(said[stderr.fileno()])


def _read_threaded(
    proc: subprocess.Popen[bytes], deadline: float, limit: int
) -> tuple[bytes, bytes]:
    """Read both pipes in daemon threads (Windows cannot select on pipes); wait to ``deadline``.

    The threads read with os.read, never through the buffered file object, whose lock would
    make closing it wait for them; they close their pipe themselves once it ends.
    """
    said: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
    finished: queue.Queue[str] = queue.Queue()

    def drain(name: str, stream: IO[bytes]) -> None:
        buffer = said[name]
        try:
            while len(buffer) <= limit:
                chunk = os.read(stream.fileno(), _CHUNK)
                if not chunk:
                    break
                buffer += chunk
        except OSError:
            pass  # closed under us: the program was killed
        finally:
            finished.put(name)
            stream.close()

    for name, stream in zip(said, _pipes(proc)):
        threading.Thread(target=drain, args=(name, stream), daemon=True).start()
    for _ in said:
        try:
            name = finished.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise _Late from None
        if len(said[name]) > limit:
            raise _Overflow(name)
    return bytes(said["stdout"]), bytes(said["stderr"])


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Tell whether the program has exited, leaving it unreaped where the system allows."""
    if sys.platform != "win32" and (sys.platform != "darwin" or sys.version_info >= (3, 13)):
        # Unreaped, its pid stays its own, so killpg cannot hit a group that took the number.
        try:
            return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True
    return proc.poll() is not None


def _await_exit(proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Wait for the program to exit (its pipes are closed already) until ``deadline``."""
    pause = 0.001
    while not _has_exited(proc):
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Late
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill what is left of the program and all it started, close the pipes, reap it."""
    if sys.platform == "win32":
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        return  # the reader threads close the pipes
    # Nothing left in the group raises ProcessLookupError (on macOS EPERM, if only zombies are).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for stream in _pipes(proc):
        stream.close()
    proc.wait()
