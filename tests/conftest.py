from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from wheels import Venv


@pytest.fixture
def venv_(tmp_path: Path) -> Venv:
    """A fresh real venv."""
    return Venv(tmp_path / "venv")


@pytest.fixture
def wheel_dir(tmp_path: Path) -> Path:
    path = tmp_path / "wheels"
    path.mkdir()
    return path


def _can_mount_ext2() -> str | None:
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs root on Linux to mount a loop device"
    if not shutil.which("mkfs.ext2") or not os.path.exists("/dev/loop-control"):
        return "needs mkfs.ext2 and loop devices"
    return None


def mount_ext2(tmp_path: Path, megabytes: int = 64) -> Iterator[Path]:
    """Make and mount a fresh ext2 image (1-second timestamps); skip where that is impossible."""
    reason = _can_mount_ext2()
    if reason:
        pytest.skip(reason)
    image, mount = tmp_path / "ext2.img", tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={image}", "bs=1M", f"count={megabytes}"],
        check=True,
        capture_output=True,
    )
    # -I 128: 128-byte inodes keep 1-second timestamps.
    subprocess.run(
        ["mkfs.ext2", "-q", "-F", "-I", "128", str(image)], check=True, capture_output=True
    )
    mounted = subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a loop device here: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.fixture
def ext2(tmp_path: Path) -> Iterator[Path]:
    """A mounted ext2 filesystem with 1-second timestamps."""
    yield from mount_ext2(tmp_path)


def _sample() -> int | None:
    value = os.environ.get("PIPGUARD_TEST_SAMPLE", "")
    return int(value) if value.isdigit() else None


def pytest_report_header() -> str | None:
    sample = _sample()
    if sample is None:
        return None
    return (
        f"PIPGUARD_TEST_SAMPLE={sample}: every unit test, the first {sample} integration "
        "tests of each file"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Unit tests first, integration tests after: a broken unit fails fast.
    items.sort(key=lambda item: item.get_closest_marker("integration") is not None)
    sample = _sample()
    if sample is None:
        return
    # tox's other CPythons: every file still runs, the CI stays within its time on 2 cores.
    seen: dict[str, int] = {}
    kept, dropped = [], []
    for item in items:
        if item.get_closest_marker("integration") is None:
            kept.append(item)
            continue
        seen[item.path.name] = seen.get(item.path.name, 0) + 1
        (kept if seen[item.path.name] <= sample else dropped).append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept
