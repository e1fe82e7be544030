"""Storage fixtures: a migrated, file-backed SQLite engine per test (WAL and threads are real)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.storage.db import create_engine, migrate


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'db' / 'capbrief.sqlite3'}")
    migrate(eng)
    yield eng
    eng.dispose()
