"""``/about``: data sources, the data's as-of session, the version, a not-investment-advice note."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

import bot as bot_package
from bot.tree import send_reply

if TYPE_CHECKING:
    from bot.client import CapbriefBot
    from bot.market_data.snapshot import MarketSnapshot

REFERENCE = ("^GSPC", "^RUT")


def _history_start(snapshot: MarketSnapshot) -> date | None:
    firsts = [f.index[0].date() for f in snapshot.bars.values() if len(f)]
    return min(firsts) if firsts else None


class About(commands.Cog):
    def __init__(self, bot: CapbriefBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What capbrief is, its data sources and "
                                                    "how fresh the data is")
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)  # first: the import may wait for pandas
        from bot.ui.embeds import about_embed  # pandas-backed: loaded on first use

        market = self.bot.services.market
        snapshot = await market.snapshot(list(REFERENCE), refresh=False)
        embed = about_embed(
            version=bot_package.__version__, asof=snapshot.asof, source=snapshot.source,
            stale=snapshot.stale, stale_reason=snapshot.stale_reason,
            symbols=len(market.symbols), history_start=_history_start(snapshot),
        )
        await send_reply(interaction, embed=embed)


async def setup(bot: CapbriefBot) -> None:
    await bot.add_cog(About(bot))
