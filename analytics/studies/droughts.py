"""Record droughts: every gap between record closes, longest first, today's open one ranked.

A drought is a :class:`analytics.records.RecordGap` (record close → next record close; the open
one runs from the last record to ``asof``). Ranking is by calendar days, longest first (ties:
more sessions first, then the earlier start); rank 1 is the longest. The open drought is ranked
among all gaps *including itself*. ``depth`` is the lowest close inside the drought (after its
start record, up to its end) over the record close, minus 1 — the worst drawdown it held; 0.0 when
the gap has no close in between. ``min_days`` only filters what is listed; ranks and ``total``
always count every gap. Most gaps are a day or two, so a rank among all of them informs nothing:
``long_rank`` ranks a drought among those of at least ``rank_min_sessions`` sessions
(:data:`analytics.records.RANK_MIN_SESSIONS`, 63; the open one included; None when shorter), and
``long_count`` is that population — the rule the records line uses
(:func:`analytics.records.rank_phrase`). Only data on or before ``asof`` is read; NaNs are ignored.
``inception`` is the index's own first session (None = unknown): when the data starts after it
(``history_complete`` False) the gaps are between *highest closes since the first date held*,
not all-time records, and the first gap may have begun before the data does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics.records import RANK_MIN_SESSIONS, calc_record_gaps, covers_inception


@dataclass(frozen=True)
class Drought:
    """One gap between record closes with its rank (1 = longest) and the drawdown it held."""

    rank: int
    start: date
    end: date
    days: int
    sessions: int
    open: bool
    record_close: float
    depth: float
    low_date: date
    long_rank: int | None = None


@dataclass(frozen=True)
class DroughtTable:
    """Droughts of at least ``min_days``, longest first; ``current`` is today's open drought."""

    asof: date
    min_days: int
    total: int
    droughts: tuple[Drought, ...]
    current: Drought | None
    data_start: date | None
    inception: date | None = None
    history_complete: bool = False
    long_count: int = 0
    rank_min_sessions: int = RANK_MIN_SESSIONS


def calc_droughts(prices: pd.Series, asof: date, *, min_days: int = 0,
                  inception: date | None = None,
                  rank_min_sessions: int = RANK_MIN_SESSIONS) -> DroughtTable:
    """Every record drought of ``prices`` up to ``asof``, ranked; see the module docstring."""
    if min_days < 0:
        raise ValueError("min_days must be at least 0")
    clean = prices.loc[: pd.Timestamp(asof)].dropna()
    gaps = calc_record_gaps(clean)
    start = clean.index[0].date() if len(clean) else None
    complete = covers_inception(start, inception)
    if not gaps:
        return DroughtTable(asof=asof, min_days=min_days, total=0, droughts=(), current=None,
                            data_start=start, inception=inception, history_complete=complete,
                            rank_min_sessions=rank_min_sessions)
    values = clean.to_numpy(dtype="float64")
    index = clean.index
    starts = index.get_indexer(pd.DatetimeIndex([g.start for g in gaps]))
    ends = index.get_indexer(pd.DatetimeIndex([g.end for g in gaps]))
    order = sorted(range(len(gaps)), key=lambda i: (-gaps[i].days, -gaps[i].sessions,
                                                    gaps[i].start))
    rows: list[Drought] = []
    current: Drought | None = None
    long_seen = 0
    for rank, i in enumerate(order, start=1):
        gap = gaps[i]
        long_rank = None
        if gap.sessions >= rank_min_sessions:
            long_seen += 1
            long_rank = long_seen
        a, b = int(starts[i]), int(ends[i])
        # the lowest close strictly after the start record; the end record is above it anyway
        inside = values[a + 1 : b + 1] if b > a else values[a : a + 1]
        low = int(np.argmin(inside)) + (a + 1 if b > a else a)
        depth = min(0.0, float(values[low] / values[a] - 1.0))
        row = Drought(rank=rank, start=gap.start, end=gap.end, days=gap.days,
                      sessions=gap.sessions, open=gap.open, record_close=float(values[a]),
                      depth=depth, low_date=index[low].date() if depth < 0 else gap.start,
                      long_rank=long_rank)
        if gap.open:
            current = row
        if gap.days >= min_days:
            rows.append(row)
    return DroughtTable(asof=asof, min_days=min_days, total=len(gaps), droughts=tuple(rows),
                        current=current, data_start=start, inception=inception,
                        history_complete=complete, long_count=long_seen,
                        rank_min_sessions=rank_min_sessions)
