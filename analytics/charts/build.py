"""Builders: price Series (and analytics results) → the chart inputs of :mod:`.inputs`.

Pure and cheap (no Matplotlib), so the bot builds inputs on its side and ships only what the
chart shows to a render worker. Every builder cuts at ``asof`` first (no look-ahead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from analytics.alerts import EVENT_TITLES, AlertBatch
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import (
    BREAKOUT_INDEXES,
    CUSTOM_KINDS,
    AlertMark,
    AlertsInput,
    AnalogsInput,
    BreakoutIndex,
    BreakoutPath,
    BreakoutsInput,
    Call,
    CustomInput,
    CustomKind,
    CyclesInput,
    DriverPanel,
    DriversInput,
    Footnote,
    LeadershipInput,
    RecordsInput,
    Regime,
    TrackBar,
    TrackRecordInput,
    window_base,
    window_label,
    window_start,
)
from analytics.drivers import DriverReading, DriversPanel, to_driver_series
from analytics.leadership import InsufficientData
from analytics.records import RecordsSnapshot, calc_records_snapshot, to_record_dates
from analytics.returns import window_positions
from analytics.studies.analogs import AnalogStudy, calc_analog_paths
from analytics.studies.breakouts import BreakoutStudy
from analytics.studies.cycles import CycleStudy, calc_cycles
from analytics.studies.track_record import TrackRecord
from analytics.verdict import calc_verdict_of_ratio

MA_WARMUP = 200


def _upto(prices: pd.Series, asof: date, name: str) -> pd.Series:
    if prices is None or len(prices) == 0:
        raise ChartInputError(f"no data for {name}")
    clean = prices.dropna().astype("float64").loc[: pd.Timestamp(asof)]
    if clean.empty:
        raise ChartInputError(f"no data for {name} on or before {asof.isoformat()}")
    return clean


def base_position(index: pd.DatetimeIndex, start: date) -> int:
    """Position of the base session: the last one on or before ``start`` (else the first)."""
    pos = int(index.searchsorted(pd.Timestamp(start), side="right")) - 1
    return max(pos, 0)


def leadership_input(rut: pd.Series, spx: pd.Series, window: str, asof: date,
                     footnote: Footnote) -> LeadershipInput:
    """Trim both series to ``window`` ending at ``asof`` plus 200 warm-up sessions; the title is
    the verdict as of ``asof`` and the legend's figures the window's returns, both computed as
    the text computes them (:mod:`analytics.verdict`, :mod:`analytics.returns`)."""
    label = window_label(window)
    r, s = _upto(rut, asof, "Russell 2000"), _upto(spx, asof, "S&P 500")
    common = pd.DatetimeIndex(r.index.intersection(s.index))
    if len(common) < 2:
        raise ChartInputError("not enough common sessions of Russell 2000 and S&P 500")
    pos = window_base(common, window)
    if window_positions(common.to_numpy(), window) is None:
        label = f"all {len(common):,} sessions held"
    keep = common[max(pos - MA_WARMUP, 0):]
    rc, sc = r.loc[common], s.loc[common]
    try:
        title = calc_verdict_of_ratio(rc / sc, asof).title
    except InsufficientData:
        title = ""
    return LeadershipInput(rut=r.loc[keep], spx=s.loc[keep], start=common[pos].date(),
                           window_label=label, footnote=footnote, title=title,
                           rut_change=float(rc.iloc[-1] / rc.iloc[pos] - 1.0),
                           spx_change=float(sc.iloc[-1] / sc.iloc[pos] - 1.0))


def records_input(prices: pd.Series, asof: date, footnote: Footnote, *, round_step: float = 100.0,
                  context_years: int = 1, min_years: int = 3,
                  name: str = "Russell 2000", inception: date | None = None) -> RecordsInput:
    """Records view of ``prices`` at ``asof`` from :func:`analytics.records.calc_records_snapshot`
    (full history, so records and drought ranks are right) and the record dates.

    The window starts ``context_years`` before the drought began (or before the drought that
    ended today, on a record day) and covers at least ``min_years``. ``inception``: the index's
    own first session (None = unknown: its highs are labelled "high since <first date>").
    """
    clean = _upto(prices, asof, name)
    snap = calc_records_snapshot(clean, asof, round_step=round_step, inception=inception)
    if snap is None:  # pragma: no cover - _upto already guarantees a close
        raise ChartInputError(f"no data for {name}")
    return from_records_snapshot(snap, clean, footnote, context_years=context_years,
                                 min_years=min_years, name=name)


def from_records_snapshot(snap: RecordsSnapshot, prices: pd.Series, footnote: Footnote, *,
                          context_years: int = 1, min_years: int = 3,
                          name: str = "Russell 2000") -> RecordsInput:
    """Chart input from a :class:`RecordsSnapshot` and the prices it was computed from."""
    clean = _upto(prices, snap.asof, name)
    records = to_record_dates(clean)
    previous = None
    if snap.is_record and snap.prior_gap_days is not None and len(records) > 1:
        previous = (records[-2].date(), snap.record_date)
    anchor = previous[0] if previous else snap.record_date
    end = clean.index[-1]
    start = min(pd.Timestamp(anchor) - pd.DateOffset(years=context_years),
                end - pd.DateOffset(years=min_years))
    shown = clean.loc[start:]
    return RecordsInput(
        prices=shown, record_dates=tuple(d.date() for d in records if d >= shown.index[0]),
        record_close=snap.record_close, record_date=snap.record_date,
        round_level=snap.nearest_level,
        drought_start=None if snap.is_record else snap.record_date,
        days_since=snap.days_since_record, sessions_since=snap.sessions_since_record,
        footnote=footnote, previous_drought=previous, drought_rank=snap.drought_rank,
        history_start=snap.history_start, name=name, history_complete=snap.history_complete)


def _forward_paths(prices: pd.Series, events: Sequence[date], asof: date, horizon: int
                   ) -> list[BreakoutPath]:
    """Paths of ``prices`` (cut at ``asof``) rebased to 100 on each event's close, up to
    ``horizon`` sessions; an event before the series starts has no path."""
    values = prices.to_numpy()
    paths: list[BreakoutPath] = []
    for event in sorted(set(events)):
        if event > asof:
            continue
        pos = int(prices.index.searchsorted(pd.Timestamp(event), side="right")) - 1
        if pos < 0:
            continue
        segment = values[pos: pos + horizon + 1]
        live = len(segment) < horizon + 1
        paths.append(BreakoutPath(event=event, values=segment / segment[0] * 100.0, live=live))
    return paths


def breakouts_input(prices: pd.Series, events: Sequence[date], asof: date, footnote: Footnote,
                    *, horizon: int = 252, symbol_name: str = "S&P 500",
                    event_label: str = "first Russell 2000 record close in over a year",
                    rut: pd.Series | None = None, index: str = "spx") -> BreakoutsInput:
    """Forward paths of ``prices`` (rebased to 100 on each event's close) for ``horizon``
    sessions, and of ``rut`` (the Russell 2000) when given. An event whose horizon is not
    complete by ``asof`` is live (partial path); an event on a date ``prices`` lacks uses the
    last session on or before it. ``index``: "spx", "rut" or "both" (ChartInputError else, or
    when "rut"/"both" is asked without ``rut``)."""
    if index not in BREAKOUT_INDEXES:
        raise ChartInputError(f"unknown breakouts index {index!r}: use "
                              f"{', '.join(BREAKOUT_INDEXES)}")
    if index != "spx" and rut is None:
        raise ChartInputError("the Russell 2000 paths need its prices")
    clean = _upto(prices, asof, symbol_name)
    paths = _forward_paths(clean, events, asof, horizon)
    rut_paths = (_forward_paths(_upto(rut, asof, "Russell 2000"), events, asof, horizon)
                 if rut is not None else [])
    if not paths:
        raise ChartInputError("no breakout events to chart")
    chosen: BreakoutIndex = index  # type: ignore[assignment]
    return BreakoutsInput(paths=tuple(paths), horizon=horizon, footnote=footnote,
                          symbol_name=symbol_name, event_label=event_label,
                          rut_paths=tuple(rut_paths), index=chosen)


def from_breakout_study(study: BreakoutStudy, spx: pd.Series, footnote: Footnote, *,
                        horizon: int | None = None, rut: pd.Series | None = None,
                        index: str = "spx") -> BreakoutsInput:
    """S&P 500 (and, given ``rut``, Russell 2000) paths after each event of a
    :class:`BreakoutStudy` (horizon: its longest); ``index`` picks the panels drawn."""
    span = horizon or max(study.horizons)
    days = study.gap_days
    name = "Russell 2000" if study.event_index == "^RUT" else "S&P 500"
    years = f"{days // 365} year{'s' if days // 365 != 1 else ''}" if days % 365 == 0 \
        else f"{days} days"
    over = 'a year' if days == 365 else years
    label = (f"first {name} record close in over {over}" if study.history_complete else
             f"first {name} high since {study.data_start} in over {over} (not ruled records)")
    return breakouts_input(spx, [e.date for e in study.events], study.asof, footnote,
                           horizon=span, event_label=label, rut=rut, index=index)


def fmt_p(p: float) -> str:
    """A p-value with enough digits to see which side of 0.05 it is on: 3 below 0.1, else 2;
    "n/a" for NaN."""
    if p != p:
        return "n/a"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def from_analog_study(study: AnalogStudy, rut: pd.Series, spx: pd.Series, footnote: Footnote,
                      *, before: int = 63) -> AnalogsInput:
    """Paths of RUT/SPX around each analog of ``study`` and today, plus the random-set band
    (:func:`analytics.studies.analogs.calc_analog_paths`); the verdict is the test of the
    relative return at the longest horizon."""
    if not study.analogs:
        raise ChartInputError("no analogs to chart")
    paths = calc_analog_paths(rut, spx, study, before=before)
    test = study.comparison("relative", study.horizons[-1])
    months = round(study.horizons[-1] / 21)
    word = ("indistinguishable from a random day" if test.indistinguishable
            else "differs from a random day")
    verdict = (f"+{months}m RUT/SPX: analogs {test.analogs.mean:+.1%}, all days "
               f"{test.baseline.mean:+.1%}: {word} (p {fmt_p(test.p_value)})")
    return AnalogsInput(dates=paths.dates, paths=paths.paths, today=paths.today,
                        before=paths.before, horizon=paths.horizon, band_low=paths.band_low,
                        band_mid=paths.band_mid, band_high=paths.band_high, asof=study.asof,
                        footnote=footnote, verdict=verdict)


def from_cycle_study(study: CycleStudy, footnote: Footnote) -> CyclesInput:
    """Weekly RUT/SPX ratio and the regimes of a :class:`CycleStudy` (swing rule)."""
    if len(study.ratio) < 2:
        raise ChartInputError("not enough RUT/SPX history to chart leadership cycles")
    regimes = tuple(Regime(start=r.start, end=r.end, side=r.leader, change=r.relative_return)
                    for r in study.regimes)
    return CyclesInput(ratio=to_weekly(study.ratio.astype("float64")), regimes=regimes,
                       footnote=footnote, swing=study.swing)


def cycles_input(rut: pd.Series, spx: pd.Series, asof: date, footnote: Footnote, *,
                 swing: float = 0.15) -> CyclesInput:
    """:func:`from_cycle_study` of :func:`analytics.studies.cycles.calc_cycles`."""
    return from_cycle_study(calc_cycles(rut, spx, asof, swing=swing), footnote)


def custom_input(prices: Sequence[tuple[str, pd.Series]], kind: str, window: str, asof: date,
                 footnote: Footnote) -> CustomInput:
    """One to four symbols cut to ``window`` at ``asof`` (common base session for all)."""
    if kind not in CUSTOM_KINDS:
        raise ChartInputError(f"unknown chart kind {kind!r}: use {', '.join(CUSTOM_KINDS)}")
    if not 1 <= len(prices) <= 4:
        raise ChartInputError("chart one to four symbols")
    if kind == "ratio" and len(prices) != 2:
        raise ChartInputError("a ratio chart needs exactly two symbols (first / second)")
    label = window_label(window)
    cut = [(sym, _upto(series, asof, sym)) for sym, series in prices]
    first = max(series.index[0] for _, series in cut)
    out: list[tuple[str, pd.Series]] = []
    for sym, series in cut:  # sessions counted as the text counts them, from a common start
        held = series.loc[first:]
        out.append((sym, held.iloc[window_base(pd.DatetimeIndex(held.index), window):]))
    ck: CustomKind = kind  # type: ignore[assignment]
    return CustomInput(series=tuple(out), kind=ck, period_label=label, footnote=footnote)


def drivers_input(panels: Sequence[tuple[str, pd.Series, str, str]], asof: date,
                  footnote: Footnote, *, window: str = "1y") -> DriversInput:
    """Panels ``(name, values, call, label)`` cut to ``window`` ending at ``asof``. A call other
    than tailwind/headwind is drawn as neutral; panels without data in the window are skipped."""
    out: list[DriverPanel] = []
    for name, values, call, label in panels:
        clean = values.dropna().astype("float64").loc[: pd.Timestamp(asof)]
        if clean.empty:
            continue
        start = window_start(window, asof, clean.index[0].date())
        shown = clean.iloc[base_position(pd.DatetimeIndex(clean.index), start):]
        if len(shown) < 2:
            continue
        kind: Call = call if call in ("tailwind", "headwind") else "neutral"  # type: ignore[assignment]
        out.append(DriverPanel(name=name, values=shown, call=kind, label=label))
    if not out:
        raise ChartInputError("no driver has data to chart")
    return DriversInput(panels=tuple(out), footnote=footnote)


SHORT_NAMES = {"ten_year": "10y yield", "three_month": "3m bill", "curve": "10y−3m curve",
               "credit": "HYG/LQD credit", "dollar": "Dollar (UUP)", "volatility": "VIX",
               "regional_banks": "KRE/SPY", "industrials": "XLI/SPY",
               "small_value_growth": "IWN/IWO", "cyclicals_defensives": "XLY/XLP",
               "unemployment": "Unemployment", "gdp_growth": "GDP growth",
               "jobless_claims": "Jobless claims", "consumer_sentiment": "Sentiment",
               "fed_path": "2y − fed funds"}


def reading_label(reading: DriverReading) -> str:
    """``"4.12% · −31 bp 1m"``: the level in its unit, then the 1-month (else 3-month) change."""
    level = reading.level
    if level is None:
        return "no data"
    unit = reading.level_unit
    text = (f"{level:.2f}%" if unit == "%" else f"{level:.1f}" if unit == "pts"
            else f"{level:.3g}")
    change, span = ((reading.change_1m, "1m") if reading.change_1m is not None
                    else (reading.change_3m, "3m"))
    if change is not None:
        cu = reading.change_unit
        moved = (f"{change:+.0f} bp" if cu == "bp" else f"{change:+.1%}" if cu == "fraction"
                 else f"{change:+.1f} {cu}")
        text += f" · {moved.replace('-', '−')} {span}"
    if reading.stale and reading.asof is not None:
        text += f" (as of {reading.asof.isoformat()})"
    return text


def from_drivers_panel(panel: DriversPanel, bars: Mapping[str, pd.DataFrame], footnote: Footnote,
                       *, fred: Mapping[str, pd.Series] | None = None,
                       keys: Sequence[str] | None = None, limit: int = 6) -> DriversInput:
    """One chart panel per reading of a :class:`DriversPanel` that has data, each with its last
    year (:func:`analytics.drivers.to_driver_series`) and its call.

    ``keys`` picks and orders the panels; by default the readings with a tailwind or headwind
    call come first, then neutral ones, each in the panel's order, up to ``limit`` (6 keep the
    panels legible at Discord's preview size). The subtitle then counts every fresh reading.
    """
    usable = [r for r in panel.readings if r.call != "absent" and r.level is not None]
    by_key = {r.key: r for r in usable}
    if keys is None:
        ranked = [r.key for r in usable if r.call in ("tailwind", "headwind")]
        ranked += [r.key for r in usable if r.key not in ranked]
        chosen = ranked[:limit]
    else:
        chosen = [k for k in keys if k in by_key][:limit]
    rows: list[tuple[str, pd.Series, str, str]] = []
    for key in chosen:
        reading = by_key[key]
        try:
            values = to_driver_series(bars, key, panel.asof, fred=fred)
        except KeyError:
            continue
        name = SHORT_NAMES.get(key, reading.name)
        if key == "credit" and reading.source.startswith("FRED"):
            name = "HY credit spread"
        rows.append((name, values, reading.call, reading_label(reading)))
    base = drivers_input(rows, panel.asof, footnote)
    counted = panel.tailwinds + panel.headwinds + panel.neutral

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n != 1 else ''}"

    summary = (f"{plural(panel.tailwinds, 'tailwind')} · {plural(panel.headwinds, 'headwind')}"
               f" of {counted}")
    return DriversInput(panels=base.panels, footnote=footnote, summary=summary)


def to_weekly(series: pd.Series) -> pd.Series:
    """Last value of each calendar week (keeps decade charts small and fast to draw)."""
    if series.empty:
        return series
    weeks = pd.DatetimeIndex(series.index).to_period("W")
    last = ~np.asarray(weeks[1:] == weeks[:-1])
    mask = np.append(last, True)
    return series[mask]


def alerts_input(batch: AlertBatch, rut: pd.Series, spx: pd.Series, footnote: Footnote, *,
                 years: int = 1) -> AlertsInput:
    """Chart input of one alert batch: the last ``years`` up to the session (cut there: no
    look-ahead). The price panel shows ^GSPC only when every price event is about it."""
    if not batch.events:
        raise ChartInputError(f"no alert fired on {batch.session.isoformat()}")
    session = batch.session
    price_events = [e for e in batch.events if e.symbol in ("^RUT", "^GSPC")]
    symbol = "^GSPC" if price_events and all(e.symbol == "^GSPC" for e in price_events) \
        else "^RUT"
    name = "S&P 500" if symbol == "^GSPC" else "Russell 2000"
    prices = _upto(spx if symbol == "^GSPC" else rut, session, name)
    start = (pd.Timestamp(session) - pd.DateOffset(years=years)).date()
    shown = prices.loc[pd.Timestamp(start):]
    r, s = _upto(rut, session, "Russell 2000"), _upto(spx, session, "S&P 500")
    common = r.index.intersection(s.index)
    ratio = (r.loc[common] / s.loc[common]).dropna()
    pos = base_position(pd.DatetimeIndex(ratio.index), start)
    ratio = ratio.iloc[max(pos - MA_WARMUP, 0):]
    marks = tuple(AlertMark(session, EVENT_TITLES[e.kind],
                            "price" if e.symbol == symbol else "ratio")
                  for e in batch.events if e.symbol in (symbol, "RUT/SPX"))
    levels = tuple(sorted({float(x) for e in price_events if e.symbol == symbol
                           for x in e.values.get("levels", [])}))
    record = next((float(e.values["close"]) for e in batch.events if e.kind == "record"), None)
    n = len(batch.events)
    title = (f"{EVENT_TITLES[batch.events[0].kind]} · {session.isoformat()}" if n == 1
             else f"{n} alerts at the close of {session.isoformat()}")
    names = {"^RUT": "Russell 2000", "^GSPC": "S&P 500"}
    subtitle = " · ".join(dict.fromkeys(
        EVENT_TITLES[e.kind] + (f" ({names[e.symbol]})" if e.kind == "level_cross" else "")
        for e in batch.events))
    return AlertsInput(session=session, title=title, name=name, prices=shown, ratio=ratio,
                       marks=marks, levels=levels, record_close=record, start=start,
                       footnote=footnote, subtitle="" if n == 1 else subtitle)


def track_finding_line(horizon: int, hit: float, no_skill: float, value: bool) -> str:
    """``"Next 21 sessions: hit rate 51.9% vs 50.0% by chance · no forecast value"``."""
    from analytics.formats import pct

    verdict = "forecast value" if value else "no forecast value"
    return (f"Next {horizon} sessions: hit rate {pct(hit, signed=False)} vs "
            f"{pct(no_skill, signed=False)} by chance · {verdict}")


def from_track_record(record: TrackRecord, footnote: Footnote) -> TrackRecordInput:
    """Bars (mean after small calls, after large calls, every day, with their intervals) and
    one finding line per horizon, from the record's overlapping scores: the text's figures."""
    bars: list[TrackBar] = []
    for s in record.scores:
        for group, e in (("small", s.mean_small), ("large", s.mean_large), ("all", s.mean_all)):
            bars.append(TrackBar(horizon=s.horizon, group=group, mean=e.value, low=e.low,
                                 high=e.high, n=e.n))
    if not any(b.n for b in bars):
        raise ChartInputError("no scored session to chart the track record")
    findings = tuple(track_finding_line(s.horizon, s.hit_rate.value, s.no_skill,
                                        s.forecast_value) for s in record.scores)
    first = min((s.first for s in record.scores if s.first), default=record.start)
    period = f"{first.year}–{record.asof.year}"
    return TrackRecordInput(bars=tuple(bars), findings=findings, period=period,
                            today=record.today, footnote=footnote)
