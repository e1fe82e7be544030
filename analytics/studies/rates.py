"""Rate days: how small and large caps behave on days the 10-year yield falls or rises sharply.

- ``yields`` is ^TNX: the 10-year yield in percent (4.25 = 4.25%), so 1 bp = 0.01.
- The three series are aligned on their **common** dates first (^TNX has no rows on ~78 bond
  holidays such as Columbus and Veterans Day when stocks trade); then the daily change of each is
  taken between consecutive common dates, so a stock return and its yield change always span the
  same interval (the day after a bond holiday covers two stock sessions).
- Yield change in bp = ``(y[t] - y[t-1]) * 100``; returns ``p[t] / p[t-1] - 1``.
- Buckets: ``falling`` (change ≤ -bp), ``rising`` (change ≥ +bp), ``all`` (every day).
- Window: days with ``start <= date <= asof`` (``start`` given, or ``asof`` minus ``years``
  calendar years, or since the data begins). A day's change needs the previous common date, which
  may fall before the window.
Per bucket: day count, mean daily RUT, SPX return, mean difference (RUT - SPX) and the share of
days small caps beat large caps. NaN means when a bucket has no days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RateBucket:
    """Average daily behaviour on one kind of day (returns as fractions)."""

    name: str
    days: int
    rut_mean: float
    spx_mean: float
    difference: float
    small_beat_share: float


@dataclass(frozen=True)
class RateStudy:
    """Falling-, rising- and all-day buckets over ``start``..``end`` (the last common date)."""

    asof: date
    bp: float
    start: date | None
    end: date | None
    falling: RateBucket
    rising: RateBucket
    all_days: RateBucket


def _bucket(name: str, rut: np.ndarray, spx: np.ndarray) -> RateBucket:
    n = int(rut.size)
    nan = float("nan")
    return RateBucket(
        name=name, days=n,
        rut_mean=float(rut.mean()) if n else nan,
        spx_mean=float(spx.mean()) if n else nan,
        difference=float((rut - spx).mean()) if n else nan,
        small_beat_share=float((rut > spx).mean()) if n else nan,
    )


def calc_rate_study(rut: pd.Series, spx: pd.Series, yields: pd.Series, asof: date, *,
                    bp: float = 5.0, start: date | None = None,
                    years: float | None = None) -> RateStudy:
    """RUT and SPX daily returns bucketed by the 10y yield's daily move of at least ``bp``.

    ``start`` and ``years`` are exclusive; raise ValueError when both are given, ``bp`` ≤ 0 or
    ``years`` ≤ 0. Empty overlap → buckets with 0 days.
    """
    if bp <= 0:
        raise ValueError("bp must be positive")
    if start is not None and years is not None:
        raise ValueError("give start or years, not both")
    if years is not None:
        if years <= 0:
            raise ValueError("years must be positive")
        start = (pd.Timestamp(asof) - pd.DateOffset(days=round(years * 365.25))).date()
    cut = pd.Timestamp(asof)
    both = pd.concat([rut.loc[:cut], spx.loc[:cut], yields.loc[:cut]], axis=1,
                     join="inner").dropna()
    values = both.to_numpy(dtype="float64")
    dates = both.index[1:]
    if values.shape[0] >= 2:
        rut_r = values[1:, 0] / values[:-1, 0] - 1
        spx_r = values[1:, 1] / values[:-1, 1] - 1
        move = np.round((values[1:, 2] - values[:-1, 2]) * 100, 6)
    else:
        rut_r = spx_r = move = np.zeros(0)
        dates = both.index[:0]
    keep = np.ones(len(dates), dtype=bool) if start is None else dates >= pd.Timestamp(start)
    rut_r, spx_r, move, dates = rut_r[keep], spx_r[keep], move[keep], dates[keep]
    falling, rising = move <= -bp, move >= bp
    return RateStudy(
        asof=asof, bp=bp,
        start=dates[0].date() if len(dates) else start,
        end=dates[-1].date() if len(dates) else None,
        falling=_bucket("falling", rut_r[falling], spx_r[falling]),
        rising=_bucket("rising", rut_r[rising], spx_r[rising]),
        all_days=_bucket("all", rut_r, spx_r),
    )
