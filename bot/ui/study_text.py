"""Plain-text tables and JSON documents for the ``/history`` studies and the ``/drivers`` panel.

Text is for a terminal or a Discord code block (monospace, ≤ 100 columns). JSON uses stable
snake_case keys, ISO dates and returns as fractions (NaN → null); see ``*_json`` below.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from analytics.charts.build import fmt_p
from analytics.drivers import DriverReading, DriversPanel
from analytics.formats import pct
from analytics.leadership import REGIME_LABELS
from analytics.premarket import PremarketReading
from analytics.records import RANK_SHOWN, rank_phrase
from analytics.studies.analogs import AnalogStudy, Comparison
from analytics.studies.breakouts import BreakoutEvent, BreakoutStudy, HorizonStats
from analytics.studies.cycles import CycleStudy
from analytics.studies.drivers_forward import DriversForward, describe_record
from analytics.studies.droughts import Drought, DroughtTable
from analytics.studies.rates import RateBucket, RateStudy
from analytics.studies.track_record import Estimate, Score, TrackRecord
from analytics.valuation import ValuationReading
from bot.ui.format import ordinal as _ordinal
from bot.ui.text import fmt_level, fmt_pct, to_jsonable

NAMES = {"^RUT": "Russell 2000", "^GSPC": "S&P 500"}
HORIZON_LABELS = {5: "1W", 21: "1M", 63: "3M", 126: "6M", 252: "1Y", 504: "2Y"}


def horizon_label(sessions: int) -> str:
    """21 → "1M", 252 → "1Y"; other counts → "40d" (sessions)."""
    return HORIZON_LABELS.get(sessions, f"{sessions}d")


def _pct(value: float | None, digits: int = 1) -> str:
    return fmt_pct(value, digits) if value is not None and math.isfinite(value) else "—"


# ---------------------------------------------------------------- breakouts


def _event_row(e: BreakoutEvent, width: int) -> str:
    cells = [f"{_pct(x):>{width}}" for x in (*e.spx_returns, *e.rut_returns)]
    half = len(cells) // 2
    row = (f"{e.date.isoformat()}  {fmt_level(e.close):>9}  {e.gap_days:>5,}  "
           f"{''.join(cells[:half])}  {''.join(cells[half:])}")
    if not e.complete and e.sessions_so_far == 0:
        row += "  live: the as-of close"
    elif not e.complete:
        row += (f"  {'live, ' if e.live else ''}{e.sessions_so_far} sessions so far: "
                f"S&P {_pct(e.spx_so_far)}, Russell {_pct(e.rut_so_far)}")
    return row.rstrip()


def _stats_block(title: str, stats: tuple[HorizonStats, ...], width: int) -> list[str]:
    head = "".join(f"{horizon_label(s.horizon):>{width}}" for s in stats)
    lines = [title, f"{'':<10}{head}"]
    lines.append(f"{'Higher':<10}" + "".join(
        f"{(f'{s.hits}/{s.count}' if s.count else '—'):>{width}}" for s in stats))
    for label, attr in (("Mean", "mean"), ("Median", "median"), ("Worst", "min"),
                        ("Best", "max")):
        lines.append(f"{label:<10}" + "".join(f"{_pct(getattr(s, attr)):>{width}}"
                                              for s in stats))
    return lines


def breakouts_limit(study: BreakoutStudy) -> str | None:
    """Why the study cannot call its events records, in one sentence; None when it can."""
    if study.history_complete or study.data_start is None:
        return None
    name = NAMES[study.event_index]
    began = (f"the {name} starts {study.inception.isoformat()}" if study.inception
             else f"the {name}'s own start is unknown")
    return (f"the data starts {study.data_start.isoformat()} but {began}: closes before "
            f"{study.data_start.isoformat()} are missing, so no event here can be ruled a record "
            "or a breakout (an earlier close may be higher), and a breakout above an unseen "
            "earlier high would be missed.")


def unruled_line(study: BreakoutStudy) -> str | None:
    """The new highs the study cannot rule on, and why; None when there are none."""
    if not study.unruled:
        return None
    days = [u.date.isoformat() for u in study.unruled]
    listed = ", ".join(days) if len(days) <= 6 else f"{days[0]} … {days[-1]}"
    return (f"Cannot rule on {len(days)} new high{'s' if len(days) != 1 else ''} before "
            f"{study.rulable_from} ({listed}): {study.unruled[0].reason}.")


def render_breakouts_text(study: BreakoutStudy, *, note: str | None = None) -> str:
    """The events table (one row per event) and the statistics across complete events.

    When the history does not reach the index's inception, events are named "highest since
    <first date>" (never record or breakout) and the limit is stated.
    """
    name = NAMES[study.event_index]
    full = study.history_complete
    since = study.data_start.isoformat() if study.data_start else "n/a"
    high = "record" if full else f"highest close since {since}"
    w = 8
    labels = "".join(f"{horizon_label(h):>{w}}" for h in study.horizons)
    if full:
        lines = [f"{name} breakouts: first record close after more than {study.gap_days:,} days "
                 f"without one — as of {study.asof.isoformat()}"]
    else:
        lines = [f"{name} highest closes since {since} after more than {study.gap_days:,} days "
                 f"without one — as of {study.asof.isoformat()}"]
    if note:
        lines.append(f"Note: {note}")
    lines.append(f"Data since {since}. Forward PRICE returns, counted in sessions after the "
                 "event.")
    limit = breakouts_limit(study)
    if limit:
        lines.append(f"LIMIT: {limit}")
    unruled = unruled_line(study)
    if unruled:
        lines.append(unruled)
    live = study.live_event
    if live is not None:
        when = (f"at the as-of close ({live.date:%a} {live.date.isoformat()})"
                if live.date == study.asof
                else f"{live.sessions_so_far} sessions ago, on {live.date.isoformat()}")
        if full:
            lines.append(f"LIVE: {when}, {name} closed at a record {fmt_level(live.close)}, "
                         f"ending a {live.gap_days:,}-day drought (previous record "
                         f"{fmt_level(live.previous_record_close)} on "
                         f"{live.previous_record_date.isoformat()}).")
        else:
            lines.append(f"LIVE: {when}, {name} closed at {fmt_level(live.close)}, its {high}, "
                         f"the first in {live.gap_days:,} days (previous "
                         f"{fmt_level(live.previous_record_close)} on "
                         f"{live.previous_record_date.isoformat()}).")
    elif study.last_record_date is not None:
        event = "breakout" if full else "event"
        if study.days_since_record == 0:
            lines.append(f"No {event} is live: the {study.asof.isoformat()} close, "
                         f"{fmt_level(study.last_record_close)}, is "
                         f"{'a record' if full else 'the ' + high} but not after a long gap.")
        else:
            lines.append(f"No {event} is live: last {high} "
                         f"{fmt_level(study.last_record_close)} on "
                         f"{study.last_record_date.isoformat()}, "
                         f"{study.days_since_record:,} days ago.")
    lines.append("")
    events = "breakouts" if full else f"highs since {since}"
    if not study.events:
        lines.append(f"No {'breakout events' if full else 'such highs'} in the data up to this "
                     "date.")
        return "\n".join(lines) + "\n"
    pad = " " * 30
    lines.append(f"{pad}{'S&P 500 forward':<{w * len(study.horizons)}}  Russell 2000 forward")
    head = "Event" if full else f"Event: highest since {since}"
    lines.append(f"{head:<10}" if full else head)
    if full:
        lines[-1] = f"{'Event':<10}  {'Close':>9}  {'Gap d':>5}  {labels}  {labels}"
    else:
        lines.append(f"{'':<10}  {'Close':>9}  {'Gap d':>5}  {labels}  {labels}")
    lines.extend(_event_row(e, w) for e in study.events)
    lines.append("")
    open_ = study.incomplete_events
    left_out = ""
    if open_:
        dates = ", ".join(e.date.isoformat() for e in open_)
        left_out = f" ({dates} counted only at horizons already reached)"
    lines += _stats_block(f"S&P 500 price return after {len(study.events)} {events}{left_out}:",
                          study.spx_stats, w)
    lines.append("")
    no_rut = sum(1 for e in study.events if e.rut_so_far is None)
    rut_title = "Russell 2000 price return after the same events" + (
        f" ({no_rut} before its data begins left out):" if no_rut else ":")
    lines += _stats_block(rut_title, study.rut_stats, w)
    return "\n".join(lines) + "\n"


def breakouts_json(study: BreakoutStudy) -> dict[str, Any]:
    """Events with ``spx_forward_returns`` / ``rut_forward_returns`` keyed by horizon in
    sessions (null = window not complete), plus stats per index and horizon.

    ``history_complete`` false (the data starts after the index's ``inception``): every
    ``record`` key is named ``high`` instead (the highest close since ``data_start``), each
    event's ``label`` says so, ``limit`` states why, and ``unruled`` lists the new highs that
    cannot be ruled on.
    """
    full = study.history_complete
    rec = "record" if full else "high"
    since = study.data_start.isoformat() if study.data_start else None
    label = "breakout" if full else f"highest since {since}"

    def by_h(values: tuple[float | None, ...]) -> dict[str, float | None]:
        return {str(h): to_jsonable(v) for h, v in zip(study.horizons, values, strict=True)}

    def event(e: BreakoutEvent) -> dict[str, Any]:
        return {"date": e.date.isoformat(), "close": e.close, "label": label,
                f"previous_{rec}_date": e.previous_record_date.isoformat(),
                f"previous_{rec}_close": e.previous_record_close, "gap_days": e.gap_days,
                "gap_sessions": e.gap_sessions, "spx_forward_returns": by_h(e.spx_returns),
                "rut_forward_returns": by_h(e.rut_returns), "complete": e.complete,
                "sessions_so_far": e.sessions_so_far, "spx_return_so_far": e.spx_so_far,
                "rut_return_so_far": e.rut_so_far, "live": e.live}

    return {"study": "breakouts", "asof": study.asof.isoformat(),
            "event_index": study.event_index, "gap_days": study.gap_days,
            "horizons_sessions": list(study.horizons), "return_type": "price",
            "data_start": to_jsonable(study.data_start),
            "inception": to_jsonable(study.inception), "history_complete": full,
            "limit": breakouts_limit(study),
            "unruled": [{"date": u.date.isoformat(), "close": u.close, "reason": u.reason}
                        for u in study.unruled],
            f"last_{rec}_date": to_jsonable(study.last_record_date),
            f"last_{rec}_close": study.last_record_close,
            f"days_since_{rec}": study.days_since_record,
            "live_event_date": to_jsonable(study.live_event.date if study.live_event else None),
            "events": [event(e) for e in study.events],
            "stats": {"spx": to_jsonable(study.spx_stats), "rut": to_jsonable(study.rut_stats)}}


# ---------------------------------------------------------------- droughts


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=100, subsequent_indent="  ")


def drought_rank_text(table: DroughtTable, d: Drought, word: str = "drought") -> str:
    r"""How ``d`` ranks, by the records rule (:func:`analytics.records.rank_phrase`): among
    the ``word``\s of ``table.rank_min_sessions``+ sessions, named only in the top 10, the
    population always stated: "the 3rd-longest of the 29 droughts of 63+ sessions since 1979";
    "not among the 10 longest of the 29 …"; "shorter than 63 sessions: not ranked (29 …)"."""
    since = table.data_start
    plural = f"{word}s" if table.long_count != 1 else word
    population = (f"the {table.long_count:,} {plural} of {table.rank_min_sessions}+ sessions"
                  + (f" since {since:%Y}" if since else ""))
    if d.long_rank is None:
        return f"shorter than {table.rank_min_sessions} sessions, so not ranked ({population})"
    if since is not None and word == "drought":
        phrase = rank_phrase(d.long_rank, table.long_count, table.rank_min_sessions, since)
        if phrase:
            return phrase
    elif d.long_rank <= RANK_SHOWN:
        which = "the longest" if d.long_rank == 1 else f"the {_ordinal(d.long_rank)}-longest"
        return f"{which} of {population}"
    return f"not among the {RANK_SHOWN} longest of {population}"


def _drought_rank_cell(d: Drought) -> str:
    return f"{d.long_rank:>5,}" if d.long_rank is not None else f"{'—':>5}"


def _drought_row(d: Drought) -> str:
    low = f"{_pct(d.depth)} ({d.low_date.isoformat()})" if d.depth < 0 else "—"
    tag = "  ← open: today" if d.open else ""
    return (f"{_drought_rank_cell(d)}  {d.start.isoformat()}  {d.end.isoformat()}  {d.days:>6,}  "
            f"{d.sessions:>8,}  {fmt_level(d.record_close):>10}  {low:<22}{tag}").rstrip()


def droughts_limit(table: DroughtTable) -> str:
    """Why the gaps are not record droughts when the history starts after the index does."""
    began = (f"the index starts {table.inception.isoformat()}" if table.inception
             else "the index's own start is unknown")
    return (f"the data starts {table.data_start}, {began}: these are gaps between the highest "
            f"closes since {table.data_start}, not record droughts, and the first one may have "
            "begun before the data does.")


def render_droughts_text(table: DroughtTable, name: str, *, limit: int = 15,
                         note: str | None = None) -> str:
    """The longest droughts (up to ``limit``) and today's, wherever it ranks (when the history
    starts after the index: gaps between highest closes since the first date, limit stated)."""
    complete = table.history_complete
    high = f"highest close since {table.data_start}"
    lines = [f"{name} record droughts (time between record closes) — as of "
             f"{table.asof.isoformat()}" if complete else
             f"{name} gaps between closes at the {high} — as of {table.asof.isoformat()}"]
    if note:
        lines.append(f"Note: {note}")
    if not complete:
        lines.append(f"LIMIT: {droughts_limit(table)}")
    since = table.data_start.isoformat() if table.data_start else "n/a"
    shown = table.droughts[:limit]
    count = f"{table.total:,} droughts since {since}" if complete else f"{table.total:,} gaps"
    depth = "the record" if complete else "the high that opened the gap"
    lines.append(_wrap(f"{count}, {table.long_count:,} of them "
                 f"{table.rank_min_sessions}+ sessions (ranked among those); the {len(shown)} "
                 "longest" + (f" of at least {table.min_days:,} days" if table.min_days else "")
                 + f" shown. Depth = worst close inside vs {depth}."))
    lines.append("")
    if not table.total:
        lines.append(f"No {'droughts' if complete else 'gaps'}: too little data.")
        return "\n".join(lines) + "\n"
    start, end, close = (("Record", "Next rec.", "Rec. close") if complete else
                         ("High", "Next high", "High close"))
    lines.append(f"{'Rank':>5}  {start:<10}  {end:<10}  {'Days':>6}  "
                 f"{'Sessions':>8}  {close:>10}  Depth (low date)")
    lines.extend(_drought_row(d) for d in shown)
    cur = table.current
    if cur is not None and cur not in shown:
        lines.append(f"{'…':>5}")
        lines.append(_drought_row(cur))
    lines.append("")
    if cur is not None:
        opened = (f"record of {fmt_level(cur.record_close)}" if complete else
                  f"{high} ({fmt_level(cur.record_close)})")
        rank = drought_rank_text(table, cur) if complete else drought_rank_text(table, cur, "gap")
        lines.append(_wrap(f"Today: {cur.days:,} days ({cur.sessions:,} sessions) since the "
                     f"{cur.start.isoformat()} {opened}: {rank}."))
    elif complete:
        lines.append(f"Today ({table.asof.isoformat()}) is a record close: no open drought.")
    else:
        lines.append(f"Today ({table.asof.isoformat()}) closed at its {high}: no open gap.")
    return "\n".join(lines) + "\n"


def droughts_json(table: DroughtTable, symbol: str) -> dict[str, Any]:
    """The table as JSON; when ``history_complete`` is false, ``record_close`` is named
    ``high_close`` (the highest close since ``data_start``) and ``limit`` says why."""
    doc: dict[str, Any] = {"study": "droughts", "symbol": symbol, **to_jsonable(table)}
    if table.history_complete:
        return doc
    for row in [*doc["droughts"], *([doc["current"]] if doc["current"] else [])]:
        row["high_close"] = row.pop("record_close")
    doc["limit"] = droughts_limit(table)
    return doc


# ---------------------------------------------------------------- cycles


def render_cycles_text(study: CycleStudy, *, note: str | None = None) -> str:
    """Every regime, oldest first, and a one-line tally."""
    lines = [f"Small- vs large-cap leadership cycles (RUT/SPX ratio) — as of "
             f"{study.asof.isoformat()}"]
    if note:
        lines.append(f"Note: {note}")
    lines.append(f"Rule: a regime turns when the ratio reverses {study.swing:.0%} from its "
                 "extreme; regimes are dated at the turning points.")
    lines.append("")
    if not study.regimes:
        lines.append("No regimes: too little data.")
        return "\n".join(lines) + "\n"
    lines.append(f"{'Leader':<7} {'From':<10}  {'To':<10}  {'Years':>5}  {'RUT/SPX':>8}  "
                 f"{'Russell':>8}  {'S&P 500':>8}")
    for r in study.regimes:
        leader = "Small" if r.leader == "small" else "Large"
        end = "open" if r.open else r.end.isoformat()
        lines.append(f"{leader:<7} {r.start.isoformat()}  {end:<10}  {r.years:>5.1f}  "
                     f"{_pct(r.relative_return):>8}  {_pct(r.rut_return):>8}  "
                     f"{_pct(r.spx_return):>8}")
    lines.append("")
    for side, word in (("small", "Small caps"), ("large", "Large caps")):
        closed = [r for r in study.regimes if r.leader == side]
        years = sum(r.years for r in closed)
        lines.append(f"{word} led {len(closed)} regimes, {years:.1f} years in all.")
    cur = study.current
    if cur is not None and study.current_extreme_date is not None:
        who = "Small" if cur.leader == "small" else "Large"
        point = "peak" if cur.leader == "small" else "low"
        lines.append(f"Now: {who} caps lead since {cur.start.isoformat()} "
                     f"({_pct(cur.relative_return)} relative); the ratio is "
                     f"{_pct(study.current_from_extreme)} from its "
                     f"{study.current_extreme_date.isoformat()} {point}; a {study.swing:.0%} "
                     "reversal from there would end the regime.")
    return "\n".join(lines) + "\n"


def cycles_json(study: CycleStudy) -> dict[str, Any]:
    """Regimes and the rule; the ratio series itself is left out (charts use the dataclass)."""
    return {"study": "cycles", "asof": study.asof.isoformat(), "rule": "swing",
            "swing": study.swing, "regimes": to_jsonable(study.regimes),
            "current_regime": to_jsonable(study.current),
            "current_extreme_date": to_jsonable(study.current_extreme_date),
            "current_from_extreme": to_jsonable(study.current_from_extreme)}


# ---------------------------------------------------------------- rates


def _bucket_row(label: str, b: RateBucket) -> str:
    share = f"{b.small_beat_share:.0%}" if b.days else "—"
    return (f"{label:<22}{b.days:>6,}  {_pct(b.rut_mean, 3):>9}  {_pct(b.spx_mean, 3):>9}  "
            f"{_pct(b.difference, 3):>9}  {share:>7}")


def _versus(diff: float) -> str:
    word = "beat large caps by" if diff >= 0 else "trailed large caps by"
    return f"{word} {abs(diff):.3%}"


def render_rates_text(study: RateStudy, *, note: str | None = None) -> str:
    """Falling / rising / all days, average daily returns."""
    span = (f"{study.start.isoformat()} to {study.end.isoformat()}"
            if study.start and study.end else "no common dates")
    lines = [f"Small vs large caps on 10-year-yield days — {span}"]
    if note:
        lines.append(f"Note: {note}")
    lines.append("Average daily price return; days common to ^RUT, ^GSPC and ^TNX "
                 "(bond holidays excluded).")
    lines.append("")
    lines.append(f"{'Days':<22}{'Count':>6}  {'Russell':>9}  {'S&P 500':>9}  {'RUT−SPX':>9}  "
                 f"{'RUT won':>7}")
    bp = f"{study.bp:g}"
    lines.append(_bucket_row(f"10y down ≥ {bp} bp", study.falling))
    lines.append(_bucket_row(f"10y up ≥ {bp} bp", study.rising))
    lines.append(_bucket_row("All days", study.all_days))
    f, r = study.falling, study.rising
    if f.days and r.days:
        lines.append("")
        lines.append(f"When the 10y fell {bp}+ bp, small caps {_versus(f.difference)} a day "
                     f"on average; when it rose {bp}+ bp, they {_versus(r.difference)}.")
    return "\n".join(lines) + "\n"


def rates_json(study: RateStudy) -> dict[str, Any]:
    return {"study": "rates", "yield_symbol": "^TNX", "return_type": "price_daily",
            **to_jsonable(study)}


# ---------------------------------------------------------------- analogs

ANALOG_SERIES = {"relative": "RUT/SPX", "^RUT": "Russell", "^GSPC": "S&P 500"}
#: The 200-day trend call of each regime, in the words of :data:`analytics.leadership.
#: REGIME_LABELS` ("Small caps lead the 200-day trend, newly" → "small, newly").
REGIME_SHORT = {"small_caps_leading": "small", "small_caps_rebounding": "small, newly",
                "small_caps_fading": "large, newly", "large_caps_leading": "large",
                "unknown": "unknown"}


def analog_verdict(c: Comparison) -> str:
    """"indistinguishable from a random day" (p ≥ 0.05) or "differs from a random day"."""
    return ("indistinguishable from a random day" if c.indistinguishable
            else "differs from a random day")


def _streak(n: int) -> str:
    if n == 0:
        return "level with the 50-day average"
    who = "small" if n > 0 else "large"
    return f"{who} caps ahead for {abs(n):,} session{'s' if abs(n) != 1 else ''}"


def _record(drawdown: float) -> str:
    return "record" if drawdown == 0 else _pct(drawdown)


def analog_today_line(study: AnalogStudy) -> str:
    """Today's feature vector in one sentence."""
    f = {r.key: r.value for r in study.features}
    parts = [REGIME_LABELS[study.regime],
             f"ratio {_pct(f['vs_sma200'])} vs its 200-day and {_pct(f['vs_sma50'])} vs its "
             f"50-day average", _streak(study.streak_sessions)]
    dd = f["drawdown"]
    if study.history_complete and dd is not None:
        parts.append("Russell 2000 at its record" if dd == 0 else
                     f"Russell 2000 {_pct(dd)} from its record")
    parts.append(f"RUT/SPX 1M {_pct(f['rel_1m'])}, 3M {_pct(f['rel_3m'])}")
    if f.get("tnx_1m") is not None:
        parts.append(f"10-year yield {f['tnx_1m']:+.0f} bp in 1M")
    if f.get("vix") is not None:
        parts.append(f"VIX {f['vix']:.1f}")
    return "; ".join(parts) + "."


