"""Plain-text and markdown rendering of the leadership snapshot and the briefing, plus JSON helpers.

Conventions: percentages signed with 2 decimals in tables (1 in prose), levels with thousands
separators and 2 decimals, dates ISO (``YYYY-MM-DD``), "n/a" where history is too short.
JSON (:func:`to_jsonable`): dataclass field names as snake_case keys, dates as ISO strings,
returns as fractions (0.012 = +1.2%), NaN as null. What a ``--json`` command prints then goes
through :mod:`bot.ui.json_out` (schema name and version, rounding by field meaning).
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from analytics.briefing import Briefing
from analytics.formats import pct
from analytics.leadership import LeadershipSnapshot, RelativeStrength
from analytics.records import RecordsSnapshot, rank_phrase
from analytics.returns import PERIODS, WINDOW_TABLE, WINDOWS, ReturnRow, period_name
from analytics.verdict import MONTH_SESSIONS, Verdict, verdict_from_relative
from bot.ui.format import plural as _plural

NAME_WIDTH, LEVEL_WIDTH, CELL_WIDTH = 20, 10, 9
WRAP = 84  # the scoreboard's width: prose lines wrap to it


def _honest_key(key: str) -> str:
    """``record_close`` → ``high_close``, ``breakout`` → ``high_after_gap``: the names of a
    result whose history does not reach the index's inception."""
    if key == "breakout_gap_days":
        return "gap_days"
    return key.replace("record", "high").replace("breakout", "high_after_gap")


def to_jsonable(value: Any) -> Any:
    """Plain JSON-ready data: dataclasses → dicts (field order kept), dates → ISO strings,
    NaN/inf → None, mappings → dicts with str keys, tuples/lists → lists.

    A dataclass whose ``history_complete`` is False (its history starts after the index's
    inception) never claims a record: its ``record``/``breakout`` keys are renamed ``high`` /
    ``high_after_gap`` (see :func:`_honest_key`)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if out.get("history_complete") is False:
            out = {_honest_key(k): v for k, v in out.items()}
        return out
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return to_jsonable(value.item())
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def fmt_pct(value: float | None, digits: int = 2) -> str:
    """``+1.23%``; "n/a" for None/NaN; a value that rounds to zero is ``0.00%``, never
    ``-0.00%`` (the one rule: :func:`analytics.formats.pct`)."""
    return pct(value, digits)


def fmt_level(value: float | None, digits: int = 2) -> str:
    """``2,434.14``; "n/a" for None/NaN."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def window_header(window: str) -> str:
    """The table header of ``window`` ("21D" = 21 sessions, "YTD"): :mod:`analytics.returns`."""
    return WINDOW_TABLE[window].header


#: The line under every scoreboard that says what its headers and figures are.
SCOREBOARD_KEY = ("Price returns; nD = the last n sessions (21D about a month, 63D three "
                  "months, 252D a year); total = with dividends reinvested.")


def render_scoreboard(rows: tuple[ReturnRow, ...], relative: RelativeStrength | None,
                      asof: date) -> list[str]:
    """Aligned table: one row per symbol (level + price returns per window; a fund's total
    return on the line below it), then RUT vs SPX, then the calendar months and the key."""
    head = f"{'Price returns':<{NAME_WIDTH}}{'Level':>{LEVEL_WIDTH}}" + "".join(
        f"{window_header(w):>{CELL_WIDTH}}" for w in WINDOWS)
    lines = [head]
    for row in rows:
        mark = "*" if row.level_date is not None and row.level_date != asof else ""
        name = (row.name + mark)[:NAME_WIDTH]
        lines.append(f"{name:<{NAME_WIDTH}}{fmt_level(row.level):>{LEVEL_WIDTH}}" + "".join(
            f"{fmt_pct(row.returns.get(w)):>{CELL_WIDTH}}" for w in WINDOWS))
        if row.total_returns is not None:
            lines.append(f"{'  total return':<{NAME_WIDTH}}{'':>{LEVEL_WIDTH}}" + "".join(
                f"{fmt_pct(row.total_returns.get(w)):>{CELL_WIDTH}}" for w in WINDOWS))
    if relative is not None:
        lines.append(f"{'RUT vs SPX (rel.)':<{NAME_WIDTH}}{'':>{LEVEL_WIDTH}}" + "".join(
            f"{fmt_pct(relative.ratio_changes.get(w)):>{CELL_WIDTH}}" for w in WINDOWS))
    stale = [r for r in rows if r.level_date is not None and r.level_date != asof]
    for row in stale:
        assert row.level_date is not None
        lines.append(f"* {row.symbol}: last close {row.level_date.isoformat()}")
    months = calendar_line(rows)
    notes = [*([months] if months else []), SCOREBOARD_KEY]
    return lines + [wrapped for note in notes
                     for wrapped in textwrap.wrap(note, width=WRAP, subsequent_indent="  ")]


