"""``/status [window] [asof]``: who leads now, with the leadership chart.

parse (window choice, asof) → defer → fetch (^RUT ^GSPC IWM SPY) → analyse
(:func:`analytics.leadership.calc_leadership_snapshot`) and build the chart input
(:func:`bot.render_jobs.leadership_chart`), each in a render-pool worker and memoised per data
version → render (``leadership`` chart, single-flight in the renderer) → one follow-up: embed +
PNG. The bot's own process does no pandas work for a new date beyond finding its session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from analytics.charts.choices import WINDOW_LABELS
from bot.market_data.inception import INCEPTIONS
from bot.tree import heavy_cooldown, market_today, send_reply
from bot.validate import check_choice, parse_asof

if TYPE_CHECKING:
    from bot.client import CapbriefBot

SYMBOLS = ("^RUT", "^GSPC", "IWM", "SPY")
WINDOWS = ("1m", "3m", "6m", "ytd", "1y", "2y", "5y", "10y")
WINDOW_CHOICES = [app_commands.Choice(name=WINDOW_LABELS[w], value=w) for w in WINDOWS]


class Status(commands.Cog):
    def __init__(self, bot: CapbriefBot) -> None:
        self.bot = bot

    @app_commands.command(name="status", description="Who leads now: small caps (Russell 2000) "
                                                     "or large caps (S&P 500)")
    @app_commands.describe(window="Chart window (default: 1 year)",
                           asof="Replay a past trading day, YYYY-MM-DD (default: latest)")
    @app_commands.choices(window=WINDOW_CHOICES)
    @app_commands.checks.dynamic_cooldown(heavy_cooldown)
    async def status(self, interaction: discord.Interaction, window: str = "1y",
                     asof: app_commands.Range[str, 8, 10] | None = None) -> None:
        window = check_choice("window", window, WINDOWS)
        requested = parse_asof(asof, today=market_today())
        await interaction.response.defer(thinking=True)
        # pandas and analytics load on first use (warmed after READY), not with the cog
        from analytics.charts.inputs import Footnote
        from analytics.leadership import LARGE, SMALL, calc_leadership_snapshot
        from bot.asof import resolve_asof
        from bot.data_age import data_age_line
        from bot.render_jobs import leadership_chart
        from bot.ui.embeds import status_embed

        services = self.bot.services
        snap = await services.snapshot(SYMBOLS)
        resolved = resolve_asof(snap.bars, requested, today=market_today())
        session = resolved.session
        opts = self.bot.settings.analytics
        bars = {s: snap.bars[s] for s in SYMBOLS if s in snap.bars}
        lead = await services.memo.get(
            ("status", snap.version, session, opts.breakout_gap_days, opts.round_step),
            lambda: services.analyse(calc_leadership_snapshot, bars, session,
                                     gap_days=opts.breakout_gap_days,
                                     round_step=opts.round_step, inceptions=INCEPTIONS))
        footnote = Footnote(asof=session, stale=snap.stale, source=snap.source)
        pair = {s: snap.bars[s] for s in (SMALL, LARGE)}
        chart = await services.memo.get(
            ("status-chart", snap.version, session, window),
            lambda: services.analyse(leadership_chart, pair, window, session, footnote))
        png = await services.renderer.render(
            "leadership", {"window": window, "asof": session.isoformat()}, chart,
            version=snap.version)
        age = data_age_line(snap.asof) if session == snap.asof else None
        embed = status_embed(lead, source=snap.source, stale=snap.stale,
                             stale_reason=snap.stale_reason, note=resolved.note, age=age)
        await send_reply(interaction, embed=embed, png=png, filename="status.png")


async def setup(bot: CapbriefBot) -> None:
    await bot.add_cog(Status(bot))
