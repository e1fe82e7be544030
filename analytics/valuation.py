"""Valuation: the trailing P/E of IWM (Russell 2000 ETF) against SPY (S&P 500) and IVW (S&P 500
Growth), from readings recorded once per NYSE session.

Input ``history``: rows ``symbol``, ``session`` (date), ``trailing_pe`` (at most one per symbol
and session). Only sessions on or before ``asof`` are used, so appending later readings never
changes an answer.

- ``session``: the latest session on or before ``asof`` with an IWM reading; ``iwm``, ``spy``,
  ``ivw`` are the P/Es of that session (a benchmark without one is None and its absence is
  labelled). ``stale`` when that session is more than :data:`MAX_AGE_DAYS` days before ``asof``.
- ``vs_spy`` / ``vs_ivw``: ``iwm / benchmark - 1`` (a fraction; negative = IWM cheaper).
- ``sessions``: sessions with both an IWM and an SPY reading (the history behind a relation).
- ``relation``: the relative valuation (IWM P/E / SPY P/E, last reading of each week) against
  the RUT/SPX relative return over the next :data:`FORWARD_WEEKS` weeks, using only windows
  that end on or before ``asof`` (:func:`analytics.drivers.calc_relation`: correlation and beta,
  needs 26 pairs, so about 30 weeks of readings). Forward windows overlap, so neighbouring pairs
  are not independent: ``interval`` is the 95% interval of the slope (relative return per 1.0
  of the P/E ratio) with Newey-West (HAC, Bartlett weights, ``FORWARD_WEEKS - 1`` lags)
  standard errors, ``beta ± 1.96·se``; the line calls a link only when it excludes zero. None
  until there are enough pairs; ``line`` then says how many sessions of history exist.
- An absent reading (replay without such data, nothing recorded yet, or the fetch failed)
  keeps its place with ``status == "absent"`` and the reason in ``line``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from analytics.drivers import MIN_PAIRS, Relation, calc_relation

SYMBOLS = ("IWM", "SPY", "IVW")
FORWARD_WEEKS = 4
MAX_AGE_DAYS = 7
NOT_IN_REPLAY = "not in replay data"


@dataclass(frozen=True)
class ValuationReading:
    """Trailing P/E of IWM vs SPY and IVW as of ``asof`` (see the module docstring)."""

    asof: date
    status: Literal["ok", "absent"]
    session: date | None
    iwm: float | None
    spy: float | None
    ivw: float | None
    vs_spy: float | None
    vs_ivw: float | None
    sessions: int
    relation: Relation | None
    interval: tuple[float, float] | None
    stale: bool
    line: str
    missing: tuple[str, ...]


def absent_valuation(asof: date, reason: str) -> ValuationReading:
    """The labelled absence (e.g. ``NOT_IN_REPLAY``) that takes the reading's place."""
    return ValuationReading(asof=asof, status="absent", session=None, iwm=None, spy=None,
                            ivw=None, vs_spy=None, vs_ivw=None, sessions=0, relation=None,
                            interval=None, stale=False, line=f"Valuation (trailing P/E): {reason}",
                            missing=())


def _wide(history: pd.DataFrame, asof: date) -> pd.DataFrame:
    """session × symbol P/E table of the readings on or before ``asof`` (finite, > 0)."""
    if history.empty:
        return pd.DataFrame(columns=list(SYMBOLS), dtype="float64")
    rows = history.loc[pd.to_datetime(history["session"]) <= pd.Timestamp(asof)]
    rows = rows.loc[np.isfinite(rows["trailing_pe"]) & (rows["trailing_pe"] > 0)]
    wide = rows.pivot_table(index=pd.to_datetime(rows["session"]), columns="symbol",
                            values="trailing_pe", aggfunc="last")
    return wide.reindex(columns=list(SYMBOLS)).sort_index()


def calc_hac_interval(x: np.ndarray, y: np.ndarray, lags: int) -> tuple[float, float] | None:
    """95% interval of the OLS slope of ``y`` on ``x``: ``beta ± 1.96·se`` with Newey-West
    standard errors (statsmodels HAC, Bartlett weights ``1 - l/(lags+1)``, no small-sample
    correction). None with < 3 points or no spread."""
    if x.size < 3 or np.ptp(x) == 0:
        return None
    from statsmodels.regression.linear_model import OLS  # lazy: ~1 s import

    fit = OLS(y, np.column_stack([np.ones(x.size), x])).fit(
        cov_type="HAC", cov_kwds={"maxlags": min(lags, x.size - 1)})
    beta, se = float(fit.params[1]), float(fit.bse[1])
    return beta - 1.96 * se, beta + 1.96 * se


