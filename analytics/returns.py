"""Returns over the standard look-back windows, as of a date.

Windows (session-based, counted in rows of the price series, i.e. sessions with a valid close):

====== =====================================================================
``1d``  the close 1 session before the last close on or before ``asof``
``1w``  5 sessions back
``1m``  21 sessions back
``3m``  63 sessions back
``1y``  252 sessions back
``ytd`` from the last close of the prior calendar year (the last close dated before 1 Jan of
        the year of the last close on or before ``asof``)
====== =====================================================================

Return = ``end / base - 1`` where ``end`` is the last valid close on or before ``asof`` (NaN rows
are dropped first). The result is NaN, never an exception, when the series has no close on or
before ``asof``, too few sessions for the window, or (YTD) no close in a prior year. Prices after
``asof`` are never read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from analytics.series import to_price, to_total_return

#: The windows, in display order. Keys are lowercase so they double as stable JSON keys.
WINDOWS: tuple[str, ...] = ("1d", "1w", "1m", "3m", "ytd", "1y")
#: Sessions back for the fixed windows (``ytd`` is calendar-anchored).
WINDOW_SESSIONS: Mapping[str, int] = MappingProxyType(
    {"1d": 1, "1w": 5, "1m": 21, "3m": 63, "1y": 252}
)

NAN = math.nan


def _cut(prices: pd.Series, asof: date) -> tuple[np.ndarray, np.ndarray]:
    """(dates as datetime64, values) of the valid closes on or before ``asof`` (numpy: fast)."""
    pos = int(prices.index.searchsorted(pd.Timestamp(asof), side="right"))
    values = prices.to_numpy(dtype="float64")[:pos]
    dates = prices.index.to_numpy()[:pos]
    ok = ~np.isnan(values)
    if not ok.all():
        values, dates = values[ok], dates[ok]
    return dates, values


def _base_position(dates: np.ndarray, window: str) -> int | None:
    """Row position of the base close among ``dates`` (already cut at asof), or None."""
    if len(dates) == 0:
        return None
    end = len(dates) - 1
    if window == "ytd":
        year = pd.Timestamp(dates[end]).year
        pos = int(np.searchsorted(dates, np.datetime64(f"{year:04d}-01-01"), side="left")) - 1
        return pos if pos >= 0 else None
    try:
        back = WINDOW_SESSIONS[window]
    except KeyError:
        raise ValueError(f"unknown window {window!r}; expected one of {WINDOWS}") from None
    pos = end - back
    return pos if pos >= 0 else None


def _ratio(values: np.ndarray, pos: int | None) -> float:
    if pos is None or values[pos] == 0.0:
        return NAN
    return float(values[-1] / values[pos] - 1.0)


def calc_base_date(prices: pd.Series, asof: date, window: str) -> date | None:
    """The date of the base close for ``window`` (see module doc); None when history is short."""
    dates, _ = _cut(prices, asof)
    pos = _base_position(dates, window)
    return None if pos is None else pd.Timestamp(dates[pos]).date()


def calc_return(prices: pd.Series, asof: date, window: str) -> float:
    """``end / base - 1`` over ``window`` as of ``asof``; NaN when history is too short.

    A zero base gives NaN (no meaningful return). ValueError for an unknown window name.
    """
    dates, values = _cut(prices, asof)
    return _ratio(values, _base_position(dates, window))


def calc_returns(prices: pd.Series, asof: date,
                 windows: tuple[str, ...] = WINDOWS) -> dict[str, float]:
    """:func:`calc_return` for each window, keyed by window name, in order."""
    dates, values = _cut(prices, asof)
    return {w: _ratio(values, _base_position(dates, w)) for w in windows}


@dataclass(frozen=True)
class ReturnRow:
    """One line of a scoreboard: a symbol's level and its returns over :data:`WINDOWS`.

    ``basis`` is ``"price"`` (raw close) or ``"total"`` (adjusted close: dividends reinvested).
    ``level`` is the last close on or before ``asof`` and ``level_date`` its date; both are
    NaN/None when the symbol has no data by ``asof``. ``returns`` maps window → fraction (NaN
    when history is too short).
    """

    symbol: str
    name: str
    basis: str
    level: float
    level_date: date | None
    returns: Mapping[str, float]


def calc_return_row(bars: pd.DataFrame, asof: date, *, symbol: str, name: str,
                    basis: str = "price") -> ReturnRow:
    """A :class:`ReturnRow` from a bar frame; ``basis`` picks close ("price") or adj_close."""
    if basis not in ("price", "total"):
        raise ValueError(f"basis must be 'price' or 'total', not {basis!r}")
    price = to_price(bars)
    returns = price if basis == "price" else to_total_return(bars)
    return to_return_row(returns, price, asof, symbol=symbol, name=name, basis=basis)


def to_return_row(returns: pd.Series, level: pd.Series, asof: date, *, symbol: str, name: str,
                  basis: str) -> ReturnRow:
    """A :class:`ReturnRow` whose returns come from ``returns`` (price or total-return series)
    and whose level is the last close of ``level`` (the traded price) on or before ``asof``."""
    dates, values = _cut(returns, asof)
    if len(values) == 0:
        return ReturnRow(symbol, name, basis, NAN, None, {w: NAN for w in WINDOWS})
    _, levels = _cut(level, asof) if level is not returns else (dates, values)
    shown = float(levels[-1]) if len(levels) else float(values[-1])
    return ReturnRow(symbol, name, basis, shown, pd.Timestamp(dates[-1]).date(),
                     {w: _ratio(values, _base_position(dates, w)) for w in WINDOWS})