def analog_rule_line(study: AnalogStudy) -> str:
    """The search rule in one sentence (pool, separation, exclusion)."""
    return (f"Pool: {study.pool_size:,} sessions {study.pool_start.isoformat()} to "
            f"{study.pool_end.isoformat()} (features known, a full {study.horizons[-1]}-session "
            f"future, not within {study.exclude_recent} sessions of today); analogs at least "
            f"{study.min_separation} sessions apart (closest of a cluster kept).")


def render_analogs_text(study: AnalogStudy, *, note: str | None = None) -> str:
    """Today's features, the analogs (description, then what followed), and analogs vs the
    baseline of all pool days with the random-set test, per series and horizon."""
    lines = [f"Days like today: the {len(study.analogs)} past sessions most like "
             f"{study.asof.isoformat()}"]
    if note:
        lines.append(f"Note: {note}")
    lines.append(textwrap.fill(f"Today: {analog_today_line(study)}", 100,
                               subsequent_indent="  "))
    if not study.history_complete:
        lines.append(textwrap.fill(
            f"LIMIT: the Russell 2000 data starts {study.data_start.isoformat()}, after the "
            "index's inception, so its record is unknown: 'below its record' is left out of "
            "the distance.", 100))
    lines.append("")
    lines.append("Features (distance = weighted Euclidean of differences / scale; scale = "
                 "1.4826 x MAD to today):")
    lines.append(f"  {'feature':<42}{'today':>10}{'scale':>10}{'weight':>8}")
    missing = [r for r in study.features if not r.used and r.key != "drawdown"]
    for r in study.features:
        value = "—" if r.value is None else f"{r.value:.4g}"
        scale = f"{r.scale:.4g}" if r.key not in ("above_200d", "rising_200d") else "1 (flag)"
        used = "" if r.used else "  (not used)"
        lines.append(f"  {r.label:<42}{value:>10}{scale:>10}{r.weight:>8g}{used}")
    for r in missing:
        lines.append(f"  {r.label}: not used, {r.reason}.")
    lines.append(textwrap.fill(analog_rule_line(study), 100))
    lines.append("")
    lines.append(f"{'Analog':<10}  {'Dist':>5}  {'200d trend':<12}  {'Streak':>6}  "
                 f"{'vs record':>9}  {'RUT/SPX 1M':>10}  {'3M':>7}")
    for a in study.analogs:
        lines.append(f"{a.date.isoformat()}  {a.distance:>5.2f}  {REGIME_SHORT[a.regime]:<12}  "
                     f"{a.streak_sessions:>+6,}  {_record(a.drawdown):>9}  {_pct(a.rel_1m):>10}  "
                     f"{_pct(a.rel_3m):>7}")
    lines.append("")
    labels = [horizon_label(h) for h in study.horizons]
    w = 7
    head = "".join(f"{x:>{w}}" for x in labels)
    lines.append("What followed (PRICE returns over sessions after the day; RUT/SPX = relative "
                 "return):")
    span = w * len(labels)
    lines.append(f"{'Analog':<10}  {'RUT/SPX':>{span}}  {'Russell 2000':>{span}}  "
                 f"{'S&P 500':>{span}}")
    lines.append(f"{'':<10}  {head}  {head}  {head}")
    for a in study.analogs:
        cells = ["".join(f"{_pct(x):>{w}}" for x in xs) for xs in (a.relative, a.rut, a.spx)]
        lines.append(f"{a.date.isoformat()}  {'  '.join(cells)}")
    lines.append("")
    lines.append(textwrap.fill(
        f"Analogs vs all {study.pool_size:,} pool days (the baseline). Test: {study.draws:,} "
        f"random sets of {len(study.analogs)} pool days with the same spacing; two-sided p on "
        "the mean; 'random 95%' is where such a set's mean falls 95% of the time.", 100))
    lines.append(f"{'':<8}{'':<4}{'analogs: up':>12}{'mean':>8}{'median':>8}   "
                 f"{'all: up':>7}{'mean':>8}{'median':>8}   {'random 95%':>15}{'p':>7}")
    for c in study.comparisons:
        mine, base = c.analogs, c.baseline
        band = f"{_pct(c.band_low)}..{_pct(c.band_high)}"
        lines.append(f"{ANALOG_SERIES[c.series]:<8}{horizon_label(c.horizon):<4}"
                     f"{f'{mine.hits}/{mine.count}':>12}{_pct(mine.mean):>8}"
                     f"{_pct(mine.median):>8}   {f'{base.hit_rate:.0%}':>7}{_pct(base.mean):>8}"
                     f"{_pct(base.median):>8}   "
                     f"{band:>15}{fmt_p(c.p_value):>7}")
    lines.append("")
    same = [c for c in study.comparisons if c.indistinguishable]
    differ = [c for c in study.comparisons if not c.indistinguishable]
    if same:
        lines.append(textwrap.fill(
            "Indistinguishable from a random day (p ≥ 0.05): " + ", ".join(
                f"{ANALOG_SERIES[c.series]} {horizon_label(c.horizon)}" for c in same) + ".",
            100))
    if differ:
        lines.append(textwrap.fill(
            "Differs from a random day (p < 0.05): " + ", ".join(
                f"{ANALOG_SERIES[c.series]} {horizon_label(c.horizon)} "
                f"({_pct(c.analogs.mean)} vs {_pct(c.baseline.mean)})" for c in differ) + ".",
            100))
    lines.append(textwrap.fill(
        f"{len(study.analogs)} analogs with overlapping forward windows and "
        f"{len(study.comparisons)} related tests: read a lone p just under 0.05 with care.", 100))
    return "\n".join(lines) + "\n"


