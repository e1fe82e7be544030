"""The trailing-P/E store (migration 0004) on SQLite and, when configured, PostgreSQL: the
table matches its repository, one reading per symbol and session, nothing after ``until``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.storage.db import create_engine, migrate
from bot.storage.valuations import ValuationRepository, valuations_table
from tests.postgres import PG_URL, schema_engine

THU, FRI = date(2026, 8, 13), date(2026, 8, 14)
AT = datetime(2026, 8, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_path / 'db' / 'capbrief.sqlite3'}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    if not PG_URL:
        pytest.skip("set CAPBRIEF_TEST_POSTGRES_URL to run the storage tests on PostgreSQL")
    with schema_engine("capbrief_val") as eng:
        migrate(eng)
        yield eng


def test_table_matches_the_migration(any_engine: Engine) -> None:
    inspector = sa.inspect(any_engine)
    columns = {c["name"] for c in inspector.get_columns("valuations")}
    assert columns == {c.name for c in valuations_table.columns}
    pk = inspector.get_pk_constraint("valuations")["constrained_columns"]
    assert set(pk) == {"symbol", "session"}


def test_one_reading_per_symbol_and_session(any_engine: Engine) -> None:
    repo = ValuationRepository(any_engine)
    assert repo.record(THU, {"IWM": 27.0, "SPY": 26.0}, AT) == 2
    assert repo.record(THU, {"IWM": 99.0, "IVW": 28.0}, AT) == 1  # the first IWM is kept
    assert repo.record(FRI, {"IWM": 28.0}, AT) == 1
    assert repo.symbols_on(THU) == {"IWM", "SPY", "IVW"}
    assert repo.record(FRI, {}, AT) == 0


def test_history_reads_nothing_after_until(any_engine: Engine) -> None:
    repo = ValuationRepository(any_engine)
    repo.record(THU, {"IWM": 27.0, "SPY": 26.0}, AT)
    repo.record(FRI, {"IWM": 28.0}, AT)
    held = repo.history(["IWM", "SPY"], THU)
    assert list(held["session"]) == [THU, THU]
    assert list(held["symbol"]) == ["IWM", "SPY"]
    assert list(held["trailing_pe"]) == [27.0, 26.0]
    assert held["fetched_at"].iloc[0] == pd.Timestamp(AT)
    assert len(repo.history(["IWM"], FRI)) == 2
    assert repo.history(["IWM"], date(2026, 8, 12)).empty


def test_naive_fetch_time_is_refused(any_engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ValuationRepository(any_engine).record(FRI, {"SPY": 1.0}, datetime(2026, 8, 14))
