"""Embeds for ``/history`` (one per study) and ``/drivers``, in the house design of
:mod:`bot.ui.embeds`. Numbers come straight from the analytics results; nothing is recomputed.
"""

from __future__ import annotations

import math
from datetime import date

import discord

from analytics.charts.build import fmt_p, reading_label
from analytics.drivers import DriverReading, DriversPanel
from analytics.premarket import PremarketReading
from analytics.relation import describe_relation
from analytics.studies.analogs import AnalogStudy, Comparison
from analytics.studies.breakouts import BreakoutStudy, HorizonStats
from analytics.studies.cycles import CycleStudy
from analytics.studies.droughts import Drought, DroughtTable
from analytics.studies.rates import RateBucket, RateStudy
from analytics.studies.track_record import Score, TrackRecord
from analytics.valuation import ValuationReading
from bot.ui.embeds import add_fields, base_embed, fit
from bot.ui.study_text import (
    ANALOG_SERIES,
    analog_today_line,
    breakouts_limit,
    drought_rank_text,
    droughts_limit,
    horizon_label,
    track_share,
    track_span,
    unruled_line,
)
from bot.ui.text import fmt_level, fmt_pct

MAX_ROWS = 10
INDEX_NAMES = {"^RUT": "Russell 2000", "^GSPC": "S&P 500"}


def _since(start: date | None) -> str:
    return f" since {start:%Y}" if start else ""


def horizon_line(stats: HorizonStats, name: str) -> str:
    """``S&P 500: mean +4.1%, median +3.2%, higher 9/11``."""
    if stats.count == 0:
        return f"{name}: no complete events"
    return (f"{name}: mean {fmt_pct(stats.mean, 1)}, median {fmt_pct(stats.median, 1)}, "
            f"higher {stats.hits}/{stats.count}")


