"""Market-data figures: real yfinance → the loopback fake Yahoo → the SQLite bar cache.

- cold load: the whole universe's full history into an empty store (chart requests, seconds);
- store read vs read_csv: the universe read from SQLite into bar frames (``load_bars``, a real
  read of the file, the OS cache warm) beside ``pandas.read_csv`` of the same rows and columns
  from CSV files, in the same run: alternating pairs, median ratio with its min-max spread.
  Peak memory in a separate pass (tracemalloc on only there) against the frames'
  ``memory_usage(deep=True)``. Targets: ratio <= 2, peak <= 3x the frames;
- memory read: the universe from the cache's memory (a dict hit; p50 of 25, ms), also through
  ``MarketData.snapshot`` with and without the default refresh check, and the first read by a
  fresh cache (states + load from SQLite, ms);
- incremental refresh: the fake reveals one more session; chart requests, ``yf.download``
  rounds, ms, and the rows read back to extend the frames held in memory (not the history).
  Targets: one chart request per symbol; rows read <= (overlap + 1) per symbol.

The fake serves ``ctx.data_dir`` (the real history) when present, else synthetic 30-year frames;
the store-read pair reads those files (or the synthetic frames written as CSV).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bot.market_data import calendar
from bot.market_data.cache import BarCache
from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.frames import file_stem
from bot.market_data.service import MarketData
from bot.market_data.yahoo import YahooProvider
from bot.settings import Settings
from bot.storage.db import create_engine, migrate
from bot.storage.repositories import BarRepository
from tests.fakes.yahoo_api import FakeYahoo, isolate_yfinance

WARM_RUNS = 25
READ_PAIRS = 9  # alternating (read_csv, store) pairs for the store-read ratio
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


def _csv_files(ctx: Any, frames: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """The CSV file of every symbol: the real files, or the synthetic frames written out."""
    if ctx.data_dir is not None:
        return {s: Path(ctx.data_dir) / f"{file_stem(s)}.csv" for s in frames}
    folder = Path(ctx.workdir) / "bench_store_read_csv"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for symbol, frame in frames.items():
        out[symbol] = folder / f"{file_stem(symbol)}.csv"
        frame.to_csv(out[symbol], index_label="date")
    return out


def _store_read(ctx: Any, frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """SQLite → bar frames beside ``pandas.read_csv`` of the same rows (see module doc)."""
    files = _csv_files(ctx, frames)
    symbols = list(frames)
    db = Path(ctx.workdir) / "bench_store_read.sqlite3"
    for leftover in db.parent.glob(db.name + "*"):
        leftover.unlink()
    engine = create_engine(f"sqlite:///{db}")
    migrate(engine)
    repo = BarRepository(engine)
    repo.write_refresh(frames, fetched_at=datetime.now(UTC), source="bench")

    def read_csv() -> dict[str, pd.DataFrame]:
        return {s: pd.read_csv(p, index_col="date", parse_dates=["date"])
                for s, p in files.items()}

    def read_store() -> dict[str, pd.DataFrame]:
        return repo.load_bars(symbols)

    out: dict[str, Any] = {}
    try:
        got, baseline = read_store(), read_csv()
        out["store_read_rows"] = sum(len(f) for f in got.values())
        out["read_csv_rows"] = sum(len(f) for f in baseline.values())
        out["store_read_equals_source"] = all(got[s].equals(frames[s]) for s in symbols)
        del got, baseline
        store_ms: list[float] = []
        csv_ms: list[float] = []
        for i in range(READ_PAIRS):
            order = [(read_csv, csv_ms), (read_store, store_ms)]
            for fn, sink in order if i % 2 == 0 else reversed(order):
                gc.collect()
                t0 = time.perf_counter()
                fn()
                sink.append((time.perf_counter() - t0) * 1000)
        ratios = sorted(a / b for a, b in zip(store_ms, csv_ms, strict=True))
        out["store_read_ms_p50"] = round(statistics.median(store_ms), 1)
        out["read_csv_ms_p50"] = round(statistics.median(csv_ms), 1)
        out["store_vs_read_csv_ratio"] = {
            "median": round(statistics.median(ratios), 3), "min": round(ratios[0], 3),
            "max": round(ratios[-1], 3), "pairs": READ_PAIRS}

        def peak(fn: Callable[[], dict[str, pd.DataFrame]]) -> tuple[int, int]:
            gc.collect()
            tracemalloc.start()
            try:
                result = fn()
                top = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            return top, sum(int(f.memory_usage(deep=True).sum()) for f in result.values())

        store_peak, frames_bytes = peak(read_store)
        csv_peak, csv_bytes = peak(read_csv)
        out["store_read_peak_mb"] = round(store_peak / 1e6, 1)
        out["store_frames_mb"] = round(frames_bytes / 1e6, 1)
        out["store_read_peak_vs_frames"] = round(store_peak / frames_bytes, 2)
        out["read_csv_peak_vs_frames"] = round(csv_peak / csv_bytes, 2)
    finally:
        engine.dispose()
    return out


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
        out["memory_read_ms_p50"] = await _p50_ms(lambda: cache.read(symbols, refresh=False))
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
        out["incremental_rows_read"] = inc.rows_read
        out["incremental_rows_read_max"] = (cache.overlap_sessions + 1) * len(symbols)
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
    figures = _store_read(ctx, frames)
    isolate_yfinance(Path(ctx.workdir) / "yfinance-cache")
    with warnings.catch_warnings(), FakeYahoo(frames, visible_until=REAL_CUTOFF) as fake:
        warnings.simplefilter("ignore")  # yfinance's pandas deprecation noise
        figures.update(asyncio.run(_measure(ctx, fake, symbols)))
    figures["data"] = source
    figures["symbols"] = len(symbols)
    ratio = figures["store_vs_read_csv_ratio"]["median"]
    figures["targets"] = {
        "store_read_vs_read_csv": {"value": ratio, "target": "<= 2x read_csv (median ratio)",
                                   "ok": ratio <= 2.0},
        "store_read_peak_memory": {"value": figures["store_read_peak_vs_frames"],
                                   "target": "<= 3x the frames",
                                   "ok": figures["store_read_peak_vs_frames"] <= 3.0},
        "memory_read_ms": {"value": figures["memory_read_ms_p50"], "target": "< 50 ms",
                           "ok": figures["memory_read_ms_p50"] < 50},
        "incremental_http_rounds": {
            "value": figures["incremental_max_requests_per_symbol"],
            "target": "1 chart request per symbol",
            "ok": figures["incremental_max_requests_per_symbol"] == 1
            and figures["incremental_chart_requests"] == len(frames)},
        "incremental_rows_read": {
            "value": figures["incremental_rows_read"],
            "target": f"<= {figures['incremental_rows_read_max']} (overlap + 1 per symbol), "
                      f"not the {figures['universe_rows']} rows of history",
            "ok": 0 < figures["incremental_rows_read"] <= figures["incremental_rows_read_max"]},
    }
    return figures
