"""Plain, picklable chart inputs: one frozen dataclass per chart family, plus :class:`Footnote`.

Chart functions take these, never analytics result objects, so charts and studies evolve apart;
:mod:`analytics.charts.build` turns Series and analytics results into them. Every Series is a
float Series on a tz-naive session-date index. Inputs are small on purpose (already trimmed to
what the chart shows), because they are pickled to the render workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from analytics.charts.choices import CHART_WINDOWS as CHART_WINDOWS  # re-exported
from analytics.charts.choices import CUSTOM_KINDS as CUSTOM_KINDS  # re-exported
from analytics.charts.choices import WINDOW_LABELS
from analytics.returns import WINDOW_TABLE, window_positions

Side = Literal["small", "large"]
Call = Literal["tailwind", "headwind", "neutral"]
CustomKind = Literal["price", "rebased", "ratio", "drawdown"]

SOURCE_NAMES = {"yahoo": "Yahoo Finance", "csv": "CSV replay", "cache": "Yahoo Finance (cached)"}


@dataclass(frozen=True)
class Footnote:
    """What every chart states at the bottom: the data's as-of session, staleness, and source."""

    asof: date | None
    stale: bool = False
    source: str = "yahoo"
    #: Series that end before ``asof`` (e.g. ``"^GSPC to 2026-08-20"``), said after the date.
    lagging: tuple[str, ...] = ()

    def text(self) -> str:
        """``"Data to close of 2025-09-18 · Source: Yahoo Finance"``; series ending earlier are
        named after the date (``"Data to close of 2026-08-27 (^GSPC to 2026-08-20) · …"``)."""
        when = f"Data to close of {self.asof.isoformat()}" if self.asof else "Data date unknown"
        if self.lagging:
            when += f" ({', '.join(self.lagging)})"
        source = SOURCE_NAMES.get(self.source, self.source)
        return f"{when} · Source: {source}" if source else when


@dataclass(frozen=True)
class LeadershipInput:
    """RUT and SPX prices for the window, plus up to 200 earlier sessions for the averages.

    The top panel rebases both to 100 at ``start`` (the window's base session, as
    :mod:`analytics.returns` defines it); the bottom panel shows RUT/SPX with its 50- and
    200-day averages, shaded by trend: ratio above its 200-day average (small-cap trend) or
    below it (large-cap trend).

    ``title``: the verdict's title (:mod:`analytics.verdict`), the same call as the headline;
    empty = a neutral title. ``rut_change``/``spx_change``: the window's price returns as
    :func:`analytics.returns.calc_return` computes them for the text (the figures the legend
    prints; NaN = measured on the lines drawn).
    """

    rut: pd.Series
    spx: pd.Series
    start: date
    window_label: str
    footnote: Footnote
    title: str = ""
    rut_change: float = float("nan")
    spx_change: float = float("nan")


@dataclass(frozen=True)
class RecordsInput:
    """^RUT over the display window with its record closes, record line and drought.

    ``record_dates`` are the record closes inside the window (computed on the full history);
    ``drought_start`` is the last record's date while a drought is open (None on a record day);
    ``previous_drought`` is the drought that ended on the latest record when that record is
    ``asof`` itself. ``days_since``/``sessions_since`` count from the last record to ``asof``.
    ``history_complete`` False: the history starts after the index does, so "records" are only
    the highest closes since ``history_start`` and the chart says so.
    """

    prices: pd.Series
    record_dates: tuple[date, ...]
    record_close: float
    record_date: date
    round_level: float | None
    drought_start: date | None
    days_since: int
    sessions_since: int
    footnote: Footnote
    previous_drought: tuple[date, date] | None = None
    drought_rank: int | None = None
    history_start: date | None = None
    name: str = "Russell 2000"
    history_complete: bool = True


@dataclass(frozen=True)
class BreakoutPath:
    """The forward path after one event: ``values[k]`` = price k sessions later, 100 at k=0."""

    event: date
    values: np.ndarray
    live: bool = False


BreakoutIndex = Literal["spx", "rut", "both"]
BREAKOUT_INDEXES: tuple[str, ...] = ("spx", "rut", "both")


@dataclass(frozen=True)
class BreakoutsInput:
    """Forward price paths of ``symbol_name`` after each event (the live one, if any, partial)
    and, in ``rut_paths``, the Russell 2000's own paths after the same events.

    ``index``: which panels the chart draws: ``"spx"`` (``paths``), ``"rut"`` (``rut_paths``) or
    ``"both"`` (side by side, same events, same y scale).
    """

    paths: tuple[BreakoutPath, ...]
    horizon: int
    footnote: Footnote
    symbol_name: str = "S&P 500"
    event_label: str = "first Russell 2000 record close in over a year"
    rut_paths: tuple[BreakoutPath, ...] = ()
    index: BreakoutIndex = "spx"


@dataclass(frozen=True)
class Regime:
    """A leadership regime from ``start`` to ``end``: "small" = small caps outperform.
    ``change`` is the ratio's change over it (from the study's daily data; None = the chart
    measures it on the ratio it is given)."""

    start: date
    end: date
    side: Side
    change: float | None = None


@dataclass(frozen=True)
class CyclesInput:
    """The RUT/SPX ratio (any sampling, e.g. weekly) with its leadership regimes."""

    ratio: pd.Series
    regimes: tuple[Regime, ...]
    footnote: Footnote
    swing: float | None = None


