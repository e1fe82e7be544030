"""``/drivers [asof]``: what moved with small caps against large caps, with its chart.

parse (asof) → defer → fetch (^RUT ^GSPC and every driver symbol; FRED series through
:meth:`~bot.market_data.service.MarketData.fred`: the local folder in replay, else FRED via the
store, stale or absent ones labelled; the valuation and pre-market readings through
:class:`~bot.market_data.quotes.QuoteReader`) → analyse
(:func:`analytics.drivers.calc_drivers`, memoised per data version) → render the ``drivers``
chart (its input is built only on a render-cache miss) → one follow-up: embed + PNG.

The composite's forecast record (:mod:`analytics.studies.drivers_forward`) needs the panel
replayed every 21 sessions since 1990 (~20 s): its signals are computed once per data version
in a worker thread, started by the first /drivers of that version and never awaited for more
than :data:`RECORD_WAIT` seconds (until then the line says it is being computed); each as-of
session's record is then scored from them in milliseconds (memoised). Unloading the cog stops
an unfinished computation at its next point.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.market_data.snapshot import reference_asof
from bot.tree import heavy_cooldown, market_today, send_reply
from bot.validate import parse_asof

if TYPE_CHECKING:  # pandas, analytics, SQLAlchemy load on first use (warmed after READY)
    import pandas as pd

    from analytics.drivers import DriversPanel
    from bot.client import CapbriefBot
    from bot.market_data.fred import FredReadings
    from bot.market_data.quotes import QuoteReader
    from bot.market_data.snapshot import MarketSnapshot


@cache
def symbols() -> tuple[str, ...]:
    """^RUT, ^GSPC and every driver symbol, in order."""
    from analytics.drivers import MARKET_SPECS

    return ("^RUT", "^GSPC", *dict.fromkeys(s for spec in MARKET_SPECS for s in spec.symbols))

RECORD_WAIT = 1.0
RECORD_PENDING = ("Composite forecast record: being computed for this data version (about "
                  "half a minute; docs/drivers.md has the published test)")
RECORD_FAILED = "Composite forecast record: could not be computed (see the logs)"
log = logging.getLogger(__name__)


class RecordStopped(Exception):
    """The cog was unloaded while the forecast record was being computed."""


class Drivers(commands.Cog):
    def __init__(self, bot: CapbriefBot) -> None:
        self.bot = bot
        self._quotes: QuoteReader | None = None
        self._signals: tuple[tuple[str, str], asyncio.Future[pd.DataFrame]] | None = None
        self._stop = threading.Event()

    async def cog_unload(self) -> None:
        self._stop.set()

    def _panel_at(self, bars: Mapping[str, pd.DataFrame], fred: FredReadings
                  ) -> Callable[[date], DriversPanel]:
        """``calc_drivers`` that stops (raises) once the cog is unloaded."""
        from analytics.drivers import calc_drivers

        def at(day: date) -> DriversPanel:
            if self._stop.is_set():
                raise RecordStopped
            return calc_drivers(bars, day, fred=fred)
        return at

    async def record_line(self, snap: MarketSnapshot, fred: FredReadings, session: date) -> str:
        """The composite's forecast record as of ``session`` (one line), or a line saying it is
        still being computed (see the module docstring)."""
        from analytics.drivers import to_relative
        from analytics.studies.drivers_forward import calc_signals, describe_record, score_forward
        from bot.ui.drivers_forward import DRIVER_NAMES

        key = (snap.version, fred.version)
        if self._signals is None or self._signals[0] != key:
            last = reference_asof(snap.bars) or session
            memo_key = ("drivers-signals", *key)
            panel_at = self._panel_at(snap.bars, fred)
            started = asyncio.ensure_future(self.bot.services.memo.get(
                memo_key, lambda: asyncio.to_thread(calc_signals, snap.bars, last, fred=fred,
                                                    panel_at=panel_at)))
            started.add_done_callback(_log_failure)
            self._signals = (key, started)
        task = self._signals[1]
        await asyncio.wait({task}, timeout=RECORD_WAIT)
        if not task.done():
            return RECORD_PENDING
        if task.cancelled() or task.exception() is not None:
            self._signals = None  # the next /drivers tries again
            return RECORD_FAILED
        signals = task.result()
        forward = await self.bot.services.memo.get(
            ("drivers-record", *key, session),
            lambda: asyncio.to_thread(score_forward, signals, to_relative(snap.bars, session),
                                      session, names=DRIVER_NAMES))
        return describe_record(forward)

    async def _quote_reader(self, source: str) -> QuoteReader:
        """One reader per cog (its lock makes concurrent /drivers share one P/E fetch); the
        store is the briefing's engine (``storage.url``)."""
        from bot.market_data.quotes import reader_for

        if self._quotes is None or self._quotes.replay != (source != "yahoo"):
            engine = None
            if source == "yahoo":
                from bot.briefing.service import storage_engine

                engine = await asyncio.to_thread(storage_engine, self.bot.services)
            self._quotes = reader_for(source, engine)
        return self._quotes

    @app_commands.command(name="drivers",
                          description="Rates, credit, dollar, volatility, rotation, economy: "
                                      "what moved with small caps")
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
            lambda: services.compute(calc_drivers, snap.bars, session, fred=fred,
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
        record = await self.record_line(snap, fred, session)
        replay = (snap.source == "csv" or resolved.requested is not None) and len(fred) > 0
        embed = drivers_embed(panel, source=snap.source, stale=snap.stale,
                              stale_reason=snap.stale_reason,
                              note=with_vintage_note(_fred_note(resolved.note, fred),
                                                     replay=replay),
                              valuation=valuation, premarket=premarket, record=record)
        await send_reply(interaction, embed=embed, png=png, filename="drivers.png")


def _fred_note(note: str | None, fred: FredReadings) -> str | None:
    """The as-of note plus FRED's stale reason when its last refresh failed."""
    if not fred.stale:
        return note
    stale = f"⚠️ {fred.stale_reason}"
    return f"{note}; {stale}" if note else stale


def _log_failure(task: asyncio.Future[pd.DataFrame]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, RecordStopped):
        log.error("drivers forecast record failed", exc_info=exc)


async def setup(bot: CapbriefBot) -> None:
    await bot.add_cog(Drivers(bot))