def analogs_json(study: AnalogStudy) -> dict[str, Any]:
    """The study as JSON, plus ``regime`` (today's), each analog's ``regime`` and each
    comparison's ``indistinguishable`` (p ≥ 0.05) and ``verdict``."""
    doc: dict[str, Any] = {"study": "analogs", "return_type": "price",
                           **to_jsonable(study), "regime": study.regime}
    for row, a in zip(doc["analogs"], study.analogs, strict=True):
        row["regime"] = a.regime
    for row, c in zip(doc["comparisons"], study.comparisons, strict=True):
        row["indistinguishable"] = c.indistinguishable
        row["verdict"] = analog_verdict(c)
    return doc


# ---------------------------------------------------------------- drivers


def _level(r: DriverReading) -> str:
    if r.level is None:
        return "—"
    if r.level_unit == "%":
        return f"{r.level:.2f}%"
    if r.level_unit == "thousands":
        return f"{r.level:,.0f}k"
    if r.level_unit == "ratio":
        return f"{r.level:.4f}"
    return f"{r.level:,.2f}"


def _change(r: DriverReading, value: float | None) -> str:
    if value is None:
        return "—"
    if r.change_unit == "bp":
        return f"{value:+.0f} bp"
    if r.change_unit == "fraction":
        return _pct(value)
    if r.change_unit == "pp":
        return f"{value:+.1f} pp"
    return f"{value:+.1f} pts"


