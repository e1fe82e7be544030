"""Breakouts: the first record close after a long gap, and what both indices did next.

Rule (stated once, used everywhere):
- A record close is a close above every earlier close of the *event index* (``analytics.records``:
  ties are not records; the first valid close is a record).
- An *event* is a record close whose previous record close is **more than** ``gap_days`` calendar
  days earlier. The very first close of the series is never an event (nothing precedes it).
- Forward returns are PRICE returns ``p[t+h] / p[t] - 1`` of ^GSPC and ^RUT, where ``t`` is the
  event date (or the last session on or before it, for the non-event series) and ``h`` counts
  sessions (rows) of that series. ``None`` when fewer than ``h`` sessions exist up to ``asof``.
- An event lacking the longest horizon is *incomplete*: it is listed with its return so far
  (event → ``asof``) and left out of that horizon's statistics (counted in ``incomplete``).
- The *live* event is the latest one when it is dated ``asof`` or is still incomplete.
- *What the history can support*: ``inception`` is the event index's own first session (passed
  in as data; None = unknown). When the data reaches back to it (``history_complete``) events
  are all-time record closes after a gap. When it does not, the same arithmetic finds only the
  *highest closes since the first date held* after a gap: no event can be called a record or a
  breakout (an earlier, unseen close may be higher), and a true breakout ending at a high the
  data cannot see is missed. ``unruled`` then lists the new highs of the first ``gap_days``
  of data: their look-back window starts before the data, so even "more than ``gap_days``
  without a new high" cannot be judged (``rulable_from`` is the first date it can).
Only data dated on or before ``asof`` is read. Numpy throughout; no per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics.records import covers_inception, to_record_flags

DEFAULT_HORIZONS: tuple[int, ...] = (21, 63, 126, 252)
_Date = date  # BreakoutEvent has a field named ``date``


@dataclass(frozen=True)
class BreakoutEvent:
    """One breakout. Return tuples are aligned with ``BreakoutStudy.horizons`` (None = not yet)."""

    date: _Date
    close: float
    previous_record_date: _Date
    previous_record_close: float
    gap_days: int
    gap_sessions: int
    spx_returns: tuple[float | None, ...]
    rut_returns: tuple[float | None, ...]
    complete: bool
    sessions_so_far: int
    spx_so_far: float | None
    rut_so_far: float | None
    live: bool


@dataclass(frozen=True)
class UnruledHigh:
    """A new high the study cannot rule on, and why (plain words, for every output)."""

    date: _Date
    close: float
    reason: str


@dataclass(frozen=True)
class HorizonStats:
    """Across complete events at one horizon: ``hits`` = returns > 0. NaN stats when count is 0."""

    symbol: str
    horizon: int
    count: int
    hits: int
    hit_rate: float
    mean: float
    median: float
    min: float
    max: float
    incomplete: int


@dataclass(frozen=True)
class BreakoutStudy:
    """Every breakout of ``event_index`` up to ``asof``, forward returns and their statistics."""

    asof: date
    event_index: str
    gap_days: int
    horizons: tuple[int, ...]
    data_start: date | None
    events: tuple[BreakoutEvent, ...]
    spx_stats: tuple[HorizonStats, ...]
    rut_stats: tuple[HorizonStats, ...]
    live_event: BreakoutEvent | None
    last_record_date: date | None
    last_record_close: float | None
    days_since_record: int | None
    inception: date | None = None
    history_complete: bool = False
    rulable_from: date | None = None
    unruled: tuple[UnruledHigh, ...] = ()

    @property
    def complete_events(self) -> tuple[BreakoutEvent, ...]:
        return tuple(e for e in self.events if e.complete)

    @property
    def incomplete_events(self) -> tuple[BreakoutEvent, ...]:
        return tuple(e for e in self.events if not e.complete)


def _forward(prices: pd.Series, event_dates: np.ndarray, horizons: tuple[int, ...]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(returns[event, horizon] with NaN where unavailable, so-far returns, sessions so far)."""
    n_events = len(event_dates)
    values = prices.to_numpy(dtype="float64")
    if values.size == 0 or n_events == 0:
        nan = np.full(n_events, np.nan)
        return np.full((n_events, len(horizons)), np.nan), nan, np.zeros(n_events, dtype=int)
    pos = np.searchsorted(prices.index.to_numpy(), event_dates, side="right") - 1
    last = values.size - 1
    have = pos >= 0
    base = np.where(have, values[np.clip(pos, 0, last)], np.nan)
    steps = pos[:, None] + np.asarray(horizons)[None, :]
    ok = have[:, None] & (steps <= last)
    ahead = values[np.clip(steps, 0, last)]
    returns = np.where(ok, ahead / base[:, None] - 1.0, np.nan)
    so_far = np.where(have, values[last] / base - 1.0, np.nan)
    sessions = np.where(have, last - pos, 0)
    return returns, so_far, sessions


def _stats(symbol: str, horizons: tuple[int, ...], returns: np.ndarray,
           incomplete: np.ndarray) -> tuple[HorizonStats, ...]:
    out = []
    for k, h in enumerate(horizons):
        col = returns[:, k]
        done = col[~np.isnan(col)]
        n = int(done.size)
        hits = int((done > 0).sum())
        nan = float("nan")
        out.append(HorizonStats(
            symbol=symbol, horizon=h, count=n, hits=hits,
            hit_rate=hits / n if n else nan,
            mean=float(done.mean()) if n else nan,
            median=float(np.median(done)) if n else nan,
            min=float(done.min()) if n else nan,
            max=float(done.max()) if n else nan,
            incomplete=int(incomplete[:, k].sum()),
        ))
    return tuple(out)


