"""Pick the right series out of a bar frame, and cut it at ``asof``.

Bar frames are the normalised frames of ``bot.market_data.frames`` (columns
``open high low close adj_close volume``, a session-date index).
"""

from __future__ import annotations

from datetime import date

import pandas as pd


def to_price(bars: pd.DataFrame) -> pd.Series:
    """Price series: ``close``; where close is missing, ``adj_close`` (adjusted-only ETFs)."""
    close = bars["close"]
    if close.notna().any():
        return close.dropna().rename(None)
    return bars["adj_close"].dropna().rename(None)


def to_total_return(bars: pd.DataFrame) -> pd.Series:
    """Total-return series: ``adj_close`` (dividends reinvested); ``close`` where it is missing."""
    adj = bars["adj_close"]
    if adj.notna().any():
        return adj.dropna().rename(None)
    return bars["close"].dropna().rename(None)


def upto(data: pd.Series | pd.DataFrame, asof: date) -> pd.Series | pd.DataFrame:
    """Rows dated on or before ``asof``; nothing after it can leak into a result."""
    return data.loc[: pd.Timestamp(asof)]
