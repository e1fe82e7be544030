"""Track record: capbrief's own headline call, replayed day by day, scored against what followed.

The call on session ``t`` is the verdict's ``leader`` (:func:`analytics.verdict.
calc_verdict_series`: built from the RUT/SPX ratio up to ``t`` only). Its outcome over ``h``
sessions is the RUT/SPX relative price return ``ratio[t+h] / ratio[t] - 1`` (closes, common
sessions). A session is scored only when its whole forward window ends on or before ``asof``, so
appending or changing data after ``asof`` changes nothing, and data after ``t + h`` never enters
the score of ``t``.

Per horizon, over the scored sessions from ``start`` (default 1990-01-02):

- a ``"small"`` call is a *hit* when RUT/SPX rose over the horizon, a ``"large"`` call when it
  fell (a zero change is a miss for both); ``"mixed"`` and ``"unknown"`` days are no call;
- ``base_rate``: the share of all scored days on which RUT/SPX rose (any random day);
  ``no_skill``: the hit rate of a caller making the same mix of calls at random,
  ``share_small * base_rate + share_large * (1 - base_rate)``;
- average outcome after small calls, after large calls, on all days; ``spread`` = small − large.

95% intervals allow for the overlap of the forward windows and for autocorrelation: each figure is
the constant (or, for ``spread``, the small-call dummy) of an OLS regression with Newey–West
(HAC, Bartlett) standard errors from statsmodels, ``maxlags`` = the horizon (overlapping windows
of ``h`` sessions are correlated up to ``h - 1`` sessions apart). The same statistics on
non-overlapping points (every ``h``-th scored session) use White (HC0) errors, a robustness line.

The call has *forecast value* over a horizon only when the spread's interval lies above zero (small
calls followed by better RUT/SPX than large calls); the hit rate is *better than chance* only when
its interval lies above ``no_skill``. NaN when a group is empty (or has fewer than 3 points).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics.leadership import to_ratio
from analytics.verdict import calc_verdict_series

HORIZONS: tuple[int, ...] = (21, 63)
START = date(1990, 1, 2)
#: Smallest group that gets an interval.
MIN_POINTS = 3


@dataclass(frozen=True)
class Estimate:
    """A mean and its 95% interval (NaN when there are fewer than :data:`MIN_POINTS` values)."""

    value: float
    low: float
    high: float
    n: int

    def excludes(self, level: float) -> bool:
        """True when the interval lies wholly above or below ``level`` (False if NaN)."""
        return bool(self.low > level or self.high < level)


@dataclass(frozen=True)
class Score:
    """The record over one horizon on one sample (all scored sessions, or non-overlapping)."""

    horizon: int
    overlapping: bool
    first: date | None
    last: date | None
    days: int
    small_calls: int
    large_calls: int
    mixed_days: int
    unknown_days: int
    hit_rate: Estimate
    base_rate: Estimate
    no_skill: float
    mean_small: Estimate
    mean_large: Estimate
    mean_all: Estimate
    spread: Estimate

    @property
    def calls(self) -> int:
        return self.small_calls + self.large_calls

    @property
    def no_calls(self) -> int:
        return self.mixed_days + self.unknown_days

    @property
    def forecast_value(self) -> bool:
        """Small calls were followed by better RUT/SPX than large calls (interval above 0)."""
        return bool(self.spread.low > 0)

    @property
    def beats_chance(self) -> bool:
        """The hit rate's interval lies above the no-skill hit rate."""
        return bool(self.hit_rate.low > self.no_skill)


@dataclass(frozen=True)
class TrackRecord:
    """The replayed call scored over each horizon (``scores``: overlapping, then
    ``robust``: the same on non-overlapping points), plus the daily series a chart needs:
    ``calls`` (label per session from ``start`` to ``asof``) and ``next_day`` (RUT/SPX
    relative return of the following session, NaN on the last)."""

    asof: date
    start: date
    horizons: tuple[int, ...]
    scores: tuple[Score, ...]
    robust: tuple[Score, ...]
    calls: pd.Series
    next_day: pd.Series
    today: str

    def score(self, horizon: int, *, overlapping: bool = True) -> Score:
        for s in self.scores if overlapping else self.robust:
            if s.horizon == horizon:
                return s
        raise KeyError(horizon)


def _hac(y: np.ndarray, x: np.ndarray | None, lags: int) -> Estimate:
    """Mean of ``y`` (or, with a 0/1 ``x``, the coefficient of ``x``: the difference of the
    means) and its 95% interval: OLS with Newey–West errors (``lags`` > 0) or HC0 (0)."""
    from statsmodels.regression.linear_model import OLS

    n = len(y)
    nan = Estimate(math.nan, math.nan, math.nan, n)
    if n < MIN_POINTS:
        return nan
    if x is None:
        design = np.ones((n, 1))
    else:
        if x.min() == x.max() or min(x.sum(), n - x.sum()) < MIN_POINTS:
            return nan
        design = np.column_stack([np.ones(n), x])
    if np.ptp(y) == 0:  # no variation: the value is exact
        value = float(y[0]) if x is None else 0.0
        return Estimate(value, value, value, n)
    if lags > 0:
        fit = OLS(y, design).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    else:
        fit = OLS(y, design).fit(cov_type="HC0")
    k = design.shape[1] - 1
    low, high = fit.conf_int(alpha=0.05)[k]
    return Estimate(float(fit.params[k]), float(low), float(high), n)