def _as_of(r: DriverReading, panel: DriversPanel) -> str:
    """Economy: the period the figure is for; market: its own date when not the panel's."""
    if r.period is not None:
        if r.key == "gdp_growth":
            when = f"{r.period.year} Q{(r.period.month - 1) // 3 + 1}"
        elif r.key in ("unemployment", "consumer_sentiment"):
            when = f"{r.period:%b %Y}"
        else:
            when = f"week to {r.period.isoformat()}"
    else:
        when = "" if r.asof is None or r.asof == panel.asof else r.asof.isoformat()
    if r.reason.startswith("Stale FRED"):  # served after a failed FRED refresh
        when = f"{when} (stale FRED)".strip()
    return f"{when} stale" if r.stale else when


def _stats_cells(r: DriverReading) -> str:
    """``r``, its 95% interval and n as table cells (dashes when not measured)."""
    rel = r.relation
    if rel is None:
        return f"{'—':>6}{'—':>15}{'—':>5}"
    ci = f"{rel.low:+.2f} to {rel.high:+.2f}"
    return f"{rel.corr:+6.2f}{ci:>15}{rel.periods:>5}"


def render_drivers_text(panel: DriversPanel, *, note: str | None = None,
                        valuation: ValuationReading | None = None,
                        premarket: PremarketReading | None = None,
                        record: str | None = None) -> str:
    """One row per driver (its r, 95% interval and n), then each call's reason, the composite's
    forecast record (``record``: one line, when given), then valuation and pre-market (when
    given: each is its line, or its labelled absence)."""
    lines = [f"What moved with small caps against large caps — as of {panel.asof.isoformat()}"]
    if note:
        lines.append(f"Note: {note}")
    lines.append(f"Composite: {panel.summary}.")
    if record:
        lines.append(f"{record}.")
    lines.append("")
    lines.append(f"{'Driver':<31}{'Level':>9}{'1M':>10}{'3M':>10}{'z 1y':>6}{'r':>6}"
                 f"{'95% CI':>15}{'n':>5}  {'Call':<12}Data for")
    for r in panel.readings:
        z = f"{r.zscore:+.1f}" if r.zscore is not None else "—"
        lines.append(f"{r.name[:30]:<31}{_level(r):>9}{_change(r, r.change_1m):>10}"
                     f"{_change(r, r.change_3m):>10}{z:>6}{_stats_cells(r)}  {r.call:<12}"
                     f"{_as_of(r, panel)}".rstrip())
    lines.append("")
    lines.extend(f"- {r.reason}" for r in panel.readings if r.call != "neutral")
    extra = [r.line for r in (valuation, premarket) if r is not None]
    if extra:
        lines.append("")
        lines.extend(textwrap.fill(x, width=100, subsequent_indent="  ") for x in extra)
    lines.append("")
    lines.append(textwrap.fill(
        f"r: correlation of weekly changes with the weekly RUT/SPX relative return over the last "
        f"{panel.lookback_weeks} weeks (economy: per release); 95% CI: Newey-West (HAC), never "
        "narrower than the conventional interval; n: pairs. A tailwind or headwind needs the "
        "interval to exclude zero; neutral = no reliable relation or a small move; descriptive "
        "= a small-cap basket itself, not counted. Calls say what moved together, not what "
        "drives small caps or what comes next.", width=100))
    return "\n".join(lines) + "\n"


