"""``/chart symbols:"IWM SPY" [period] [kind]``: an on-demand chart of 1–4 symbols.

parse (tickers, period, kind: all checked before any fetch) → defer → fetch those symbols
(an unknown one is refused, nothing rendered) → build the chart input → render (single-flight)
→ one follow-up: embed + PNG. Autocomplete suggests universe symbols for the last ticker typed;
any valid ticker is accepted.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from analytics.charts.build import custom_input
from analytics.charts.inputs import CUSTOM_KINDS, CustomInput, Footnote
from analytics.charts.inputs import WINDOWS as CHART_WINDOWS
from analytics.series import to_price
from bot.errors import BadInput
from bot.tree import heavy_cooldown, send_reply
from bot.ui.embeds import chart_embed
from bot.validate import check_choice, check_known, parse_symbols

if TYPE_CHECKING:
    from bot.client import CapbriefBot

PERIODS = tuple(CHART_WINDOWS)
PERIOD_CHOICES = [app_commands.Choice(name=label, value=code)
                  for code, (label, _) in CHART_WINDOWS.items()]
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
        wanted = parse_symbols(symbols)
        period = check_choice("period", period, PERIODS)
        kind = check_choice("kind", kind, CUSTOM_KINDS)
        if kind == "ratio" and len(wanted) != 2:
            raise BadInput("A ratio chart needs exactly two symbols (first / second), "
                           "e.g. `IWM SPY`.")
        await interaction.response.defer(thinking=True)

        services = self.bot.services
        snap = await services.snapshot(wanted)
        empty = [s for s in wanted if s in snap.bars and snap.bars[s].empty]
        check_known(wanted, [*snap.missing, *empty, *(s for s in wanted if s not in snap.bars)])
        asof = max(snap.bars[s].index[-1] for s in wanted).date()
        footnote = Footnote(asof=asof, stale=snap.stale, source=snap.source)
        prices = [(s, to_price(snap.bars[s])) for s in wanted]
        data: CustomInput = await services.memo.get(
            ("chart", snap.version, tuple(wanted), period, kind),
            lambda: asyncio.to_thread(custom_input, prices, kind, period, asof, footnote))
        png = await services.renderer.render(
            "custom", {"symbols": wanted, "period": period, "kind": kind}, data,
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
