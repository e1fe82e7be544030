"""Offline replay: one ``SYMBOL.csv`` per symbol (``^`` dropped), as in ``../shared/data/market``.

Columns ``date,open,high,low,close,adj_close,volume``; empty cells are missing values. Files are
parsed once per process and re-read when their modification time changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from bot.market_data.errors import MalformedResponse
from bot.market_data.frames import empty_bars, file_stem, is_valid_symbol, normalize_bars
from bot.market_data.provider import FetchResult


def read_bar_csv(path: Path) -> pd.DataFrame:
    """Parse one file into a bar frame; a file without a ``date`` column is malformed."""
    try:
        raw = pd.read_csv(path, index_col="date", parse_dates=["date"])
    except (ValueError, pd.errors.ParserError) as exc:
        raise MalformedResponse(f"{path.name} is not a bar file") from exc
    return normalize_bars(raw)


class CsvDirProvider:
    """A :class:`~bot.market_data.provider.BarProvider` over a directory of bar CSVs."""

    name = "csv"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._parsed: dict[Path, tuple[float, pd.DataFrame]] = {}

    def path_for(self, symbol: str) -> Path | None:
        """The file for ``symbol``, or None when the symbol is malformed (no path tricks)."""
        if not is_valid_symbol(symbol):
            return None
        return self.root / f"{file_stem(symbol)}.csv"

    def load(self, symbol: str) -> pd.DataFrame | None:
        """All bars of ``symbol``, or None when there is no file for it."""
        path = self.path_for(symbol)
        if path is None or not path.is_file():
            return None
        mtime = path.stat().st_mtime
        cached = self._parsed.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, read_bar_csv(path))
            self._parsed[path] = cached
        return cached[1]

    def fetch_sync(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        bars: dict[str, pd.DataFrame] = {}
        missing: dict[str, str] = {}
        lo, hi = pd.Timestamp(start), pd.Timestamp(end)
        for symbol in symbols:
            frame = self.load(symbol)
            if frame is None:
                missing[symbol] = f"no file for {symbol} in {self.root}"
                continue
            bars[symbol] = frame.loc[lo:hi] if not frame.empty else empty_bars()
        return FetchResult(bars=bars, missing=missing)

    async def fetch(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        return await asyncio.to_thread(self.fetch_sync, symbols, start, end)
