"""Who leads, small or large caps: the RUT/SPX ratio, its trend, and the snapshot /status shows.

Definitions:
- *Ratio*: ``^RUT close / ^GSPC close`` on the sessions both have (NaN rows dropped). Its change
  over a window (:data:`analytics.returns.WINDOWS`) is the relative return of small over large
  caps: ``(1 + r_RUT) / (1 + r_SPX) - 1``.
- *Averages*: simple means of the last 50 and 200 ratio values (NaN with fewer values).
- *Trend regime*: the ratio above or below its 200-day average, and that average rising or
  falling (its value now against :data:`SLOPE_SESSIONS` sessions earlier). Four states, see
  :data:`REGIME_LABELS`; ``"unknown"`` until 200 + 21 ratio values exist.
- *Leadership streak*: consecutive sessions, ending at ``asof``, with the ratio on the same side
  of its 50-day average: above → small caps lead, below → large caps lead; equal (within 1e-12)
  → ``"even"``, no streak. ``streak_weeks`` is
  the same streak in calendar weeks: ``(asof - streak_start).days // 7``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from analytics.records import RecordsSnapshot, calc_records_snapshot
from analytics.returns import WINDOWS, ReturnRow, calc_returns, to_return_row
from analytics.series import to_price, to_total_return

SMALL, LARGE = "^RUT", "^GSPC"
#: Scoreboard rows: (symbol, display name, basis). Missing symbols are skipped. Every row is a
#: price return (what people quote); the funds' rows also carry their total return
#: (:attr:`~analytics.returns.ReturnRow.total_returns`: "IWM +20.4% (total +21.5%)").
SCOREBOARD: tuple[tuple[str, str, str], ...] = (
    ("^RUT", "Russell 2000", "price"),
    ("^GSPC", "S&P 500", "price"),
    ("IWM", "IWM", "price"),
    ("SPY", "SPY", "price"),
)
#: Funds whose rows also show the total return (dividends reinvested).
WITH_TOTAL: frozenset[str] = frozenset({"IWM", "SPY"})
SHORT_WINDOW, LONG_WINDOW = 50, 200
SLOPE_SESSIONS = 21
REGIME_LABELS: Mapping[str, str] = MappingProxyType({
    "small_caps_leading": "Small caps lead the 200-day trend: RUT/SPX above its rising "
                          "200-day average",
    "small_caps_rebounding": "Small caps lead the 200-day trend, newly: RUT/SPX above a "
                             "still-falling 200-day average",
    "small_caps_fading": "Large caps lead the 200-day trend, newly: RUT/SPX below a "
                         "still-rising 200-day average",
    "large_caps_leading": "Large caps lead the 200-day trend: RUT/SPX below its falling "
                          "200-day average",
    "unknown": "Trend unknown: fewer than 221 sessions of RUT/SPX history",
})


class InsufficientData(ValueError):
    """The inputs cannot answer (a required symbol is missing or has no data by ``asof``)."""


def to_ratio(bars: Mapping[str, pd.DataFrame], asof: date | None = None) -> pd.Series:
    """``^RUT / ^GSPC`` closes on common sessions up to ``asof``; empty when either is absent."""
    if SMALL not in bars or LARGE not in bars:
        return pd.Series(dtype="float64")
    return _ratio_of(to_price(bars[SMALL]), to_price(bars[LARGE]), asof)


def _ratio_of(small: pd.Series, large: pd.Series, asof: date | None) -> pd.Series:
    if asof is not None:
        end = pd.Timestamp(asof)
        small = small.iloc[: int(small.index.searchsorted(end, side="right"))]
        large = large.iloc[: int(large.index.searchsorted(end, side="right"))]
    common, ia, ib = np.intersect1d(small.index.to_numpy(), large.index.to_numpy(),
                                    assume_unique=True, return_indices=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = small.to_numpy(dtype="float64")[ia] / large.to_numpy(dtype="float64")[ib]
    ok = np.isfinite(values)
    return pd.Series(values[ok], index=pd.DatetimeIndex(common[ok]), dtype="float64")


@dataclass(frozen=True)
class RelativeStrength:
    """The RUT/SPX ratio as of ``asof`` and its trend (see module doc for every formula).

    ``vs_sma50``/``vs_sma200`` = ratio / average - 1. ``sma200_slope`` = sma200 now / sma200
    :data:`SLOPE_SESSIONS` sessions earlier - 1; ``sma200_rising`` is None when unknown.
    ``ratio_changes`` maps window → relative return of small over large caps (NaN if too short).
    ``leader`` is ``"small"``, ``"large"`` or ``"even"`` (side of the 50-day average;
    ``"unknown"`` before 50 values); ``streak_start`` is the first session of the current streak.
    """

    asof: date
    ratio: float
    sma50: float
    sma200: float
    vs_sma50: float
    vs_sma200: float
    sma200_slope: float
    sma200_rising: bool | None
    ratio_changes: Mapping[str, float]
    regime: str
    regime_label: str
    leader: str
    streak_sessions: int
    streak_weeks: int
    streak_start: date | None


def _regime(ratio: float, sma200: float, rising: bool | None) -> str:
    if rising is None or math.isnan(sma200):
        return "unknown"
    if ratio > sma200:
        return "small_caps_leading" if rising else "small_caps_rebounding"
    return "small_caps_fading" if rising else "large_caps_leading"


def calc_relative_strength(ratio: pd.Series, asof: date) -> RelativeStrength:
    """:class:`RelativeStrength` of a ratio series as of ``asof``; InsufficientData when empty."""
    clean = ratio.loc[: pd.Timestamp(asof)].dropna()
    if clean.empty:
        raise InsufficientData("no RUT/SPX ratio on or before the requested date")
    values = clean.to_numpy(dtype="float64")
    n = len(values)
    last = float(values[-1])
    csum = np.concatenate(([0.0], np.cumsum(values)))

    def sma(window: int, back: int = 0) -> float:
        end = n - back
        return float((csum[end] - csum[end - window]) / window) if end - window >= 0 else math.nan

    sma50, sma200 = sma(SHORT_WINDOW), sma(LONG_WINDOW)
    sma200_then = sma(LONG_WINDOW, SLOPE_SESSIONS)
    slope = sma200 / sma200_then - 1.0 if not math.isnan(sma200_then) else math.nan
    rising = None if math.isnan(slope) else bool(slope > 0)
    regime = _regime(last, sma200, rising)

    leader, streak, start = "unknown", 0, None
    if n >= SHORT_WINDOW:
        rolling = (csum[SHORT_WINDOW:] - csum[:-SHORT_WINDOW]) / SHORT_WINDOW  # sma50 per row
        tail = values[SHORT_WINDOW - 1:]
        sides = np.where(np.isclose(tail, rolling, rtol=1e-12, atol=0.0), 0,
                         np.sign(tail - rolling))
        side = int(sides[-1])
        leader = {1: "small", -1: "large", 0: "even"}[side]
        if side != 0:
            flips = np.flatnonzero(sides != side)
            streak = len(sides) - (int(flips[-1]) + 1 if len(flips) else 0)
            start = clean.index[n - streak].date()
    weeks = (clean.index[-1].date() - start).days // 7 if start is not None else 0
    return RelativeStrength(
        asof=clean.index[-1].date(), ratio=last, sma50=sma50, sma200=sma200,
        vs_sma50=last / sma50 - 1.0, vs_sma200=last / sma200 - 1.0,
        sma200_slope=slope, sma200_rising=rising, ratio_changes=calc_returns(clean, asof),
        regime=regime, regime_label=REGIME_LABELS[regime], leader=leader,
        streak_sessions=streak, streak_weeks=weeks, streak_start=start,
    )


@dataclass(frozen=True)
class LeadershipSnapshot:
    """Everything /status shows, as of ``asof`` (the last session with both ^RUT and ^GSPC).

    ``scoreboard``: :class:`ReturnRow` for ^RUT, ^GSPC, IWM and SPY (price returns; the funds
    with their total returns too) in that order; a symbol absent or without data by ``asof``
    is left out and named in ``missing``. ``relative``: the RUT/SPX ratio and its trend.
    ``rut_records`` and ``spx_records``: each index against its record close
    (``spx_records.records_ytd`` is the S&P 500 record count year to date).
    """

    asof: date
    scoreboard: tuple[ReturnRow, ...]
    relative: RelativeStrength
    rut_records: RecordsSnapshot
    spx_records: RecordsSnapshot
    missing: tuple[str, ...]

    def row(self, symbol: str) -> ReturnRow | None:
        """The scoreboard row of ``symbol``, or None when it is not on the board."""
        return next((r for r in self.scoreboard if r.symbol == symbol), None)


def calc_leadership_snapshot(bars: Mapping[str, pd.DataFrame], asof: date, *,
                             gap_days: int = 365, round_step: float = 100.0,
                             inceptions: Mapping[str, date] | None = None) -> LeadershipSnapshot:
    """The :class:`LeadershipSnapshot` as of ``asof`` from bar frames keyed by symbol.

    Needs ^RUT and ^GSPC with at least one common session by ``asof`` (else InsufficientData).
    ``gap_days`` is the breakout threshold and ``round_step`` the round-number step (see
    :func:`analytics.records.calc_records_snapshot`). ``inceptions`` maps ^RUT / ^GSPC to the
    index's own first session (missing = unknown: its highs are not all-time records).
    Nothing after ``asof`` is read.
    """
    missing = [s for s in (SMALL, LARGE) if s not in bars or bars[s].empty]
    if missing:
        raise InsufficientData(f"no data for {', '.join(missing)}")
    return calc_snapshot_from_prices(bars, to_price(bars[SMALL]), to_price(bars[LARGE]), asof,
                                     gap_days=gap_days, round_step=round_step,
                                     inceptions=inceptions)


def calc_snapshot_from_prices(bars: Mapping[str, pd.DataFrame], rut: pd.Series, spx: pd.Series,
                              asof: date, *, gap_days: int = 365,
                              round_step: float = 100.0,
                              inceptions: Mapping[str, date] | None = None) -> LeadershipSnapshot:
    """:func:`calc_leadership_snapshot` with the ^RUT and ^GSPC price series already extracted
    (``analytics.series.to_price``), so a caller that needs them too extracts them once."""
    ratio = _ratio_of(rut, spx, asof)
    if ratio.empty:
        raise InsufficientData(f"no session with both {SMALL} and {LARGE} on or before {asof}")
    relative = calc_relative_strength(ratio, asof)
    session = relative.asof
    rows: list[ReturnRow] = []
    absent: list[str] = []
    for symbol, name, basis in SCOREBOARD:
        frame = bars.get(symbol)
        if frame is None or frame.empty:
            absent.append(symbol)
            continue
        price = rut if symbol == SMALL else spx if symbol == LARGE else to_price(frame)
        series = price if basis == "price" else to_total_return(frame)
        total = to_total_return(frame) if symbol in WITH_TOTAL and basis == "price" else None
        row = to_return_row(series, price, session, symbol=symbol, name=name, basis=basis,
                            total=total)
        if row.level_date is None:
            absent.append(symbol)
        else:
            rows.append(row)
    known = inceptions or {}
    rut_records = calc_records_snapshot(rut, session, symbol=SMALL, gap_days=gap_days,
                                        round_step=round_step, inception=known.get(SMALL))
    spx_records = calc_records_snapshot(spx, session, symbol=LARGE, gap_days=gap_days,
                                        round_step=round_step, inception=known.get(LARGE))
    assert rut_records is not None and spx_records is not None  # both close on `session`
    return LeadershipSnapshot(asof=session, scoreboard=tuple(rows), relative=relative,
                              rut_records=rut_records, spx_records=spx_records,
                              missing=tuple(absent))


__all__ = [
    "LARGE", "REGIME_LABELS", "SMALL", "WINDOWS", "InsufficientData", "LeadershipSnapshot",
    "RelativeStrength", "calc_leadership_snapshot", "calc_relative_strength",
    "calc_snapshot_from_prices", "to_ratio",
]
