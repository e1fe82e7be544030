"""The same storage code on PostgreSQL. Runs only when ``CAPBRIEF_TEST_POSTGRES_URL`` is set
(e.g. ``postgresql+psycopg://user:pw@127.0.0.1/capbrief_test``; needs ``pip install
'.[postgres]'``); each test works in a fresh schema that is dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.market_data import calendar
from bot.market_data.cache import BarCache
from bot.market_data.frames import normalize_bars
from bot.market_data.provider import FetchResult
from bot.storage.db import applied_versions, migrate
from bot.storage.migrations import MIGRATIONS
from bot.storage.repositories import BarRepository, bars_table
from tests.postgres import needs_postgres, schema_engine

pytestmark = needs_postgres
AT = datetime(2026, 8, 20, 21, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[Engine]:
    with schema_engine("capbrief_test") as eng:
        yield eng


def bars(days: list[date], base: float) -> pd.DataFrame:
    close = base + np.arange(len(days), dtype=float)
    return normalize_bars(pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close,
         "adj_close": close, "volume": 5e9}, index=pd.to_datetime(days)))


def test_migrations_are_idempotent_on_postgres(engine: Engine) -> None:
    assert migrate(engine) == [m.number for m in MIGRATIONS]
    assert migrate(engine) == []
    assert applied_versions(engine) == [m.number for m in MIGRATIONS]


def test_repository_round_trip_upsert_and_rollback_on_postgres(engine: Engine) -> None:
    migrate(engine)
    repo = BarRepository(engine)
    days = calendar.sessions(date(2026, 8, 10), date(2026, 8, 20))
    spx = bars(days, 6000.0)
    spx.loc[spx.index[2], "volume"] = np.nan
    repo.write_refresh({"^GSPC": spx}, fetched_at=AT, source="test", missing={"ZZZ": "unknown"})
    got = repo.load_bars(["^GSPC"])["^GSPC"]
    pd.testing.assert_frame_equal(got, spx, check_index_type=False, check_freq=False)
    with engine.connect() as conn:  # NaN is stored as NULL, not as PostgreSQL's 'NaN'
        nulls = conn.execute(sa.select(sa.func.count()).where(
            bars_table.c.volume.is_(None))).scalar()
    assert nulls == 1
    repo.write_refresh({"^GSPC": bars(days[-2:], 9000.0)}, fetched_at=AT, source="test")
    assert repo.load_bars(["^GSPC"])["^GSPC"]["close"].iloc[-1] == 9001.0

    def crash(self: BarRepository, conn: Connection, symbol: str, frame: pd.DataFrame) -> int:
        raise RuntimeError("simulated crash")

    original = BarRepository._upsert_bars
    BarRepository._upsert_bars = crash  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError):
            repo.write_refresh({"^GSPC": bars(days, 1.0)}, fetched_at=AT + timedelta(days=1),
                               source="test")
    finally:
        BarRepository._upsert_bars = original  # type: ignore[method-assign]
    st = repo.states(["^GSPC", "ZZZ"])
    assert st["^GSPC"].rows == len(days) and st["^GSPC"].last_success_at == AT
    assert st["ZZZ"].failing and st["ZZZ"].last_error == "unknown"


class _Provider:
    name = "test"

    def __init__(self) -> None:
        self.calls = 0

    async def fetch(self, symbols: object, start: date, end: date) -> FetchResult:
        self.calls += 1
        days = calendar.sessions(max(start, date(2026, 8, 3)), end)
        return FetchResult(bars={"SPY": bars(days, 600.0)})


async def test_bar_cache_on_postgres(engine: Engine) -> None:
    migrate(engine)
    provider = _Provider()
    now = calendar.session_close(date(2026, 8, 20)) + timedelta(hours=1)
    cache = BarCache(provider, BarRepository(engine), history_start=date(2026, 8, 3),
                     now=lambda: now)
    read = await cache.read(["SPY"])
    again = await cache.read(["SPY"])
    assert provider.calls == 1 and not read.stale
    assert read.asof == {"SPY": date(2026, 8, 20)} and again.bars["SPY"] is read.bars["SPY"]
