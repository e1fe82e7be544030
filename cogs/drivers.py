"""``/drivers [asof]``: what pushes or pulls small caps against large caps, with its chart.

parse (asof) → defer → fetch (^RUT ^GSPC and every driver symbol; FRED series through
:meth:`~bot.market_data.service.MarketData.fred`: the local folder in replay, else FRED via the
store, stale or absent ones labelled; the valuation and pre-market readings through
:class:`~bot.market_data.quotes.QuoteReader`) → analyse
(:func:`analytics.drivers.calc_drivers`, memoised per data version) → render the ``drivers``
chart (its input is built only on a render-cache miss) → one follow-up: embed + PNG.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.tree import heavy_cooldown, market_today, send_reply
from bot.validate import parse_asof

if TYPE_CHECKING:  # pandas, analytics, SQLAlchemy load on first use (warmed after READY)
    from bot.client import CapbriefBot
    from bot.market_data.fred import FredReadings
    from bot.market_data.quotes import QuoteReader


@cache
def symbols() -> tuple[str, ...]:
    """^RUT, ^GSPC and every driver symbol, in order."""
    from analytics.drivers import MARKET_SPECS

    return ("^RUT", "^GSPC", *dict.fromkeys(s for spec in MARKET_SPECS for s in spec.symbols))


class Drivers(commands.Cog):
    def __init__(self, bot: CapbriefBot) -> None:
        self.bot = bot
        self._quotes: QuoteReader | None = None

    async def _quote_reader(self, source: str) -> QuoteReader:
        """One reader per cog (its lock makes concurrent /drivers share one P/E fetch); the
        store is the briefing's engine (``storage.url``)."""
        from bot.market_data.quotes import reader_for

        if self._quotes is None or self._quotes.replay != (source != "yahoo"):
            engine = None
            if source == "yahoo":
                from bot.briefing_service import storage_engine

                engine = await asyncio.to_thread(storage_engine, self.bot.services)
            self._quotes = reader_for(source, engine)
        return self._quotes

    @app_commands.command(name="drivers", description="Rates, credit, dollar, volatility, "
                                                      "rotation, economy: small-cap tailwinds")
    @app_commands.describe(asof="Replay a past trading day, YYYY-MM-DD (default: latest)")
    @app_commands.checks.dynamic_cooldown(heavy_cooldown)
    async def drivers(self, interaction: discord.Interaction,
                      asof: app_commands.Range[str, 8, 10] | None = None) -> None:
        requested = parse_asof(asof, today=market_today())
        await interaction.response.defer(thinking=True)
        from analytics.charts.build import from_drivers_panel
        from analytics.charts.inputs import Footnote
        from analytics.drivers import calc_drivers, to_relative
        from bot.asof import resolve_asof
        from bot.market_data.fred import with_vintage_note
        from bot.ui.study_embeds import drivers_embed

        services = self.bot.services
        snap = await services.snapshot(symbols())
        resolved = resolve_asof(snap.bars, requested, today=market_today())
        session = resolved.session
        fred = await services.market.fred()
        panel = await services.memo.get(
            ("drivers", snap.version, fred.version, tuple(sorted(fred.notes.items())), session),
            lambda: asyncio.to_thread(calc_drivers, snap.bars, session, fred=fred,
                                      fred_notes=fred.notes))
        footnote = Footnote(asof=session, stale=snap.stale, source=snap.source)
        png = await services.renderer.render(
            "drivers", {"asof": session.isoformat()},
            lambda: from_drivers_panel(panel, snap.bars, footnote, fred=fred),
            version=f"{snap.version}:{fred.version}")
        reader = await self._quote_reader(snap.source)
        try:
            relative = to_relative(snap.bars, session)
        except KeyError:
            relative = None
        valuation, premarket = await reader.readings(session, relative)
        replay = (snap.source == "csv" or resolved.requested is not None) and len(fred) > 0
        embed = drivers_embed(panel, source=snap.source, stale=snap.stale,
                              stale_reason=snap.stale_reason,
                              note=with_vintage_note(_fred_note(resolved.note, fred),
                                                     replay=replay),
                              valuation=valuation, premarket=premarket)
        await send_reply(interaction, embed=embed, png=png, filename="drivers.png")


def _fred_note(note: str | None, fred: FredReadings) -> str | None:
    """The as-of note plus FRED's stale reason when its last refresh failed."""
    if not fred.stale:
        return note
    stale = f"⚠️ {fred.stale_reason}"
    return f"{note}; {stale}" if note else stale


async def setup(bot: CapbriefBot) -> None:
    await bot.add_cog(Drivers(bot))
