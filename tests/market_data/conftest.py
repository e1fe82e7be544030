"""Fixtures for the market-data tests: the loopback fake Yahoo, tiny bar frames, and a
:class:`YahooProvider` wired to the fake with a fixed clock and a sleep that never waits."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bot.market_data.calendar import sessions
from bot.market_data.yahoo import YahooProvider
from tests.fakes.yahoo_api import FakeYahoo, isolate_yfinance

# Closed sessions 2026-08-03 .. 2026-08-14; the clock stands after the 2026-08-14 close.
FIRST, LAST = date(2026, 8, 3), date(2026, 8, 14)
AFTER_CLOSE = datetime(2026, 8, 14, 21, 0, tzinfo=UTC)


def tiny_bars(start: date = FIRST, end: date = LAST, base: float = 100.0,
              adj_ratio: float = 0.98) -> pd.DataFrame:
    """A bar frame over NYSE sessions: close = base + i, adj_close = close * adj_ratio."""
    days = pd.DatetimeIndex([pd.Timestamp(d) for d in sessions(start, end)],
                            name="date").as_unit("ns")
    close = base + np.arange(len(days), dtype="float64")
    return pd.DataFrame({
        "open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close,
        "adj_close": np.round(close * adj_ratio, 6), "volume": 1_000_000.0 + np.arange(len(days)),
    }, index=days)


@dataclass
class Sleeps:
    """An async ``sleep`` that records the delays instead of waiting."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def yahoo_fake(tmp_path: Path) -> Iterator[FakeYahoo]:
    """A started fake Yahoo with no data; yfinance state isolated in ``tmp_path``."""
    isolate_yfinance(tmp_path / "yfinance-cache")
    with FakeYahoo() as fake:
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_provider(yahoo_fake: FakeYahoo, sleeps: Sleeps) -> Iterator[Callable[..., YahooProvider]]:
    """``make_provider(**overrides)``: a provider aimed at ``yahoo_fake`` (2 retries, 1 s base
    backoff that is recorded, not slept; 5 s timeout; clock after the 2026-08-14 close)."""
    made: list[YahooProvider] = []

    def make(**overrides: Any) -> YahooProvider:
        kwargs: dict[str, Any] = {
            "session_factory": yahoo_fake.session, "retries": 2, "backoff_seconds": 1.0,
            "timeout_seconds": 5.0, "now": lambda: AFTER_CLOSE, "sleep": sleeps,
            "rng": random.Random(7),
        }
        kwargs.update(overrides)
        provider = YahooProvider(**kwargs)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()
