"""Off the event loop and bounded: yfinance runs in a worker thread, and at most
``max_concurrency`` download rounds run at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.market_data.yahoo import YahooProvider
from tests.fakes.yahoo_api import FakeYahoo
from tests.market_data.conftest import FIRST, LAST, tiny_bars

Make = Callable[..., YahooProvider]
SYMBOLS = ["SPY", "IWM", "QQQ"]


async def _warm(fake: FakeYahoo, provider: YahooProvider) -> None:
    """One fetch so yfinance's tz look-ups are cached; then an empty request log."""
    await provider.fetch(SYMBOLS, FIRST, LAST)
    fake.reset_log()


async def test_concurrent_fetches_are_bounded_by_max_concurrency(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({s: tiny_bars() for s in SYMBOLS})
    provider = make_provider(max_concurrency=1)
    await _warm(yahoo_fake, provider)
    yahoo_fake.latency = 0.1

    results = await asyncio.gather(*(provider.fetch([s], FIRST, LAST) for s in SYMBOLS))

    assert yahoo_fake.max_in_flight == 1  # one symbol per round, one round at a time
    assert [set(r.bars) for r in results] == [{s} for s in SYMBOLS]


async def test_rounds_overlap_up_to_the_bound(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({s: tiny_bars() for s in SYMBOLS})
    provider = make_provider(max_concurrency=2)
    await _warm(yahoo_fake, provider)
    yahoo_fake.latency = 0.1

    await asyncio.gather(*(provider.fetch([s], FIRST, LAST) for s in SYMBOLS))

    assert yahoo_fake.max_in_flight == 2


async def test_the_event_loop_keeps_running_during_a_fetch(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({s: tiny_bars() for s in SYMBOLS})
    provider = make_provider()
    await _warm(yahoo_fake, provider)
    yahoo_fake.latency = 0.3
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await provider.fetch(SYMBOLS, FIRST, LAST)
    task.cancel()

    assert ticks >= 10  # a blocking fetch would have allowed ~0


def test_provider_works_from_several_event_loops(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    """As a bench or CLI does: ``asyncio.run`` twice with one provider."""
    yahoo_fake.set_frames({"SPY": tiny_bars()})
    provider = make_provider(max_concurrency=1)
    for _ in range(2):
        result = asyncio.run(provider.fetch(["SPY"], FIRST, LAST))
        assert len(result.bars["SPY"]) == 10
