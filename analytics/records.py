"""Record closes and the gaps between them: the primitives every record-based study shares.

Definitions (used everywhere in capbrief):
- A *record close* is a close strictly above every earlier close in the series. The first valid
  close is a record by definition. A tie with the record is **not** a new record (the record date
  stays the earlier day).
- A *gap* (or *drought*) is the time between two consecutive record closes, in calendar days and
  in sessions (rows of the series); the open drought runs from the last record to ``asof``.
NaN prices are ignored (dropped) before anything is computed.

*All-time or not*: the arithmetic above only sees the closes it is given. A record close is an
all-time record only when the history reaches back to the index's own start, its *inception*
(passed in as data by the caller; None = unknown). :func:`covers_inception` decides; when it is
False every "record" here is only the *highest close since the first date held*, and outputs
must say so (``history_complete`` on the results).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics.formats import ordinal

#: Droughts are ranked among those at least this many sessions long (3 months) ...
RANK_MIN_SESSIONS = 63
#: ... and a rank is worth mentioning only in the top ten.
RANK_SHOWN = 10


def rank_phrase(rank: int | None, count: int, min_sessions: int, since: date) -> str | None:
    """``"the 3rd-longest of the 24 droughts of 63+ sessions since 1979"`` (``"the longest"``
    for 1); None when ``rank`` is None or outside the top :data:`RANK_SHOWN` (a rank that
    informs nothing is not mentioned). The population is always stated."""
    if rank is None or rank > RANK_SHOWN:
        return None
    which = "the longest" if rank == 1 else f"the {ordinal(rank)}-longest"
    return (f"{which} of the {count:,} drought{'s' if count != 1 else ''} of "
            f"{min_sessions}+ sessions since {since:%Y}")


def covers_inception(first: date | None, inception: date | None) -> bool:
    """True when a history whose first close is ``first`` reaches back to the index's
    ``inception`` (``first <= inception``); False when either is unknown (None)."""
    return first is not None and inception is not None and first <= inception


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
        for a, b in itertools.pairwise(positions.tolist())
    ]
    last = int(positions[-1])
    end_pos = len(clean) - 1
    if last < end_pos:
        gaps.append(RecordGap(start=dates[last].date(), end=dates[end_pos].date(),
                              days=int((dates[end_pos] - dates[last]).days),
                              sessions=end_pos - last, open=True))
    return gaps


@dataclass(frozen=True)
class RecordsSnapshot:
    """Where a series stands against its all-time record close, as of ``asof``.

    - ``asof``: the last valid close on or before the requested date; ``close`` its value.
    - ``record_close``/``record_date``: the highest close so far (ties keep the earlier date);
      ``drawdown = close / record_close - 1`` (0 on a record day, negative below it).
    - ``is_record``: ``asof`` itself is a record close.
    - ``days_since_record``/``sessions_since_record``: calendar days / sessions from the record
      date to ``asof`` (0 on a record day).
    - ``drought_rank``: the open drought's rank among every gap between record closes in the
      history plus this one (1 = longest by calendar days; on equal days more sessions rank
      first, then the older gap: the order of :mod:`analytics.studies.droughts`); None on a
      record day. ``drought_count`` is how many gaps were ranked.
    - ``prior_gap_days``/``prior_gap_sessions``/``prior_gap_rank``: on a record day, the gap since
      the previous record (what just ended) and its rank among all gaps; None otherwise (and on
      the first close of the series, which has no previous record).
    - ``long_drought_rank``/``long_drought_count``: the same ranking among the droughts of at
      least ``rank_min_sessions`` sessions (:data:`RANK_MIN_SESSIONS`, 63 = 3 months) only, this
      one included: the population outputs quote ("3rd-longest of the 24 droughts of 63+
      sessions since 1979"). The rank is None when the open drought is shorter than that (or on a
      record day); ``prior_gap_long_rank`` ranks the gap just ended the same way.
      :data:`RANK_SHOWN` (10): outputs mention a rank only when it is at most this.
    - ``breakout``: a record day whose prior gap is longer than ``breakout_gap_days`` calendar days
      (the ``gap_days`` argument).
    - ``next_level``: the first multiple of ``round_step`` strictly above ``close``;
      ``next_level_distance = next_level / close - 1`` (> 0). ``nearest_level`` is the closest
      multiple (ties go up; at least one step) and ``nearest_level_distance`` its signed distance.
    - ``records_ytd``: record closes dated in ``asof``'s calendar year, up to ``asof``.
    - ``history_start``: the first valid close (droughts are ranked from there).
    - ``inception``: the index's own first session as passed in (None = unknown);
      ``history_complete = covers_inception(history_start, inception)``. When False, every
      "record" field above means *highest close since* ``history_start``, not an all-time record.
    """

    symbol: str
    asof: date
    close: float
    record_close: float
    record_date: date
    drawdown: float
    is_record: bool
    days_since_record: int
    sessions_since_record: int
    drought_rank: int | None
    drought_count: int
    prior_gap_days: int | None
    prior_gap_sessions: int | None
    prior_gap_rank: int | None
    breakout: bool
    breakout_gap_days: int
    round_step: float
    next_level: float
    next_level_distance: float
    nearest_level: float
    nearest_level_distance: float
    records_ytd: int
    history_start: date
    inception: date | None = None
    history_complete: bool = False
    long_drought_rank: int | None = None
    long_drought_count: int = 0
    prior_gap_long_rank: int | None = None
    rank_min_sessions: int = 0


def calc_round_levels(close: float, round_step: float) -> tuple[float, float]:
    """``(next level strictly above close, nearest level)``, both multiples of ``round_step``;
    the nearest is never below one step (zero is no level to watch).

    ValueError when ``round_step`` is not positive.
    """
    if not round_step > 0:
        raise ValueError(f"round_step must be positive, not {round_step!r}")
    steps = close / round_step
    above = (np.floor(steps) + 1.0) * round_step
    nearest = max(np.floor(steps + 0.5), 1.0) * round_step
    return float(above), float(nearest)


def _rank(days: int, sessions: int, all_days: np.ndarray, all_sessions: np.ndarray) -> int:
    """Rank of the newest gap (``days``, ``sessions``) among older gaps ``all_*`` (itself
    excluded): 1 + older gaps that are longer in days, or as long with at least as many
    sessions (older gaps win full ties, as in :mod:`analytics.studies.droughts`)."""
    longer = all_days > days
    as_long = (all_days == days) & (all_sessions >= sessions)
    return 1 + int(np.count_nonzero(longer | as_long))


def _long_rank(days: int, sessions: int, all_days: np.ndarray, all_sessions: np.ndarray,
               min_sessions: int) -> tuple[int | None, int]:
    """``(rank, count)`` of the newest gap among the gaps of ``min_sessions``+ sessions (itself
    included in ``count``); rank None when it is shorter than ``min_sessions``."""
    long = all_sessions >= min_sessions
    count = int(np.count_nonzero(long)) + (1 if sessions >= min_sessions else 0)
    if sessions < min_sessions:
        return None, count
    return _rank(days, sessions, all_days[long], all_sessions[long]), count


def calc_records_snapshot(prices: pd.Series, asof: date, *, symbol: str = "",
                          gap_days: int = 365, round_step: float = 100.0,
                          inception: date | None = None,
                          rank_min_sessions: int = RANK_MIN_SESSIONS) -> RecordsSnapshot | None:
    """A :class:`RecordsSnapshot` of ``prices`` as of ``asof``; None when no close by ``asof``.

    ``inception`` is the index's own first session (None = unknown, so nothing is all-time).
    ``rank_min_sessions``: the shortest drought the ``long_*`` ranks count.

    NaN prices are dropped first; nothing after ``asof`` is read. Gap lengths use calendar days
    (sessions are reported alongside). See :class:`RecordsSnapshot` for every field's formula.
    """
    clean = prices.loc[: pd.Timestamp(asof)].dropna()
    if clean.empty:
        return None
    values = clean.to_numpy(dtype="float64")
    dates = clean.index
    flags = to_record_flags(clean).to_numpy()
    positions = np.flatnonzero(flags)
    day_numbers = dates.to_numpy(dtype="datetime64[D]").astype("int64")
    closed_days = np.diff(day_numbers[positions])  # completed gaps, calendar days
    closed_sessions = np.diff(positions)
    end = len(clean) - 1
    last = int(positions[-1])
    close = float(values[end])
    record_close = float(values[last])
    is_record = last == end
    days_since = int(day_numbers[end] - day_numbers[last])
    sessions_since = end - last

    drought_rank: int | None = None
    prior_days: int | None = None
    prior_sessions: int | None = None
    prior_rank: int | None = None
    long_rank: int | None = None
    prior_long: int | None = None
    if is_record:
        drought_count = len(closed_days)
        long_count = int(np.count_nonzero(closed_sessions >= rank_min_sessions))
        if len(positions) > 1:
            prior_days, prior_sessions = int(closed_days[-1]), int(closed_sessions[-1])
            prior_rank = _rank(prior_days, prior_sessions, closed_days[:-1],
                               closed_sessions[:-1])
            prior_long, _ = _long_rank(prior_days, prior_sessions, closed_days[:-1],
                                       closed_sessions[:-1], rank_min_sessions)
    else:
        drought_count = len(closed_days) + 1
        drought_rank = _rank(days_since, sessions_since, closed_days, closed_sessions)
        long_rank, long_count = _long_rank(days_since, sessions_since, closed_days,
                                           closed_sessions, rank_min_sessions)
    breakout = bool(is_record and prior_days is not None and prior_days > gap_days)

    next_level, nearest = calc_round_levels(close, round_step)
    year_start = np.datetime64(f"{dates[end].year:04d}-01-01", "D").astype("int64")
    records_ytd = int(np.count_nonzero(day_numbers[positions] >= year_start))
    return RecordsSnapshot(
        symbol=symbol, asof=dates[end].date(), close=close, record_close=record_close,
        record_date=dates[last].date(),
        drawdown=close / record_close - 1.0 if record_close != 0 else float("nan"),
        is_record=is_record, days_since_record=days_since, sessions_since_record=sessions_since,
        drought_rank=drought_rank, drought_count=drought_count, prior_gap_days=prior_days,
        prior_gap_sessions=prior_sessions, prior_gap_rank=prior_rank, breakout=breakout,
        breakout_gap_days=gap_days, round_step=round_step, next_level=next_level,
        next_level_distance=next_level / close - 1.0 if close > 0 else float("nan"),
        nearest_level=nearest,
        nearest_level_distance=nearest / close - 1.0 if close > 0 else float("nan"),
        records_ytd=records_ytd, history_start=dates[0].date(), inception=inception,
        history_complete=covers_inception(dates[0].date(), inception),
        long_drought_rank=long_rank, long_drought_count=long_count,
        prior_gap_long_rank=prior_long, rank_min_sessions=rank_min_sessions,
    )
