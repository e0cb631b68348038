from __future__ import annotations

import sys
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Unit tests first, integration tests after: a broken unit fails fast.
    items.sort(key=lambda item: item.get_closest_marker("integration") is not None)