def forecast_json(forward: DriversForward | None) -> dict[str, Any] | None:
    """The composite's walk-forward record: its line and each horizon's Spearman n, rho,
    interval and p (``horizon`` < 0: the past sessions, for comparison)."""
    if forward is None:
        return None
    rows = []
    for s in forward.scores:
        if s.key != "composite":
            continue
        rel = s.relation
        row: dict[str, Any] = {"horizon": s.horizon, "points": s.points, "spearman": None,
                               "low": None, "high": None, "p_value": None, "reliable": False}
        if rel is not None:
            row.update(spearman=round(rel.corr, 4), low=round(rel.low, 4),
                       high=round(rel.high, 4), p_value=round(rel.p_value, 4),
                       reliable=rel.reliable)
        rows.append(row)
    return {"line": describe_record(forward), "first": forward.first, "last": forward.last,
            "step_sessions": forward.step, "composite": rows}


def drivers_json(panel: DriversPanel, *, valuation: ValuationReading | None = None,
                 premarket: PremarketReading | None = None,
                 forward: DriversForward | None = None) -> dict[str, Any]:
    """The panel (with ``score`` = tailwinds − headwinds and ``forecast_record``: the
    composite's walk-forward record, null when not given); ``valuation`` and ``premarket`` keys
    are present (null when not given)."""
    return {"panel": "drivers", **to_jsonable(panel), "score": panel.score,
            "forecast_record": to_jsonable(forecast_json(forward)),
            "valuation": to_jsonable(valuation), "premarket": to_jsonable(premarket)}


