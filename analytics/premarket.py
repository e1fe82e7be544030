"""Pre-market: Russell 2000 and S&P 500 futures (RTY=F, ES=F) since the prior cash close.

Input ``quotes``: per symbol, intraday closes indexed by each bar's START time (tz-aware).
- ``prior_close``: the close of the last bar that starts before ``prior_close_at`` (the NYSE
  close of ``prior_session``, 16:00 New York or earlier on an early close), i.e. the futures
  price at the cash close. None when no bar precedes it.
- ``last``: the close of the last bar that starts after ``prior_close_at`` and at or before
  ``read_at`` (nothing later is used); ``last_time`` is that bar's start.
- ``change``: ``last / prior_close - 1`` (a fraction); None when either is missing.
- ``read_at``: when the quotes were read. Times are shown in New York time ("ET").
- ``open_at`` (optional): the next session's open; read at or after it, the line is headed
  "Futures" rather than "Pre-market" (the cash market is then trading).
Replays have no such quotes: :func:`absent_premarket` keeps the line with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd

from analytics.formats import pct

FUTURES = {"RTY=F": "Russell 2000 futures", "ES=F": "S&P 500 futures"}
NO_PREMARKET_IN_REPLAY = "no pre-market quotes in replay"
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class FuturesMove:
    """One future since the prior close (see the module docstring); ``reason`` when absent."""

    symbol: str
    name: str
    prior_close: float | None
    last: float | None
    last_time: datetime | None
    change: float | None
    reason: str


@dataclass(frozen=True)
class PremarketReading:
    """Futures moves since ``prior_session``'s close, read at ``read_at``."""

    status: Literal["ok", "absent"]
    prior_session: date | None
    read_at: datetime | None
    moves: tuple[FuturesMove, ...]
    line: str


def absent_premarket(reason: str, prior_session: date | None = None) -> PremarketReading:
    return PremarketReading(status="absent", prior_session=prior_session, read_at=None,
                            moves=(), line=f"Pre-market: {reason}")


def _et(at: datetime) -> str:
    return f"{at.astimezone(NEW_YORK):%H:%M} ET"


def calc_move(symbol: str, closes: pd.Series | None, prior_close_at: datetime,
              read_at: datetime, reason: str = "") -> FuturesMove:
    """One future's move (see the module docstring)."""
    name = FUTURES.get(symbol, symbol)
    if closes is None or closes.dropna().empty:
        return FuturesMove(symbol, name, None, None, None, None, reason or "no quotes")
    series = closes.dropna().sort_index()
    stamps = pd.DatetimeIndex(series.index)
    before = series.loc[stamps < pd.Timestamp(prior_close_at)]
    after = series.loc[(stamps >= pd.Timestamp(prior_close_at))
                       & (stamps <= pd.Timestamp(read_at))]
    prior = float(before.iloc[-1]) if len(before) else None
    if after.empty:
        return FuturesMove(symbol, name, prior, None, None, None,
                           "no quote since the prior close")
    last = float(after.iloc[-1])
    when = pd.Timestamp(after.index[-1]).to_pydatetime()
    change = last / prior - 1.0 if prior else None
    why = "" if prior else "no quote at the prior close"
    return FuturesMove(symbol, name, prior, last, when, change, why)


def calc_premarket(quotes: Mapping[str, pd.Series], prior_session: date,
                   prior_close_at: datetime, read_at: datetime, *,
                   reasons: Mapping[str, str] | None = None,
                   open_at: datetime | None = None) -> PremarketReading:
    """RTY=F and ES=F since ``prior_session``'s close (``prior_close_at``), as read at
    ``read_at``; ``reasons`` says why a symbol has no quotes."""
    if prior_close_at.tzinfo is None or read_at.tzinfo is None:
        raise ValueError("prior_close_at and read_at must be timezone-aware")
    reasons = dict(reasons or {})
    moves = tuple(calc_move(s, quotes.get(s), prior_close_at, read_at, reasons.get(s, ""))
                  for s in FUTURES)
    shown = [m for m in moves if m.change is not None]
    if not shown:
        why = "; ".join(f"{m.name}: {m.reason}" for m in moves)
        reading = absent_premarket(why, prior_session)
        return PremarketReading(status="absent", prior_session=prior_session,
                                read_at=read_at, moves=moves, line=reading.line)
    parts = [f"{m.name} {pct(m.change or 0.0, 2)}" for m in shown]
    latest = max(m.last_time for m in shown if m.last_time is not None)
    head = "Futures" if open_at is not None and read_at >= open_at else "Pre-market"
    line = (f"{head} (read {_et(read_at)}): {', '.join(parts)} since the "
            f"{prior_session:%a %d %b} close (last quotes {_et(latest)})")
    missing = [f"{m.name}: {m.reason}" for m in moves if m.change is None]
    if missing:
        line += "; " + "; ".join(missing)
    return PremarketReading(status="ok", prior_session=prior_session, read_at=read_at,
                            moves=moves, line=line)
