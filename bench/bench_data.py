"""Market-data figures: real yfinance → the loopback fake Yahoo → the SQLite bar cache.

- cold load: the whole universe's full history into an empty store (chart requests, seconds);
- warm read: the universe over its full history from the cache's memory (p50 of 25, ms), also
  through ``MarketData.snapshot`` (history extension + version) with and without the default
  refresh check, and a first read from SQLite by a fresh process (ms);
- incremental refresh: the fake reveals one more session; chart requests, ``yf.download`` rounds
  and ms. Targets: warm read < 50 ms; incremental = one HTTP round (one chart request per symbol).

The fake serves ``ctx.data_dir`` (the real history) when present, else synthetic 30-year frames.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bot.market_data import calendar
from bot.market_data.cache import BarCache
from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.service import MarketData
from bot.market_data.yahoo import YahooProvider
from bot.settings import Settings
from bot.storage.db import create_engine
from bot.storage.repositories import BarRepository
from tests.fakes.yahoo_api import FakeYahoo, isolate_yfinance

WARM_RUNS = 25
#: Cut-offs for the real history: most files reach 2026-07-31 (some 2026-08-20 or later).
REAL_CUTOFF, REAL_NEXT = date(2026, 7, 30), date(2026, 7, 31)


class _Clock:
    def __init__(self, day: date) -> None:
        self.set(day)

    def set(self, day: date) -> None:
        self.at = calendar.session_close(day) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.at


def _synthetic(symbols: list[str], end: date) -> dict[str, pd.DataFrame]:
    days = pd.DatetimeIndex([pd.Timestamp(d) for d in calendar.sessions(date(1996, 1, 2), end)],
                            name="date")
    rng = np.random.default_rng(7)
    out = {}
    for i, s in enumerate(symbols):
        close = (50.0 + 5 * i) * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        out[s] = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99,
                               "close": close, "adj_close": close, "volume": 1e6}, index=days)
    return out


def _frames(data_dir: Path | None, symbols: list[str]) -> tuple[dict[str, pd.DataFrame], str]:
    if data_dir is not None:
        csv = CsvDirProvider(data_dir)
        frames = {s: f for s in symbols if (f := csv.load(s)) is not None}
        return frames, f"real history from {data_dir}"
    return _synthetic(symbols, REAL_NEXT + timedelta(days=10)), "synthetic frames (no data dir)"


async def _p50_ms(fn: Callable[[], Awaitable[Any]], runs: int = WARM_RUNS) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 3)


async def _measure(ctx: Any, fake: FakeYahoo, symbols: list[str]) -> dict[str, Any]:
    db = Path(ctx.workdir) / "bench_data.sqlite3"
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    url = f"sqlite:///{db}"
    settings = Settings.model_validate({"storage": {"url": url}, "data": {
        "history_start": "1979-01-01", "csv_dir": str(ctx.data_dir) if ctx.data_dir else None}})
    clock = _Clock(REAL_CUTOFF)
    provider = YahooProvider(session_factory=fake.session, retries=2, backoff_seconds=0.2,
                             timeout_seconds=30.0, now=clock)
    md = MarketData(settings, provider=provider, now=clock)
    out: dict[str, Any] = {}
    try:
        cache = await md.cache()
        t0 = time.perf_counter()
        cold = await cache.refresh(symbols)
        out["cold_load_s"] = round(time.perf_counter() - t0, 3)
        out["cold_load_chart_requests"] = sum(fake.chart_requests.values())
        out["cold_load_requests_total"] = len(fake.requests)
        out["cold_load_rounds"] = cold.provider_calls
        out["cold_load_rows"] = cold.rows_written
        out["cold_load_error"] = cold.error

        t0 = time.perf_counter()
        first = await cache.read(symbols, refresh=False)
        out["first_read_from_sqlite_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        out["universe_rows"] = sum(len(f) for f in first.bars.values())
        out["warm_read_ms_p50"] = await _p50_ms(lambda: cache.read(symbols, refresh=False))
        out["warm_snapshot_ms_p50"] = await _p50_ms(lambda: md.snapshot(symbols, refresh=False))
        out["warm_snapshot_with_refresh_check_ms_p50"] = await _p50_ms(
            lambda: md.snapshot(symbols))

        fresh = BarCache(provider, BarRepository(create_engine(url)), now=clock)
        t0 = time.perf_counter()
        await fresh.read(symbols, refresh=False)
        out["restart_first_read_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        fresh.repo.engine.dispose()

        fake.reset_log()
        rounds_before = provider.rounds
        day = fake.advance(1)
        clock.set(day)
        t0 = time.perf_counter()
        inc = await cache.refresh(symbols)
        out["incremental_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        per_symbol = fake.chart_requests
        out["incremental_session"] = day.isoformat()
        out["incremental_chart_requests"] = sum(per_symbol.values())
        out["incremental_max_requests_per_symbol"] = max(per_symbol.values(), default=0)
        out["incremental_requests_total"] = len(fake.requests)
        out["incremental_request_kinds"] = dict(Counter(h.kind for h in fake.requests))
        out["incremental_download_rounds"] = provider.rounds - rounds_before
        out["incremental_rows_upserted"] = inc.rows_written
        after = await cache.read(symbols, refresh=False)
        out["incremental_new_bars"] = sum(len(after.bars[s]) - len(first.bars[s])
                                          for s in symbols if s in first.bars)
        out["incremental_error"] = inc.error
    finally:
        await md.close()
    return out


def run(ctx: Any) -> dict[str, Any]:
    symbols = Settings().universe.symbols()
    frames, source = _frames(ctx.data_dir, symbols)
    isolate_yfinance(Path(ctx.workdir) / "yfinance-cache")
    with warnings.catch_warnings(), FakeYahoo(frames, visible_until=REAL_CUTOFF) as fake:
        warnings.simplefilter("ignore")  # yfinance's pandas deprecation noise
        figures = asyncio.run(_measure(ctx, fake, symbols))
    figures["data"] = source
    figures["symbols"] = len(symbols)
    figures["targets"] = {
        "warm_read_ms": {"value": figures["warm_read_ms_p50"], "target": "< 50 ms",
                         "ok": figures["warm_read_ms_p50"] < 50},
        "incremental_http_rounds": {
            "value": figures["incremental_max_requests_per_symbol"],
            "target": "1 chart request per symbol",
            "ok": figures["incremental_max_requests_per_symbol"] == 1
            and figures["incremental_chart_requests"] == len(frames)},
    }
    return figures