@dataclass(frozen=True)
class AnalogsInput:
    """Days like today: RUT/SPX around each past analog, rebased to 0 on the analog's close
    (``paths[i]`` covers sessions ``-before … +horizon`` of ``dates[i]``; a path may start
    later when history is short), today's last ``before`` sessions (``today``, ending at 0),
    and the baseline band over sessions ``0 … horizon`` (``band_low``/``band_mid``/``band_high``:
    where the median path of a random set of as many days falls). ``verdict`` is one line
    (e.g. the test's result at the longest horizon)."""

    dates: tuple[date, ...]
    paths: tuple[np.ndarray, ...]
    today: np.ndarray
    before: int
    horizon: int
    band_low: np.ndarray
    band_mid: np.ndarray
    band_high: np.ndarray
    asof: date
    footnote: Footnote
    verdict: str = ""


@dataclass(frozen=True)
class DriverPanel:
    """One driver's last year; ``label`` is its reading, e.g. "4.12% (−0.31 pp in 3 months)"."""

    name: str
    values: pd.Series
    call: Call
    label: str


@dataclass(frozen=True)
class DriversInput:
    """Driver panels; ``summary`` (e.g. "2 tailwinds · 1 headwind of 14") replaces the count of
    the panels shown in the subtitle when the chart shows only some of the drivers."""

    panels: tuple[DriverPanel, ...]
    footnote: Footnote
    summary: str | None = None


@dataclass(frozen=True)
class CustomInput:
    """One to four symbols' prices over ``period_label``, drawn as ``kind``.

    ``ratio`` divides the first symbol by the second (exactly two symbols needed).
    """

    series: tuple[tuple[str, pd.Series], ...]
    kind: CustomKind
    period_label: str
    footnote: Footnote


@dataclass(frozen=True)
class AlertMark:
    """One event on the alerts chart: ``panel`` "price" (^RUT or ^GSPC) or "ratio" (RUT/SPX)."""

    when: date
    label: str
    panel: Literal["price", "ratio"]


@dataclass(frozen=True)
class AlertsInput:
    """One alert batch: the index its price events concern over the last year (``prices``,
    ``name``), RUT/SPX with 200 warm-up sessions for its averages (``ratio``), the events
    marked at ``session``, the levels crossed and the record close (None: not drawn).
    ``subtitle`` names every event of the batch (some may concern the other index)."""

    session: date
    title: str
    name: str
    prices: pd.Series
    ratio: pd.Series
    marks: tuple[AlertMark, ...]
    levels: tuple[float, ...]
    record_close: float | None
    start: date
    footnote: Footnote
    subtitle: str = ""


ChartInput = (LeadershipInput | RecordsInput | BreakoutsInput | CyclesInput | DriversInput
              | CustomInput)

def _offset(key: str) -> pd.DateOffset | None:
    """Calendar span of a trailing window, for series that are not daily sessions (drivers)."""
    sessions = WINDOW_TABLE[key].sessions
    if sessions is None:
        return None
    return pd.DateOffset(months=sessions // 21) if sessions < 252 \
        else pd.DateOffset(years=sessions // 252)


# Windows understood by every builder: label and, for data that is not daily (drivers), the
# calendar span. Daily prices are cut by sessions (:func:`window_base`), as the text counts.
WINDOWS: dict[str, tuple[str, pd.DateOffset | None]] = {
    k: (WINDOW_LABELS[k], _offset(k)) for k in CHART_WINDOWS}


def window_label(window: str) -> str:
    """Label of a window code as the text prints it ("3m" → "63 sessions"); ValueError if
    unknown. (``WINDOWS[code][0]`` adds the calendar nickname, for command choices.)"""
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}: use one of {', '.join(WINDOWS)}")
    return WINDOW_TABLE[window].label


def window_base(index: pd.DatetimeIndex, window: str) -> int:
    """Position of the window's base session in ``index`` (sessions up to asof), as
    :func:`analytics.returns.window_positions` defines it; 0 (everything) when the history is
    shorter than the window."""
    window_label(window)
    where = window_positions(index.to_numpy(), window)
    return 0 if where is None else where[0]


def window_start(window: str, asof: date, first: date) -> date:
    """First calendar day of ``window`` ending at ``asof``; never before ``first`` (data start).

    "ytd" starts at the last close of the previous year (Jan 1 is used as the bound; the first
    session on or before it is the base), "max" at ``first``.
    """
    window_label(window)
    if window == "max":
        return first
    if window == "ytd":
        return max(first, date(asof.year - 1, 12, 31))
    offset = WINDOWS[window][1]
    assert offset is not None
    start = (pd.Timestamp(asof) - offset).date()
    return max(first, start)



@dataclass(frozen=True)
class TrackBar:
    """One bar of the track-record chart: the mean RUT/SPX relative return ``horizon`` sessions
    after the days of ``group`` (``"small"``, ``"large"``, ``"all"``), its 95% interval and
    count (NaN mean: no such day)."""

    horizon: int
    group: str
    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class TrackRecordInput:
    """The track record's chart: per horizon, the mean outcome after small calls, after large
    calls and on every day, with intervals (:mod:`analytics.studies.track_record`);
    ``findings``: one short line per horizon (hit rate vs chance, forecast value or not);
    ``period``: ``"1990–2026"``; ``today``: today's call."""

    bars: tuple[TrackBar, ...]
    findings: tuple[str, ...]
    period: str
    today: str
    footnote: Footnote
