"""Fault injection, one test each, through real yfinance → the loopback fake. Every test ends in
correct data after a retry or in a clear error of our own type, never in anything else.

yfinance re-sends once by itself after any HTTP status >= 400 (toggling its cookie strategy), so
a status fault needs ``times=2`` per symbol to reach the provider as one failed round.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from bot.market_data.errors import (
    MalformedResponse,
    MarketDataError,
    RateLimited,
    SourceUnavailable,
    UnknownSymbol,
)
from bot.market_data.yahoo import YahooProvider
from tests.fakes.yahoo_api import FakeYahoo
from tests.market_data.conftest import FIRST, LAST, Sleeps, tiny_bars

SYMBOLS = ["^RUT", "^GSPC", "IWM"]
Make = Callable[..., YahooProvider]


@pytest.fixture
def frames(yahoo_fake: FakeYahoo) -> dict[str, pd.DataFrame]:
    data = {s: tiny_bars(base=100.0 * (i + 1)) for i, s in enumerate(SYMBOLS)}
    yahoo_fake.set_frames(data)
    return data


def assert_same(result_bars: dict[str, pd.DataFrame], frames: dict[str, pd.DataFrame]) -> None:
    assert set(result_bars) == set(frames)
    for symbol, frame in frames.items():
        pd.testing.assert_frame_equal(result_bars[symbol], frame, check_freq=False)


def statuses(fake: FakeYahoo, symbol: str) -> list[int]:
    return [h.status for h in fake.requests if h.symbol == symbol and h.kind == "chart"]


async def test_429_then_success_retries_after_a_jittered_backoff(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make, sleeps: Sleeps) -> None:
    yahoo_fake.fail_next("429", times=2)
    provider = make_provider()

    result = await provider.fetch(SYMBOLS, FIRST, LAST)

    assert_same(dict(result.bars), frames)
    assert provider.rounds == 2
    assert len(sleeps.delays) == 1 and 0.0 <= sleeps.delays[0] <= 1.0
    assert all(statuses(yahoo_fake, s) == [429, 429, 200] for s in SYMBOLS)


async def test_429_that_persists_ends_in_rate_limited(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make, sleeps: Sleeps) -> None:
    yahoo_fake.fail_next("429", times=100)
    provider = make_provider(retries=1)

    with pytest.raises(RateLimited, match="429"):
        await provider.fetch(SYMBOLS, FIRST, LAST)
    assert provider.rounds == 2 and len(sleeps.delays) == 1


async def test_5xx_is_retried_then_succeeds(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make, sleeps: Sleeps) -> None:
    yahoo_fake.fail_next("503", times=2, symbols=["^GSPC"])
    provider = make_provider()

    result = await provider.fetch(SYMBOLS, FIRST, LAST)

    assert_same(dict(result.bars), frames)
    assert provider.rounds == 2
    # only the failed symbol is asked again (yfinance itself re-sent the 503 once)
    assert yahoo_fake.chart_requests == {"^RUT": 1, "IWM": 1, "^GSPC": 3}
    assert statuses(yahoo_fake, "^GSPC") == [503, 503, 200]


async def test_5xx_that_persists_ends_in_source_unavailable_after_all_retries(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make, sleeps: Sleeps) -> None:
    yahoo_fake.fail_next("500", times=100)
    provider = make_provider(retries=3, backoff_seconds=2.0, max_backoff=5.0)

    with pytest.raises(SourceUnavailable, match="HTTP 500"):
        await provider.fetch(SYMBOLS, FIRST, LAST)

    assert provider.rounds == 4
    caps = [2.0, 4.0, 5.0]  # full jitter: uniform(0, min(cap, base * 2**k))
    assert len(sleeps.delays) == 3
    assert all(0.0 <= d <= cap for d, cap in zip(sleeps.delays, caps, strict=True))
    assert len(set(sleeps.delays)) == 3  # jittered, not a fixed schedule


async def test_timeout_is_retried_then_succeeds(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    yahoo_fake.fail_next("timeout", times=1, symbols=["IWM"], delay=1.0)
    provider = make_provider(timeout_seconds=0.3)

    result = await provider.fetch(SYMBOLS, FIRST, LAST)

    assert_same(dict(result.bars), frames)
    assert provider.rounds == 2


async def test_timeout_that_persists_is_a_clear_source_unavailable(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    yahoo_fake.fail_next("timeout", times=5, symbols=["IWM"], delay=1.0)
    provider = make_provider(timeout_seconds=0.2, retries=0)

    with pytest.raises(SourceUnavailable, match=r"did not answer within 0\.2 s"):
        await provider.fetch(SYMBOLS, FIRST, LAST)


@pytest.mark.parametrize("kind", ["empty", "malformed", "noresult"])
async def test_bad_body_is_retried_then_succeeds(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make, kind: str) -> None:
    yahoo_fake.fail_next(kind, times=1)
    provider = make_provider()

    result = await provider.fetch(SYMBOLS, FIRST, LAST)

    assert_same(dict(result.bars), frames)
    assert provider.rounds == 2


@pytest.mark.parametrize(("kind", "text"), [("empty", "empty answer"),
                                            ("malformed", "not valid JSON"),
                                            ("noresult", "chart without data")])
async def test_bad_body_that_persists_is_a_clear_malformed_response(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make, kind: str, text: str) -> None:
    yahoo_fake.fail_next(kind, times=100, symbols=["^RUT"])
    provider = make_provider()

    with pytest.raises(MalformedResponse, match=text):
        await provider.fetch(SYMBOLS, FIRST, LAST)
    assert provider.rounds == 3


async def test_one_unknown_symbol_among_many_is_reported_missing(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    provider = make_provider()

    result = await provider.fetch([*SYMBOLS, "ZZZZ"], FIRST, LAST)

    assert_same(dict(result.bars), frames)
    assert set(result.missing) == {"ZZZZ"}
    assert "no data for ZZZZ" in result.missing["ZZZZ"]
    assert provider.rounds == 1  # an unknown symbol is not worth a retry


async def test_a_symbol_yahoo_calls_delisted_is_missing_not_an_error(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    yahoo_fake.fail_next("unknown", times=10, symbols=["IWM"])

    result = await make_provider().fetch(SYMBOLS, FIRST, LAST)

    assert set(result.bars) == {"^RUT", "^GSPC"}
    assert set(result.missing) == {"IWM"}


async def test_only_unknown_symbols_raise_unknown_symbol(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    with pytest.raises(UnknownSymbol) as caught:
        await make_provider().fetch(["ZZZZ", "QQQQQ"], FIRST, LAST)
    assert set(caught.value.symbols) == {"ZZZZ", "QQQQQ"}


async def test_nan_rows_are_dropped(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    holes = [pd.Timestamp("2026-08-05"), pd.Timestamp("2026-08-11")]
    yahoo_fake.add_nan_rows("^GSPC", [d.date() for d in holes], volume=12345.0)

    bars = (await make_provider().fetch(SYMBOLS, FIRST, LAST)).bars["^GSPC"]

    expected = frames["^GSPC"].drop(index=holes)
    pd.testing.assert_frame_equal(bars, expected, check_freq=False)


async def test_duplicated_last_row_gives_one_row_per_date(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    yahoo_fake.duplicate_last_row("^RUT")

    bars = (await make_provider().fetch(SYMBOLS, FIRST, LAST)).bars["^RUT"]

    assert bars.index.is_unique and bars.index.is_monotonic_increasing
    assert list(bars.index) == list(frames["^RUT"].index)
    last = bars.iloc[-1]
    assert last["close"] == frames["^RUT"]["close"].iloc[-1]


async def test_every_fault_kind_ends_in_data_or_our_error(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    """No fault leaks a yfinance, curl or JSON exception: it is data or a MarketDataError."""
    for kind in ("429", "500", "502", "empty", "malformed", "noresult", "unknown"):
        yahoo_fake.clear_faults()
        yahoo_fake.fail_next(kind, times=100, symbols=["^GSPC"])
        try:
            result = await make_provider(retries=1).fetch(SYMBOLS, FIRST, LAST)
        except MarketDataError:
            continue
        assert kind == "unknown" and set(result.missing) == {"^GSPC"}


async def test_source_down_is_source_unavailable_and_refused_is_not_retried(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make, sleeps: Sleeps) -> None:
    provider = make_provider(session_factory=lambda: yahoo_fake.session(), retries=1)
    provider._get_session()  # aimed at the fake's port, which then closes
    yahoo_fake.stop()

    with pytest.raises(SourceUnavailable, match="unreachable"):  # SourceUnreachable
        await provider.fetch(SYMBOLS, FIRST, LAST)
    assert provider.rounds == 0 and sleeps.delays == []  # refused: no round, no retry


async def test_a_round_that_fails_as_a_whole_is_retried(
        yahoo_fake: FakeYahoo, frames: dict, make_provider: Make) -> None:
    calls = 0

    def flaky_factory() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("no TLS backend")
        return yahoo_fake.session()

    # No reachability probe: it would make (and here lose) the first session before the round.
    provider = make_provider(session_factory=flaky_factory, probe_timeout=None)

    result = await provider.fetch(SYMBOLS, FIRST, LAST)

    assert_same(dict(result.bars), frames)
    assert provider.rounds == 2