def calendar_line(rows: tuple[ReturnRow, ...]) -> str | None:
    """``"Calendar, price: Russell 2000 Nov to date +10.84%, Oct 2024 -1.45%; S&P 500 ..."``:
    the named calendar periods (:data:`analytics.returns.PERIODS`) of the index rows."""
    parts = []
    for row in rows:
        if row.symbol not in ("^RUT", "^GSPC") or row.level_date is None:
            continue
        cells = [f"{period_name(row.level_date, p)} {fmt_pct(row.periods.get(p))}"
                 for p in PERIODS]
        parts.append(f"{row.name} " + ", ".join(cells))
    return "Calendar, price: " + "; ".join(parts) if parts else None


_WHO = {"small": "small caps lead", "large": "large caps lead", "even": "level",
        "unknown": "not enough history"}


def verdict_lines(verdict: Verdict, rel: RelativeStrength) -> list[str]:
    """The verdict's three horizons, one line each, in the words every surface uses (the trend
    field of the post, /status, the text): the side called, then the measure behind it."""
    month = verdict.month
    lines = [f"{MONTH_SESSIONS} sessions: {_WHO[month.side]}"
             + (f" (RUT/SPX {fmt_pct(month.value, 1)})" if month.side != "unknown" else "")]
    fifty = f"50-day average: {_WHO[verdict.fifty_day.side]}"
    if verdict.fifty_day.side in ("small", "large") and rel.streak_start is not None:
        side = "above" if verdict.fifty_day.side == "small" else "below"
        fifty += (f" (RUT/SPX {side} it for {_plural(rel.streak_sessions, 'session')}, since "
                  f"{rel.streak_start.isoformat()})")
    lines.append(fifty)
    trend = f"200-day trend: {_WHO[verdict.trend.side]}"
    if verdict.trend.side in ("small", "large") and rel.sma200_rising is not None:
        side = "above" if verdict.trend.side == "small" else "below"
        slope = "rising" if rel.sma200_rising else "falling"
        trend += f" (RUT/SPX {side} its {slope} 200-day average)"
    lines.append(trend)
    return lines


def render_relative(rel: RelativeStrength) -> list[str]:
    """The RUT/SPX ratio block: averages, regime, streak."""
    if rel.sma200_rising is None:
        slope = ""
    else:
        slope = (f", {'rising' if rel.sma200_rising else 'falling'} "
                 f"({fmt_pct(rel.sma200_slope)} in 21 sessions)")
    lines = [
        f"RUT/SPX ratio {rel.ratio:.4f}",
        f"  50-day avg   {rel.sma50:.4f}   ratio {fmt_pct(rel.vs_sma50)} vs avg"
        if math.isfinite(rel.sma50) else "  50-day avg   n/a (fewer than 50 sessions)",
        f"  200-day avg  {rel.sma200:.4f}   ratio {fmt_pct(rel.vs_sma200)} vs avg{slope}"
        if math.isfinite(rel.sma200) else "  200-day avg  n/a (fewer than 200 sessions)",
    ]
    verdict = verdict_from_relative(rel)
    lines.append(f"  Verdict      {verdict.title}")
    lines += [f"    {line}" for line in verdict_lines(verdict, rel)]
    return lines


