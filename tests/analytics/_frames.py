"""Tiny hand-built series and bar frames for the leadership/records/briefing unit tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

COLUMNS = ("open", "high", "low", "close", "adj_close", "volume")


def series(values: Sequence[float], start: str = "2024-01-01") -> pd.Series:
    """Values on consecutive business days from ``start``."""
    return pd.Series(list(values), index=pd.bdate_range(start, periods=len(values)),
                     dtype="float64")


def bars(closes: pd.Series, adj: pd.Series | None = None) -> pd.DataFrame:
    """A bar frame with close (and adj_close, default = close)."""
    frame = pd.DataFrame(index=pd.DatetimeIndex(closes.index, name="date"))
    for col in COLUMNS:
        frame[col] = np.nan
    frame["close"] = closes.to_numpy()
    frame["adj_close"] = (adj if adj is not None else closes).reindex(closes.index).to_numpy()
    return frame


def trending(n: int, start: str = "2020-01-01", drift: float = 0.001, level: float = 100.0,
             seed: int = 0) -> pd.Series:
    """A deterministic wiggly series of ``n`` business days."""
    rng = np.random.default_rng(seed)
    steps = drift + rng.normal(0, 0.01, n)
    return series(level * np.exp(np.cumsum(steps)), start)