def _opt(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def calc_breakout_study(rut: pd.Series, spx: pd.Series, asof: date, *, gap_days: int = 365,
                        horizons: tuple[int, ...] = DEFAULT_HORIZONS,
                        event_index: str = "^RUT",
                        inception: date | None = None) -> BreakoutStudy:
    """Breakout events of ``event_index`` ("^RUT" or "^GSPC") and forward returns of both.

    ``inception``: the event index's own first session (None = unknown: events are then only
    highest closes since the data starts; see the module docstring).

    ``rut`` and ``spx`` are price series (``analytics.series.to_price``); NaNs are ignored.
    Raises ValueError for gap_days < 1, a non-positive horizon or an unknown event index.
    Empty or all-NaN input gives a study with no events.
    """
    if gap_days < 1:
        raise ValueError("gap_days must be at least 1")
    horizons = tuple(int(h) for h in horizons)
    if not horizons or min(horizons) < 1:
        raise ValueError("horizons must be positive session counts")
    if event_index not in ("^RUT", "^GSPC"):
        raise ValueError("event_index must be ^RUT or ^GSPC")
    cut = pd.Timestamp(asof)
    rut = rut.loc[:cut].dropna()
    spx = spx.loc[:cut].dropna()
    base = rut if event_index == "^RUT" else spx

    flags = to_record_flags(base).to_numpy()
    rec_pos = np.flatnonzero(flags)
    dates = base.index.to_numpy()
    closes = base.to_numpy(dtype="float64")
    if rec_pos.size:
        gaps = (dates[rec_pos[1:]] - dates[rec_pos[:-1]]) // np.timedelta64(1, "D")
        hit = np.flatnonzero(gaps > gap_days)
    else:
        gaps = np.zeros(0, dtype=np.int64)
        hit = np.zeros(0, dtype=np.int64)
    ev_pos, prev_pos = rec_pos[hit + 1], rec_pos[hit]
    ev_dates = dates[ev_pos]

    spx_ret, spx_far, spx_n = _forward(spx, ev_dates, horizons)
    rut_ret, rut_far, rut_n = _forward(rut, ev_dates, horizons)
    own_n = rut_n if event_index == "^RUT" else spx_n
    incomplete = own_n[:, None] < np.asarray(horizons)[None, :]
    complete = ~incomplete[:, -1] if len(horizons) else np.ones(len(ev_pos), dtype=bool)
    longest = max(horizons)

    events = []
    for i in range(len(ev_pos)):
        is_last = i == len(ev_pos) - 1
        live = is_last and (own_n[i] == 0 or own_n[i] < longest)
        events.append(BreakoutEvent(
            date=pd.Timestamp(ev_dates[i]).date(), close=float(closes[ev_pos[i]]),
            previous_record_date=pd.Timestamp(dates[prev_pos[i]]).date(),
            previous_record_close=float(closes[prev_pos[i]]),
            gap_days=int(gaps[hit[i]]), gap_sessions=int(ev_pos[i] - prev_pos[i]),
            spx_returns=tuple(_opt(x) for x in spx_ret[i]),
            rut_returns=tuple(_opt(x) for x in rut_ret[i]),
            complete=bool(complete[i]), sessions_so_far=int(own_n[i]),
            spx_so_far=_opt(spx_far[i]), rut_so_far=_opt(rut_far[i]), live=bool(live),
        ))
    last_rec = int(rec_pos[-1]) if rec_pos.size else None
    last_date = pd.Timestamp(dates[last_rec]).date() if last_rec is not None else None
    data_start = base.index[0].date() if len(base) else None
    complete_history = covers_inception(data_start, inception)
    rulable_from: date | None = None
    unruled: list[UnruledHigh] = []
    if data_start is not None and not complete_history:
        rulable_from = (pd.Timestamp(data_start) + pd.Timedelta(days=gap_days)).date()
        early = rec_pos[(rec_pos > 0) & (dates[rec_pos] < np.datetime64(rulable_from, "ns"))]
        why = (f"the {gap_days:,}-day look-back starts before the data does ({data_start}), "
               "so whether a long run without a new high ended there is unknown")
        unruled = [UnruledHigh(pd.Timestamp(dates[p]).date(), float(closes[p]), why)
                   for p in early.tolist()]
    return BreakoutStudy(
        asof=asof, event_index=event_index, gap_days=gap_days, horizons=horizons,
        data_start=data_start,
        events=tuple(events),
        spx_stats=_stats("^GSPC", horizons, spx_ret, incomplete),
        rut_stats=_stats("^RUT", horizons, rut_ret, incomplete),
        live_event=events[-1] if events and events[-1].live else None,
        last_record_date=last_date,
        last_record_close=float(closes[last_rec]) if last_rec is not None else None,
        days_since_record=(int((base.index[-1] - base.index[last_rec]).days)
                           if last_rec is not None else None),
        inception=inception, history_complete=complete_history, rulable_from=rulable_from,
        unruled=tuple(unruled),
    )
