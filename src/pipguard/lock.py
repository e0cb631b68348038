"""One transaction at a time per environment: an advisory lock held for the whole step.

The lock is ``flock`` on the environment's site-packages directory itself: nothing is written
to take it, and the kernel releases it when its holder dies, so a killed run never leaves a
stale lock behind.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO

__all__ = ["Lock", "LockTimeout", "hold"]


class LockTimeout(Exception):
    """Another pipguard transaction held the environment longer than the timeout."""


class Lock:
    """A held lock: an open descriptor of the locked directory."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        """Release the lock."""
        os.close(self.fd)


def hold(directory: str, timeout: float, say: IO[str] = sys.stderr) -> Lock | None:
    """Take the lock of the environment whose site-packages is ``directory``; return its handle.

    Waits up to ``timeout`` seconds, saying once that it waits. Returns None where locking is
    not possible (no such directory, a read-only one, or no ``fcntl``): the install goes on.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no flock; pip itself takes no lock either
        return None
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return None
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return Lock(fd)
        except OSError as exc:
            if not isinstance(exc, BlockingIOError):
                os.close(fd)
                return None
            if not told:
                print(
                    f"pipguard: waiting for another pipguard run on {directory} "
                    f"(up to {timeout:g} s, --lock-timeout)",
                    file=say,
                    flush=True,
                )
                told = True
            if time.monotonic() >= deadline:
                os.close(fd)
                raise LockTimeout(
                    f"another pipguard run held {directory} for more than {timeout:g} s"
                ) from None
            time.sleep(0.1)