def breakouts_embed(study: BreakoutStudy, *, source: str, stale: bool,
                    stale_reason: str | None, note: str | None = None) -> discord.Embed:
    """Forward S&P 500 and Russell 2000 returns after each breakout, by horizon."""
    index = INDEX_NAMES.get(study.event_index, study.event_index)
    full = study.history_complete
    n = f"{len(study.events)} event{'s' if len(study.events) != 1 else ''}"
    if full:
        lines = [f"A breakout is the first {index} record close after more than "
                 f"{study.gap_days:,} days without one. {n}{_since(study.data_start)}."]
    else:
        lines = [f"Events: the {index}'s highest close since {study.data_start} after more "
                 f"than {study.gap_days:,} days without one. {n}."]
        limit, unruled = breakouts_limit(study), unruled_line(study)
        lines += [f"**Limit**: {limit[0].upper()}{limit[1:]}" if limit else "",
                  unruled or ""]
        lines = [x for x in lines if x]
    if study.live_event is not None:
        live = study.live_event
        lines.append(f"**Live event**: {live.date.isoformat()} ({live.sessions_so_far} sessions "
                     f"so far: S&P 500 {fmt_pct(live.spx_so_far, 1)}, Russell 2000 "
                     f"{fmt_pct(live.rut_so_far, 1)}).")
    elif study.days_since_record is not None and study.last_record_date is not None:
        last = "record" if full else f"highest close since {study.data_start}"
        lines.append(f"Last {index} {last}: {study.last_record_date.isoformat()} "
                     f"({study.days_since_record:,} days ago).")
    lines.append("Forward returns are price returns (dividends left out).")
    if note:
        lines.append(f"*{note}*")
    title = f"{index} breakouts" if full else f"{index} highs since {study.data_start}"
    embed = base_embed(f"History · {title}", leader=None, asof=study.asof,
                       source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    for spx_stats, rut_stats in zip(study.spx_stats, study.rut_stats, strict=True):
        value = f"{horizon_line(spx_stats, 'S&P 500')}\n{horizon_line(rut_stats, 'Russell 2000')}"
        embed.add_field(name=f"Price return after {spx_stats.horizon} sessions", value=value,
                        inline=False)
    recent = study.events[-MAX_ROWS:]
    if recent:
        h = study.horizons[-1]
        rows = []
        for e in reversed(recent):
            spx = e.spx_returns[-1] if e.complete else e.spx_so_far
            rut = e.rut_returns[-1] if e.complete else e.rut_so_far
            span = f"{h}s" if e.complete else f"{e.sessions_so_far}s so far"
            rows.append(f"`{e.date.isoformat()}` gap {e.gap_days:,}d · SPX {fmt_pct(spx, 1)} · "
                        f"RUT {fmt_pct(rut, 1)} ({span})")
        embed.add_field(name=f"Events (latest {len(recent)})", value="\n".join(rows), inline=False)
    return fit(embed)


def _rank_tag(d: Drought) -> str:
    """``"#3 "``: the rank among droughts of 63+ sessions (none for a shorter one)."""
    return f"#{d.long_rank} " if d.long_rank is not None else ""


def droughts_embed(table: DroughtTable, *, name: str, source: str, stale: bool,
                   stale_reason: str | None, note: str | None = None) -> discord.Embed:
    """The longest record droughts, with today's open one ranked among them (when the history
    starts after the index: gaps between highest closes since the first date, limit stated)."""
    if not table.history_complete:
        return _partial_droughts_embed(table, name=name, source=source, stale=stale,
                                       stale_reason=stale_reason, note=note)
    lines = [f"{table.total:,} gaps between {name} record closes{_since(table.data_start)}, "
             f"{table.long_count:,} of {table.rank_min_sessions}+ sessions (ranked among those)"
             + (f"; listing those over {table.min_days:,} days" if table.min_days else "") + "."]
    if table.current is not None:
        c = table.current
        lines.append(f"**Now**: no record for {c.days:,} days since {c.start.isoformat()} "
                     f"(record {fmt_level(c.record_close)}): {drought_rank_text(table, c)}; "
                     f"deepest {fmt_pct(c.depth, 1)}.")
    else:
        lines.append("**Now**: at a record close; no drought is open.")
    if note:
        lines.append(f"*{note}*")
    embed = base_embed(f"History · {name} record droughts", leader=None, asof=table.asof,
                       source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    add_fields(embed, [("Longest droughts", _drought_rows(table), False)])
    return fit(embed)


def _drought_rows(table: DroughtTable) -> str:
    """The longest droughts (or gaps), a line each: ``#2 `start` → `end` · 1,410d · low -31.2%``."""
    return "\n".join(
        f"{_rank_tag(d)}`{d.start.isoformat()}` → "
        f"{'now' if d.open else '`' + d.end.isoformat() + '`'} · {d.days:,}d · "
        f"low {fmt_pct(d.depth, 1)}" for d in table.droughts[:MAX_ROWS]) or "none"


def _partial_droughts_embed(table: DroughtTable, *, name: str, source: str, stale: bool,
                            stale_reason: str | None, note: str | None) -> discord.Embed:
    high = f"highest close since {table.data_start}"
    lines = [f"{table.total:,} gaps between {name} closes that were the {high}, "
             f"{table.long_count:,} of {table.rank_min_sessions}+ sessions (ranked among those)"
             + (f"; listing those over {table.min_days:,} days" if table.min_days else "") + ".",
             f"**Limit**: {droughts_limit(table)}"]
    if table.current is not None:
        c = table.current
        lines.append(f"**Now**: {c.days:,} days since the {high} on {c.start.isoformat()} "
                     f"({fmt_level(c.record_close)}): {drought_rank_text(table, c, 'gap')}; "
                     f"deepest {fmt_pct(c.depth, 1)}.")
    else:
        lines.append(f"**Now**: at its {high}.")
    if note:
        lines.append(f"*{note}*")
    embed = base_embed(f"History · {name} gaps between highs", leader=None, asof=table.asof,
                       source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    add_fields(embed, [("Longest gaps", _drought_rows(table), False)])
    return fit(embed)


def cycles_embed(study: CycleStudy, *, source: str, stale: bool, stale_reason: str | None,
                 note: str | None = None) -> discord.Embed:
    """Leadership regimes of RUT/SPX under the swing rule, newest first."""
    current = study.current
    lines = [f"A leadership regime ends when RUT/SPX moves {study.swing:.0%} against the "
             f"leader from its best point. {len(study.regimes)} regimes"
             f"{_since(study.regimes[0].start if study.regimes else None)}."]
    if current is not None:
        who = "Small" if current.leader == "small" else "Large"
        lines.append(f"**Now**: {who} caps have led since {current.start.isoformat()} "
                     f"({current.years:.1f} years, relative "
                     f"{fmt_pct(current.relative_return, 1)}).")
        if study.current_from_extreme is not None and study.current_extreme_date is not None:
            lines.append(f"RUT/SPX is {fmt_pct(study.current_from_extreme, 1)} from the regime's "
                         f"best point ({study.current_extreme_date.isoformat()}).")
    if note:
        lines.append(f"*{note}*")
    embed = base_embed("History · small vs large cap cycles",
                       leader=current.leader if current else None, asof=study.asof,
                       source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    rows = [f"{'🟧 Small' if r.leader == 'small' else '🟦 Large'} `{r.start.isoformat()}` → "
            f"{'now' if r.open else '`' + r.end.isoformat() + '`'} · {r.years:.1f}y · "
            f"rel {fmt_pct(r.relative_return, 0)}" for r in reversed(study.regimes[-MAX_ROWS:])]
    add_fields(embed, [("Regimes (newest first)", "\n".join(rows) or "none", False)])
    return fit(embed)


def _bucket(b: RateBucket) -> str:
    if b.days == 0:
        return "no days"
    share = "n/a" if math.isnan(b.small_beat_share) else f"{b.small_beat_share:.0%}"
    return (f"{b.days:,} days · RUT {fmt_pct(b.rut_mean, 2)} · SPX {fmt_pct(b.spx_mean, 2)}\n"
            f"small − large {fmt_pct(b.difference, 2)} a day · small caps ahead {share}")


def rates_embed(study: RateStudy, *, source: str, stale: bool, stale_reason: str | None,
                note: str | None = None) -> discord.Embed:
    """Mean daily returns on days the 10-year yield fell or rose by at least ``bp``."""
    span = (f"{study.start.isoformat()} to {study.end.isoformat()}"
            if study.start and study.end else "the whole history")
    diff = study.falling.difference
    leader = None if math.isnan(diff) else ("small" if diff > 0 else "large")
    lines = [f"Days the 10-year Treasury yield (^TNX) moved at least {study.bp:g} bp, {span}."]
    if note:
        lines.append(f"*{note}*")
    embed = base_embed("History · small caps on falling-yield days", leader=leader,
                       asof=study.asof, source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    add_fields(embed, [(f"Yield down ≥ {study.bp:g} bp", _bucket(study.falling), False),
                       (f"Yield up ≥ {study.bp:g} bp", _bucket(study.rising), False),
                       ("All days", _bucket(study.all_days), False)])
    return fit(embed)


def _outcome(c: Comparison) -> str:
    a, b = c.analogs, c.baseline
    return (f"{ANALOG_SERIES[c.series]}: mean {fmt_pct(a.mean, 1)}, median "
            f"{fmt_pct(a.median, 1)}, higher {a.hits}/{a.count} · all days "
            f"{fmt_pct(b.mean, 1)}, {b.hit_rate:.0%} higher · p {fmt_p(c.p_value)}"
            f"{'' if c.indistinguishable else ' ⚠ differs'}")


def analogs_embed(study: AnalogStudy, *, source: str, stale: bool, stale_reason: str | None,
                  note: str | None = None) -> discord.Embed:
    """The analogs of ``asof`` (dates, distance, what followed) and, per horizon, analogs vs
    all days with the random-set test's verdict."""
    longest = study.comparison("relative", study.horizons[-1])
    same = all(c.indistinguishable for c in study.comparisons)
    lines = [f"**Today**: {analog_today_line(study)}",
             f"The {len(study.analogs)} closest past sessions by trend regime, ratio vs its "
             "50/200-day averages, leadership streak, distance from the record, 1M/3M relative "
             "return and drivers; at least "
             f"{study.min_separation} sessions apart, none in the last {study.exclude_recent}.",
             ("**Verdict**: every outcome below is indistinguishable from a random day "
              "(p ≥ 0.05)." if same else
              "**Verdict**: some outcomes differ from a random day (p < 0.05, marked ⚠); the "
              "rest are indistinguishable from a random day.")]
    if not study.history_complete:
        lines.append("**Limit**: the Russell 2000 history does not reach its inception, so "
                     "distance from the record is not used.")
    if note:
        lines.append(f"*{note}*")
    diff = longest.analogs.mean
    leader = None if math.isnan(diff) else ("small" if diff > 0 else "large")
    embed = base_embed("History · days like today", leader=leader, asof=study.asof,
                       source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    labels = "/".join(horizon_label(h) for h in study.horizons)
    rows = [f"`{a.date.isoformat()}` d {a.distance:.2f} · RUT/SPX "
            + " ".join(fmt_pct(x, 1) for x in a.relative)
            + f" · S&P {fmt_pct(a.spx[-1], 1)}" for a in study.analogs[:MAX_ROWS * 2]]
    fields = [(f"Analogs, closest first (RUT/SPX {labels}; S&P 500 "
               f"{horizon_label(study.horizons[-1])})", "\n".join(rows), False)]
    for h in study.horizons:
        block = [_outcome(study.comparison(s, h)) for s in ANALOG_SERIES]
        fields.append((f"After {horizon_label(h)} ({h} sessions)", "\n".join(block), False))
    add_fields(embed, fields)
    return fit(embed)


CALL_MARKS = {"tailwind": "🟢 tailwind", "headwind": "🔴 headwind", "neutral": "⚪ neutral",
              "descriptive": "🔹 descriptive", "absent": "▫️ no data"}


def driver_value(reading: DriverReading) -> str:
    """Call, reading and change, then the measured relation (r, 95% interval, n), then the
    reason for a call."""
    call = CALL_MARKS.get(reading.call, reading.call)
    fred_stale = " · ⚠️ stale FRED data" if reading.reason.startswith("Stale FRED") else ""
    parts = [f"**{call}**{' (old data, not counted)' if reading.stale else ''} · "
             f"{reading_label(reading)}{fred_stale}"]
    if reading.relation is not None:
        rel = reading.relation
        verdict = "" if rel.reliable else " · no reliable relation"
        parts.append(describe_relation(rel) + verdict)
        if reading.call in ("tailwind", "headwind") and not reading.stale:
            way = "with" if rel.corr > 0 else "against"
            side = "out" if reading.call == "tailwind" else "under"
            parts.append(f"Moved {way} small caps: this move went with small-cap "
                         f"{side}performance")
    return "\n".join(parts)


def drivers_embed(panel: DriversPanel, *, source: str, stale: bool, stale_reason: str | None,
                  note: str | None = None, valuation: ValuationReading | None = None,
                  premarket: PremarketReading | None = None,
                  record: str | None = None) -> discord.Embed:
    """/drivers: what moved with or against small caps, one field per driver (with its r, 95%
    interval and n), the composite's forecast record (``record``, one line), then valuation and
    pre-market (full width; their labelled absence when not available). Colour: small caps when
    tailwinds outnumber headwinds, large caps when the reverse, grey when even."""
    leader = ("small" if panel.tailwinds > panel.headwinds else
              "large" if panel.headwinds > panel.tailwinds else None)
    lines = [f"{panel.summary[0].upper()}{panel.summary[1:]}."]
    if record:
        lines.append(f"**{record}.**")
    if note:
        lines.append(f"*{note}*")
    lines.append(f"r: weekly changes vs the weekly RUT/SPX relative return over "
                 f"{panel.lookback_weeks} weeks (economy: per release), 95% Newey-West "
                 "interval. A call needs the interval to exclude zero; it says what moved "
                 "together, not a cause or a forecast.")
    counts = (f"{panel.tailwinds} tailwind{'s' if panel.tailwinds != 1 else ''}, "
              f"{panel.headwinds} headwind{'s' if panel.headwinds != 1 else ''}")
    embed = base_embed(f"What moved with small caps · {counts}", leader=leader,
                       asof=panel.asof, source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    add_fields(embed, [(r.name, driver_value(r), True) for r in panel.readings])
    extra = [("Valuation (trailing P/E)", valuation), ("Pre-market futures", premarket)]
    add_fields(embed, [(name, r.line.split(": ", 1)[1] if r.status == "absent" else r.line,
                        False) for name, r in extra if r is not None])
    return fit(embed)


def _track_field(s: Score) -> str:
    """The record over one horizon in four short lines."""
    if s.calls == 0:
        return "too few calls to score"
    verdict = ("**forecast value**: small calls beat large calls" if s.forecast_value
               else "**no forecast value**: interval includes zero")
    return (f"Hit rate {track_share(s.hit_rate)} vs {fmt_pct(s.no_skill, 1).lstrip('+')} by chance "
            f"· {s.small_calls:,} small / {s.large_calls:,} large calls, "
            f"{s.no_calls:,} days no call\n"
            f"After small calls {track_span(s.mean_small, 2)}\n"
            f"After large calls {track_span(s.mean_large, 2)}\n"
            f"Small − large {track_span(s.spread, 2)}: {verdict}\n"
            f"Any day: up {track_share(s.base_rate)}, mean {track_span(s.mean_all, 2)}")


def track_record_embed(record: TrackRecord, *, source: str, stale: bool,
                       stale_reason: str | None, note: str | None = None) -> discord.Embed:
    """capbrief's call replayed since 1990 and scored over the next 21 and 63 sessions."""
    first = next((s.first for s in record.scores if s.first), record.start)
    lines = [f"The verdict's call (small / large / mixed caps lead), replayed every session "
             f"since {first.isoformat()} from data up to that session only, scored against the "
             f"RUT/SPX price return that followed. Today's call: **{record.today}**."]
    lines.extend(f"• {s.horizon} sessions ahead: "
                 f"{'forecast value' if s.forecast_value else 'no forecast value'}"
                 for s in record.scores)
    robust = "; ".join(f"{s.horizon}s: small − large {track_span(s.spread, 2)}"
                       for s in record.robust)
    lines.append(f"Non-overlapping points: {robust}.")
    if note:
        lines.append(f"*{note}*")
    embed = base_embed("History · capbrief's track record", leader=None, asof=record.asof,
                       source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    add_fields(embed, [(f"Next {s.horizon} sessions", _track_field(s), False)
                       for s in record.scores])
    embed.add_field(name="Method", value="95% intervals: Newey–West, lags = the horizon "
                    "(overlapping windows, autocorrelation). Chance: the same calls on random "
                    "days. Price returns.", inline=False)
    return fit(embed)
