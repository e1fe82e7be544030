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

import pandas as pd

from analytics.series import to_price, to_total_return

#: The windows, in display order. Keys are lowercase so they double as stable JSON keys.
WINDOWS: tuple[str, ...] = ("1d", "1w", "1m", "3m", "ytd", "1y")
#: Sessions back for the fixed windows (``ytd`` is calendar-anchored).
WINDOW_SESSIONS: Mapping[str, int] = MappingProxyType(
    {"1d": 1, "1w": 5, "1m": 21, "3m": 63, "1y": 252}
)

NAN = math.nan


def _clean(prices: pd.Series, asof: date) -> pd.Series:
    return prices.loc[: pd.Timestamp(asof)].dropna()


def _base_position(clean: pd.Series, window: str) -> int | None:
    """Row position of the base close in ``clean`` (already cut at asof), or None."""
    if clean.empty:
        return None
    end = len(clean) - 1
    if window == "ytd":
        year_start = pd.Timestamp(clean.index[end].year, 1, 1)
        pos = int(clean.index.searchsorted(year_start, side="left")) - 1
        return pos if pos >= 0 else None
    try:
        back = WINDOW_SESSIONS[window]
    except KeyError:
        raise ValueError(f"unknown window {window!r}; expected one of {WINDOWS}") from None
    pos = end - back
    return pos if pos >= 0 else None


def calc_base_date(prices: pd.Series, asof: date, window: str) -> date | None:
    """The date of the base close for ``window`` (see module doc); None when history is short."""
    clean = _clean(prices, asof)
    pos = _base_position(clean, window)
    return None if pos is None else clean.index[pos].date()


def calc_return(prices: pd.Series, asof: date, window: str) -> float:
    """``end / base - 1`` over ``window`` as of ``asof``; NaN when history is too short.

    A zero base gives NaN (no meaningful return). ValueError for an unknown window name.
    """
    clean = _clean(prices, asof)
    pos = _base_position(clean, window)
    if pos is None:
        return NAN
    base = float(clean.iloc[pos])
    if base == 0.0:
        return NAN
    return float(clean.iloc[-1]) / base - 1.0


def calc_returns(prices: pd.Series, asof: date,
                 windows: tuple[str, ...] = WINDOWS) -> dict[str, float]:
    """:func:`calc_return` for each window, keyed by window name, in order."""
    clean = _clean(prices, asof)
    out: dict[str, float] = {}
    for window in windows:
        pos = _base_position(clean, window)
        base = float(clean.iloc[pos]) if pos is not None else NAN
        out[window] = NAN if pos is None or base == 0.0 else float(clean.iloc[-1]) / base - 1.0
    return out


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
    prices = to_price(bars) if basis == "price" else to_total_return(bars)
    clean = _clean(prices, asof)
    if clean.empty:
        return ReturnRow(symbol, name, basis, NAN, None, {w: NAN for w in WINDOWS})
    if basis == "total":
        # The level shown is always the traded price; only the returns are total returns.
        raw = _clean(to_price(bars), asof)
        level = float(raw.iloc[-1]) if not raw.empty else float(clean.iloc[-1])
    else:
        level = float(clean.iloc[-1])
    return ReturnRow(symbol, name, basis, level, clean.index[-1].date(),
                     calc_returns(clean, asof))
