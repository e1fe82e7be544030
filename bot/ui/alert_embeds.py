"""One alert batch as one Discord embed (a message carries the whole session, as issue 14
asks): each event is a field with its sentence, what followed its earlier occurrences and the
same for any day. Numbers come from the analytics results; nothing is recomputed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import discord

from analytics.alerts import EVENT_TITLES, AlertBatch, AlertEvent, FollowStats
from bot.ui.embeds import add_fields, base_embed, fit

SYMBOLS = (("^GSPC", "S&P 500"), ("^RUT", "Russell 2000"))
SHORT = {21: "1m", 63: "3m", 126: "6m", 252: "12m"}


def _h(sessions: int) -> str:
    return SHORT.get(sessions, f"{sessions}d")


def _cell(s: FollowStats) -> str:
    if s.count == 0 or math.isnan(s.mean):
        return f"{_h(s.horizon)} n/a"
    return f"{_h(s.horizon)} {s.mean:+.1%}/{s.median:+.1%} {s.hit_rate:.0%}↑"


def _row(stats: Sequence[FollowStats], symbol: str) -> str:
    return " · ".join(_cell(s) for s in stats if s.symbol == symbol)


def event_field(event: AlertEvent) -> tuple[str, str, bool]:
    """(name, value, inline) of one event: sentence, after-N-earlier and any-day rows."""
    h = event.history
    lines = [event.sentence]
    if h.before:
        lines.append(f"**After {h.before:,} earlier** ({h.first:%Y}–{h.previous:%Y}; mean/median"
                     f", share up):")
        lines += [f"{name}: {_row(h.after, sym)}" for sym, name in SYMBOLS]
    else:
        lines.append("First of its kind in the data.")
    since = f" since {h.base_from:%Y}" if h.base_from else ""
    lines.append(f"**Any day{since}:**")
    lines += [f"{name}: {_row(h.base, sym)}" for sym, name in SYMBOLS]
    return EVENT_TITLES[event.kind], "\n".join(lines), False


def alert_embed(batch: AlertBatch, *, source: str, stale: bool = False,
                stale_reason: str | None = None, asof: date | None = None) -> discord.Embed:
    """The embed of one session's alerts (within Discord's limits: :func:`fit`)."""
    n = len(batch.events)
    title = f"{n} alert{'s' if n != 1 else ''} at the close of {batch.session.isoformat()}"
    notes = "\n".join(f"_{note}_" for note in batch.notes)
    leader = next((e.values.get("leader") for e in batch.events if e.kind == "cycle_turn"), None)
    embed = base_embed(title, leader=leader, asof=asof or batch.session, source=source,
                       stale=stale, stale_reason=stale_reason, description=notes,
                       footer_extra="Returns are price returns")
    add_fields(embed, [event_field(e) for e in batch.events])
    return fit(embed)
