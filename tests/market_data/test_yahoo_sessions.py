"""The clock and the calendar: a session still trading is never returned as a close; the real
shared history comes through real yfinance unchanged (dates not shifted, values exact)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.errors import UnknownSymbol
from bot.market_data.yahoo import YahooProvider
from bot.settings import Settings
from tests.fakes.yahoo_api import FakeYahoo
from tests.market_data.conftest import FIRST, LAST, tiny_bars

Make = Callable[..., YahooProvider]


def period2_days(fake: FakeYahoo) -> set[date]:
    """The (exclusive) end dates, New York time, of the chart requests the fake received."""
    ends = {int(h.params["period2"]) for h in fake.requests if h.kind == "chart"}
    return {pd.Timestamp(e, unit="s", tz="UTC").tz_convert("America/New_York").date()
            for e in ends}


async def test_bar_of_a_session_still_trading_is_dropped(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    frames = {"SPY": tiny_bars()}  # includes a (partial) bar for Friday 2026-08-14
    yahoo_fake.set_frames(frames)
    during = datetime(2026, 8, 14, 19, 0, tzinfo=UTC)  # 15:00 New York, before the close

    bars = (await make_provider(now=lambda: during).fetch(["SPY"], FIRST, LAST)).bars["SPY"]

    assert bars.index[-1] == pd.Timestamp("2026-08-13")
    pd.testing.assert_frame_equal(bars, frames["SPY"].iloc[:-1], check_freq=False)
    assert period2_days(yahoo_fake) == {date(2026, 8, 14)}  # never even asked for it


async def test_bar_is_kept_once_the_session_has_closed(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({"SPY": tiny_bars()})
    after = datetime(2026, 8, 14, 20, 0, tzinfo=UTC)  # 16:00 New York: the close

    bars = (await make_provider(now=lambda: after).fetch(["SPY"], FIRST, LAST)).bars["SPY"]

    assert bars.index[-1] == pd.Timestamp("2026-08-14")


async def test_early_close_day_counts_as_closed_after_1pm(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    start, black_friday = date(2026, 11, 20), date(2026, 11, 27)
    yahoo_fake.set_frames({"IWM": tiny_bars(start, black_friday)})
    at_1330 = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # 13:30 New York, after the 13:00 close

    bars = (await make_provider(now=lambda: at_1330).fetch(["IWM"], start, black_friday)).bars

    assert bars["IWM"].index[-1] == pd.Timestamp(black_friday)
    assert pd.Timestamp("2026-11-26") not in bars["IWM"].index  # Thanksgiving


async def test_range_with_no_closed_session_asks_nothing(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({"SPY": tiny_bars()})
    saturday = datetime(2026, 8, 15, 12, 0, tzinfo=UTC)
    provider = make_provider(now=lambda: saturday)

    result = await provider.fetch(["SPY"], date(2026, 8, 15), date(2026, 8, 16))

    assert result.bars["SPY"].empty and provider.rounds == 0
    assert yahoo_fake.requests == []


async def test_known_symbol_without_bars_in_range_is_an_empty_frame_not_missing(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({"SPY": tiny_bars(), "XLC": tiny_bars(date(2026, 8, 10), LAST)})

    result = await make_provider().fetch(["SPY", "XLC"], FIRST, date(2026, 8, 7))

    assert result.bars["XLC"].empty and list(result.bars["XLC"].columns) == list(
        result.bars["SPY"].columns)
    assert len(result.bars["SPY"]) == 5 and dict(result.missing) == {}


async def test_malformed_ticker_is_missing_without_asking_yahoo(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({"SPY": tiny_bars()})
    provider = make_provider()

    result = await provider.fetch(["SPY", "../etc"], FIRST, LAST)

    assert set(result.missing) == {"../etc"} and set(result.bars) == {"SPY"}
    assert set(yahoo_fake.chart_requests) == {"SPY"}
    with pytest.raises(UnknownSymbol):
        await provider.fetch(["bad symbol"], FIRST, LAST)


async def test_advance_reveals_one_more_session(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({"SPY": tiny_bars()}, visible_until=date(2026, 8, 12))
    provider = make_provider()
    before = (await provider.fetch(["SPY"], FIRST, LAST)).bars["SPY"]

    assert yahoo_fake.advance(1) == date(2026, 8, 13)
    after = (await provider.fetch(["SPY"], FIRST, LAST)).bars["SPY"]

    assert before.index[-1] == pd.Timestamp("2026-08-12")
    assert list(after.index.difference(before.index)) == [pd.Timestamp("2026-08-13")]


def test_from_settings_reads_the_data_section() -> None:
    settings = Settings(data={"retries": 7, "backoff_seconds": 0.5, "timeout_seconds": 3.0,
                              "max_concurrency": 3})
    provider = YahooProvider.from_settings(settings)
    assert (provider.retries, provider.backoff_seconds, provider.timeout_seconds) == (7, 0.5, 3.0)
    assert provider.name == "yahoo"


@pytest.mark.shared_data
async def test_shared_history_comes_through_yfinance_unchanged(
        market_dir: Path, yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    """Full history (^GSPC from 1927: pre-1970 timestamps are negative) of an index, a yield, a
    raw+adjusted ETF and an adjusted-only ETF: same dates, same values as the CSV files.
    (A volume of 0 — a few ^RUT rows in the CSV — comes back as NaN, "not reported".)"""
    csv = CsvDirProvider(market_dir)
    symbols = ["^GSPC", "^RUT", "^TNX", "^VIX", "SPY", "XLF"]
    frames = {s: csv.load(s) for s in symbols}
    assert all(f is not None for f in frames.values())
    yahoo_fake.set_frames({s: f for s, f in frames.items() if f is not None})
    end = date(2026, 8, 27)
    provider = make_provider(now=lambda: datetime(2026, 8, 28, 12, 0, tzinfo=UTC),
                             timeout_seconds=30.0)

    result = await provider.fetch(symbols, date(1927, 1, 1), end)

    assert provider.rounds == 1 and dict(result.missing) == {}
    for symbol, frame in frames.items():
        assert frame is not None
        got, frame = result.bars[symbol], frame.replace({"volume": {0.0: float("nan")}})
        assert got.index.equals(frame.index), symbol  # same dates (index unit may differ)
        pd.testing.assert_frame_equal(got, frame, check_freq=False, check_index_type=False,
                                      obj=symbol)
    assert result.bars["^RUT"].loc["2026-08-27", "close"] == pytest.approx(3014.34)


async def test_timezone_cache_lives_where_it_is_told(
        tmp_path: Path, yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({"SPY": tiny_bars()})
    where = tmp_path / "yf-tz"

    await make_provider(tz_cache_dir=where).fetch(["SPY"], FIRST, LAST)

    assert (where / "tkr-tz.db").is_file()