def drought_rank_words(rec: RecordsSnapshot, *, prior: bool = False) -> str:
    """``", the 3rd-longest of the 24 droughts of 63+ sessions since 1979"`` for the open
    drought (``prior``: the one a record just ended); "" outside the top ten or below the
    population's minimum length (:func:`analytics.records.rank_phrase`)."""
    rank = rec.prior_gap_long_rank if prior else rec.long_drought_rank
    phrase = rank_phrase(rank, rec.long_drought_count, rec.rank_min_sessions,
                         rec.history_start)
    return f", {phrase}" if phrase else ""


def history_limit(rec: RecordsSnapshot) -> str:
    """Why ``rec``'s highs are not records: its history starts after the index does."""
    began = (f"the index starts {rec.inception.isoformat()}" if rec.inception
             else "the index's own start is unknown")
    return f"data from {rec.history_start.isoformat()} only, {began}: no record can be ruled on"


def _render_partial_records(rec: RecordsSnapshot, name: str, pad: str) -> list[str]:
    """:func:`render_records` when the history starts after the index: highs since the first
    date held, never records or breakouts, and the limit stated."""
    high = f"highest close since {rec.history_start.isoformat()}"
    if rec.is_record:
        head = f"{name}  {fmt_level(rec.close)}  {high}"
        if rec.prior_gap_days is not None:
            head += f" (previous one {_plural(rec.prior_gap_days, 'day')} earlier)"
        lines = [head]
    else:
        lines = [f"{name}  {fmt_level(rec.close)}  {fmt_pct(rec.drawdown)} from its {high}, "
                 f"{fmt_level(rec.record_close)} ({rec.record_date.isoformat()}), "
                 f"{_plural(rec.days_since_record, 'day')} ago"]
    return [*lines, f"{pad}{history_limit(rec)}"]


def render_records(rec: RecordsSnapshot, name: str) -> list[str]:
    """Record close, drawdown, drought and rank, breakout, round levels, records this year.

    When the history does not reach the index's inception the highs are named "highest close
    since <first date>" and the limit is stated; nothing is called a record."""
    pad = " " * (len(name) + 2)
    if not rec.history_complete:
        lines = _render_partial_records(rec, name, pad)
    elif rec.is_record:
        lines = [f"{name}  {fmt_level(rec.close)}  RECORD CLOSE"]
        if rec.breakout and rec.prior_gap_days is not None:
            lines[0] += f" - BREAKOUT: first record in {rec.prior_gap_days:,} days"
            lines.append(f"{pad}ends a {rec.prior_gap_sessions or 0:,}-session record drought"
                         + drought_rank_words(rec, prior=True))
        elif rec.prior_gap_days is not None:
            lines[0] += f" (previous one {_plural(rec.prior_gap_days, 'day')} earlier)"
    else:
        lines = [
            f"{name}  {fmt_level(rec.close)}  {fmt_pct(rec.drawdown)} from record "
            f"{fmt_level(rec.record_close)} ({rec.record_date.isoformat()})",
            f"{pad}no record for {_plural(rec.days_since_record, 'day')} "
            f"({_plural(rec.sessions_since_record, 'session')})" + drought_rank_words(rec),
        ]
    level = (f"{pad}next round level {fmt_level(rec.next_level, 0)} "
             f"({fmt_pct(rec.next_level_distance)})")
    if rec.nearest_level != rec.next_level:
        level += (f", nearest {fmt_level(rec.nearest_level, 0)} "
                  f"({fmt_pct(rec.nearest_level_distance)})")
    lines.append(level)
    if rec.history_complete:
        count = (f"{_plural(rec.records_ytd, 'record close')}" if rec.records_ytd
                 else "no record close")
        lines.append(f"{pad}{count} in {rec.asof.year} so far")
    return lines


def render_status_text(snapshot: LeadershipSnapshot, *, headline: str | None = None,
                       note: str | None = None) -> str:
    """/status as plain text (monospace): headline, scoreboard, ratio trend, records."""
    lines = [f"Small vs large caps · data to the close of {snapshot.asof:%a %d %b %Y} "
             f"({snapshot.asof.isoformat()})"]
    if note:
        lines.append(f"({note})")
    if headline:
        lines += ["", textwrap.fill(headline, width=WRAP)]
    lines += [""]
    lines += render_scoreboard(snapshot.scoreboard, snapshot.relative, snapshot.asof)
    lines += ["", *render_relative(snapshot.relative)]
    lines += ["", "Records", *render_records(snapshot.rut_records, "Russell 2000")]
    lines += render_records(snapshot.spx_records, "S&P 500     ")
    if snapshot.missing:
        lines += ["", f"Not available: {', '.join(snapshot.missing)}"]
    return "\n".join(lines) + "\n"


