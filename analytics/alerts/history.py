"""What followed: forward PRICE returns after past events, and after any day (the base rate).

``r[t, h] = p[t + h] / p[t] - 1`` for each symbol, ``t`` the last session of that symbol on or
before the event's date, ``h`` sessions of that symbol. As of session ``D`` a return counts only
when its window is complete by ``D`` (``pos(t) + h <= pos(D)``), so nothing after ``D`` is read.
Per horizon: ``count``, ``hits`` (returns > 0), ``hit_rate``, ``mean`` and ``median`` (NaN
when ``count`` is 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FollowStats:
    """Forward returns of ``symbol`` over ``horizon`` sessions across complete windows."""

    symbol: str
    horizon: int
    count: int
    hits: int
    hit_rate: float
    mean: float
    median: float


class ForwardReturns:
    """Forward returns of each symbol at each horizon, computed once (numpy)."""

    def __init__(self, prices: Mapping[str, pd.Series], horizons: tuple[int, ...]) -> None:
        self.horizons = tuple(horizons)
        self.symbols = tuple(prices)
        self._dates: dict[str, np.ndarray] = {}
        self._fwd: dict[tuple[str, int], np.ndarray] = {}
        for symbol, series in prices.items():
            clean = series.dropna().astype("float64")
            values = clean.to_numpy()
            self._dates[symbol] = clean.index.to_numpy(dtype="datetime64[ns]")
            for h in self.horizons:
                ahead = np.full(values.size, np.nan)
                if values.size > h:
                    ahead[: values.size - h] = values[h:] / values[:-h] - 1.0
                self._fwd[(symbol, h)] = ahead

    def position(self, symbol: str, dates: np.ndarray) -> np.ndarray:
        """Position of the last session of ``symbol`` on or before each date (-1: none)."""
        return np.searchsorted(self._dates[symbol], dates, side="right") - 1

    def stats(self, dates: np.ndarray, asof: date) -> tuple[FollowStats, ...]:
        """Per symbol, then per horizon: statistics over ``dates`` with windows complete by
        ``asof`` (``dates``: datetime64[ns], any order)."""
        end = np.datetime64(pd.Timestamp(asof), "ns")
        out: list[FollowStats] = []
        for symbol in self.symbols:
            pos = self.position(symbol, dates)
            last = int(self.position(symbol, np.array([end]))[0])
            for h in self.horizons:
                ok = (pos >= 0) & (pos + h <= last)
                r = self._fwd[(symbol, h)][pos[ok]]
                r = r[~np.isnan(r)]
                n, hits = int(r.size), int((r > 0).sum())
                nan = float("nan")
                out.append(FollowStats(symbol, h, n, hits, hits / n if n else nan,
                                       float(r.mean()) if n else nan,
                                       float(np.median(r)) if n else nan))
        return tuple(out)
