"""Walk-forward test of the drivers panel: does today's reading say anything about what follows?

Evaluation points: every ``step`` (21) sessions of the RUT/SPX relative series, counted from the
first session on or after ``start`` (anchored there, so later data never moves a point), up to
``asof``. At each point ``t`` the bot's own :func:`analytics.drivers.calc_drivers` runs as of
``t`` (it reads nothing dated after ``t``), giving per driver a *score*: +1 tailwind,
−1 headwind, 0 neutral; NaN when absent, stale, or descriptive (not counted). The *composite*
is the panel's ``score`` (tailwinds − headwinds); ``lean`` is the sum over counted readings
of ``sign(1M change) × r`` whatever the interval says (what the old |r| ≥ 0.1 rule leaned on).

Outcomes: the RUT/SPX relative return over the next ``h`` sessions, ``rel[t+h] / rel[t] − 1``
(only where ``t + h`` is on or before ``asof``), for ``h`` in ``horizons`` (21, 63); and, for
comparison, over the past 21 sessions ``rel[t] / rel[t−21] − 1``.

Each score is related to each outcome by Spearman's rank correlation: ranks (ties averaged)
through :func:`analytics.relation.relation_of` — n, rho, 95% interval and p-value (Newey-West,
never narrower than the conventional interval). Windows never overlap: for a horizon longer
than ``step`` only every ``ceil(h / step)``-th point is used (every 3rd for 63 sessions, from
the first point), because Newey-West on overlapping windows of a persistent signal still
calls too many relations in samples this size. Fewer than 26 points, fewer than 26 calls
(non-zero scores: a handful of calls ranks nothing), or a score that never varies, gives no
score (None).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics.drivers import DriversPanel, calc_drivers, to_relative
from analytics.relation import MIN_PAIRS, Relation, relation_of

STEP = 21
HORIZONS = (21, 63)
PAST = 21
START = date(1990, 1, 1)
SCORES = {"tailwind": 1.0, "headwind": -1.0, "neutral": 0.0}


@dataclass(frozen=True)
class ForwardScore:
    """One signal (a driver, ``composite`` or ``lean``) against one outcome.

    ``horizon`` > 0: the next ``horizon`` sessions; < 0: the past ``-horizon`` sessions.
    ``called``: points where the signal was non-zero (a tailwind or headwind call)."""

    key: str
    name: str
    horizon: int
    points: int
    called: int
    relation: Relation | None


@dataclass(frozen=True)
class DriversForward:
    """The walk-forward record over ``first``..``last`` evaluation points (see the module
    docstring); ``signals`` has one row per point: each driver's score, ``composite``, ``lean``,
    ``fwd_21``, ``fwd_63``, ``past_21``."""

    asof: date
    step: int
    first: date | None
    last: date | None
    signals: pd.DataFrame
    scores: tuple[ForwardScore, ...]

    def score(self, key: str, horizon: int) -> ForwardScore | None:
        return next((s for s in self.scores if s.key == key and s.horizon == horizon), None)


def to_points(relative: pd.Series, asof: date, *, start: date = START, step: int = STEP
              ) -> pd.DatetimeIndex:
    """Every ``step``-th session of ``relative`` from the first on or after ``start``, up to
    ``asof``."""
    index = pd.DatetimeIndex(relative.index)
    index = index[(index >= pd.Timestamp(start)) & (index <= pd.Timestamp(asof))]
    return index[::step]


def to_signal_row(panel: DriversPanel) -> dict[str, float]:
    """Per-driver scores, ``composite`` and ``lean`` of one panel (see the module docstring)."""
    row: dict[str, float] = {}
    lean = 0.0
    for r in panel.readings:
        counted = not r.stale and r.call in SCORES
        row[r.key] = SCORES[r.call] if counted else math.nan
        move = r.change_1m if r.change_1m is not None else r.change_3m
        if counted and r.relation is not None and move:
            lean += math.copysign(1.0, move) * r.relation.corr
    row["composite"] = float(panel.score)
    row["lean"] = lean
    return row


def calc_signals(bars: Mapping[str, pd.DataFrame], asof: date, *,
                 fred: Mapping[str, pd.Series] | None = None, start: date = START,
                 step: int = STEP,
                 panel_at: Callable[[date], DriversPanel] | None = None) -> pd.DataFrame:
    """One row per evaluation point up to ``asof``: the signals as of that point (each computed
    from data dated on or before it only, so rows never change when data is appended; this is
    the slow part, ~0.05 s a point). ``panel_at`` replaces ``calc_drivers`` (tests)."""
    relative = to_relative(bars, asof)
    points = to_points(relative, asof, start=start, step=step)
    compute = panel_at or (lambda t: calc_drivers(bars, t, fred=fred))
    rows = [to_signal_row(compute(t.date())) for t in points]
    return pd.DataFrame(rows, index=points, dtype="float64")


def to_outcomes(relative: pd.Series, points: pd.DatetimeIndex, asof: date, *,
                horizons: Sequence[int] = HORIZONS) -> pd.DataFrame:
    """``fwd_<h>`` and ``past_21`` relative returns at ``points`` from ``relative`` cut at
    ``asof`` (NaN where a window leaves the data)."""
    values = relative.loc[: pd.Timestamp(asof)].to_numpy(dtype="float64")
    pos = pd.DatetimeIndex(relative.loc[: pd.Timestamp(asof)].index).get_indexer(points)
    frame = pd.DataFrame(index=points)
    for name, shift in [(f"fwd_{h}", h) for h in horizons] + [(f"past_{PAST}", -PAST)]:
        other = pos + shift
        ok = (pos >= 0) & (other >= 0) & (other < values.size)
        out = np.full(pos.size, np.nan)
        start, end = (pos[ok], other[ok]) if shift > 0 else (other[ok], pos[ok])
        out[ok] = values[end] / values[start] - 1.0
        frame[name] = out
    return frame


def calc_spearman(signal: pd.Series, outcome: pd.Series) -> tuple[int, int, Relation | None]:
    """(points with both, points with a non-zero signal, the rank relation or None: under 26
    calls)."""
    both = pd.concat([signal, outcome], axis=1, join="inner").dropna()
    called = int((both.iloc[:, 0] != 0).sum())
    if called < MIN_PAIRS:
        return len(both), called, None
    # Average ranks of ties, as scipy.stats.rankdata's default (pandas: no scipy import here).
    x = both.iloc[:, 0].rank(method="average").to_numpy()
    y = both.iloc[:, 1].rank(method="average").to_numpy()
    return len(both), called, relation_of(x, y)


def score_forward(signals: pd.DataFrame, relative: pd.Series, asof: date, *,
                  step: int = STEP, horizons: Sequence[int] = HORIZONS,
                  names: Mapping[str, str] | None = None) -> DriversForward:
    """The record as of ``asof`` from :func:`calc_signals` rows (any later rows are dropped, so
    one signals frame serves every ``asof``) and the RUT/SPX ratio ``relative``. ``names``:
    display names by driver key (default: the key)."""
    signals = signals.loc[: pd.Timestamp(asof)]
    frame = signals.join(to_outcomes(relative, pd.DatetimeIndex(signals.index), asof,
                                     horizons=horizons))
    names = dict(names or {})
    names.setdefault("composite", "Composite (tailwinds − headwinds)")
    names.setdefault("lean", "Lean (sum of sign(1M move) × r, any r)")
    outcomes = [(h, f"fwd_{h}") for h in horizons] + [(-PAST, f"past_{PAST}")]
    keys = [k for k in signals.columns if k not in ("composite", "lean")]
    keys += [k for k in ("composite", "lean") if k in signals.columns]
    scores: list[ForwardScore] = []
    for key in keys:
        for h, column in outcomes:
            every = max(1, math.ceil(abs(h) / step))
            n, called, rel = calc_spearman(frame[key].iloc[::every],
                                           frame[column].iloc[::every])
            scores.append(ForwardScore(key=key, name=names.get(key, key), horizon=h, points=n,
                                       called=called, relation=rel))
    index = pd.DatetimeIndex(frame.index)
    return DriversForward(asof=asof, step=step,
                          first=index[0].date() if len(index) else None,
                          last=index[-1].date() if len(index) else None,
                          signals=frame, scores=tuple(scores))


def calc_drivers_forward(bars: Mapping[str, pd.DataFrame], asof: date, *,
                         fred: Mapping[str, pd.Series] | None = None, start: date = START,
                         step: int = STEP, horizons: Sequence[int] = HORIZONS,
                         names: Mapping[str, str] | None = None,
                         panel_at: Callable[[date], DriversPanel] | None = None
                         ) -> DriversForward:
    """:func:`calc_signals` then :func:`score_forward` as of ``asof``."""
    signals = calc_signals(bars, asof, fred=fred, start=start, step=step, panel_at=panel_at)
    return score_forward(signals, to_relative(bars, asof), asof, step=step, horizons=horizons,
                         names=names)


def describe_record(forward: DriversForward, *, horizon: int = HORIZONS[0]) -> str:
    """One line: the composite's forecast record against the next ``horizon`` sessions, e.g.
    "Composite forecast record 1990–2026: Spearman −0.05 vs the next 21 sessions (95% CI −0.15
    to +0.05, n=430, p=0.54): no forecast value"."""
    score = forward.score("composite", horizon)
    span = (f"{forward.first.year}–{forward.last.year}"
            if forward.first and forward.last else "")
    head = f"Composite forecast record {span}".rstrip()
    if score is None or score.relation is None:
        n = score.points if score else 0
        return (f"{head}: too few scored points (n={n}) to measure against the next {horizon} "
                "sessions")
    rel = score.relation
    verdict = ("no forecast value" if not rel.reliable else
               "it tended to point the right way" if rel.corr > 0 else
               "it tended to point the wrong way")
    text = (f"{head}: Spearman {rel.corr:+.2f} vs the next {horizon} sessions (95% CI "
            f"{rel.low:+.2f} to {rel.high:+.2f}, n={rel.periods}, p={rel.p_value:.2f}): "
            f"{verdict}")
    return text.replace("-", "−")
