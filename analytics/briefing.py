"""The morning briefing as of a date: one composed object the CLI, Discord and HTML all render.

- *Who leads*: the one call of :mod:`analytics.verdict` (month, 50-day and 200-day horizons),
  so the headline, the charts' titles, /status and the JSON say the same thing.
- *Notable* (first that applies, in this order): a Russell breakout today (first record close
  after more than ``gap_days``); a Russell record close; the Russell within
  :data:`NEAR_RECORD` (5%) of its record; otherwise the RUT/SPX trend regime.
- *What history says*: only when an analog is live. ``"live"``: a Russell breakout dated
  ``asof`` or less than a year (252 sessions) old → the breakouts study's forward returns after
  the earlier, complete events. ``"pending"``: no live one, but the Russell is within
  :data:`NEAR_RECORD` of a record it has not beaten for more than ``gap_days`` (the next record
  would be a breakout) → the same statistics, over every complete event.
- *Drivers*: the tailwind/headwind count of an :class:`analytics.drivers.DriversPanel` computed
  by the caller for the same session (it costs more than the rest together, so callers cache
  it) and passed in; None leaves the drivers fields empty.
Data freshness is passed in (``data_asof``, ``stale``, ``stale_reason``): analytics has no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from analytics.formats import pct
from analytics.leadership import InsufficientData, LeadershipSnapshot, calc_snapshot_from_prices
from analytics.records import RecordsSnapshot, rank_phrase
from analytics.returns import WINDOW_SESSIONS
from analytics.series import to_price
from analytics.verdict import MONTH_WINDOW, Verdict, verdict_from_relative

if TYPE_CHECKING:  # the headline alone (``status``) needs none of these at run time
    from analytics.drivers import DriversPanel
    from analytics.premarket import PremarketReading
    from analytics.studies.breakouts import BreakoutStudy

LEAD_WINDOW = MONTH_WINDOW
NEAR_RECORD = 0.05
ANALOG_HORIZON = 252
WINDOW_WORDS = {w: ("year to date" if w == "ytd" else f"over {n} session{'s' if n != 1 else ''}")
                for w, n in {**WINDOW_SESSIONS, "ytd": 0}.items()}


@dataclass(frozen=True)
class BreakoutAnalog:
    """A Russell breakout setup and what followed the earlier, complete breakouts.

    ``kind``: ``"live"`` (a breakout dated ``asof`` or under a year old) or ``"pending"`` (the
    Russell within :data:`NEAR_RECORD` of a record older than ``gap_days``: a new record would
    be a breakout). ``event_date``: the live breakout (None when pending). ``gap_days``: the
    drought it ended (live) or the open drought (pending). ``record_close``: the level to beat
    (pending) or the breakout close (live). ``sessions_so_far``, ``spx_so_far``, ``rut_so_far``:
    since a live event (0/None when pending). ``horizon`` (sessions) and, over the ``count``
    complete earlier events at that horizon: ``spx_hits`` (S&P 500 higher), ``spx_mean``,
    ``rut_hits``, ``rut_mean``, and the medians ``spx_median``, ``rut_median`` (fractions,
    PRICE returns: the text quotes mean and median, as the breakouts chart does).
    """

    kind: str
    event_date: date | None
    gap_days: int
    record_close: float
    sessions_so_far: int
    spx_so_far: float | None
    rut_so_far: float | None
    horizon: int
    count: int
    spx_hits: int
    spx_mean: float
    rut_hits: int
    rut_mean: float
    history_start: date | None
    history_complete: bool = True
    spx_median: float = math.nan
    rut_median: float = math.nan


@dataclass(frozen=True)
class Briefing:
    """The briefing as of ``asof`` (the session answered; see :class:`LeadershipSnapshot`).

    ``headline``: the verdict's sentence, the month's figures and what is notable.
    ``verdict``: the one leadership call (:class:`analytics.verdict.Verdict`); ``leader`` is
    its label (``"small"``, ``"large"``, ``"mixed"``, ``"unknown"``). ``lead_window`` and
    ``lead_margin``: the month horizon and its RUT-over-SPX relative return (a fraction).
    ``leadership``: the full /status snapshot (scoreboard, ratio trend, records).
    ``records_line``: records, drought and breakout in one line. ``history_line`` and
    ``analog``: set only when an analog is live. ``drivers``: the panel passed in;
    ``drivers_line`` and the counts: None when no panel was given or it counted nothing.
    ``data_asof``: the latest session the data holds; ``stale``/``stale_reason``: as passed in.
    ``data_age``: the caller's line saying how old the data is (None when fresh), as passed in.
    ``premarket``: futures since the close of ``asof`` (or their labelled absence), added by
    the caller after composing (it is read live, not computed from bars); None when not read.
    """

    asof: date
    headline: str
    leader: str
    lead_window: str
    lead_margin: float
    leadership: LeadershipSnapshot
    records_line: str
    history_line: str | None
    analog: BreakoutAnalog | None
    drivers: DriversPanel | None
    drivers_line: str | None
    drivers_tailwinds: int | None
    drivers_headwinds: int | None
    drivers_neutral: int | None
    data_asof: date | None
    stale: bool
    stale_reason: str | None
    premarket: PremarketReading | None = None
    verdict: Verdict | None = None
    data_age: str | None = None


def _pct(x: float | None, digits: int = 1) -> str:
    return pct(x, digits)


def _down(drawdown: float) -> str:
    """A drawdown as a magnitude: ``2.5%`` (never ``-0.0%``)."""
    return pct(-drawdown, 1, signed=False)


def _drought_rank(rec: RecordsSnapshot, prior: bool = False) -> str:
    """``", the 3rd-longest of the 24 droughts of 63+ sessions since 1979"``, or "" when the
    rank is outside the top ten or the drought is shorter than the ranked population's
    minimum (:func:`analytics.records.rank_phrase`)."""
    rank = rec.prior_gap_long_rank if prior else rec.long_drought_rank
    phrase = rank_phrase(rank, rec.long_drought_count, rec.rank_min_sessions, rec.history_start)
    if not phrase:
        return ""
    return f", ending {phrase}" if prior else f", {phrase}"


def _horizon_words(sessions: int) -> str:
    return {21: "a month", 63: "three months", 126: "six months", 252: "a year"}.get(
        sessions, f"{sessions} sessions")


def calc_leader(snapshot: LeadershipSnapshot) -> tuple[str, float]:
    """``(leader, margin)``: the verdict's label (:mod:`analytics.verdict`) and the month's
    RUT/SPX relative return over :data:`LEAD_WINDOW` (NaN when too short)."""
    margin = snapshot.relative.ratio_changes.get(LEAD_WINDOW, math.nan)
    return verdict_from_relative(snapshot.relative).leader, margin


def _since(rec: RecordsSnapshot) -> str:
    """The only honest name for a "record" when the history starts after the index does."""
    return f"highest close since {rec.history_start.isoformat()}"


def _notable_partial(rut: RecordsSnapshot) -> str:
    """:func:`_notable` when the Russell history does not reach its inception: highs are only
    the highest since the first date held, never records."""
    if rut.is_record and rut.prior_gap_days is not None:
        return (f"the Russell 2000 closed at its {_since(rut)} ({rut.close:,.2f}), the first "
                f"such high in {rut.prior_gap_days:,} days")
    if rut.is_record:
        return f"the Russell 2000 closed at its {_since(rut)} ({rut.close:,.2f})"
    return (f"the Russell 2000 is {_down(rut.drawdown)} below its {_since(rut)} "
            f"({rut.record_date.isoformat()})")


def _notable(rut: RecordsSnapshot, snapshot: LeadershipSnapshot) -> str:
    if not rut.history_complete and (rut.is_record or -rut.drawdown <= NEAR_RECORD):
        return _notable_partial(rut)
    if rut.breakout:
        return (f"the Russell 2000 closed at its first record in {rut.prior_gap_days:,} days "
                f"({rut.close:,.2f})")
    if rut.is_record:
        return f"the Russell 2000 closed at a record ({rut.close:,.2f})"
    if -rut.drawdown <= NEAR_RECORD and rut.days_since_record > rut.breakout_gap_days:
        return (f"the Russell 2000 is {_down(rut.drawdown)} below its {rut.record_date:%Y} record, "
                f"{rut.days_since_record:,} days without one{_drought_rank(rut)}")
    if -rut.drawdown <= NEAR_RECORD:
        return (f"the Russell 2000 is {_down(rut.drawdown)} below its record of "
                f"{rut.record_date.isoformat()}")
    return (f"the Russell 2000 is {_down(rut.drawdown)} below its record of "
            f"{rut.record_date.isoformat()}")


def compose_headline(snapshot: LeadershipSnapshot) -> str:
    """The verdict's sentence (who leads, per horizon), then the month's price returns over
    :data:`LEAD_WINDOW` (in sessions) and what is notable."""
    verdict = verdict_from_relative(snapshot.relative)
    rut, spx = snapshot.row("^RUT"), snapshot.row("^GSPC")
    sessions = WINDOW_SESSIONS[LEAD_WINDOW]
    rut_r = rut.returns[LEAD_WINDOW] if rut else math.nan
    spx_r = spx.returns[LEAD_WINDOW] if spx else math.nan
    notable = _notable(snapshot.rut_records, snapshot)
    return (f"{verdict.sentence} Past {sessions} sessions, price: Russell 2000 {_pct(rut_r)}, "
            f"S&P 500 {_pct(spx_r)}; {notable}.")


def compose_records_line(snapshot: LeadershipSnapshot) -> str:
    """Russell record status, drought rank, breakout, next round level; S&P records YTD."""
    rut, spx = snapshot.rut_records, snapshot.spx_records
    if not rut.history_complete:
        head = _records_head_partial(rut)
    elif rut.breakout:
        head = (f"Russell 2000 {rut.close:,.2f}: BREAKOUT, first record close in "
                f"{rut.prior_gap_days:,} days ({rut.prior_gap_sessions:,} sessions)"
                f"{_drought_rank(rut, prior=True)}")
    elif rut.is_record:
        head = f"Russell 2000 {rut.close:,.2f}: record close"
    else:
        head = (f"Russell 2000 {rut.close:,.2f}: {_pct(rut.drawdown)} from its record "
                f"{rut.record_close:,.2f} ({rut.record_date.isoformat()}); "
                f"{rut.days_since_record:,} days without a record{_drought_rank(rut)}")
    level = f"next round level {rut.next_level:,.0f} ({_pct(rut.next_level_distance)})"
    plural = "s" if spx.records_ytd != 1 else ""
    count = f"{spx.records_ytd} record close{plural}" if spx.records_ytd else "no record close"
    # Name the session: the post is read the next morning, so "today" would be wrong.
    if not spx.history_complete:
        spx_part = (f"S&P 500: {_since(spx)} on {spx.asof:%A}" if spx.is_record else
                    f"S&P 500: {_pct(spx.drawdown)} from its {_since(spx)} "
                    f"({spx.record_date.isoformat()})")
    elif spx.is_record:
        spx_part = f"S&P 500: record close on {spx.asof:%A}, {spx.records_ytd} this year"
    else:
        spx_part = (f"S&P 500: {count} this year, {_pct(spx.drawdown)} from its record of "
                    f"{spx.record_date.isoformat()}")
    return f"{head}; {level}. {spx_part}."


def _records_head_partial(rut: RecordsSnapshot) -> str:
    """The Russell part of :func:`compose_records_line` when its history starts after the index
    does: highs since the first date held, and the limit stated."""
    limit = (f"no record can be ruled on: the data starts {rut.history_start.isoformat()}, "
             + (f"the index {rut.inception.isoformat()}" if rut.inception else
                "the index's start is unknown"))
    if rut.is_record and rut.prior_gap_days is not None:
        return (f"Russell 2000 {rut.close:,.2f}: {_since(rut)}, the first in "
                f"{rut.prior_gap_days:,} days ({limit})")
    if rut.is_record:
        return f"Russell 2000 {rut.close:,.2f}: {_since(rut)} ({limit})"
    return (f"Russell 2000 {rut.close:,.2f}: {_pct(rut.drawdown)} from its {_since(rut)}, "
            f"{rut.record_close:,.2f} ({rut.record_date.isoformat()}), "
            f"{rut.days_since_record:,} days ago ({limit})")


def calc_breakout_analog(study: BreakoutStudy, horizon: int = ANALOG_HORIZON, *,
                         records: RecordsSnapshot | None = None) -> BreakoutAnalog | None:
    """The live breakout of ``study`` (else, given the Russell ``records``, a pending one) with
    the forward stats at ``horizon``; None when neither applies or the horizon is not studied."""
    if horizon not in study.horizons:
        return None
    k = study.horizons.index(horizon)
    spx, rut = study.spx_stats[k], study.rut_stats[k]
    live = study.live_event
    if live is not None:
        return BreakoutAnalog("live", live.date, live.gap_days, live.close, live.sessions_so_far,
                              live.spx_so_far, live.rut_so_far, horizon, spx.count, spx.hits,
                              spx.mean, rut.hits, rut.mean, study.data_start,
                              study.history_complete, spx_median=spx.median,
                              rut_median=rut.median)
    if (records is not None and not records.is_record
            and records.days_since_record > study.gap_days and -records.drawdown <= NEAR_RECORD):
        return BreakoutAnalog("pending", None, records.days_since_record, records.record_close,
                              0, None, None, horizon, spx.count, spx.hits, spx.mean, rut.hits,
                              rut.mean, study.data_start, study.history_complete,
                              spx_median=spx.median, rut_median=rut.median)
    return None


def compose_history_line(analog: BreakoutAnalog | None) -> str | None:
    """What followed earlier breakouts, in one line; None when no analog is live."""
    if analog is None or analog.count == 0:
        return None
    if not analog.history_complete:
        return _history_line_partial(analog)
    since = f" since {analog.history_start:%Y}" if analog.history_start else ""
    if analog.kind == "pending":
        now = (f"A close above {analog.record_close:,.2f} would end a {analog.gap_days:,}-day "
               f"record drought with a breakout")
    elif analog.sessions_so_far == 0:
        assert analog.event_date is not None
        now = (f"{analog.event_date:%A}'s breakout ({analog.event_date.isoformat()}) ended a "
               f"{analog.gap_days:,}-day record drought")
    else:
        assert analog.event_date is not None
        now = (f"Since the {analog.event_date.isoformat()} breakout ({analog.sessions_so_far} "
               f"sessions): Russell {_pct(analog.rut_so_far)}, S&P 500 {_pct(analog.spx_so_far)}")
    n = analog.count
    earlier = "earlier " if analog.kind == "live" else ""
    return (f"{now}. After the {n} {earlier}Russell breakout{'s' if n != 1 else ''}{since}, "
            f"{_outcomes(analog)}.")


def _outcomes(analog: BreakoutAnalog) -> str:
    """``the S&P 500 was higher a year later in 10 of 11 (price return: mean …), the Russell in
    8 of 11 (mean …)``: what followed the earlier events, shared by both history lines."""
    n = analog.count
    return (f"the S&P 500 was higher {_horizon_words(analog.horizon)} later in "
            f"{analog.spx_hits} of {n} ({_spread(analog.spx_mean, analog.spx_median, True)}), "
            f"the Russell in {analog.rut_hits} of {n} "
            f"({_spread(analog.rut_mean, analog.rut_median)})")


def _spread(mean: float, median: float, first: bool = False) -> str:
    """``price return: mean +12.8%, median +16.2%`` (the label only on the ``first``)."""
    label = "price return: " if first else ""
    return f"{label}mean {_pct(mean)}, median {_pct(median)}"


def _history_line_partial(analog: BreakoutAnalog) -> str:
    """:func:`compose_history_line` when the Russell history starts after the index does: the
    same statistics, named for what they are, with the limit stated."""
    start = analog.history_start.isoformat() if analog.history_start else "the first date held"
    if analog.kind == "pending":
        now = (f"A close above {analog.record_close:,.2f} would be the highest since {start} "
               f"after {analog.gap_days:,} days without one")
    else:
        assert analog.event_date is not None
        now = (f"The {analog.event_date.isoformat()} close was the highest since {start} after "
               f"{analog.gap_days:,} days without one")
        if analog.sessions_so_far:
            now += (f"; since then ({analog.sessions_so_far} sessions): Russell "
                    f"{_pct(analog.rut_so_far)}, S&P 500 {_pct(analog.spx_so_far)}")
    n = analog.count
    earlier = "earlier " if analog.kind == "live" else ""
    return (f"{now}. After the {n} {earlier}such high{'s' if n != 1 else ''} since {start}, "
            f"{_outcomes(analog)}. The Russell data starts {start}, after the index does, so "
            "none of these can be called a record or a breakout.")


def _short(name: str) -> str:
    return name.split(" (")[0]


def compose_drivers_line(panel: DriversPanel | None) -> str | None:
    """The panel's count and which drivers are tail- and headwinds (moves that went with
    small-cap out- or underperformance over a reliable relation); None when nothing counted.
    Worded as what moved with small caps, not as a cause or a forecast."""
    if panel is None or panel.tailwinds + panel.headwinds + panel.neutral == 0:
        return None
    counted = [r for r in panel.readings if not r.stale]
    tails = [_short(r.name) for r in counted if r.call == "tailwind"]
    heads = [_short(r.name) for r in counted if r.call == "headwind"]
    parts = [panel.summary[0].upper() + panel.summary[1:]]
    if tails:
        parts.append(f"tailwinds: {', '.join(tails)}")
    if heads:
        parts.append(f"headwinds: {', '.join(heads)}")
    stale_fred = [_short(r.name) for r in panel.readings if r.reason.startswith("Stale FRED")]
    if stale_fred:  # FRED's last refresh failed: last good data, labelled
        parts.append(f"stale FRED data (last refresh failed): {', '.join(stale_fred)}")
    return "; ".join(parts) + (" (moves that went with small-cap out- or underperformance, "
                               "not a forecast).")


def compose_briefing(bars: Mapping[str, pd.DataFrame], asof: date, *, gap_days: int = 365,
                     round_step: float = 100.0, drivers: DriversPanel | None = None,
                     inceptions: Mapping[str, date] | None = None,
                     data_asof: date | None = None, stale: bool = False,
                     stale_reason: str | None = None, data_age: str | None = None) -> Briefing:
    """The :class:`Briefing` as of ``asof`` from bar frames keyed by symbol.

    Needs ^RUT and ^GSPC (InsufficientData otherwise). Nothing after ``asof`` is read, so
    ``data_asof``/``stale``/``data_age`` only label the result. ``drivers`` must be the
    panel as of the same date (``asof`` or the session answered), else ValueError.
    ``inceptions`` maps ^RUT / ^GSPC to each index's own first session (missing = unknown): a
    high is called a record only when
    the data reaches back to it (see :mod:`analytics.records`).
    """
    missing = [s for s in ("^RUT", "^GSPC") if s not in bars or bars[s].empty]
    if missing:
        raise InsufficientData(f"no data for {', '.join(missing)}")
    rut, spx = to_price(bars["^RUT"]), to_price(bars["^GSPC"])
    snapshot = calc_snapshot_from_prices(bars, rut, spx, asof, gap_days=gap_days,
                                         round_step=round_step, inceptions=inceptions)
    verdict = verdict_from_relative(snapshot.relative)
    margin = snapshot.relative.ratio_changes.get(LEAD_WINDOW, math.nan)
    if drivers is not None and drivers.asof not in (asof, snapshot.asof):
        raise ValueError(f"drivers panel is as of {drivers.asof}, not {snapshot.asof}")
    counted = drivers is not None and compose_drivers_line(drivers) is not None
    from analytics.studies.breakouts import calc_breakout_study

    study = calc_breakout_study(rut, spx, snapshot.asof, gap_days=gap_days,
                                inception=(inceptions or {}).get("^RUT"))
    analog = calc_breakout_analog(study, records=snapshot.rut_records)
    return Briefing(
        asof=snapshot.asof, headline=compose_headline(snapshot), leader=verdict.leader,
        lead_window=LEAD_WINDOW, lead_margin=margin, leadership=snapshot,
        records_line=compose_records_line(snapshot), history_line=compose_history_line(analog),
        analog=analog, drivers=drivers, drivers_line=compose_drivers_line(drivers),
        drivers_tailwinds=drivers.tailwinds if drivers is not None and counted else None,
        drivers_headwinds=drivers.headwinds if drivers is not None and counted else None,
        drivers_neutral=drivers.neutral if drivers is not None and counted else None,
        data_asof=data_asof, stale=stale, stale_reason=stale_reason, verdict=verdict,
        data_age=data_age,
    )
