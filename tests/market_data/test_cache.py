"""BarCache with an in-test counting provider: incremental starts, single-flight, crash safety,
stale-but-labelled fallback, and warm reads from memory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.exc import OperationalError

from bot.market_data import calendar
from bot.market_data.cache import BarCache, sessions_back
from bot.market_data.errors import MarketDataError, SourceUnavailable
from bot.market_data.frames import normalize_bars
from bot.market_data.provider import FetchResult
from bot.storage.db import create_engine, migrate
from bot.storage.repositories import BarRepository, SymbolState
from tests.postgres import PG_URL, schema_engine

HISTORY_START = date(2026, 1, 2)
DAY1 = date(2026, 8, 20)  # a Thursday
DAY2 = date(2026, 8, 21)


def after_close(day: date, hours: int = 1) -> datetime:
    return calendar.session_close(day) + timedelta(hours=hours)


def series(symbol: str, end: date) -> pd.DataFrame:
    days = calendar.sessions(date(2026, 3, 2), end)
    base = 100.0 + 10 * (sum(map(ord, symbol)) % 7)
    close = base + np.arange(len(days), dtype=float)
    return normalize_bars(pd.DataFrame(
        {"open": close - 0.5, "high": close + 1, "low": close - 1, "close": close,
         "adj_close": close, "volume": 1e6}, index=pd.to_datetime(days)))


class CountingProvider:
    """A BarProvider over frames held in memory; counts calls, can fail or be slow."""

    name = "counting"

    def __init__(self, symbols: Sequence[str], end: date) -> None:
        self.data = {s: series(s, end) for s in symbols}
        self.calls: list[tuple[tuple[str, ...], date, date]] = []
        self.fail: MarketDataError | None = None
        self.delay = 0.0

    def advance(self, end: date) -> None:
        self.data = {s: series(s, end) for s in self.data}

    async def fetch(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        self.calls.append((tuple(symbols), start, end))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        lo, hi = pd.Timestamp(start), pd.Timestamp(end)
        return FetchResult(
            bars={s: self.data[s].loc[lo:hi] for s in symbols if s in self.data},
            missing={s: f"{s} not found at source" for s in symbols if s not in self.data})


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


UNIVERSE = ["^GSPC", "^RUT", "SPY", "IWM"]


@pytest.fixture
def repo(tmp_path: Path) -> BarRepository:
    engine = create_engine(f"sqlite:///{tmp_path / 'bars.sqlite3'}")
    migrate(engine)
    return BarRepository(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BarRepository]:
    """A migrated store on SQLite, and on PostgreSQL where ``CAPBRIEF_TEST_POSTGRES_URL`` is set."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'bars.sqlite3'}")
        migrate(engine)
        yield BarRepository(engine)
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("set CAPBRIEF_TEST_POSTGRES_URL to run the storage tests on PostgreSQL")
    with schema_engine("capbrief_cache") as engine:
        migrate(engine)
        yield BarRepository(engine)


def make_cache(provider: CountingProvider, repo: BarRepository, clock: Clock,
               overlap: int = 3) -> BarCache:
    return BarCache(provider, repo, overlap_sessions=overlap, history_start=HISTORY_START,
                    now=clock)


