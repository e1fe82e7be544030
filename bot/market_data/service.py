"""The one data path: CLI, cogs and scheduler ask :class:`MarketData` for a :class:`MarketSnapshot`.

With a CSV directory (offline replay) the files are the store and are read directly. Otherwise
bars come through the :class:`~bot.market_data.cache.BarCache` (SQLite by default, any
``storage.url``) in front of the Yahoo provider, which refreshes incrementally and falls back to
its last good bars, labelled stale, when the source fails. Any :class:`BarProvider` may be
injected instead (tests put the CSV provider or a fake Yahoo behind the cache). The engine, the
migrations and the provider (the yfinance import) are set up lazily, in a worker thread, on first
use: building a :class:`MarketData` is instant and imports no pandas (the CSV reader, the
bundled and configured history extensions and the demo label are loaded by the first snapshot,
in a worker thread, so the bot reaches READY without them), and CSV replay never imports
yfinance, SQLAlchemy, aiohttp or exchange_calendars (cache, storage and FRED modules are
imported on first use).
FRED series come through :meth:`MarketData.fred`: the local folder in CSV replay (or wherever
``[analytics] fred_dir`` points), otherwise FRED itself through the same store as bars.
History extensions are applied here, once, for every caller: the Russell 2000 closes before
Yahoo's first ^RUT day ship with the package (:mod:`bot.market_data.backfill`, read through
importlib.resources, never relative to the working directory) and are spliced under ^RUT in every
mode unless ``data.bundled_history`` is off; ``[data.extend]`` adds optional file-based extensions
for other symbols (an entry for ^RUT replaces the bundle).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import DataUnavailable, UserFacingError
from bot.market_data.provider import BarProvider
from bot.market_data.snapshot import MarketSnapshot, compute_version, reference_asof
from bot.settings import Settings

if TYPE_CHECKING:  # imported on first use: CSV replay never loads SQLAlchemy, aiohttp or
    # exchange_calendars (the cache, storage, calendar and FRED client modules pull them in)
    import pandas as pd
    from sqlalchemy.engine import Engine

    from bot.market_data import backfill
    from bot.market_data.cache import BarCache, Clock, RefreshReport
    from bot.market_data.csvdir import CsvDirProvider
    from bot.market_data.fred import FredReadings
    from bot.market_data.fred_cache import FredCache

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """:func:`bot.market_data.cache.utc_now`, imported on the first call (the default clock)."""
    from bot.market_data.cache import utc_now as cache_utc_now

    return cache_utc_now()


def resolve_extensions(extend: Mapping[str, Path], base: Path | None) -> dict[str, pd.DataFrame]:
    """Load each extension file; relative paths resolve against ``base`` (the CSV directory).

    A missing file is skipped with a log line (a Yahoo deployment may have no such files).
    """
    from bot.market_data.csvdir import read_bar_csv

    loaded: dict[str, pd.DataFrame] = {}
    for symbol, path in extend.items():
        full = path if path.is_absolute() or base is None else base / path
        if not full.is_file():
            log.info("history extension for %s skipped: %s not found", symbol, full)
            continue
        loaded[symbol] = read_bar_csv(full)
    return loaded


def bundled_extensions(settings: Settings) -> dict[str, pd.DataFrame]:
    """The packaged histories (``data.bundled_history``), else none."""
    from bot.market_data import backfill

    return backfill.bundled_histories() if settings.data.bundled_history else {}


def history_start(settings: Settings) -> date:
    """``data.history_start`` as a date; a bad value is a one-line config error."""
    try:
        return date.fromisoformat(settings.data.history_start)
    except ValueError:
        raise UserFacingError("config error: data.history_start: expected a date like "
                              f"1979-01-01 (got {settings.data.history_start!r})") from None


class MarketData:
    """Facade over a provider: CSV files read directly, or any provider behind the bar cache.

    ``provider`` / ``engine`` / ``now`` are injection points for tests and benchmarks; by default
    the provider is Yahoo (from ``[data]``) and the engine comes from ``storage.url``.
    ``bundled`` replaces the packaged histories (default :func:`bundled_extensions`; ``{}`` runs
    on the provider's history alone). A bundled history is spliced only onto a series that
    starts on or before the bundle's joining day (else it would leave a hole; logged once).
    The extensions, the CSV reader and the demo label are loaded on first use (:meth:`_load`).
    """

    def __init__(self, settings: Settings, data_dir: Path | None = None, *,
                 provider: BarProvider | None = None, engine: Engine | None = None,
                 now: Clock = utc_now,
                 bundled: Mapping[str, pd.DataFrame] | None = None) -> None:
        self.settings = settings
        self.symbols: list[str] = settings.universe.symbols()
        csv_dir = data_dir or (settings.data.csv_dir if settings.data.provider == "csv" else None)
        self.data_dir = csv_dir if provider is None else None
        self._replay = csv_dir is not None and provider is None  # CSV files read directly
        self._bundled_arg = bundled
        self._loaded: tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame],
                            CsvDirProvider | None, str | None] | None = None
        self._load_lock = threading.Lock()
        self._warned_gap: set[str] = set()
        self._provider = provider
        self._engine = engine
        self._owns_engine = engine is None
        self._now = now
        self._cache: BarCache | None = None
        self._fred: FredCache | None = None
        self._setup = asyncio.Lock()
        self._extended_memo: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._version_memo: tuple[list[tuple[str, pd.DataFrame]], str] = ([], "")

    def _load(self) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame],
                             CsvDirProvider | None, str | None]:
        """(bundled, all extensions, CSV reader, demo label), built once on first use: this is
        where pandas and the packaged history files are first needed."""
        with self._load_lock:
            if self._loaded is None:
                from bot.market_data.csvdir import CsvDirProvider
                from bot.market_data.demo import demo_label

                settings, csv_dir = self.settings, self.data_dir
                bundled = dict(bundled_extensions(settings) if self._bundled_arg is None
                               else self._bundled_arg)
                configured = resolve_extensions(settings.data.extend,
                                                csv_dir or settings.data.csv_dir)
                for symbol in configured:
                    bundled.pop(symbol, None)  # a configured file replaces the bundle
                csv = CsvDirProvider(csv_dir) if self._replay and csv_dir is not None else None
                # A directory unpacked from the bundled demo snapshot says so in every output.
                demo = demo_label(csv_dir) if csv is not None and csv_dir is not None else None
                self._loaded = (bundled, {**bundled, **configured}, csv, demo)
            return self._loaded

    def preload(self) -> None:
        """Load the history extensions and the CSV reader now (blocking: call it in a thread)."""
        self._load()

    async def _ensure_loaded(self) -> None:
        """:meth:`_load` in a worker thread (imports and file reads stay off the loop)."""
        if self._loaded is None:
            await asyncio.to_thread(self._load)

    @property
    def bundled(self) -> dict[str, pd.DataFrame]:
        """The packaged histories in use (after any configured file replaced one)."""
        return self._load()[0]

    @property
    def extensions(self) -> dict[str, pd.DataFrame]:
        """Every history extension, by symbol (bundled and ``[data.extend]``)."""
        return self._load()[1]

    @property
    def _csv(self) -> CsvDirProvider | None:
        return self._load()[2]

    @property
    def source(self) -> str:
        if self._replay:
            return self._load()[3] or "csv"
        return self._provider.name if self._provider is not None else "yahoo"

    def _extended(self, bars: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        out = dict(bars)
        for symbol, older in self.extensions.items():
            frame = out.get(symbol)
            if frame is None:
                continue
            memo = self._extended_memo.get(symbol)
            if memo is None or memo[0] is not frame:  # frames are immutable once cached
                if symbol in self.bundled and not self._joins(symbol, frame, older):
                    continue
                from bot.market_data.frames import extend_history

                memo = (frame, extend_history(frame, older))
                self._extended_memo[symbol] = memo
            out[symbol] = memo[1]
        return out

    def _joins(self, symbol: str, frame: pd.DataFrame, older: pd.DataFrame) -> bool:
        """A bundled history joins ``frame`` only when the frame starts no later than the first
        session after the bundle ends (Yahoo's ^RUT starts exactly there)."""
        if frame.empty or older.empty:
            return True
        import pandas as pd

        from bot.market_data import backfill

        joining = pd.Timestamp(backfill.YAHOO_FIRST_DAY) if symbol == backfill.SYMBOL else (
            older.index[-1] + pd.Timedelta(days=7))
        if frame.index[0] <= joining:
            return True
        if symbol not in self._warned_gap:
            self._warned_gap.add(symbol)
            # DEBUG: every output already states the limit ("highest close since <first date>").
            log.debug("bundled history for %s not spliced: its bars start %s, after %s",
                      symbol, frame.index[0].date(), joining.date())
        return False

    def _version(self, bars: Mapping[str, pd.DataFrame]) -> str:
        """:func:`compute_version`, memoised on the identity of the (immutable) cached frames:
        a warm snapshot of an unchanged universe costs a few dict lookups, not ~30 ms."""
        items = sorted(bars.items(), key=lambda kv: kv[0])
        held, version = self._version_memo
        if len(held) == len(items) and all(
                s == t and f is g for (s, f), (t, g) in zip(held, items, strict=True)):
            return version
        version = compute_version(bars)
        self._version_memo = (items, version)
        return version

    async def cache(self) -> BarCache:
        """The bar cache (engine, migrations and provider built on first use, off the loop)."""
        if self._replay:
            raise RuntimeError("CSV replay reads the files directly; there is no cache")
        if self._cache is None:
            async with self._setup:
                if self._cache is None:
                    self._cache = await asyncio.to_thread(self._build_cache)
        return self._cache

    def _build_cache(self) -> BarCache:
        from bot.market_data.cache import BarCache
        from bot.storage.db import create_engine, migrate
        from bot.storage.repositories import BarRepository

        start = history_start(self.settings)
        if self._engine is None:
            self._engine = create_engine(self.settings.storage.url)
        migrate(self._engine)
        if self._provider is None:
            from bot.market_data.yahoo import YahooProvider  # lazy: only this path needs yfinance

            self._provider = YahooProvider.from_settings(self.settings, now=self._now)
        return BarCache(self._provider, BarRepository(self._engine),
                        overlap_sessions=self.settings.data.refresh_overlap_sessions,
                        history_start=start, now=self._now)

    async def fred(self, series: Sequence[str] | None = None, *, fred_dir: Path | None = None,
                   refresh: bool = True) -> FredReadings:
        """FRED series (default: ``DRIVER_SERIES``): from the local folder (``fred_dir``,
        ``[analytics] fred_dir`` or ``<CSV dir>/fred``; see
        :func:`~bot.market_data.fred.fred_dir_for`) when there is one, absent with the reason in
        a CSV replay without one, else FRED through the store."""
        from bot.market_data.fred import DRIVER_SERIES, FredClient, absent_readings, fred_dir_for
        from bot.market_data.fred_cache import FredCache, dir_readings
        from bot.market_data.fred_store import FredStore

        series = DRIVER_SERIES if series is None else series
        root = fred_dir_for(self.settings, self.data_dir, fred_dir)
        if root is not None:
            return await asyncio.to_thread(dir_readings, root, series)
        if self._replay:
            return absent_readings(f"no FRED folder in the replay data ({self.data_dir}/fred)",
                                   series)
        if self._fred is None:
            await self.cache()  # builds and migrates the engine
        if self._fred is None:  # (re-checked: another caller may have built it meanwhile)
            assert self._engine is not None
            fred = self.settings.fred
            self._fred = FredCache(FredClient.from_settings(self.settings),
                                   FredStore(self._engine), revision_days=fred.revision_days,
                                   refresh_hours=fred.refresh_hours, now=self._now)
        return await self._fred.readings(series, refresh=refresh)

    async def refresh(self, symbols: Sequence[str] | None = None) -> RefreshReport:
        """Bring ``symbols`` (default: the universe) up to date; a no-op for CSV replay."""
        from bot.market_data.cache import RefreshReport

        wanted = list(symbols) if symbols is not None else self.symbols
        if self._replay:
            return RefreshReport(symbols=tuple(wanted), target=None)
        return await (await self.cache()).refresh(wanted)

    async def snapshot(self, symbols: Sequence[str] | None = None, *,
                       refresh: bool = True) -> MarketSnapshot:
        """Bars for ``symbols`` (default: the whole universe) over their full history.

        Through the cache, ``refresh=True`` first fetches what is missing (one shared fetch for
        concurrent callers); when that fails the last good bars come back with ``stale=True``
        and a ``stale_reason``. Raises a :class:`~bot.market_data.errors.MarketDataError` when
        no bars at all are held for ``symbols``.
        """
        wanted = list(symbols) if symbols is not None else self.symbols
        await self._ensure_loaded()
        if self._replay:
            held, missing = await asyncio.to_thread(self._csv_bars, wanted)
            bars = self._extended(held)
            return MarketSnapshot(bars=bars, asof=reference_asof(bars), source=self.source,
                                  missing=missing, version=self._version(bars))
        read = await (await self.cache()).read(wanted, refresh=refresh)
        bars = self._extended(read.bars)
        return MarketSnapshot(bars=bars, asof=reference_asof(bars), source=self.source,
                              stale=read.stale, stale_reason=read.stale_reason,
                              fetched_at=read.fetched_at, missing=dict(read.missing),
                              version=self._version(bars))

    def _csv_bars(self, symbols: Sequence[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
        """Whole files, as parsed once by the CSV provider (same objects until a file changes,
        so the extension and version memos hold across snapshots)."""
        assert self._csv is not None
        bars: dict[str, pd.DataFrame] = {}
        missing: dict[str, str] = {}
        for symbol in symbols:
            frame = self._csv.load(symbol)
            if frame is None:
                missing[symbol] = f"no file for {symbol} in {self._csv.root}"
            else:
                bars[symbol] = frame
        return bars, missing

    async def check_bundled_history(self, reference: pd.Series | None) -> list[
            backfill.BackfillDifference]:
        """Compare the bundled ^RUT closes with ``reference`` (live FRED RU2000PR when the caller
        could fetch it; None = not reachable, logged as skipped) and log any difference."""
        from bot.market_data import backfill

        await self._ensure_loaded()
        if backfill.SYMBOL not in self.bundled:
            return []
        return await asyncio.to_thread(backfill.log_backfill_check, reference)

    async def verify_bundled_history(self) -> list[backfill.BackfillDifference]:
        """Live check of the bundled ^RUT closes against FRED's RU2000PR (Yahoo mode only: a
        replay reads no live source). An unreachable FRED is logged as a skipped check."""
        if self._replay:
            return []
        from bot.market_data import backfill

        await self._ensure_loaded()
        if backfill.SYMBOL not in self.bundled:
            return []
        try:
            readings = await self.fred(["RU2000PR"])
            reference = readings.get("RU2000PR")
        except (OSError, DataUnavailable) as exc:
            log.info("bundled ^RUT history not checked: FRED RU2000PR unavailable (%s)", exc)
            reference = None
        return await self.check_bundled_history(reference)

    async def close(self) -> None:
        """Close the provider's HTTP session and the engine's connections (idempotent)."""
        closer = getattr(self._provider, "close", None)
        if self._cache is not None and callable(closer):
            if inspect.iscoroutinefunction(closer):
                await closer()
            else:
                await asyncio.to_thread(closer)
        if self._engine is not None and self._owns_engine:
            await asyncio.to_thread(self._engine.dispose)


def build_market_data(settings: Settings, data_dir: Path | None = None) -> MarketData:
    """The market-data facade for this process; ``data_dir`` forces CSV replay."""
    return MarketData(settings, data_dir)
