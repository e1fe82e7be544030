"""Discord embeds: one design for every command, within Discord's limits.

Design: the colour says who leads (small caps orange, large caps blue: the chart palette, so
embed and chart agree), the title names the command's answer, fields carry the numbers, the
footer states the data's as-of session and source plus "not investment advice". When the data
is stale, the description opens with a warning naming the reason.

Limits (Discord): title 256, description 4096, ≤ 25 fields, field name 256, value 1024,
footer 2048, all text together ≤ 6000 (``bot/ui/limits.py``). :func:`fit` enforces them by
truncating (with "…").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date

import discord

from analytics.briefing import compose_headline
from analytics.charts.inputs import CustomInput
from analytics.charts.theme import DARK, LARGE_CAP_SYMBOLS, SMALL_CAP_SYMBOLS
from analytics.leadership import LeadershipSnapshot
from analytics.records import RecordsSnapshot
from analytics.returns import WINDOWS
from analytics.verdict import verdict_from_relative
from bot.ui import limits
from bot.ui.format import plural as _plural
from bot.ui.text import (
    drought_rank_words,
    fmt_level,
    fmt_pct,
    history_limit,
    verdict_lines,
    window_header,
)

SMALL_COLOUR = discord.Colour(int(DARK.small_caps.lstrip("#"), 16))
LARGE_COLOUR = discord.Colour(int(DARK.large_caps.lstrip("#"), 16))
NEUTRAL_COLOUR = discord.Colour(int(DARK.neutral.lstrip("#"), 16))
DISCLAIMER = "Not investment advice."
KIND_LABELS = {"price": "price", "rebased": "rebased to 100 at the start",
               "ratio": "ratio of the first to the second", "drawdown": "drawdown from high"}
SOURCE_NAMES = {"yahoo": "Yahoo Finance", "csv": "CSV replay", "cache": "Yahoo Finance (cached)"}



def leader_colour(leader: str | None) -> discord.Colour:
    """Orange when small caps lead, blue when large caps lead, grey otherwise."""
    return {"small": SMALL_COLOUR, "large": LARGE_COLOUR}.get(leader or "", NEUTRAL_COLOUR)


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


def fit(embed: discord.Embed) -> discord.Embed:
    """Truncate ``embed`` in place to Discord's limits and return it (:func:`limits.fit_embed`)."""
    return limits.fit_embed(embed)


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
        ("Commands", "`/status` `/history` `/drivers` `/chart` `/briefing` `/alerts`", False),
        ("Version", f"capbrief {version}", True),
        ("Disclaimer", "For information and education only. Not investment advice; past "
                       "performance does not predict future results.", False),
    ])
    return fit(embed)


def returns_block(returns: Mapping[str, float],
                  total: Mapping[str, float] | None = None) -> str:
    """Two windows a line: ``1D +0.31%  ·  5D -1.20%`` (headers in sessions, as every output
    names them); with ``total``, each price return is followed by ``(total +0.33%)``."""
    cells = [f"{window_header(w)} {fmt_pct(returns.get(w))}"
             + (f" (total {fmt_pct(total.get(w))})" if total is not None else "")
             for w in WINDOWS]
    return "\n".join("  ·  ".join(cells[i:i + 2]) for i in range(0, len(cells), 2))


def record_block(rec: RecordsSnapshot) -> str:
    """Where an index stands against its record close, and how long the drought is (when the
    history starts after the index: against its highest close since then, limit stated)."""
    if not rec.history_complete:
        high = f"highest close since {rec.history_start.isoformat()}"
        where = (f"**At its {high}** {fmt_level(rec.close)}" if rec.is_record else
                 f"{fmt_pct(rec.drawdown)} from its {high}, {fmt_level(rec.record_close)} "
                 f"({rec.record_date.isoformat()})")
        return f"{where}\n*{history_limit(rec).capitalize()}.*"
    if rec.is_record:
        line = f"**Record close** {fmt_level(rec.close)}"
        if rec.breakout and rec.prior_gap_days is not None:
            line += (f"\nBreakout: first record in {_plural(rec.prior_gap_days, 'day')}"
                     + drought_rank_words(rec, prior=True))
        elif rec.prior_gap_days is not None:
            line += f"\nPrevious record {_plural(rec.prior_gap_days, 'day')} earlier"
        return line
    return (f"{fmt_pct(rec.drawdown)} from record {fmt_level(rec.record_close)} "
            f"({rec.record_date.isoformat()})\n"
            f"No record for {_plural(rec.days_since_record, 'day')}"
            + drought_rank_words(rec))


