"""The bar cache in front of REAL yfinance talking to the loopback fake Yahoo: an incremental
refresh of the whole universe is one HTTP chart round, and exhausted faults end in stale-labelled
cached data, never in a corrupted cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bot.market_data import calendar
from bot.market_data.cache import BarCache
from bot.market_data.yahoo import YahooProvider
from bot.settings import Settings
from bot.storage.db import create_engine, migrate
from bot.storage.repositories import BarRepository
from tests.fakes.yahoo_api import FakeYahoo
from tests.market_data.conftest import tiny_bars

UNIVERSE = Settings().universe.symbols()
FEW = ["^RUT", "^GSPC", "IWM", "SPY", "^TNX", "XLF"]  # fault tests: a smaller set is enough
LOADED = date(2026, 8, 14)  # the fake shows sessions up to here at first
HISTORY_START = date(2026, 7, 1)
RETRIES = 2


class Clock:
    def __init__(self, day: date) -> None:
        self.at = calendar.session_close(day) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.at

    def after_close_of(self, day: date) -> None:
        self.at = calendar.session_close(day) + timedelta(hours=1)


@pytest.fixture
def clock() -> Clock:
    return Clock(LOADED)


@pytest.fixture
def loaded(yahoo_fake: FakeYahoo, make_provider: Callable[..., YahooProvider], clock: Clock,
           tmp_path: Path) -> tuple[BarCache, YahooProvider, BarRepository]:
    """The fake serves the universe (tiny frames to 2026-08-21, visible to 2026-08-14)."""
    frames = {s: tiny_bars(HISTORY_START, date(2026, 8, 21), base=50.0 + 10 * i)
              for i, s in enumerate(UNIVERSE)}
    yahoo_fake.set_frames(frames, visible_until=LOADED)
    provider = make_provider(now=clock, retries=RETRIES, timeout_seconds=0.5)
    engine = create_engine(f"sqlite:///{tmp_path / 'bars.sqlite3'}")
    migrate(engine)
    repo = BarRepository(engine)
    cache = BarCache(provider, repo, overlap_sessions=5, history_start=HISTORY_START, now=clock)
    return cache, provider, repo


async def test_cold_load_then_one_session_is_one_chart_round(
        loaded: tuple[BarCache, YahooProvider, BarRepository], yahoo_fake: FakeYahoo,
        clock: Clock) -> None:
    cache, provider, _ = loaded
    cold = await cache.read(UNIVERSE)
    assert not cold.stale and cold.missing == {}
    assert cold.asof == dict.fromkeys(UNIVERSE, LOADED)
    assert provider.rounds == 1 and yahoo_fake.chart_requests == dict.fromkeys(UNIVERSE, 1)
    yahoo_fake.reset_log()

    day = yahoo_fake.advance(1)
    clock.after_close_of(day)
    report = await cache.refresh(UNIVERSE)

    assert day == date(2026, 8, 17) and report.error is None
    assert provider.rounds == 2  # one yf.download for the whole universe
    assert yahoo_fake.chart_requests == dict.fromkeys(UNIVERSE, 1)  # one chart request each
    assert yahoo_fake.tz_requests == {}
    warm = await cache.read(UNIVERSE, refresh=False)
    for s in UNIVERSE:
        assert len(warm.bars[s]) == len(cold.bars[s]) + 1  # exactly one new bar
        assert warm.bars[s].index[-1] == pd.Timestamp(day)
        pd.testing.assert_frame_equal(warm.bars[s].iloc[:-1], cold.bars[s])
    # and nothing more to do until the next session closes
    yahoo_fake.reset_log()
    assert (await cache.refresh(UNIVERSE)).skipped and yahoo_fake.requests == []


@pytest.mark.parametrize("kind", ["500", "429", "timeout", "empty", "malformed"])
async def test_exhausted_faults_serve_the_cache_labelled_stale(
        loaded: tuple[BarCache, YahooProvider, BarRepository], yahoo_fake: FakeYahoo,
        clock: Clock, kind: str) -> None:
    cache, _, repo = loaded
    before = await cache.read(FEW)
    stored_before = repo.load_bars(FEW)
    day = yahoo_fake.advance(1)
    clock.after_close_of(day)
    # yfinance re-sends once after any status >= 400: 2 requests per attempt, RETRIES + 1 attempts
    yahoo_fake.fail_next(kind, times=2 * (RETRIES + 1), delay=1.0)

    read = await cache.read(FEW)

    assert read.report is not None and read.report.error
    assert read.stale and read.stale_reason is not None
    assert "as of 2026-08-14" in read.stale_reason
    if kind in ("500", "429"):
        assert kind in read.stale_reason or "rate" in read.stale_reason.lower()
    assert read.asof == dict.fromkeys(FEW, LOADED)
    for s in FEW:
        assert read.bars[s] is before.bars[s]
        pd.testing.assert_frame_equal(repo.load_bars([s])[s], stored_before[s])

    # the outage ends: the next refresh after the retry pause brings the new session, not stale
    yahoo_fake.clear_faults()
    clock.at += cache.retry_after
    fresh = await cache.read(FEW)
    assert not fresh.stale and fresh.asof == dict.fromkeys(FEW, day)


async def test_unknown_symbol_and_quirky_rows_do_not_corrupt_the_cache(
        loaded: tuple[BarCache, YahooProvider, BarRepository], yahoo_fake: FakeYahoo,
        clock: Clock) -> None:
    cache, _, repo = loaded
    before = await cache.read([*FEW, "NOSUCH"])
    assert "NOSUCH" in before.missing and not before.stale
    day = yahoo_fake.advance(1)
    clock.after_close_of(day)
    yahoo_fake.duplicate_last_row("SPY")
    yahoo_fake.add_nan_rows("IWM", [date(2026, 8, 13)])  # a revision that blanked a row
    read = await cache.read(FEW)
    spy = read.bars["SPY"]
    assert spy.index.is_unique and spy.index[-1] == pd.Timestamp(day)
    assert len(spy) == len(before.bars["SPY"]) + 1
    # an all-NaN row from the source never overwrites a good stored bar
    iwm = repo.load_bars(["IWM"])["IWM"]
    assert iwm["close"].loc["2026-08-13"] == before.bars["IWM"]["close"].loc["2026-08-13"]