# ---------------------------------------------------------------- track record

TRACK_SCHEMA = "history.track-record"
TRACK_SCHEMA_VERSION = "1.0"


def track_span(e: Estimate, digits: int = 1) -> str:
    """``"+0.11% (−0.34% to +0.55%)"``; ``"—"`` when NaN."""
    if not math.isfinite(e.value):
        return "—"
    if not math.isfinite(e.low):
        return pct(e.value, digits)
    return f"{pct(e.value, digits)} ({pct(e.low, digits)} to {pct(e.high, digits)})"


def track_share(e: Estimate) -> str:
    """A share with its interval: ``"51.9% (48.0–55.7%)"``."""
    if not math.isfinite(e.value):
        return "—"
    if not math.isfinite(e.low):
        return pct(e.value, signed=False)
    return (f"{pct(e.value, signed=False)} "
            f"({pct(e.low, signed=False)[:-1]}–{pct(e.high, signed=False)})")


def track_finding(s: Score) -> str:
    """One sentence: does the call forecast RUT/SPX over ``s.horizon`` sessions?"""
    if s.calls == 0 or not math.isfinite(s.spread.value):
        return f"{s.horizon} sessions: too few calls to score."
    after = (f"after small calls RUT/SPX moved {pct(s.mean_small.value, 2)}, after large calls "
             f"{pct(s.mean_large.value, 2)}")
    if s.forecast_value:
        head = (f"{s.horizon} sessions: the call has forecast value: {after}; the difference's "
                f"95% interval ({pct(s.spread.low, 2)} to {pct(s.spread.high, 2)}) is above zero")
    else:
        head = (f"{s.horizon} sessions: NO forecast value: {after}; the difference's 95% "
                f"interval ({pct(s.spread.low, 2)} to {pct(s.spread.high, 2)}) includes zero")
    hr = s.hit_rate
    where = ("above" if s.beats_chance else "within" if not hr.excludes(s.no_skill)
             else "below")
    interval = (f", 95% interval {pct(hr.low, signed=False)} to {pct(hr.high, signed=False)}"
                if math.isfinite(hr.low) else "")
    return (f"{head}. Hit rate {pct(hr.value, signed=False)}{interval}: {where} chance "
            f"(no-skill {pct(s.no_skill, signed=False)}).")


