"""The packed bar read (``bar_blocks``) and ``states()`` from ``fetch_state``, on SQLite and, where
``CAPBRIEF_TEST_POSTGRES_URL`` is set, on PostgreSQL: frames equal to the row-by-row read and to
the source files, migration 0005 on a store written before it, and no scan of ``bars``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.frames import BAR_COLUMNS, normalize_bars
from bot.settings import Settings
from bot.storage.bars import BarRepository, bar_blocks_table, bars_table, fetch_state_table
from bot.storage.db import applied_versions, create_engine, migrate
from bot.storage.migrations import MIGRATIONS
from tests.postgres import PG_URL, schema_engine

AT = datetime(2026, 8, 21, 21, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated-on-demand engine: file SQLite, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_path / 'bars.sqlite3'}")
        yield eng
        eng.dispose()
    else:
        if not PG_URL:
            pytest.skip("set CAPBRIEF_TEST_POSTGRES_URL to run the storage tests on PostgreSQL")
        with schema_engine("capbrief_blocks") as eng:
            yield eng


def generated(seed: int, start: str = "1998-12-20", periods: int = 900) -> pd.DataFrame:
    """Business days across several calendar years with NaN cells and gaps (an adjusted-only
    stretch, missing volumes, a dropped week)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, periods=periods)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, periods)))
    frame = pd.DataFrame({"open": close * 0.99, "high": close * 1.01, "low": close * 0.98,
                          "close": close, "adj_close": close * 0.97,
                          "volume": rng.integers(1, 10**9, periods).astype(float)}, index=days)
    frame.iloc[5:40, :4] = np.nan
    frame.iloc[::7, 5] = np.nan
    return normalize_bars(frame.drop(frame.index[100:105]))


def test_packed_read_equals_the_row_read_and_the_frames_written(engine: Engine) -> None:
    migrate(engine)
    repo = BarRepository(engine)
    frames = {"^GSPC": generated(1), "XLF": generated(2, "2001-03-01", 400), "A.B": generated(3)}
    repo.write_refresh(frames, fetched_at=AT, source="test")
    packed, rows = repo.load_bars([*frames, "NONE"]), repo.load_rows(list(frames))
    assert list(packed) == list(frames)
    for symbol, frame in frames.items():
        pd.testing.assert_frame_equal(packed[symbol], frame, check_freq=False)
        pd.testing.assert_frame_equal(rows[symbol], frame, check_freq=False)
        got = packed[symbol]
        assert got.index.dtype == "datetime64[ns]" and got.index.name == "date"
        assert list(got.columns) == list(BAR_COLUMNS)
        assert (got.dtypes == "float64").all()
    with engine.connect() as conn:
        years = conn.execute(sa.select(sa.func.count()).select_from(bar_blocks_table).where(
            bar_blocks_table.c.symbol == "^GSPC")).scalar()
    assert years == len(set(frames["^GSPC"].index.year))


def test_revisions_and_appends_repack_only_what_changed(engine: Engine) -> None:
    migrate(engine)
    repo = BarRepository(engine)
    full = generated(4)
    repo.write_refresh({"SPY": full.iloc[:-3]}, fetched_at=AT, source="test")
    with engine.connect() as conn:
        before = {r.year: r.days for r in conn.execute(sa.select(bar_blocks_table))}
    tail = full.iloc[-6:].copy()
    tail.iloc[0, 3] = 999.0  # a revised close inside the overlap
    repo.write_refresh({"SPY": tail}, fetched_at=AT, source="test")
    expected = pd.concat([full.iloc[:-6], tail])
    pd.testing.assert_frame_equal(repo.load_bars(["SPY"])["SPY"], expected, check_freq=False)
    with engine.connect() as conn:
        after = {r.year: r.days for r in conn.execute(sa.select(bar_blocks_table))}
    last_year = full.index[-1].year
    assert {y: d for y, d in after.items() if y != last_year} == {
        y: d for y, d in before.items() if y != last_year}
    st = repo.states(["SPY"])["SPY"]
    assert (st.rows, st.first, st.last) == (len(full), full.index[0].date(),
                                            full.index[-1].date())


def test_states_read_fetch_state_only(engine: Engine) -> None:
    migrate(engine)
    repo = BarRepository(engine)
    repo.write_refresh({"SPY": generated(5)}, fetched_at=AT, source="yahoo",
                       missing={"ZZZ": "not found at source"})
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        st = repo.states(["SPY", "ZZZ", "NEW"])
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    queries = [s for s in statements if s.lstrip().startswith("select")]
    assert len(queries) == 1 and "fetch_state" in queries[0]
    assert "bars" not in queries[0].replace("fetch_state", "")
    frame = generated(5)
    assert (st["SPY"].rows, st["SPY"].first, st["SPY"].last) == (
        len(frame), frame.index[0].date(), frame.index[-1].date())
    assert st["ZZZ"].rows == 0 and st["ZZZ"].failing and st["NEW"].rows == 0
    assert repo.symbols() == ["SPY"]


