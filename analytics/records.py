"""Record closes and the gaps between them: the primitives every record-based study shares.

Definitions (used everywhere in capbrief):
- A *record close* is a close strictly above every earlier close in the series. The first valid
  close is a record by definition. A tie with the record is **not** a new record (the record date
  stays the earlier day).
- A *gap* (or *drought*) is the time between two consecutive record closes, in calendar days and
  in sessions (rows of the series); the open drought runs from the last record to ``asof``.
NaN prices are ignored (dropped) before anything is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd


def to_record_flags(prices: pd.Series) -> pd.Series:
    """Boolean series, True on record closes (NaN rows dropped). Empty in → empty out."""
    clean = prices.dropna()
    if clean.empty:
        return pd.Series(dtype=bool, index=clean.index)
    values = clean.to_numpy(dtype="float64")
    prior_max = np.maximum.accumulate(np.concatenate(([-np.inf], values[:-1])))
    return pd.Series(values > prior_max, index=clean.index)


def to_record_dates(prices: pd.Series) -> pd.DatetimeIndex:
    """The dates of every record close, ascending."""
    flags = to_record_flags(prices)
    return pd.DatetimeIndex(flags.index[flags.to_numpy()])


@dataclass(frozen=True)
class RecordGap:
    """The time from one record close (``start``) to the next (``end``).

    For the open drought, ``end`` is ``asof`` and ``open`` is True. ``sessions`` counts rows of
    the series strictly after ``start`` up to and including ``end``.
    """

    start: date
    end: date
    days: int
    sessions: int
    open: bool = False


def calc_record_gaps(prices: pd.Series, asof: date | None = None) -> list[RecordGap]:
    """Every gap between consecutive record closes, oldest first, plus the open drought.

    The open drought (from the last record to ``asof``, default the last date) is appended only
    when the last record is before ``asof``. Empty in → empty list.
    """
    clean = prices.dropna()
    if asof is not None:
        clean = clean.loc[: pd.Timestamp(asof)]
    if clean.empty:
        return []
    flags = to_record_flags(clean).to_numpy()
    positions = np.flatnonzero(flags)
    dates = clean.index
    gaps = [
        RecordGap(start=dates[a].date(), end=dates[b].date(),
                  days=int((dates[b] - dates[a]).days), sessions=int(b - a))
        for a, b in zip(positions[:-1], positions[1:], strict=True)
    ]
    last = int(positions[-1])
    end_pos = len(clean) - 1
    if last < end_pos:
        gaps.append(RecordGap(start=dates[last].date(), end=dates[end_pos].date(),
                              days=int((dates[end_pos] - dates[last]).days),
                              sessions=end_pos - last, open=True))
    return gaps