def render_track_record_text(record: TrackRecord, *, note: str | None = None) -> str:
    """The record per horizon (rows) with intervals, the finding, then the non-overlapping
    robustness line and the method in two lines."""
    lines = [f"capbrief's track record: the headline call, replayed — as of "
             f"{record.asof.isoformat()}"]
    if note:
        lines.append(f"Note: {note}")
    lines.append(textwrap.fill(
        "Each session's call is the verdict's leader (small / large / mixed caps lead), from "
        "data up to that session only; it is scored against the RUT/SPX relative price return "
        "over the next 21 and 63 sessions. Small is a hit when RUT/SPX rose, large when it fell.",
        width=100))
    lines.append(f"Today's call: {record.today}.")
    lines.append("")
    width = 28
    scores = record.scores
    lines.append(f"{'':<36}" + "".join(
        f"{f'next {s.horizon} sessions':>{width}}" for s in scores))

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"{label:<36}" + "".join(f"{c:>{width}}" for c in cells))

    row("Sessions scored", [f"{s.days:,}" for s in scores])
    row("  from … to", [f"{s.first} … {s.last}" if s.first else "—" for s in scores])
    row("Calls: small / large", [f"{s.small_calls:,} / {s.large_calls:,}" for s in scores])
    row("No call: mixed / unknown", [f"{s.mixed_days:,} / {s.unknown_days:,}" for s in scores])
    row("Hit rate (95% interval)", [track_share(s.hit_rate) for s in scores])
    row("No-skill hit rate, same calls", [pct(s.no_skill, signed=False) for s in scores])
    row("Base rate: RUT/SPX up, any day", [track_share(s.base_rate) for s in scores])
    row("Mean after small calls", [track_span(s.mean_small, 2) for s in scores])
    row("Mean after large calls", [track_span(s.mean_large, 2) for s in scores])
    row("Small minus large", [track_span(s.spread, 2) for s in scores])
    row("Mean, any day", [track_span(s.mean_all, 2) for s in scores])
    row("Forecast value", ["yes" if s.forecast_value else "none" for s in scores])
    lines.append("")
    lines.extend(textwrap.fill(track_finding(s), width=100, subsequent_indent="  ")
                 for s in scores)
    lines.append("")
    lines.append("Robustness, non-overlapping points (every 21st / 63rd session):")
    for s in record.robust:
        lines.append(textwrap.fill(
            f"- {s.horizon} sessions: {s.calls:,} calls of {s.days:,} points, hit rate "
            f"{track_share(s.hit_rate)} vs no-skill {pct(s.no_skill, signed=False)}; small minus "
            f"large {track_span(s.spread, 2)}: {'forecast value' if s.forecast_value else 'none'}.",
            width=100, subsequent_indent="  "))
    lines.append("")
    lines.append(textwrap.fill(
        "Intervals: 95%, Newey–West (HAC) with lags = the horizon, for the overlapping forward "
        "windows and autocorrelation (White errors on the non-overlapping points). No-skill hit "
        "rate: the same mix of calls made on random days. Price returns (closes).", width=100))
    return "\n".join(lines) + "\n"