def _weekly_pairs(wide: pd.DataFrame, relative: pd.Series | None, asof: date) -> pd.DataFrame:
    """Weekly IWM/SPY P/E ratio (``x``) and the next ``FORWARD_WEEKS`` weeks' RUT/SPX return
    (``y``), windows ending on or before ``asof`` only."""
    if relative is None or relative.empty:
        return pd.DataFrame(columns=["x", "y"], dtype="float64")
    ratio = (wide["IWM"] / wide["SPY"]).dropna()
    weekly_ratio = ratio.groupby(pd.DatetimeIndex(ratio.index).to_period("W-FRI")).last()
    rel = relative.loc[:pd.Timestamp(asof)].dropna()
    weekly_rel = rel.groupby(pd.DatetimeIndex(rel.index).to_period("W-FRI")).last()
    forward = weekly_rel.shift(-FORWARD_WEEKS) / weekly_rel - 1.0
    both = pd.concat([weekly_ratio, forward], axis=1, join="inner").dropna()
    both.columns = ["x", "y"]
    return both


def calc_relative_valuation_relation(wide: pd.DataFrame, relative: pd.Series | None,
                                     asof: date
                                     ) -> tuple[Relation | None, tuple[float, float] | None]:
    """(correlation and beta, the slope's HAC 95% interval) of the weekly pairs; (None, None)
    with under 26 pairs or no ``relative``."""
    pairs = _weekly_pairs(wide, relative, asof)
    if len(pairs) < MIN_PAIRS:
        return None, None
    relation = calc_relation(pairs["x"], pairs["y"])
    if relation is None:
        return None, None
    x, y = pairs["x"].to_numpy(dtype="float64"), pairs["y"].to_numpy(dtype="float64")
    return relation, calc_hac_interval(x, y, FORWARD_WEEKS - 1)


def _pe(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a"


def _versus(diff: float | None, name: str) -> str:
    if diff is None:
        return ""
    word = "above" if diff >= 0 else "below"
    return f"{abs(diff) * 100:.0f}% {word} {name}"


def _compose_line(r: ValuationReading, reasons: Mapping[str, str]) -> str:
    head = f"IWM P/E {_pe(r.iwm)}"
    others = [f"{_pe(v)} for {s}" for s, v in (("IVW", r.ivw), ("SPY", r.spy)) if v is not None]
    if others:
        head += " vs " + " and ".join(others)
    when = f" ({r.session.isoformat()}{', old' if r.stale else ''})" if r.session else ""
    parts = [p for p in (_versus(r.vs_ivw, "IVW"), _versus(r.vs_spy, "SPY")) if p]
    text = f"{head}{when}" + (f": IWM {', '.join(parts)}" if parts else "")
    for symbol in r.missing:
        text += f"; {symbol}: {reasons.get(symbol, 'no reading that session')}"
    if r.relation is not None:
        rel = r.relation
        text += (f". IWM/SPY P/E vs the next {FORWARD_WEEKS} weeks' RUT/SPX return: corr "
                 f"{rel.corr:+.2f} ({rel.strength}, {rel.periods} weeks)")
        lo, hi = r.interval if r.interval is not None else (float("nan"), float("nan"))
        if lo > 0 or hi < 0:
            lead = "lagged" if lo > 0 else "led"
            text += (f"; when IWM was dearer than SPY, small caps {'led' if lo > 0 else 'lagged'}"
                     f" and when cheaper they {lead} (95% HAC interval excludes zero)")
        else:
            text += "; no reliable link (95% HAC interval includes zero)"
    else:
        plural = "" if r.sessions == 1 else "s"
        text += (f". {r.sessions} session{plural} of history; the relation to small-cap "
                 f"relative performance needs {MIN_PAIRS} weekly readings plus "
                 f"{FORWARD_WEEKS} weeks")
    return text


def calc_valuation(history: pd.DataFrame, asof: date, relative: pd.Series | None = None, *,
                   reasons: Mapping[str, str] | None = None) -> ValuationReading:
    """The reading as of ``asof`` from the recorded ``history`` (see the module docstring).

    ``relative``: the RUT/SPX price ratio by session (for the relation); ``reasons``: why a
    symbol could not be read (shown when its P/E is missing).
    """
    reasons = dict(reasons or {})
    wide = _wide(history, asof)
    with_iwm = wide["IWM"].dropna()
    if with_iwm.empty:
        why = reasons.get("IWM") or f"no reading recorded on or before {asof.isoformat()}"
        return absent_valuation(asof, why)
    day = with_iwm.index[-1]
    row = wide.loc[day]

    def value(symbol: str) -> float | None:
        v = row[symbol]
        return float(v) if pd.notna(v) else None

    iwm, spy, ivw = value("IWM"), value("SPY"), value("IVW")
    relation, interval = calc_relative_valuation_relation(wide, relative, asof)
    session = day.date()
    reading = ValuationReading(
        asof=asof, status="ok", session=session, iwm=iwm, spy=spy, ivw=ivw,
        vs_spy=iwm / spy - 1.0 if iwm and spy else None,
        vs_ivw=iwm / ivw - 1.0 if iwm and ivw else None,
        sessions=int((wide["IWM"].notna() & wide["SPY"].notna()).sum()),
        relation=relation, interval=interval,
        stale=(asof - session).days > MAX_AGE_DAYS, line="",
        missing=tuple(s for s, v in (("SPY", spy), ("IVW", ivw)) if v is None))
    return ValuationReading(**{**reading.__dict__, "line": _compose_line(reading, reasons)})
