"""Alert batches as plain text (CLI, previews) and as JSON (``docs/schema/alerts.schema.json``).

Text per event: the sentence, then a table of what followed its earlier occurrences against
any day: mean, median and share higher per horizon, with the number of complete windows.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

from analytics.alerts import EVENT_TITLES, AlertBatch, AlertEvent, FollowStats
from bot.ui.text import to_jsonable

SCHEMA_VERSION = 1
WIDTH = 96
SYMBOLS = (("^GSPC", "S&P 500"), ("^RUT", "Russell 2000"))
CELL = 25


def horizon_name(sessions: int) -> str:
    """21 → "1 month", 252 → "12 months" (21 sessions a month); other counts in sessions."""
    if sessions % 21 == 0:
        months = sessions // 21
        return f"{months} month{'s' if months != 1 else ''}"
    return f"{sessions} sessions"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.1%}"


def stats_cell(s: FollowStats, *, with_count: bool) -> str:
    """``+1.2% +1.0%  62% (13)``: mean, median, share higher, complete windows."""
    if s.count == 0:
        return "no complete window"
    text = f"{_pct(s.mean)} {_pct(s.median)} {s.hit_rate:4.0%}"
    return f"{text} ({s.count:,})" if with_count else text


def _pick(stats: Sequence[FollowStats], symbol: str, horizon: int) -> FollowStats:
    return next(s for s in stats if s.symbol == symbol and s.horizon == horizon)


def render_event_text(event: AlertEvent, horizons: Sequence[int]) -> list[str]:
    """The event's lines: title and sentence, then what followed vs any day."""
    h = event.history
    lines = [f"  * {EVENT_TITLES[event.kind]}"]
    lines += textwrap.wrap(event.sentence, WIDTH, initial_indent="    ",
                           subsequent_indent="    ")
    if h.before == 0:
        lines.append(f"    First of its kind in the data ({h.label}).")
    else:
        span = f"{h.first:%Y}" if h.first == h.previous else f"{h.first:%Y}–{h.previous:%Y}"
        lines.append(f"    {h.before:,} earlier {h.label} ({span}; last {h.previous}).")
    since = f" since {h.base_from:%Y}" if h.base_from else ""
    lines.append(("    " + "what followed".ljust(22)
                  + "".join(horizon_name(x).ljust(CELL) for x in horizons)).rstrip())
    for symbol, name in SYMBOLS:
        for who, stats, count in (("after", h.after, True), ("any day", h.base, False)):
            label = (name if who == "after" else "").ljust(13) + who.ljust(9)
            cells = "".join(stats_cell(_pick(stats, symbol, x), with_count=count)
                            .ljust(CELL - 1) + " " for x in horizons)
            lines.append(("    " + label + cells).rstrip())
    lines.append(f"    (mean, median, share higher, complete windows; any day = every "
                 f"session{since})")
    return lines


def render_batch_text(batch: AlertBatch) -> str:
    """One session's alerts as text (ends with a newline)."""
    n = len(batch.events)
    lines = [f"{batch.session.isoformat()} · {n} alert{'s' if n != 1 else ''}"]
    for event in batch.events:
        lines += render_event_text(event, batch.horizons)
    lines += [f"  note: {note}" for note in batch.notes]
    return "\n".join(lines) + "\n"


def render_brief_line(event: AlertEvent) -> str:
    """``2025-09-18  breakout     Breakout: the Russell 2000's first record close in ...``."""
    return f"{event.session.isoformat()}  {event.kind:<11}  {event.sentence}"


def render_replay_text(batches: Sequence[AlertBatch], start: Any, end: Any, *,
                       brief: bool = False) -> str:
    """Every batch of a replay, oldest first, under a one-line header; ``brief``: one line
    per alert (the sentence only)."""
    total = sum(len(b.events) for b in batches)
    head = (f"Alerts that would have fired {start} to {end}: {total:,} in "
            f"{len(batches):,} session{'s' if len(batches) != 1 else ''}\n")
    if brief:
        return head + "".join(render_brief_line(e) + "\n" for b in batches for e in b.events)
    return head + "".join("\n" + render_batch_text(b) for b in batches)


def _stats_json(stats: Sequence[FollowStats]) -> list[dict[str, Any]]:
    return [{"symbol": s.symbol, "horizon": s.horizon, "count": s.count, "hits": s.hits,
             "hit_rate": to_jsonable(s.hit_rate), "mean": to_jsonable(s.mean),
             "median": to_jsonable(s.median)} for s in stats]


def event_json(event: AlertEvent) -> dict[str, Any]:
    h = event.history
    return {
        "kind": event.kind, "key": event.key, "title": EVENT_TITLES[event.kind],
        "session": event.session.isoformat(), "symbol": event.symbol,
        "sentence": event.sentence, "level": event.level,
        "history_complete": event.history_complete, "values": to_jsonable(event.values),
        "history": {"label": h.label, "before": h.before,
                    "first": to_jsonable(h.first), "previous": to_jsonable(h.previous),
                    "after": _stats_json(h.after), "base": _stats_json(h.base),
                    "base_from": to_jsonable(h.base_from)},
    }


def batch_json(batch: AlertBatch) -> dict[str, Any]:
    return {"session": batch.session.isoformat(), "notes": list(batch.notes),
            "events": [event_json(e) for e in batch.events]}


def replay_json(batches: Sequence[AlertBatch], start: Any, end: Any,
                horizons: Sequence[int]) -> dict[str, Any]:
    """The replay document (``schema_version`` first)."""
    return {"schema_version": SCHEMA_VERSION, "command": "alerts",
            "from": to_jsonable(start), "to": to_jsonable(end), "horizons": list(horizons),
            "sessions": [batch_json(b) for b in batches]}
