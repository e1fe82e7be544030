"""Event series, computed once over the whole history; row ``t`` reads only closes up to ``t``.

Each detector returns the dates an event fired (plus what the sentence needs), so an evaluation
as of any session is a slice (rules in ``docs/alerts.md``):

- :func:`to_level_crosses`: round levels with hysteresis (a two-threshold trigger per level).
- :func:`to_ma_crosses`: a series against its moving average, confirmed by N closes in a row.
- :func:`to_cycle_turns`: the session a leadership turn of :mod:`analytics.studies.cycles` is
  confirmed (the study dates turns at the extreme; the alert fires when the swing completes).
- :func:`to_drought_milestones`: the first session N years (365-day) after the last record.
Records and breakouts come straight from :mod:`analytics.records` and
:mod:`analytics.studies.breakouts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics.records import to_record_flags
from analytics.studies.cycles import calc_cycles

DAYS_PER_YEAR = 365
_Date = date  # the dataclasses below have a field named ``date``


@dataclass(frozen=True)
class LevelCross:
    """A close through ``level``: ``direction`` +1 up (close ≥ level), -1 down (close below).
    ``first_ever``: an up-cross to a level no earlier close reached."""

    date: _Date
    level: float
    direction: int
    close: float
    first_ever: bool


def to_level_crosses(prices: pd.Series, step: float, band: float) -> list[LevelCross]:
    """Crosses of every multiple of ``step`` (from one step up), oldest first.

    Per level ``L`` the side starts as the first close's (above iff close ≥ L). From below, an
    up-cross fires on a close ≥ L the first time the level fires, and afterwards only on a close
    ≥ L·(1 + band); from above, a down-cross fires on a close < L the first time, afterwards
    only on a close ≤ L·(1 − band). Each fire flips the side, so fires alternate up/down.
    NaNs dropped; fewer than 2 closes → none.
    """
    if not step > 0:
        raise ValueError("step must be positive")
    clean = prices.dropna()
    values = clean.to_numpy(dtype="float64")
    if values.size < 2:
        return []
    dates = clean.index
    prior_max = np.maximum.accumulate(np.concatenate(([-np.inf], values[:-1])))
    out: list[LevelCross] = []
    top = int(np.floor(values.max() / step))
    for k in range(1, top + 1):
        level = k * step
        at, hi, lo = values >= level, values >= level * (1 + band), values <= level * (1 - band)
        changed = np.flatnonzero((np.diff(at) != 0) | (np.diff(hi) != 0) | (np.diff(lo) != 0))
        above, fired = bool(at[0]), False
        for i in (changed + 1).tolist():
            if not above and (hi[i] if fired else at[i]):
                above, fired = True, True
                out.append(LevelCross(dates[i].date(), level, 1, float(values[i]),
                                      bool(prior_max[i] < level)))
            elif above and (lo[i] if fired else not at[i]):
                above, fired = False, True
                out.append(LevelCross(dates[i].date(), level, -1, float(values[i]), False))
    out.sort(key=lambda c: (c.date, c.direction * c.level))
    return out


@dataclass(frozen=True)
class MaCross:
    """``series`` confirmed on a new side of its ``window``-session average on ``date``:
    ``direction`` +1 above, -1 below; ``run_start`` is the first close of the confirming run."""

    date: _Date
    window: int
    direction: int
    value: float
    average: float
    run_start: _Date


def to_ma_crosses(series: pd.Series, window: int, confirm: int) -> list[MaCross]:
    """Confirmed crosses of ``series`` over its simple ``window``-session moving average.

    side = sign(value − average) (0 when equal or while the average is undefined). The
    *confirmed side* becomes s on a session that ends ``confirm`` consecutive sessions all on
    side s ≠ 0; it stays until the other side is confirmed. An event is a change of confirmed
    side (the first confirmation is no cross). It fires on the last session of the run.
    """
    if window < 1 or confirm < 1:
        raise ValueError("window and confirm must be at least 1")
    clean = series.dropna().astype("float64")
    average = clean.rolling(window, min_periods=window).mean()
    side = pd.Series(np.sign((clean - average).to_numpy()), index=clean.index).fillna(0.0)
    lo = side.rolling(confirm, min_periods=confirm).min()
    hi = side.rolling(confirm, min_periods=confirm).max()
    confirmed = side.where((lo == hi) & (side != 0)).ffill()
    prev = confirmed.shift(1)
    fired = np.flatnonzero((prev.notna() & confirmed.notna() & (confirmed != prev)).to_numpy())
    idx = clean.index
    return [MaCross(idx[i].date(), window, int(confirmed.iloc[i]), float(clean.iloc[i]),
                    float(average.iloc[i]), idx[i - confirm + 1].date()) for i in fired.tolist()]


@dataclass(frozen=True)
class CycleTurn:
    """A leadership turn confirmed on ``date``: the RUT/SPX ratio moved ``swing`` from its
    extreme of ``turn_date``; ``leader`` is who leads from the turn ("small" or "large")."""

    date: _Date
    turn_date: _Date
    leader: str
    ratio: float
    turn_ratio: float
    prior_start: _Date


def to_cycle_turns(rut: pd.Series, spx: pd.Series, asof: date, swing: float) -> list[CycleTurn]:
    """Confirmed turns of :func:`analytics.studies.cycles.calc_cycles` up to ``asof``.

    The study's turn at the extreme ``t`` (a peak when large caps take over, a trough when small
    caps do) is confirmed by the first later close of the ratio at or beyond
    ``ratio[t]·(1 ∓ swing)``: exactly when the study's swing rule registers it. Turns already in
    the study are confirmed by ``asof`` by construction, and later data never removes one.
    """
    study = calc_cycles(rut, spx, asof, swing=swing)
    ratio = study.ratio
    values = ratio.to_numpy(dtype="float64")
    out: list[CycleTurn] = []
    for prior, regime in zip(study.regimes, study.regimes[1:], strict=False):
        t = int(ratio.index.searchsorted(pd.Timestamp(regime.start)))
        if regime.leader == "small":
            hits = np.flatnonzero(values[t + 1:] >= values[t] * (1 + swing))
        else:
            hits = np.flatnonzero(values[t + 1:] <= values[t] * (1 - swing))
        if hits.size == 0:  # pragma: no cover - the study confirmed it, so a hit exists
            continue
        c = t + 1 + int(hits[0])
        out.append(CycleTurn(ratio.index[c].date(), regime.start, regime.leader,
                             float(values[c]), float(values[t]), prior.start))
    return out


@dataclass(frozen=True)
class DroughtMilestone:
    """``years`` without a record close reached on ``date`` (last record ``record_date``)."""

    date: _Date
    years: int
    record_date: _Date
    record_close: float
    close: float


def to_drought_milestones(prices: pd.Series, years: tuple[int, ...]) -> list[DroughtMilestone]:
    """First session with at least ``365·y`` calendar days since the last record close, for
    each ``y``; one per drought and milestone (a record resets the count)."""
    clean = prices.dropna().astype("float64")
    if clean.empty:
        return []
    flags = to_record_flags(clean).to_numpy()
    pos = np.arange(len(clean))
    last = np.maximum.accumulate(np.where(flags, pos, 0))
    day = clean.index.to_numpy(dtype="datetime64[D]").astype("int64")
    since = day - day[last]
    values = clean.to_numpy()
    out: list[DroughtMilestone] = []
    for y in sorted(set(years)):
        need = y * DAYS_PER_YEAR
        prev = np.concatenate(([0], since[:-1]))
        for i in np.flatnonzero((since >= need) & (prev < need)).tolist():
            out.append(DroughtMilestone(clean.index[i].date(), y,
                                        clean.index[last[i]].date(), float(values[last[i]]),
                                        float(values[i])))
    out.sort(key=lambda m: (m.date, m.years))
    return out
