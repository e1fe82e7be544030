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
from analytics.leadership import LeadershipSnapshot, RelativeStrength
from analytics.records import RecordsSnapshot
from analytics.returns import WINDOWS, ReturnRow

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
    """``+1.23%``; "n/a" for None/NaN."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.{digits}%}"


def fmt_level(value: float | None, digits: int = 2) -> str:
    """``2,434.14``; "n/a" for None/NaN."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def render_scoreboard(rows: tuple[ReturnRow, ...], relative: RelativeStrength | None,
                      asof: date) -> list[str]:
    """Aligned table: one row per symbol (level + returns per window), then RUT vs SPX."""
    head = f"{'':<{NAME_WIDTH}}{'Level':>{LEVEL_WIDTH}}" + "".join(
        f"{w.upper():>{CELL_WIDTH}}" for w in WINDOWS)
    lines = [head]
    for row in rows:
        mark = "*" if row.level_date is not None and row.level_date != asof else ""
        name = (row.name + mark)[:NAME_WIDTH]
        lines.append(f"{name:<{NAME_WIDTH}}{fmt_level(row.level):>{LEVEL_WIDTH}}" + "".join(
            f"{fmt_pct(row.returns.get(w)):>{CELL_WIDTH}}" for w in WINDOWS))
    if relative is not None:
        lines.append(f"{'RUT vs SPX (rel.)':<{NAME_WIDTH}}{'':>{LEVEL_WIDTH}}" + "".join(
            f"{fmt_pct(relative.ratio_changes.get(w)):>{CELL_WIDTH}}" for w in WINDOWS))
    stale = [r for r in rows if r.level_date is not None and r.level_date != asof]
    for row in stale:
        assert row.level_date is not None
        lines.append(f"* {row.symbol}: last close {row.level_date.isoformat()}")
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
        f"  Trend        {rel.regime_label}",
    ]
    if rel.leader in ("small", "large") and rel.streak_start is not None:
        side = "above" if rel.leader == "small" else "below"
        who = "small caps" if rel.leader == "small" else "large caps"
        lines.append(f"  Streak       {who}: {_plural(rel.streak_sessions, 'session')} "
                     f"({_plural(rel.streak_weeks, 'week')}) {side} the 50-day avg, since "
                     f"{rel.streak_start.isoformat()}")
    return lines


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
    since = f"since {rec.history_start:%Y}"
    if not rec.history_complete:
        lines = _render_partial_records(rec, name, pad)
    elif rec.is_record:
        lines = [f"{name}  {fmt_level(rec.close)}  RECORD CLOSE"]
        if rec.breakout and rec.prior_gap_days is not None:
            lines[0] += f" - BREAKOUT: first record in {rec.prior_gap_days:,} days"
            lines.append(f"{pad}ends a {rec.prior_gap_sessions or 0:,}-session record drought, "
                         f"the {_ordinal(rec.prior_gap_rank or 0)}-longest {since}")
        elif rec.prior_gap_days is not None:
            lines[0] += f" (previous one {_plural(rec.prior_gap_days, 'day')} earlier)"
    else:
        lines = [
            f"{name}  {fmt_level(rec.close)}  {fmt_pct(rec.drawdown)} from record "
            f"{fmt_level(rec.record_close)} ({rec.record_date.isoformat()})",
            f"{pad}no record for {_plural(rec.days_since_record, 'day')} "
            f"({_plural(rec.sessions_since_record, 'session')}): the "
            f"{_ordinal(rec.drought_rank or 0)}-longest drought {since}",
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
    lines = [f"Small vs large caps - as of {snapshot.asof.isoformat()} "
             f"({snapshot.asof:%a}) close"]
    if note:
        lines.append(f"({note})")
    if headline:
        lines += ["", textwrap.fill(headline, width=WRAP)]
    lines += ["", "Returns (indices: price; ETFs: total return)"]
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


def render_briefing_text(b: Briefing, *, note: str | None = None) -> str:
    """The briefing as plain text: headline, scoreboard, trend, records, history, drivers."""
    snap = b.leadership
    lines = [f"Morning briefing - {b.asof.isoformat()} ({b.asof:%a})"]
    if note:
        lines.append(f"({note})")
    lines += ["", textwrap.fill(b.headline, width=WRAP), ""]
    lines += render_scoreboard(snap.scoreboard, snap.relative, snap.asof)
    prose = [f"Trend: {snap.relative.regime_label}", f"Records: {b.records_line}"]
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


def render_briefing_markdown(b: Briefing) -> str:
    """The briefing as markdown (Discord message or a .md file): bold headline, fenced table."""
    snap = b.leadership
    lines = [f"**Small vs large caps - {b.asof.isoformat()}**", "", b.headline, "", "```"]
    lines += render_scoreboard(snap.scoreboard, snap.relative, snap.asof)
    lines += ["```", f"**Trend:** {snap.relative.regime_label}", f"**Records:** {b.records_line}"]
    if b.history_line:
        lines.append(f"**What history says:** {b.history_line}")
    if b.drivers_line:
        lines.append(f"**Drivers:** {b.drivers_line}")
    if b.premarket is not None:
        lines.append(premarket_markdown(b.premarket.line))
    lines += ["", f"_{_freshness(b)}_"]
    return "\n".join(lines) + "\n"
