"""One leadership call from three horizons: who leads, small or large caps, in one sentence.

Every surface (headline, chart titles, /status, the briefing, JSON) shows this call, so no two
parts of one output can disagree. The rule (``docs/leadership.md``, "The verdict"), on the
RUT/SPX ratio (``^RUT / ^GSPC`` closes on common sessions, :func:`analytics.leadership.to_ratio`):

======== ============================================ =========================================
horizon  measure                                      call
======== ============================================ =========================================
month    relative return over 21 sessions             small if > +0.5%, large if < -0.5%,
         (``ratio[t] / ratio[t-21] - 1``)             else even; unknown with < 22 values
50-day   ratio vs its 50-session simple average       small above, large below, even when
                                                      equal (rel. 1e-12); unknown < 50 values
200-day  the trend regime: ratio vs its 200-session   small above, large at or below;
         average (:mod:`analytics.leadership`)        unknown with < 221 values
======== ============================================ =========================================

``leader`` (the one call):

- ``"unknown"``: any horizon unknown (too little history);
- ``"small"`` / ``"large"``: every horizon that is not even says that side;
- ``"mixed"``: the horizons disagree (the sentence says which leads what), or all are even.

The 50-day call is the side the /status streak counts; the 200-day call is the side of the
trend regime, so the streak and trend lines always agree with the verdict. Nothing after
``asof`` is read. :func:`calc_verdict_series` gives the same label as :func:`calc_verdict` for
every session at once (vectorised; tested equal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from analytics.leadership import (
    LONG_WINDOW,
    SHORT_WINDOW,
    SLOPE_SESSIONS,
    InsufficientData,
    RelativeStrength,
    calc_relative_strength,
    to_ratio,
)
from analytics.returns import WINDOW_SESSIONS

Side = Literal["small", "large", "even", "unknown"]
Leader = Literal["small", "large", "mixed", "unknown"]
LEADERS: tuple[str, ...] = ("small", "large", "mixed", "unknown")

#: The month horizon's window (sessions) and its even band (|relative return| below it: even).
MONTH_WINDOW = "1m"
MONTH_SESSIONS = WINDOW_SESSIONS[MONTH_WINDOW]
EVEN_BAND = 0.005
#: Ratio values the trend needs: the 200-day average now and 21 sessions earlier.
TREND_MIN = LONG_WINDOW + SLOPE_SESSIONS

#: Horizon names as the sentence and the title use them.
HORIZON_NAMES = {"month": f"the past month ({MONTH_SESSIONS} sessions)",
                 "fifty_day": "the 50-day average", "trend": "the 200-day trend"}
SHORT_NAMES = {"month": "the month", "fifty_day": "the 50-day", "trend": "the trend"}
CAPS = {"small": "small caps", "large": "large caps"}


@dataclass(frozen=True)
class HorizonCall:
    """One horizon's call. ``value``: the month's relative return, or ratio / average - 1 for
    the 50- and 200-day horizons (NaN when unknown)."""

    key: str
    name: str
    side: Side
    value: float


@dataclass(frozen=True)
class Verdict:
    """The leadership call as of ``asof`` (the last session with both indices).

    ``leader``: ``"small"``, ``"large"``, ``"mixed"`` or ``"unknown"`` (see module doc);
    ``month``, ``fifty_day``, ``trend``: the three horizon calls. ``title``: the call in a few
    words (chart and embed titles; "the trend" = the 200-day trend, "short term" = the month
    and the 50-day); ``sentence``: the call in one sentence (the headline's first sentence)."""

    asof: date
    leader: Leader
    month: HorizonCall
    fifty_day: HorizonCall
    trend: HorizonCall
    title: str
    sentence: str

    @property
    def horizons(self) -> tuple[HorizonCall, HorizonCall, HorizonCall]:
        return (self.month, self.fifty_day, self.trend)


def _leader(sides: tuple[str, str, str]) -> Leader:
    """The rule of the module doc on three horizon sides (month, 50-day, trend)."""
    if "unknown" in sides:
        return "unknown"
    called = {s for s in sides if s != "even"}
    if len(called) == 1:
        return "small" if "small" in called else "large"
    return "mixed"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _sides_of(calls: tuple[HorizonCall, ...], side: str) -> list[HorizonCall]:
    return [c for c in calls if c.side == side]


def _words(leader: Leader, calls: tuple[HorizonCall, HorizonCall, HorizonCall]
           ) -> tuple[str, str]:
    """``(title, sentence)`` for a leader and its horizon calls."""
    month, _, trend = calls
    if leader == "unknown":
        return ("Too little history to call a leader",
                "Too little history to call a leader (the 200-day trend needs "
                f"{TREND_MIN} sessions of RUT/SPX).")
    if leader in ("small", "large"):
        who = CAPS[leader].capitalize()
        level = [HORIZON_NAMES[c.key] for c in calls if c.side == "even"]
        if not level:
            return (f"{who} lead on every horizon",
                    f"{who} lead on every horizon: {_join(list(HORIZON_NAMES.values()))}.")
        lead = [c for c in calls if c.side == leader]
        verb = "is" if len(level) == 1 else "are"
        return (f"{who} lead; {_join([SHORT_NAMES[c.key] for c in calls if c.side == 'even'])}"
                " level",
                f"{who} lead {_join([HORIZON_NAMES[c.key] for c in lead])}; "
                f"{_join(level)} {verb} level.")
    # mixed
    if trend.side not in ("small", "large"):  # the trend exactly even: say what each says
        parts = [f"{CAPS[c.side]} lead {HORIZON_NAMES[c.key]}" for c in calls
                 if c.side in CAPS]
        text = "; ".join(parts) or "every horizon is level"
        return ("Mixed: no horizon agrees", f"Mixed: {text}; the 200-day trend is level.")
    held, other = trend.side, "large" if trend.side == "small" else "small"
    against = _sides_of(calls, other)
    with_trend = _sides_of(calls, held)
    if month.side == other:
        why = ("a pullback inside small-cap leadership" if held == "small"
               else "a small-cap bounce inside large-cap leadership")
    else:
        why = ("small caps recovering from a pullback" if held == "small"
               else "large caps regaining the lead after a small-cap bounce")
    short = ("short term" if {c.key for c in against} == {"month", "fifty_day"}
             else _join([SHORT_NAMES[c.key] for c in against]))
    title = f"Mixed: {CAPS[other]} lead {short}, {CAPS[held]} the trend"
    sentence = (f"{CAPS[other].capitalize()} lead {_join([HORIZON_NAMES[c.key] for c in against])}"
                f"; {CAPS[held]} still lead {_join([HORIZON_NAMES[c.key] for c in with_trend])}"
                f" ({why}).")
    return title, sentence


def _month_side(change: float) -> Side:
    if math.isnan(change):
        return "unknown"
    if abs(change) < EVEN_BAND:
        return "even"
    return "small" if change > 0 else "large"


#: The 200-day call of each trend regime (the side of the 200-day average).
TREND_SIDES: Mapping[str, Side] = {"small_caps_leading": "small", "small_caps_rebounding": "small",
                                   "small_caps_fading": "large", "large_caps_leading": "large",
                                   "unknown": "unknown"}


def verdict_from_relative(rel: RelativeStrength) -> Verdict:
    """The :class:`Verdict` of a :class:`RelativeStrength` (the /status ratio block), so the
    call and the trend/streak lines of one output come from the same numbers."""
    change = rel.ratio_changes.get(MONTH_WINDOW, math.nan)
    fifty: Side = rel.leader if rel.leader in ("small", "large", "even") else "unknown"  # type: ignore[assignment]
    trend = TREND_SIDES[rel.regime]
    calls = (HorizonCall("month", HORIZON_NAMES["month"], _month_side(change), change),
             HorizonCall("fifty_day", HORIZON_NAMES["fifty_day"], fifty,
                         rel.vs_sma50 if fifty != "unknown" else math.nan),
             HorizonCall("trend", HORIZON_NAMES["trend"], trend,
                         rel.vs_sma200 if trend != "unknown" else math.nan))
    leader = _leader((calls[0].side, calls[1].side, calls[2].side))
    title, sentence = _words(leader, calls)
    return Verdict(asof=rel.asof, leader=leader, month=calls[0], fifty_day=calls[1],
                   trend=calls[2], title=title, sentence=sentence)


def calc_verdict_of_ratio(ratio: pd.Series, asof: date) -> Verdict:
    """:class:`Verdict` of a RUT/SPX ratio series as of ``asof`` (InsufficientData if empty)."""
    return verdict_from_relative(calc_relative_strength(ratio, asof))


def calc_verdict(bars: Mapping[str, pd.DataFrame], asof: date) -> Verdict:
    """The :class:`Verdict` as of ``asof`` from bar frames holding ^RUT and ^GSPC.

    InsufficientData when either is missing or they share no session by ``asof``."""
    ratio = to_ratio(bars, asof)
    if ratio.empty:
        raise InsufficientData(f"no session with both ^RUT and ^GSPC on or before {asof}")
    return calc_verdict_of_ratio(ratio, asof)


def _rolling_mean(values: np.ndarray, window: int, csum: np.ndarray) -> np.ndarray:
    """Trailing mean per row, computed as :func:`calc_relative_strength` does (NaN early)."""
    n = len(values)
    out = np.full(n, np.nan)
    if n >= window:
        out[window - 1:] = (csum[window:] - csum[:-window]) / window
    return out


def calc_verdict_series(bars: Mapping[str, pd.DataFrame], start: date | None = None,
                        end: date | None = None) -> pd.Series:
    """``leader`` of :func:`calc_verdict` for every common session from ``start`` to ``end``
    (inclusive; None = the first / last), as a string Series on the session index.

    Vectorised over the whole ratio history (one pass, no look-ahead: each row uses only the
    rows up to it), so it is cheap enough to replay every session since 1979."""
    ratio = to_ratio(bars, end)
    values = ratio.to_numpy(dtype="float64")
    n = len(values)
    csum = np.concatenate(([0.0], np.cumsum(values)))
    sma50 = _rolling_mean(values, SHORT_WINDOW, csum)
    sma200 = _rolling_mean(values, LONG_WINDOW, csum)
    rows = np.arange(n)
    # month: ratio[t] / ratio[t - 21] - 1 (as analytics.returns does on the ratio series)
    month = np.full(n, np.nan)
    if n > MONTH_SESSIONS:
        with np.errstate(divide="ignore", invalid="ignore"):
            month[MONTH_SESSIONS:] = values[MONTH_SESSIONS:] / values[:-MONTH_SESSIONS] - 1.0
    month_side = np.where(np.isnan(month), 0,
                          np.where(np.abs(month) < EVEN_BAND, 1,
                                   np.where(month > 0, 2, 3)))
    with np.errstate(invalid="ignore"):
        close50 = np.isclose(values, sma50, rtol=1e-12, atol=0.0)
        fifty_side = np.where(rows < SHORT_WINDOW - 1, 0,
                              np.where(close50, 1, np.where(values > sma50, 2, 3)))
        trend_side = np.where(rows < TREND_MIN - 1, 0, np.where(values > sma200, 2, 3))
    sides = np.stack([month_side, fifty_side, trend_side])
    unknown = (sides == 0).any(axis=0)
    small = (sides == 2).any(axis=0)
    large = (sides == 3).any(axis=0)
    labels = np.where(unknown, "unknown",
                      np.where(small & ~large, "small",
                               np.where(large & ~small, "large", "mixed")))
    out = pd.Series(labels, index=ratio.index, dtype="object", name="leader")
    if start is not None:
        out = out.loc[pd.Timestamp(start):]
    return out


__all__ = ["EVEN_BAND", "LEADERS", "HorizonCall", "Leader", "Side", "Verdict", "calc_verdict",
           "calc_verdict_of_ratio", "calc_verdict_series", "verdict_from_relative"]