def test_a_store_written_before_0005_is_backfilled_and_repacked_once(engine: Engine) -> None:
    migrate(engine, [m for m in MIGRATIONS if m.number < 5])
    frame = generated(6)
    rows = [{"symbol": "IWM", "date": d.date(),
             **{c: (None if np.isnan(v) else float(v)) for c, v in zip(BAR_COLUMNS, r,
                                                                      strict=True)}}
            for d, r in zip(frame.index, frame.to_numpy(), strict=True)]
    with engine.begin() as conn:  # as the 0001 repository wrote them: rows and fetch state
        conn.execute(sa.insert(bars_table), rows)
        conn.execute(sa.text("INSERT INTO fetch_state (symbol, source) VALUES ('IWM', 'old')"))
        conn.execute(sa.insert(bars_table), [{"symbol": "ORPHAN", "date": date(2001, 1, 2),
                                              "close": 1.0}])
    assert migrate(engine) == [m.number for m in MIGRATIONS if m.number >= 5]
    assert applied_versions(engine)[-1] == MIGRATIONS[-1].number
    repo = BarRepository(engine)
    st = repo.states(["IWM", "ORPHAN"])
    assert (st["IWM"].rows, st["IWM"].last, st["IWM"].source) == (
        len(frame), frame.index[-1].date(), "old")
    assert st["ORPHAN"].rows == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(bar_blocks_table)).scalar() == 0
    got = repo.load_bars(["IWM", "ORPHAN"])  # repacks from the rows
    pd.testing.assert_frame_equal(got["IWM"], frame, check_freq=False)
    assert got["ORPHAN"]["close"].tolist() == [1.0]
    with engine.connect() as conn:
        packed = conn.execute(sa.select(sa.func.sum(bar_blocks_table.c.rows)).where(
            bar_blocks_table.c.symbol == "IWM")).scalar()
    assert packed == len(frame)
    pd.testing.assert_frame_equal(repo.load_bars(["IWM"])["IWM"], frame, check_freq=False)


def test_damaged_blocks_are_rebuilt_from_the_rows(engine: Engine) -> None:
    migrate(engine)
    repo = BarRepository(engine)
    frame = generated(7)
    repo.write_refresh({"QQQ": frame}, fetched_at=AT, source="test")
    k = bar_blocks_table.c
    with engine.begin() as conn:
        conn.execute(sa.update(bar_blocks_table).where(k.year == 2000).values(cells=b"short"))
    pd.testing.assert_frame_equal(repo.load_bars(["QQQ"])["QQQ"], frame, check_freq=False)
    with engine.begin() as conn:
        conn.execute(sa.delete(bar_blocks_table).where(k.year == 1999))
    pd.testing.assert_frame_equal(repo.load_bars(["QQQ"])["QQQ"], frame, check_freq=False)
    with engine.connect() as conn:
        count = conn.execute(sa.select(fetch_state_table.c.bar_count)).scalar()
    assert count == len(frame)


@pytest.mark.shared_data
def test_real_universe_reads_back_equal_to_the_files(engine: Engine, market_dir: Path) -> None:
    migrate(engine)
    csv = CsvDirProvider(market_dir)
    frames = {s: f for s in Settings().universe.symbols() if (f := csv.load(s)) is not None}
    assert len(frames) >= 20
    repo = BarRepository(engine)
    repo.write_refresh(frames, fetched_at=AT, source="csv")
    packed, rows = repo.load_bars(list(frames)), repo.load_rows(list(frames))
    for symbol, frame in frames.items():
        pd.testing.assert_frame_equal(packed[symbol], frame, check_freq=False)
        pd.testing.assert_frame_equal(rows[symbol], frame, check_freq=False)
    states = repo.states(list(frames))
    assert {s: st.rows for s, st in states.items()} == {s: len(f) for s, f in frames.items()}


def test_a_failed_repack_still_answers_from_the_rows(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate(engine)
    repo = BarRepository(engine)
    frame = generated(8)
    repo.write_refresh({"HYG": frame}, fetched_at=AT, source="test")
    with engine.begin() as conn:
        conn.execute(sa.delete(bar_blocks_table))

    def locked(self: BarRepository, symbols: object) -> object:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(BarRepository, "_repack", locked)
    pd.testing.assert_frame_equal(repo.load_bars(["HYG"])["HYG"], frame, check_freq=False)