def _score(labels: np.ndarray, outcome: np.ndarray, dates: pd.DatetimeIndex, horizon: int,
           overlapping: bool) -> Score:
    lags = horizon if overlapping else 0
    small, large = labels == "small", labels == "large"
    called = small | large
    up = (outcome > 0).astype("float64")
    hits = np.where(small, outcome > 0, outcome < 0)[called].astype("float64")
    base = _hac(up, None, lags)
    n_small, n_large = int(small.sum()), int(large.sum())
    n_called = n_small + n_large
    no_skill = (math.nan if n_called == 0 or math.isnan(base.value) else
                (n_small * base.value + n_large * (1.0 - base.value)) / n_called)
    # called days only, in time order: the lag structure is that of the calendar (approximately)
    return Score(
        horizon=horizon, overlapping=overlapping,
        first=dates[0].date() if len(dates) else None,
        last=dates[-1].date() if len(dates) else None,
        days=len(labels), small_calls=n_small, large_calls=n_large,
        mixed_days=int((labels == "mixed").sum()), unknown_days=int((labels == "unknown").sum()),
        hit_rate=_hac(hits, None, lags), base_rate=base, no_skill=no_skill,
        mean_small=_hac(outcome[small], None, lags), mean_large=_hac(outcome[large], None, lags),
        mean_all=_hac(outcome, None, lags),
        spread=_hac(outcome[called], small[called].astype("float64"), lags))


def calc_track_record(bars: Mapping[str, pd.DataFrame], asof: date, *,
                      horizons: tuple[int, ...] = HORIZONS, start: date = START) -> TrackRecord:
    """The :class:`TrackRecord` as of ``asof`` (see module doc); ValueError for a horizon < 1.

    Reads ^RUT and ^GSPC closes up to ``asof`` only. A session is scored over ``h`` when it is on
    or after ``start`` and ``h`` common sessions follow it by ``asof``."""
    if not horizons or min(horizons) < 1:
        raise ValueError("horizons must be positive numbers of sessions")
    ratio = to_ratio(bars, asof)
    labels_all = calc_verdict_series(bars, end=asof)
    # same index by construction (both are the common sessions of to_ratio up to asof)
    labels_all = labels_all.reindex(ratio.index)
    values = ratio.to_numpy(dtype="float64")
    first = int(ratio.index.searchsorted(pd.Timestamp(start)))
    labels = labels_all.to_numpy(dtype="object").astype(str)
    scores: list[Score] = []
    robust: list[Score] = []
    for h in sorted(set(horizons)):
        end = len(values) - h  # sessions [first, end) have a complete forward window
        rows = np.arange(first, end) if end > first else np.arange(0)
        outcome = values[rows + h] / values[rows] - 1.0 if len(rows) else np.zeros(0)
        dates = pd.DatetimeIndex(ratio.index[rows])
        scores.append(_score(labels[rows], outcome, dates, h, True))
        step = np.arange(0, len(rows), h)
        robust.append(_score(labels[rows][step], outcome[step], dates[step], h, False))
    shown = ratio.index[first:]
    next_day = pd.Series(np.append(values[1:] / values[:-1] - 1.0, np.nan)[first:]
                         if len(values) else np.zeros(0), index=shown, dtype="float64")
    today = str(labels[-1]) if len(labels) else "unknown"
    return TrackRecord(asof=asof, start=start, horizons=tuple(sorted(set(horizons))),
                       scores=tuple(scores), robust=tuple(robust),
                       calls=labels_all.iloc[first:], next_day=next_day, today=today)


def to_cumulative(record: TrackRecord) -> dict[str, pd.Series]:
    """Growth of 1 in RUT/SPX held only on the session after each ``"small"`` call, after each
    ``"large"`` call, and on every session (``"all"``): cumulative products of the next
    session's relative return (1 on sessions not held). Index: the session of the call."""
    nxt = record.next_day.fillna(0.0)
    calls = record.calls.reindex(nxt.index)
    out: dict[str, pd.Series] = {}
    for key, mask in (("small", calls == "small"), ("large", calls == "large"),
                      ("all", pd.Series(True, index=nxt.index))):
        out[key] = (1.0 + nxt.where(mask, 0.0)).cumprod()
    return out


__all__ = ["HORIZONS", "START", "Estimate", "Score", "TrackRecord", "calc_track_record",
           "to_cumulative"]