async def test_cold_refresh_fetches_full_history_in_one_call(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    report = await cache.refresh(UNIVERSE)
    assert provider.calls == [(tuple(sorted(UNIVERSE)), HISTORY_START, DAY1)]
    assert report.provider_calls == 1 and report.error is None
    assert report.rows_written == sum(len(f) for f in provider.data.values())
    read = await cache.read(UNIVERSE, refresh=False)
    assert not read.stale and read.stale_reason is None
    assert read.asof == dict.fromkeys(UNIVERSE, DAY1)
    for s in UNIVERSE:
        pd.testing.assert_frame_equal(read.bars[s], provider.data[s], check_index_type=False)


async def test_no_fetch_when_up_to_date_even_after_a_restart(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    await make_cache(provider, repo, clock).refresh(UNIVERSE)
    clock.at = calendar.session_open(DAY2) + timedelta(hours=2)  # DAY2 has not closed yet
    again = await make_cache(provider, repo, clock).refresh(UNIVERSE)  # a new process
    assert again.skipped and again.target == DAY1
    assert len(provider.calls) == 1


async def test_incremental_refresh_starts_overlap_sessions_back(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock, overlap=3)
    before = await cache.read(UNIVERSE)
    provider.advance(DAY2)
    clock.at = after_close(DAY2)
    report = await cache.refresh(UNIVERSE)
    # the last 3 stored sessions (Aug 18, 19, 20) are re-read, plus the new one: 4 rows each
    assert provider.calls[-1] == (tuple(sorted(UNIVERSE)), date(2026, 8, 18), DAY2)
    assert report.provider_calls == 1
    assert report.written == dict.fromkeys(UNIVERSE, 4)
    after = await cache.read(UNIVERSE, refresh=False)
    for s in UNIVERSE:
        assert len(after.bars[s]) == len(before.bars[s]) + 1  # exactly one new bar
        assert after.asof[s] == DAY2


async def test_symbols_sharing_a_start_share_a_call(repo: BarRepository) -> None:
    provider, clock = CountingProvider([*UNIVERSE, "QQQ"], DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock, overlap=1)
    await cache.refresh(UNIVERSE)
    provider.advance(DAY2)
    clock.at = after_close(DAY2)
    report = await cache.refresh([*UNIVERSE, "QQQ"])  # QQQ was never stored
    assert sorted(provider.calls[1:], key=lambda c: c[1]) == [
        (("QQQ",), HISTORY_START, DAY2), (tuple(sorted(UNIVERSE)), DAY1, DAY2)]
    assert report.provider_calls == 2


def test_sessions_back_counts_sessions_over_weekends_and_holidays() -> None:
    assert sessions_back(date(2026, 8, 24), 1) == date(2026, 8, 24)  # Monday: itself
    assert sessions_back(date(2026, 8, 24), 2) == date(2026, 8, 21)  # the Friday before
    assert sessions_back(date(2026, 11, 27), 2) == date(2026, 11, 25)  # skips Thanksgiving
    assert sessions_back(date(2026, 8, 21), 0) == date(2026, 8, 24)
    assert sessions_back(date(1985, 6, 14), 5) < date(1985, 6, 10)  # before the calendar


async def test_twenty_concurrent_refreshes_share_one_fetch(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    provider.delay = 0.05
    cache = make_cache(provider, repo, clock)
    reports = await asyncio.gather(*(cache.refresh(list(reversed(UNIVERSE)) if i % 2 else UNIVERSE)
                                     for i in range(20)))
    assert len(provider.calls) == 1
    assert all(r is reports[0] for r in reports)
    assert len(cache._inflight) == 0  # forgotten once landed


async def test_overlapping_symbol_sets_fetch_a_shared_symbol_once(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    provider.delay = 0.05
    cache = make_cache(provider, repo, clock)
    await asyncio.gather(cache.refresh(["^RUT", "^GSPC"]), cache.refresh(["^GSPC", "SPY"]))
    fetched = [s for symbols, _, _ in provider.calls for s in symbols]
    assert sorted(fetched) == ["SPY", "^GSPC", "^RUT"]


async def test_a_cancelled_waiter_does_not_cancel_the_shared_fetch(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    provider.delay = 0.05
    cache = make_cache(provider, repo, clock)
    first = asyncio.create_task(cache.refresh(UNIVERSE))
    second = asyncio.create_task(cache.refresh(UNIVERSE))
    await asyncio.sleep(0.01)
    first.cancel()
    report = await second
    assert report.provider_calls == 1 and report.rows_written > 0


async def test_store_crash_mid_write_keeps_previous_state_and_labels_it(
        repo: BarRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    before = await cache.read(UNIVERSE)
    provider.advance(DAY2)
    clock.at = after_close(DAY2)
    real = BarRepository._upsert_bars
    seen: list[str] = []

    def crash_on_third(self: BarRepository, conn: object, symbol: str, frame: pd.DataFrame) -> int:
        seen.append(symbol)
        if len(seen) == 3:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(self, conn, symbol, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(BarRepository, "_upsert_bars", crash_on_third)
    report = await cache.refresh(UNIVERSE)
    assert report.error and "could not be updated" in report.error
    assert set(report.failed) == set(UNIVERSE) and report.written == {}
    monkeypatch.undo()
    stored = repo.load_bars(UNIVERSE)
    for s in UNIVERSE:  # the two symbols upserted before the crash were rolled back too
        pd.testing.assert_frame_equal(stored[s], before.bars[s], check_index_type=False)
    read = await cache.read(UNIVERSE, refresh=False)
    assert read.stale and read.stale_reason and "could not be updated" in read.stale_reason
    assert read.asof == dict.fromkeys(UNIVERSE, DAY1)


async def test_source_failure_serves_last_good_bars_labelled_stale(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    good = await cache.read(UNIVERSE)
    assert not good.stale
    provider.advance(DAY2)
    provider.fail = SourceUnavailable("Yahoo Finance is unavailable (HTTP 500)")
    clock.at = after_close(DAY2)
    read = await cache.read(UNIVERSE)
    assert read.report is not None
    assert read.report.error == "Yahoo Finance is unavailable (HTTP 500)"
    assert read.stale
    assert read.stale_reason is not None
    assert "HTTP 500" in read.stale_reason and "as of 2026-08-20" in read.stale_reason
    assert read.asof == dict.fromkeys(UNIVERSE, DAY1)
    for s in UNIVERSE:
        assert read.bars[s] is good.bars[s]  # the cached frames, untouched
    # a new process sees the same honest label from the store
    fresh = await make_cache(provider, repo, clock).read(UNIVERSE, refresh=False)
    assert fresh.stale and fresh.stale_reason == read.stale_reason


async def test_source_is_not_hammered_during_an_outage(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    await cache.refresh(UNIVERSE)
    provider.advance(DAY2)
    provider.fail = SourceUnavailable("Yahoo Finance is unavailable (HTTP 503)")
    clock.at = after_close(DAY2)
    await cache.read(UNIVERSE)
    for _ in range(5):
        assert (await cache.read(UNIVERSE)).stale
    assert len(provider.calls) == 2  # the cold load and the one failed attempt
    provider.fail = None
    clock.at += cache.retry_after
    recovered = await cache.read(UNIVERSE)
    assert len(provider.calls) == 3
    assert not recovered.stale and recovered.asof == dict.fromkeys(UNIVERSE, DAY2)


async def test_nothing_cached_and_source_down_raises_the_source_error(
        repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    provider.fail = SourceUnavailable("Yahoo Finance timed out")
    cache = make_cache(provider, repo, clock)
    with pytest.raises(SourceUnavailable, match="timed out"):
        await cache.read(UNIVERSE)
    with pytest.raises(MarketDataError, match="timed out"):  # a restart knows the reason too
        await make_cache(provider, repo, clock).read(UNIVERSE, refresh=False)


async def test_unknown_symbol_among_many_is_reported_missing(
        repo: BarRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    read = await cache.read([*UNIVERSE, "ZZZZ"])
    assert set(read.bars) == set(UNIVERSE)
    assert read.missing == {"ZZZZ": "ZZZZ not found at source"}
    assert not read.stale
    assert read.report is not None and read.report.missing == read.missing
    loads: list[object] = []
    real = repo.load_bars

    def counting_load(symbols: list[str]) -> dict[str, pd.DataFrame]:
        loads.append(symbols)
        return real(symbols)

    monkeypatch.setattr(repo, "load_bars", counting_load)
    again = await cache.read([*UNIVERSE, "ZZZZ"], refresh=False)
    assert loads == [] and again.missing == read.missing  # nothing stored: no query either


async def test_warm_read_returns_the_same_frames_without_touching_the_store(
        repo: BarRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    first = await cache.read(UNIVERSE)
    loads: list[object] = []
    real = repo.load_bars

    def counting_load(symbols: list[str]) -> dict[str, pd.DataFrame]:
        loads.append(symbols)
        return real(symbols)

    monkeypatch.setattr(repo, "load_bars", counting_load)
    second = await cache.read(UNIVERSE)
    assert loads == []
    assert all(second.bars[s] is first.bars[s] for s in UNIVERSE)
    # a write extends the written symbols' frames with the rows read back, not a full re-read
    provider.advance(DAY2)
    clock.at = after_close(DAY2)
    third = await cache.read(UNIVERSE)
    assert loads == []
    assert third.report is not None and third.report.rows_read == 4 * len(UNIVERSE)
    for s in UNIVERSE:
        assert third.bars[s] is not first.bars[s] and len(first.bars[s]) == len(third.bars[s]) - 1
        pd.testing.assert_frame_equal(third.bars[s], provider.data[s], check_index_type=False)


async def test_incremental_append_equals_a_full_re_read(any_repo: BarRepository) -> None:
    repo = any_repo
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock, overlap=3)
    await cache.read(UNIVERSE)
    provider.advance(DAY2)
    day = provider.data["SPY"].index[-3]  # a revision inside the overlap
    provider.data["SPY"].loc[day, ["close", "volume"]] = [1234.5, np.nan]
    clock.at = after_close(DAY2)
    appended = await cache.read(UNIVERSE)
    assert appended.report is not None and appended.report.rows_read == 4 * len(UNIVERSE)
    reread = await make_cache(provider, repo, clock).read(UNIVERSE, refresh=False)
    for s in UNIVERSE:
        pd.testing.assert_frame_equal(appended.bars[s], reread.bars[s])
        assert appended.bars[s].index.is_monotonic_increasing and appended.bars[s].index.is_unique
    assert appended.bars["SPY"].loc[day, "close"] == 1234.5
    assert np.isnan(appended.bars["SPY"].loc[day, "volume"])
    spy = cache.state("SPY")
    assert spy is not None and spy.rows == len(appended.bars["SPY"])


async def test_symbols_not_held_in_memory_are_not_read_back(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    await cache.read(["SPY"])
    await cache.refresh(UNIVERSE)  # the others are stored but never read into memory
    provider.advance(DAY2)
    clock.at = after_close(DAY2)
    report = await cache.refresh(UNIVERSE)
    assert report.rows_read == 4  # SPY's overlap (3) and new session (1) only
    read = await cache.read(UNIVERSE, refresh=False)
    for s in UNIVERSE:
        pd.testing.assert_frame_equal(read.bars[s], provider.data[s], check_index_type=False)


async def test_a_refresh_by_another_process_is_picked_up(repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    bot_cache = make_cache(provider, repo, clock)
    await bot_cache.read(UNIVERSE)
    provider.advance(DAY2)
    clock.at = after_close(DAY2)
    await make_cache(provider, repo, clock).refresh(UNIVERSE)  # e.g. `python -m bot data refresh`
    calls = len(provider.calls)
    read = await bot_cache.read(UNIVERSE)
    assert len(provider.calls) == calls  # the store was already up to date
    assert read.asof == dict.fromkeys(UNIVERSE, DAY2)


async def test_a_lagging_symbol_is_rechecked_only_after_a_pause(
        repo: BarRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    provider.data["IWM"] = series("IWM", date(2026, 7, 31))  # the source stopped at July 31
    cache = make_cache(provider, repo, clock)
    await cache.refresh(UNIVERSE)
    queries: list[object] = []
    real = repo.states

    def counting_states(symbols: Sequence[str]) -> dict[str, SymbolState]:
        queries.append(symbols)
        return real(symbols)

    monkeypatch.setattr(repo, "states", counting_states)
    for _ in range(3):
        clock.at += timedelta(minutes=4)
        assert (await cache.refresh(UNIVERSE)).skipped
    assert queries == []  # quiet until IWM is due: not even a store query
    clock.at += cache.recheck
    report = await cache.refresh(UNIVERSE)
    assert provider.calls[-1][0] == ("IWM",) and report.provider_calls == 1


async def test_a_slow_source_gets_the_cache_labelled_while_the_refresh_goes_on(
        repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = BarCache(provider, repo, overlap_sessions=3, history_start=HISTORY_START, now=clock,
                     wait_seconds=0.05)
    provider.delay = 0.3  # the cold load is slower than the wait, but there is nothing to serve
    cold = await cache.read(UNIVERSE)
    assert not cold.stale and cold.asof == dict.fromkeys(UNIVERSE, DAY1)
    provider.advance(DAY2)
    clock.at = after_close(DAY2)
    read = await cache.read(UNIVERSE)
    assert read.stale and read.stale_reason is not None and read.report is None
    assert "slow to answer" in read.stale_reason and "as of 2026-08-20" in read.stale_reason
    assert read.asof == dict.fromkeys(UNIVERSE, DAY1)
    report = await cache.refresh(UNIVERSE)  # joins the flight still running
    assert report.provider_calls == 1 and len(provider.calls) == 2
    after = await cache.read(UNIVERSE)
    assert not after.stale and after.asof == dict.fromkeys(UNIVERSE, DAY2)


async def test_a_down_source_is_asked_once_per_refresh(repo: BarRepository) -> None:
    provider, clock = CountingProvider([*UNIVERSE, "QQQ"], DAY1), Clock(after_close(DAY1))
    cache = make_cache(provider, repo, clock)
    await cache.refresh(UNIVERSE)
    provider.advance(DAY2)
    provider.fail = SourceUnavailable("Yahoo Finance is unavailable (HTTP 503)")
    clock.at = after_close(DAY2)
    report = await cache.refresh([*UNIVERSE, "QQQ"])  # two start groups: QQQ is new
    assert report.provider_calls == 1 and len(provider.calls) == 2
    assert sorted(report.failed) == sorted([*UNIVERSE, "QQQ"])
    with pytest.raises(SourceUnavailable):  # QQQ has nothing cached: the source's error
        await cache.read(["QQQ"], refresh=False)


async def test_a_close_fetched_right_after_the_bell_is_read_again_once_settled(
        repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(
        calendar.session_close(DAY1) + timedelta(minutes=5))
    cache = make_cache(provider, repo, clock)
    final = provider.data["SPY"].copy()
    provisional = final.copy()
    provisional["close"] = final["close"] + np.where(final.index == pd.Timestamp(DAY1), 1.25, 0.0)
    provider.data["SPY"] = provisional  # a print just after the bell, revised later
    await cache.refresh(UNIVERSE)
    stored = await cache.read(["SPY"], refresh=False)
    assert stored.bars["SPY"]["close"].iloc[-1] == final["close"].iloc[-1] + 1.25
    provider.data["SPY"] = final  # what the source serves once the close has settled
    clock.at += timedelta(minutes=30)
    assert (await cache.refresh(UNIVERSE)).skipped  # not yet settled: no call
    clock.at = calendar.session_close(DAY1) + cache.settle + timedelta(minutes=1)
    report = await cache.refresh(UNIVERSE)
    assert report.provider_calls == 1 and provider.calls[-1][2] == DAY1
    read = await cache.read(UNIVERSE, refresh=False)
    pd.testing.assert_frame_equal(read.bars["SPY"], final, check_index_type=False)
    clock.at += timedelta(hours=3)
    assert (await cache.refresh(UNIVERSE)).skipped and len(provider.calls) == 2


async def test_memory_holds_at_most_max_frames_least_recently_read_first(
        repo: BarRepository) -> None:
    provider, clock = CountingProvider(UNIVERSE, DAY1), Clock(after_close(DAY1))
    cache = BarCache(provider, repo, history_start=HISTORY_START, now=clock, max_frames=2)
    await cache.refresh(UNIVERSE)
    first = await cache.read(["^GSPC", "SPY"], refresh=False)
    await cache.read(["IWM"], refresh=False)  # evicts ^GSPC, the least recently read
    assert list(cache._frames) == ["SPY", "IWM"]
    again = await cache.read(["SPY", "^GSPC"], refresh=False)
    assert again.bars["SPY"] is first.bars["SPY"]  # still in memory
    pd.testing.assert_frame_equal(again.bars["^GSPC"], first.bars["^GSPC"])  # reloaded
    assert list(cache._frames) == ["SPY", "^GSPC"]
