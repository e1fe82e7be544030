"""Fixtures of the alert tests: a migrated SQLite ledger per test and the real-history snapshot
(helpers in ``support.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.market_data.snapshot import MarketSnapshot
from bot.services import Services
from bot.settings import Settings
from bot.storage.db import create_engine, migrate


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'capbrief.sqlite3'}")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def full_snapshot(market_dir: Path) -> MarketSnapshot:
    settings = Settings(data={"provider": "csv", "csv_dir": market_dir})  # type: ignore[arg-type]
    services = Services.build(settings, market_dir, pool_size=1)
    return asyncio.run(services.market.snapshot(["^RUT", "^GSPC"]))
