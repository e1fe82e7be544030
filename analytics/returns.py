"""Returns over the standard look-back windows, as of a date: every window defined once here
(:data:`WINDOW_TABLE`) and used by the text, the JSON and the charts alike.

Trailing windows count sessions (rows of the price series, i.e. sessions with a valid close) and
are labelled in sessions ("21 sessions"); the key keeps its calendar nickname for JSON and
commands (``1m`` = 21 sessions, ``3m`` = 63, ``6m`` = 126, ``1y`` = 252, ``Ny`` = N × 252):

============== ==========================================================================
``1d``          the close 1 session before the last close on or before ``asof``
``1w``          5 sessions back
``1m`` ... ``Ny`` the session count of :data:`WINDOW_TABLE`
``ytd``         from the last close of the prior calendar year (the last close dated before
                1 Jan of the year of the last close on or before ``asof``)
``mtd``         month to date: from the last close of the prior calendar month
``last_month``  the last full calendar month before the month of the last close: from the
                last close of the month before it to its own last close
``max``         from the first close held
============== ==========================================================================

Return = ``end / base - 1`` where ``end`` is the last valid close on or before ``asof`` (NaN rows
are dropped first). The result is NaN, never an exception, when the series has no close on or
before ``asof``, too few sessions for the window, or (YTD) no close in a prior year. Prices after
``asof`` are never read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from analytics.series import to_price, to_total_return
from analytics.windows import WINDOW_TABLE, Window

#: The scoreboard's windows, in display order. Keys are lowercase: stable JSON keys.
WINDOWS: tuple[str, ...] = ("1d", "1w", "1m", "3m", "ytd", "1y")
#: The named calendar periods every scoreboard row also carries (:attr:`ReturnRow.periods`).
PERIODS: tuple[str, ...] = ("mtd", "last_month")
#: Sessions back for the trailing windows.
WINDOW_SESSIONS: Mapping[str, int] = MappingProxyType(
    {k: w.sessions for k, w in WINDOW_TABLE.items() if w.sessions is not None})


def window_label(window: str) -> str:
    """How every output names ``window`` ("21 sessions", "year to date"); ValueError if
    unknown."""
    return _window(window).label


def _window(window: str) -> Window:
    try:
        return WINDOW_TABLE[window]
    except KeyError:
        raise ValueError(f"unknown window {window!r}; expected one of "
                         f"{', '.join(WINDOW_TABLE)}") from None


def period_name(end: date, window: str) -> str:
    """The calendar period's own name as of the close ``end``: ``mtd`` → "Nov to date",
    ``last_month`` → "Oct 2024", ``ytd`` → "2024 to date"; else :func:`window_label`."""
    if window == "mtd":
        return f"{end:%b} to date"
    if window == "last_month":
        first = date(end.year, end.month, 1)
        prior = (pd.Timestamp(first) - pd.Timedelta(days=1)).date()
        return f"{prior:%b %Y}"
    if window == "ytd":
        return f"{end.year} to date"
    return window_label(window)

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


def _before(dates: np.ndarray, day: str) -> int:
    """Position of the last date strictly before ``day`` (ISO), -1 when none."""
    return int(np.searchsorted(dates, np.datetime64(day), side="left")) - 1


def window_positions(dates: np.ndarray, window: str) -> tuple[int, int] | None:
    """``(base, end)`` row positions of ``window`` among ``dates`` (sorted, already cut at
    asof); None when the history is too short. See the module doc for each window."""
    spec = _window(window)
    if len(dates) == 0:
        return None
    end = len(dates) - 1
    last = pd.Timestamp(dates[end])
    if spec.sessions is not None:
        pos = end - spec.sessions
    elif window == "max":
        pos = 0
    elif window == "ytd":
        pos = _before(dates, f"{last.year:04d}-01-01")
    elif window == "mtd":
        pos = _before(dates, f"{last.year:04d}-{last.month:02d}-01")
    else:  # last_month
        end = _before(dates, f"{last.year:04d}-{last.month:02d}-01")
        if end < 0:
            return None
        prior = pd.Timestamp(dates[end])
        pos = _before(dates, f"{prior.year:04d}-{prior.month:02d}-01")
    return (pos, end) if pos >= 0 else None


def _base_position(dates: np.ndarray, window: str) -> int | None:
    """Row position of the base close among ``dates`` (already cut at asof), or None."""
    where = window_positions(dates, window)
    return None if where is None else where[0]


def _ratio(values: np.ndarray, where: tuple[int, int] | None) -> float:
    if where is None or values[where[0]] == 0.0:
        return NAN
    return float(values[where[1]] / values[where[0]] - 1.0)


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
    return _ratio(values, window_positions(dates, window))


def calc_returns(prices: pd.Series, asof: date,
                 windows: tuple[str, ...] = WINDOWS) -> dict[str, float]:
    """:func:`calc_return` for each window, keyed by window name, in order."""
    dates, values = _cut(prices, asof)
    return {w: _ratio(values, window_positions(dates, w)) for w in windows}


@dataclass(frozen=True)
class ReturnRow:
    """One line of a scoreboard: a symbol's level and its returns over :data:`WINDOWS`.

    ``basis`` is ``"price"`` (raw close) or ``"total"`` (adjusted close: dividends reinvested).
    ``level`` is the last close on or before ``asof`` and ``level_date`` its date; both are
    NaN/None when the symbol has no data by ``asof``. ``returns`` maps window → fraction (NaN
    when history is too short); ``periods`` the same for :data:`PERIODS` (month to date, last
    full month). ``total_returns``: for a price row of a fund, its total returns (dividends
    reinvested) over the same windows and periods, shown beside the price return people quote;
    None otherwise.
    """

    symbol: str
    name: str
    basis: str
    level: float
    level_date: date | None
    returns: Mapping[str, float]
    periods: Mapping[str, float] = field(default_factory=dict)
    total_returns: Mapping[str, float] | None = None


def calc_return_row(bars: pd.DataFrame, asof: date, *, symbol: str, name: str,
                    basis: str = "price") -> ReturnRow:
    """A :class:`ReturnRow` from a bar frame; ``basis`` picks close ("price") or adj_close."""
    if basis not in ("price", "total"):
        raise ValueError(f"basis must be 'price' or 'total', not {basis!r}")
    price = to_price(bars)
    returns = price if basis == "price" else to_total_return(bars)
    return to_return_row(returns, price, asof, symbol=symbol, name=name, basis=basis)


def to_return_row(returns: pd.Series, level: pd.Series, asof: date, *, symbol: str, name: str,
                  basis: str, total: pd.Series | None = None) -> ReturnRow:
    """A :class:`ReturnRow` whose returns come from ``returns`` (price or total-return series)
    and whose level is the last close of ``level`` (the traded price) on or before ``asof``;
    ``total`` (a total-return series) fills ``total_returns``."""
    dates, values = _cut(returns, asof)
    if len(values) == 0:
        return ReturnRow(symbol, name, basis, NAN, None, {w: NAN for w in WINDOWS},
                         {p: NAN for p in PERIODS})
    _, levels = _cut(level, asof) if level is not returns else (dates, values)
    shown = float(levels[-1]) if len(levels) else float(values[-1])
    totals = None
    if total is not None:
        t_dates, t_values = _cut(total, asof)
        totals = {w: _ratio(t_values, window_positions(t_dates, w)) for w in WINDOWS + PERIODS}
    return ReturnRow(symbol, name, basis, shown, pd.Timestamp(dates[-1]).date(),
                     {w: _ratio(values, window_positions(dates, w)) for w in WINDOWS},
                     {p: _ratio(values, window_positions(dates, p)) for p in PERIODS}, totals)