def _freshness(b: Briefing) -> str:
    parts = [f"Data as of {b.asof.isoformat()} close"]
    if b.data_asof is not None and b.data_asof != b.asof:
        parts.append(f"(latest held: {b.data_asof.isoformat()})")
    if b.stale:
        parts.append(f"- STALE: {b.stale_reason or 'last refresh failed'}")
    return " ".join(parts)


def briefing_title(asof: date, morning: date) -> str:
    """The one dates convention: the morning a briefing is for, and the close it reports
    (``"Morning briefing for Fri 19 Sep 2025 · data to the close of Thu 18 Sep 2025"``)."""
    return (f"Morning briefing for {morning:%a %d %b %Y} · data to the close of "
            f"{asof:%a %d %b %Y}")


def _morning(b: Briefing, morning: date | None) -> date:
    if morning is not None:
        return morning
    from bot.data_age import morning_of  # the NYSE calendar, loaded only when needed

    return morning_of(b.asof)


def render_briefing_text(b: Briefing, *, note: str | None = None,
                         morning: date | None = None) -> str:
    """The briefing as plain text: title (:func:`briefing_title`; ``morning`` defaults to the
    next NYSE session), data-age warning, headline, scoreboard, horizons, records, history,
    drivers."""
    snap = b.leadership
    lines = [briefing_title(b.asof, _morning(b, morning))]
    if b.data_age:
        lines.append(f"!! {b.data_age}")
    if note:
        lines.append(f"({note})")
    lines += ["", textwrap.fill(b.headline, width=WRAP), ""]
    lines += render_scoreboard(snap.scoreboard, snap.relative, snap.asof)
    verdict = b.verdict or verdict_from_relative(snap.relative)
    prose = [f"Leadership: {verdict.title}: " + "; ".join(verdict_lines(verdict, snap.relative)),
             f"Records: {b.records_line}"]
    if b.history_line:
        prose.append(f"History: {b.history_line}")
    if b.drivers_line:
        prose.append(f"Drivers: {b.drivers_line}")
    if b.premarket is not None:
        prose.append(b.premarket.line)
    lines.append("")
    lines += [textwrap.fill(p, width=WRAP, subsequent_indent="  ") for p in prose]
    lines += ["", _freshness(b)]
    return "\n".join(lines) + "\n"


def premarket_markdown(line: str) -> str:
    """``Pre-market (read 08:45 ET): ...`` → ``**Pre-market (read 08:45 ET):** ...``."""
    head, _, rest = line.partition(": ")
    return f"**{head}:** {rest}"


def render_briefing_markdown(b: Briefing, *, morning: date | None = None) -> str:
    """The briefing as markdown (Discord message or a .md file): bold headline, fenced table."""
    snap = b.leadership
    lines = [f"**Small vs large caps · {briefing_title(b.asof, _morning(b, morning))}**"]
    if b.data_age:
        lines.append(f"⚠️ {b.data_age}")
    lines += ["", b.headline, "", "```"]
    lines += render_scoreboard(snap.scoreboard, snap.relative, snap.asof)
    verdict = b.verdict or verdict_from_relative(snap.relative)
    lines += ["```", f"**{verdict.title}:** " + "; ".join(verdict_lines(verdict, snap.relative)),
              f"**Records:** {b.records_line}"]
    if b.history_line:
        lines.append(f"**What history says:** {b.history_line}")
    if b.drivers_line:
        lines.append(f"**Drivers:** {b.drivers_line}")
    if b.premarket is not None:
        lines.append(premarket_markdown(b.premarket.line))
    lines += ["", f"_{_freshness(b)}_"]
    return "\n".join(lines) + "\n"
