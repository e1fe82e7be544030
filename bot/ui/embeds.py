"""Discord embeds: one design for every command, within Discord's limits.

Design: the colour says who leads (small caps orange, large caps blue: the chart palette, so
embed and chart agree), the title names the command's answer, fields carry the numbers, the
footer states the data's as-of session and source plus "not investment advice". When the data
is stale, the description opens with a warning naming the reason.

Limits (Discord): title 256, description 4096, ≤ 25 fields, field name 256, value 1024,
footer 2048, all text together ≤ 6000. :func:`fit` enforces them by truncating (with "…").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

import discord

from analytics.charts.theme import DARK

SMALL_COLOUR = discord.Colour(int(DARK.small_caps.lstrip("#"), 16))
LARGE_COLOUR = discord.Colour(int(DARK.large_caps.lstrip("#"), 16))
NEUTRAL_COLOUR = discord.Colour(int(DARK.neutral.lstrip("#"), 16))
DISCLAIMER = "Not investment advice."
SOURCE_NAMES = {"yahoo": "Yahoo Finance", "csv": "CSV replay", "cache": "Yahoo Finance (cached)"}

TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, TOTAL = (
    256, 4096, 25, 256, 1024, 2048, 6000)


def leader_colour(leader: str | None) -> discord.Colour:
    """Orange when small caps lead, blue when large caps lead, grey otherwise."""
    return {"small": SMALL_COLOUR, "large": LARGE_COLOUR}.get(leader or "", NEUTRAL_COLOUR)


def pct(value: float, digits: int = 1, *, signed: bool = True) -> str:
    """``0.0123`` → ``+1.2%``; NaN → ``n/a``. Uses a real minus sign."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value * 100:{'+' if signed else ''}.{digits}f}%"
    return text.replace("-", "−")


def num(value: float, digits: int = 2) -> str:
    """``1234.5`` → ``1,234.50``; NaN → ``n/a``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}".replace("-", "−")


def footer_text(asof: date | None, source: str, extra: str = "") -> str:
    when = f"Data to close of {asof.isoformat()}" if asof else "Data date unknown"
    parts = [when, f"Source: {SOURCE_NAMES.get(source, source)}"]
    if extra:
        parts.append(extra)
    parts.append(DISCLAIMER)
    return " · ".join(parts)


def stale_line(stale: bool, reason: str | None) -> str:
    if not stale:
        return ""
    return f"⚠️ **Stale data**: the last refresh failed ({reason or 'source unavailable'}); " \
           "showing the last good data."


def base_embed(title: str, *, leader: str | None, asof: date | None, source: str,
               stale: bool = False, stale_reason: str | None = None,
               description: str = "", footer_extra: str = "") -> discord.Embed:
    """An embed in the house design (see module doc)."""
    warning = stale_line(stale, stale_reason)
    text = "\n".join(t for t in (warning, description) if t)
    embed = discord.Embed(title=title, description=text or None, colour=leader_colour(leader))
    embed.set_footer(text=footer_text(asof, source, footer_extra))
    return embed


def add_fields(embed: discord.Embed, fields: Iterable[tuple[str, str, bool]]) -> discord.Embed:
    for name, value, inline in fields:
        embed.add_field(name=name, value=value or "—", inline=inline)
    return embed


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(embed: discord.Embed) -> discord.Embed:
    """Truncate ``embed`` in place to Discord's limits (see module doc) and return it."""
    if embed.title:
        embed.title = _cut(embed.title, TITLE)
    if embed.description:
        embed.description = _cut(embed.description, DESCRIPTION)
    fields = [(_cut(f.name or "—", FIELD_NAME), _cut(f.value or "—", FIELD_VALUE), bool(f.inline))
              for f in embed.fields[:FIELDS]]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    if embed.footer.text:
        embed.set_footer(text=_cut(embed.footer.text, FOOTER))
    while len(embed) > TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > TOTAL and embed.description:
        embed.description = _cut(embed.description, max(1, len(embed.description)
                                                        - (len(embed) - TOTAL)))
    return embed


def about_embed(*, version: str, asof: date | None, source: str, stale: bool,
                stale_reason: str | None, symbols: int, history_start: date | None
                ) -> discord.Embed:
    """/about: what capbrief does, where its data comes from and how fresh it is."""
    embed = base_embed(
        "About capbrief", leader=None, asof=asof, source=source, stale=stale,
        stale_reason=stale_reason,
        description=("Are small caps (Russell 2000) or large caps (S&P 500) leading, why, and "
                     "what history says tends to happen next."),
    )
    data = (f"Daily closes from {SOURCE_NAMES.get(source, source)}; the Russell 2000 before "
            "1987 is backfilled from FRED (RU2000PR). Cached locally and refreshed "
            "incrementally.")
    add_fields(embed, [
        ("Data", data, False),
        ("Data as of", f"close of {asof.isoformat()}" if asof else "unknown", True),
        ("Symbols tracked", str(symbols), True),
        ("History from", history_start.isoformat() if history_start else "unknown", True),
        ("Commands", "`/status` `/history` `/drivers` `/chart` `/briefing`", False),
        ("Version", f"capbrief {version}", True),
        ("Disclaimer", "For information and education only. Not investment advice; past "
                       "performance does not predict future results.", False),
    ])
    return fit(embed)
