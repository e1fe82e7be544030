"""Real yfinance against the loopback fake: one batched round, both closes kept."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from bot.market_data.frames import BAR_COLUMNS
from bot.market_data.yahoo import YahooProvider
from tests.fakes.yahoo_api import FakeYahoo
from tests.market_data.conftest import FIRST, LAST, tiny_bars

SYMBOLS = ["^RUT", "^GSPC", "IWM", "SPY"]


async def test_one_download_round_makes_one_chart_request_per_symbol(
        yahoo_fake: FakeYahoo, make_provider: Callable[..., YahooProvider]) -> None:
    frames = {s: tiny_bars(base=100.0 * (i + 1)) for i, s in enumerate(SYMBOLS)}
    yahoo_fake.set_frames(frames)
    provider = make_provider()

    result = await provider.fetch(SYMBOLS, FIRST, LAST)

    assert provider.rounds == 1
    assert yahoo_fake.chart_requests == {s: 1 for s in SYMBOLS}
    assert dict(result.missing) == {}
    for symbol in SYMBOLS:
        got = result.bars[symbol]
        assert list(got.columns) == list(BAR_COLUMNS)
        pd.testing.assert_frame_equal(got, frames[symbol], check_freq=False)


async def test_raw_close_and_adjusted_close_are_both_kept(
        yahoo_fake: FakeYahoo, make_provider: Callable[..., YahooProvider]) -> None:
    frames = {"SPY": tiny_bars(base=500.0, adj_ratio=0.9)}
    yahoo_fake.set_frames(frames)

    bars = (await make_provider().fetch(["SPY"], FIRST, LAST)).bars["SPY"]

    assert (bars["close"] == frames["SPY"]["close"]).all()
    assert (bars["adj_close"] == frames["SPY"]["adj_close"]).all()
    assert (bars["adj_close"] < bars["close"]).all()  # auto_adjust=False: not folded together


async def test_second_fetch_of_warm_symbols_skips_timezone_lookups(
        yahoo_fake: FakeYahoo, make_provider: Callable[..., YahooProvider]) -> None:
    yahoo_fake.set_frames({s: tiny_bars() for s in SYMBOLS})
    provider = make_provider()
    await provider.fetch(SYMBOLS, FIRST, LAST)
    assert yahoo_fake.tz_requests == {s: 1 for s in SYMBOLS}  # cold yfinance tz cache
    yahoo_fake.reset_log()

    await provider.fetch(SYMBOLS, FIRST, LAST)

    assert yahoo_fake.tz_requests == {}
    assert yahoo_fake.chart_requests == {s: 1 for s in SYMBOLS}