def status_embed(lead: LeadershipSnapshot, *, source: str, stale: bool,
                 stale_reason: str | None, note: str | None = None,
                 age: str | None = None) -> discord.Embed:
    """/status: who leads, the scoreboard, the RUT/SPX ratio and both indexes' records.

    Who leads (title and colour) is the verdict (:mod:`analytics.verdict`), the same call as
    the briefing's headline and the chart's title; the description lists its three horizons.
    ``age``: the line saying how old the data is (:mod:`bot.data_age`), shown first."""
    rel = lead.relative
    headline = compose_headline(lead)  # the same sentence the morning briefing opens with
    verdict = verdict_from_relative(rel)
    lines = [f"⚠️ {age}"] if age else []
    lines += [headline, *(f"• {line}" for line in verdict_lines(verdict, rel))]
    if note:
        lines.append(f"*{note}*")
    embed = base_embed(f"{verdict.title} · {lead.asof.isoformat()}", leader=verdict.leader,
                       asof=lead.asof,
                       source=source, stale=stale, stale_reason=stale_reason,
                       description="\n".join(lines))
    for row in lead.scoreboard:
        dated = "" if row.level_date == lead.asof or row.level_date is None \
            else f" (close of {row.level_date.isoformat()})"
        embed.add_field(name=f"{row.name} (price)", value=f"**{fmt_level(row.level)}**{dated}\n"
                        f"{returns_block(row.returns, row.total_returns)}", inline=True)
    ratio = (f"**{rel.ratio:.4f}** · {fmt_pct(rel.vs_sma50)} vs 50-day avg · "
             f"{fmt_pct(rel.vs_sma200)} vs 200-day avg\n{returns_block(rel.ratio_changes)}")
    embed.add_field(name="RUT/SPX ratio (small vs large)", value=ratio, inline=False)
    vs = {True: "vs record", False: "vs its highs"}
    embed.add_field(name=f"Russell 2000 {vs[lead.rut_records.history_complete]}",
                    value=record_block(lead.rut_records), inline=True)
    spx = record_block(lead.spx_records)
    if lead.spx_records.history_complete:
        spx += f"\n{_plural(lead.spx_records.records_ytd, 'record close')} this year"
    embed.add_field(name=f"S&P 500 {vs[lead.spx_records.history_complete]}", value=spx,
                    inline=True)
    levels = " · ".join(
        f"{name} next {fmt_level(rec.next_level, 0)} ({fmt_pct(rec.next_level_distance)})"
        for name, rec in (("RUT", lead.rut_records), ("SPX", lead.spx_records)))
    embed.add_field(name="Round numbers", value=levels, inline=False)
    if lead.missing:
        embed.add_field(name="Not shown", value=f"No data for {', '.join(lead.missing)}",
                        inline=False)
    return fit(embed)


def _leader_between(changes: Mapping[str, float]) -> str | None:
    """"small"/"large" when the symbols include both cap classes: the better performer."""
    small = [v for s, v in changes.items() if s in SMALL_CAP_SYMBOLS and math.isfinite(v)]
    large = [v for s, v in changes.items() if s in LARGE_CAP_SYMBOLS and math.isfinite(v)]
    if not small or not large:
        return None
    return "small" if max(small) > max(large) else "large"


def chart_embed(data: CustomInput, *, source: str, stale: bool,
                stale_reason: str | None) -> discord.Embed:
    """/chart: per symbol the last close, the change over the period and the distance from the
    period's high (``last / first - 1`` and ``last / max - 1`` of the charted closes)."""
    names = [s for s, _ in data.series]
    joined = " / ".join(names) if data.kind == "ratio" else " vs ".join(names)
    changes: dict[str, float] = {}
    rows: list[tuple[str, str, bool]] = []
    for symbol, series in data.series:
        first, last, high = float(series.iloc[0]), float(series.iloc[-1]), float(series.max())
        changes[symbol] = last / first - 1.0 if first else math.nan
        rows.append((symbol, f"**{fmt_level(last)}** ({series.index[-1].date().isoformat()})\n"
                             f"{data.period_label}: {fmt_pct(changes[symbol])}\n"
                             f"from period high: {fmt_pct(last / high - 1.0)}", True))
    if data.kind == "ratio":
        (a, sa), (b, sb) = data.series
        ratio = (sa / sb).dropna()
        if len(ratio):
            rows.append((f"{a}/{b}", f"**{ratio.iloc[-1]:.4f}**\n{data.period_label}: "
                         f"{fmt_pct(float(ratio.iloc[-1] / ratio.iloc[0] - 1.0))}", True))
    asof = data.footnote.asof
    embed = base_embed(f"{joined} · {data.period_label}", leader=_leader_between(changes),
                       asof=asof, source=source, stale=stale, stale_reason=stale_reason,
                       description=f"Chart: {KIND_LABELS.get(data.kind, data.kind)}.")
    return fit(add_fields(embed, rows))
