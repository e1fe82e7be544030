"""The one data path: CLI, cogs and scheduler ask :class:`MarketData` for a :class:`MarketSnapshot`.

With a CSV directory (offline replay) the files are the store and are read directly. With Yahoo,
bars come through the SQLite :class:`~bot.market_data.cache.BarCache`, which refreshes
incrementally and falls back to its last good bars, labelled stale, when the source fails.
History extensions (``[data.extend]``, e.g. ``^RUT`` ← ``RUT_since1979.csv``) are applied here,
once, for every caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from bot.market_data.csvdir import CsvDirProvider, read_bar_csv
from bot.market_data.frames import extend_history
from bot.market_data.snapshot import MarketSnapshot, compute_version, reference_asof
from bot.settings import Settings

log = logging.getLogger(__name__)
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 1, 1)


def resolve_extensions(extend: Mapping[str, Path], base: Path | None) -> dict[str, pd.DataFrame]:
    """Load each extension file; relative paths resolve against ``base`` (the CSV directory).

    A missing file is skipped with a log line (a Yahoo deployment may have no such files).
    """
    loaded: dict[str, pd.DataFrame] = {}
    for symbol, path in extend.items():
        full = path if path.is_absolute() or base is None else base / path
        if not full.is_file():
            log.info("history extension for %s skipped: %s not found", symbol, full)
            continue
        loaded[symbol] = read_bar_csv(full)
    return loaded


class MarketData:
    """Facade over a provider (and, for remote providers, the SQLite cache)."""

    def __init__(self, settings: Settings, data_dir: Path | None = None) -> None:
        self.settings = settings
        self.symbols: list[str] = settings.universe.symbols()
        csv_dir = data_dir or (settings.data.csv_dir if settings.data.provider == "csv" else None)
        self.data_dir = csv_dir
        self.extensions = resolve_extensions(settings.data.extend, csv_dir or settings.data.csv_dir)
        self._csv = CsvDirProvider(csv_dir) if csv_dir is not None else None

    @property
    def source(self) -> str:
        return "csv" if self._csv is not None else "yahoo"

    def _extended(self, bars: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        out = dict(bars)
        for symbol, older in self.extensions.items():
            if symbol in out:
                out[symbol] = extend_history(out[symbol], older)
        return out

    async def snapshot(self, symbols: Sequence[str] | None = None, *,
                       refresh: bool = True) -> MarketSnapshot:
        """Bars for ``symbols`` (default: the whole universe) over their full history."""
        wanted = list(symbols) if symbols is not None else self.symbols
        if self._csv is None:
            raise NotImplementedError("the Yahoo path goes through BarCache")
        result = await self._csv.fetch(wanted, EARLIEST, LATEST)
        bars = self._extended(result.bars)
        return MarketSnapshot(bars=bars, asof=reference_asof(bars), source=self.source,
                              missing=dict(result.missing), version=compute_version(bars))

    async def close(self) -> None:
        """Release connections and threads (nothing to do for CSV replay)."""


def build_market_data(settings: Settings, data_dir: Path | None = None) -> MarketData:
    """The market-data facade for this process; ``data_dir`` forces CSV replay."""
    return MarketData(settings, data_dir)