def _estimate_json(e: Estimate) -> dict[str, Any]:
    def r(x: float) -> float | None:
        return round(x, 4) + 0.0 if math.isfinite(x) else None
    return {"value": r(e.value), "low": r(e.low), "high": r(e.high), "n": e.n}


def _score_json(s: Score) -> dict[str, Any]:
    return {
        "horizon": s.horizon, "overlapping": s.overlapping,
        "first": s.first and s.first.isoformat(), "last": s.last and s.last.isoformat(),
        "sessions": s.days, "small_calls": s.small_calls, "large_calls": s.large_calls,
        "mixed_days": s.mixed_days, "unknown_days": s.unknown_days,
        "hit_rate": _estimate_json(s.hit_rate), "base_rate": _estimate_json(s.base_rate),
        "no_skill_hit_rate": (round(s.no_skill, 4) if math.isfinite(s.no_skill) else None),
        "mean_after_small": _estimate_json(s.mean_small),
        "mean_after_large": _estimate_json(s.mean_large),
        "mean_all_days": _estimate_json(s.mean_all),
        "small_minus_large": _estimate_json(s.spread),
        "forecast_value": s.forecast_value, "beats_chance": s.beats_chance,
        "finding": track_finding(s),
    }


def track_record_json(record: TrackRecord) -> dict[str, Any]:
    """``schema`` / ``schema_version``, the call of today, then per horizon the overlapping
    score and the non-overlapping one (fractions rounded to 0.01%: 4 decimals)."""
    return {
        "schema": TRACK_SCHEMA, "schema_version": TRACK_SCHEMA_VERSION,
        "study": "track_record", "asof": record.asof.isoformat(),
        "start": record.start.isoformat(), "today_call": record.today,
        "outcome": "RUT/SPX relative price return over the next N sessions",
        "interval": "95%, Newey-West HAC (lags = horizon); non-overlapping: HC0",
        "horizons": [{"horizon": a.horizon, "overlapping": _score_json(a),
                      "non_overlapping": _score_json(b)}
                     for a, b in zip(record.scores, record.robust, strict=True)],
    }
