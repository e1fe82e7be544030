"""FRED series saved as files (``DATA_DIR/fred/UNRATE.csv``, one ``date,value`` CSV per series).

Read by the drivers command and by the briefing's drivers line; it sits with the market data so
both read it from below (``bot/subcommands`` and ``bot/briefing`` import it, never each other).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bot.errors import DataUnavailable

FRED_SERIES = ("UNRATE", "GDPC1", "GDP", "ICSA", "BAMLH0A0HYM2")


def read_fred_dir(root: Path) -> dict[str, pd.Series]:
    """The FRED series we use that exist in ``root`` (``date,value``); DataUnavailable when a
    file is malformed."""
    out: dict[str, pd.Series] = {}
    for name in FRED_SERIES:
        path = root / f"{name}.csv"
        if not path.is_file():
            continue
        try:
            frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
            out[name] = pd.to_numeric(frame["value"], errors="coerce").dropna().sort_index()
        except (ValueError, KeyError, pd.errors.ParserError):
            raise DataUnavailable(f"FRED file {path.name} is not a date,value CSV") from None
    return out


__all__ = ["FRED_SERIES", "read_fred_dir"]
