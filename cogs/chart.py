"""``/chart symbols:"IWM SPY" [period] [kind]``: an on-demand chart of 1–4 symbols.

parse (tickers, period, kind: all checked before any fetch) → defer → fetch those symbols
(an unknown one is refused, nothing rendered) → build the chart input (in a render-pool worker,
memoised per data version) → render (single-flight) → one follow-up: embed + PNG.
Autocomplete suggests universe symbols for the last ticker typed; any valid ticker is accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from analytics.charts.choices import WINDOW_LABELS
from bot.chart_request import check_symbols_held, parse_chart_request
from bot.tree import heavy_cooldown, send_reply

if TYPE_CHECKING:
    from analytics.charts.inputs import CustomInput
    from bot.client import CapbriefBot

PERIOD_CHOICES = [app_commands.Choice(name=label, value=code)
                  for code, label in WINDOW_LABELS.items()]
KIND_CHOICES = [
    app_commands.Choice(name="price", value="price"),
    app_commands.Choice(name="rebased to 100", value="rebased"),
    app_commands.Choice(name="ratio (first / second)", value="ratio"),
    app_commands.Choice(name="drawdown from high", value="drawdown"),
]


def suggest(universe: list[str], current: str) -> list[app_commands.Choice[str]]:
    """Completions of the last ticker in ``current``, keeping the ones before it."""
    parts = current.upper().split()
    done = parts[:-1] if parts and not current.endswith(" ") else parts
    stem = parts[-1] if parts and not current.endswith(" ") else ""
    prefix = " ".join(done)
    matches = [s for s in universe if s not in done and s.lstrip("^").startswith(stem.lstrip("^"))]
    out = []
    for symbol in matches[:25]:
        value = f"{prefix} {symbol}".strip()
        out.append(app_commands.Choice(name=value[:100], value=value[:100]))
    return out


class Chart(commands.Cog):
    def __init__(self, bot: CapbriefBot) -> None:
        self.bot = bot

    @app_commands.command(name="chart", description="Chart 1 to 4 symbols: price, rebased, "
                                                    "ratio or drawdown")
    @app_commands.describe(symbols="Tickers separated by spaces, e.g. IWM SPY (at most 4)",
                           period="How far back (default: 1 year)",
                           kind="What to draw (default: rebased to 100)")
    @app_commands.choices(period=PERIOD_CHOICES, kind=KIND_CHOICES)
    @app_commands.checks.dynamic_cooldown(heavy_cooldown)
    async def chart(self, interaction: discord.Interaction,
                    symbols: app_commands.Range[str, 1, 100], period: str = "1y",
                    kind: str = "rebased") -> None:
        request = parse_chart_request(symbols, period, kind)
        await interaction.response.defer(thinking=True)
        from bot.render_jobs import chart_input
        from bot.ui.embeds import chart_embed  # pandas-backed: loaded on first use

        services = self.bot.services
        snap = await services.snapshot(request.symbols)
        check_symbols_held(request, snap)  # refused before any work
        data: CustomInput = await services.memo.get(
            ("chart", snap.version, tuple(request.symbols), request.period, request.kind),
            lambda: services.analyse(chart_input, {s: snap.bars[s] for s in request.symbols},
                                     request, snap.source, snap.stale))
        png = await services.renderer.render("custom", request.params, data,
                                             version=snap.version)
        embed = chart_embed(data, source=snap.source, stale=snap.stale,
                            stale_reason=snap.stale_reason)
        await send_reply(interaction, embed=embed, png=png, filename="chart.png")

    @chart.autocomplete("symbols")
    async def _symbols(self, interaction: discord.Interaction, current: str
                       ) -> list[app_commands.Choice[str]]:
        return suggest(self.bot.services.market.symbols, current)


async def setup(bot: CapbriefBot) -> None:
    await bot.add_cog(Chart(bot))
