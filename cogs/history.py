"""``/history study:(breakouts|droughts|cycles|rates) [gap_days] [horizon] [asof]``.

What happened after past setups, as a table (embed) and its chart:
- breakouts: first Russell 2000 record close after more than ``gap_days`` (default from
  settings) → forward S&P 500 / Russell returns at 21/63/126/252 sessions, or up to ``horizon``;
- droughts: the longest Russell 2000 record droughts (``gap_days`` lists only longer ones);
- cycles: small vs large cap leadership regimes since 1979;
- rates: small vs large caps on days the 10-year yield moved ≥ 5 bp (``horizon``: look-back in
  sessions, default all history);
- analogs: the 10 past sessions most like ``asof`` and what followed, against all days;
- track-record: capbrief's own leadership call replayed every session since 1990 and scored
  against the next 21 and 63 sessions of RUT/SPX (hit rate, means, intervals, base rate).
Input is checked before any fetch; ``horizon`` longer than the history held is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import BadInput, DataUnavailable
from bot.market_data.inception import inception_of
from bot.tree import heavy_cooldown, market_today, send_reply
from bot.validate import check_choice, check_range, parse_asof

if TYPE_CHECKING:  # pandas and analytics load on first use (warmed after READY), not with the cog
    import pandas as pd

    from analytics.charts.inputs import Footnote
    from bot.client import CapbriefBot
    from bot.market_data.snapshot import MarketSnapshot

STUDIES = ("breakouts", "droughts", "cycles", "rates", "analogs", "track-record")
STUDY_CHOICES = [
    app_commands.Choice(name="breakouts: first record in over a year, then what?",
                        value="breakouts"),
    app_commands.Choice(name="droughts: the longest waits for a record", value="droughts"),
    app_commands.Choice(name="cycles: small vs large cap leadership since 1979", value="cycles"),
    app_commands.Choice(name="rates: small caps on falling-yield days", value="rates"),
    app_commands.Choice(name="analogs: days like today, and what followed", value="analogs"),
    app_commands.Choice(name="track-record: capbrief's own call since 1990, scored",
                        value="track-record"),
]
GAP_RANGE = (30, 3650)
HORIZON_RANGE = (5, 2520)
RUT, SPX, TNX = "^RUT", "^GSPC", "^TNX"


@cache
def analog_symbols() -> tuple[str, ...]:
    """^RUT, ^GSPC, then the analogs' driver symbols (sorted)."""
    from analytics.studies.analog_features import DRIVER_SYMBOLS

    return (RUT, SPX, *sorted(set(DRIVER_SYMBOLS.values())))


def _prices(snap: MarketSnapshot, symbol: str) -> pd.Series:
    from analytics.series import to_price

    frame = snap.bars.get(symbol)
    if frame is None or frame.empty:
        raise DataUnavailable(f"No data for {symbol} right now; try again later.")
    return to_price(frame)


def _horizons(horizon: int | None) -> tuple[int, ...]:
    from analytics.studies.breakouts import DEFAULT_HORIZONS

    if horizon is None:
        return DEFAULT_HORIZONS
    return tuple(sorted({h for h in DEFAULT_HORIZONS if h < horizon} | {horizon}))


def _check_horizon(horizon: int | None, prices: pd.Series, session: date) -> None:
    import pandas as pd

    held = int(prices.loc[: pd.Timestamp(session)].notna().sum())
    if horizon is not None and horizon >= held:
        raise BadInput(f"`horizon` {horizon:,} sessions is longer than the history held "
                       f"({held:,} sessions to {session.isoformat()}).")


def analyse(study: str, snap: MarketSnapshot, session: date, gap_days: int,
            horizon: int | None, footnote: Footnote) -> tuple[Any, str, Any, Mapping[str, Any]]:
    """(study result, chart kind, chart input, embed kwargs). Runs in a worker thread."""
    import pandas as pd

    from analytics.charts import build
    from analytics.leadership import InsufficientData
    from analytics.studies.analogs import calc_analogs
    from analytics.studies.breakouts import calc_breakout_study
    from analytics.studies.cycles import calc_cycles
    from analytics.studies.droughts import calc_droughts
    from analytics.studies.rates import calc_rate_study
    from analytics.studies.track_record import calc_track_record

    rut, spx = _prices(snap, RUT), _prices(snap, SPX)
    if study == "breakouts":
        result = calc_breakout_study(rut, spx, session, gap_days=gap_days,
                                     horizons=_horizons(horizon), inception=inception_of(RUT))
        if not result.events:
            raise BadInput(f"No Russell 2000 breakout after a gap of over {gap_days:,} days "
                           f"up to {session.isoformat()}; try a shorter `gap_days`.")
        return (result, "breakouts",
                build.from_breakout_study(result, spx, footnote, rut=rut, index="both"), {})
    if study == "droughts":
        table = calc_droughts(rut, session, min_days=gap_days, inception=inception_of(RUT))
        return (table, "records", build.records_input(rut, session, footnote,
                                                      inception=inception_of(RUT)),
                {"name": "Russell 2000"})
    if study == "analogs":
        drivers = {s: _prices(snap, s) for s in analog_symbols()[2:]
                   if s in snap.bars and not snap.bars[s].empty}
        try:
            analogs = calc_analogs(rut, spx, session, drivers=drivers, inception=inception_of(RUT))
        except InsufficientData as exc:
            raise BadInput(f"No analogs for {session.isoformat()}: {exc}.") from None
        return analogs, "analogs", build.from_analog_study(analogs, rut, spx, footnote), {}
    if study == "track-record":
        record = calc_track_record(snap.bars, session)
        return record, "track_record", build.from_track_record(record, footnote), {}
    if study == "cycles":
        cycles = calc_cycles(rut, spx, session)
        return cycles, "cycles", build.from_cycle_study(cycles, footnote), {}
    tnx = _prices(snap, TNX)
    years = horizon / 252 if horizon is not None else None
    rates = calc_rate_study(rut, spx, tnx, session, years=years)
    tnx_last = tnx.loc[: pd.Timestamp(session)].index[-1].date()  # ^TNX may end earlier
    chart = build.custom_input([(TNX, tnx)], "price", "5y", session,
                               dataclasses.replace(footnote, asof=tnx_last))
    return rates, "custom", chart, {}


def embed_for(study: str) -> Callable[..., discord.Embed]:
    """The embed builder of ``study``."""
    from bot.ui import study_embeds as ui

    embeds: dict[str, Callable[..., discord.Embed]] = {
        "breakouts": ui.breakouts_embed, "droughts": ui.droughts_embed,
        "cycles": ui.cycles_embed, "rates": ui.rates_embed,
        "analogs": ui.analogs_embed, "track-record": ui.track_record_embed,
    }
    return embeds[study]


class History(commands.Cog):
    def __init__(self, bot: CapbriefBot) -> None:
        self.bot = bot

    @app_commands.command(name="history", description="What happened after past setups: "
                                                      "breakouts, droughts, cycles, rates")
    @app_commands.describe(
        study="Which study",
        gap_days="breakouts: days without a record before a breakout; droughts: list only longer",
        horizon="breakouts: sessions ahead to measure; rates: sessions of history to use",
        asof="Replay a past trading day, YYYY-MM-DD (default: latest)",
    )
    @app_commands.choices(study=STUDY_CHOICES)
    @app_commands.checks.dynamic_cooldown(heavy_cooldown)
    async def history(self, interaction: discord.Interaction, study: str,
                      gap_days: app_commands.Range[int, 30, 3650] | None = None,
                      horizon: app_commands.Range[int, 5, 2520] | None = None,
                      asof: app_commands.Range[str, 8, 10] | None = None) -> None:
        study = check_choice("study", study, STUDIES)
        check_range("gap_days", gap_days, *GAP_RANGE)
        check_range("horizon", horizon, *HORIZON_RANGE)
        requested = parse_asof(asof, today=market_today())
        await interaction.response.defer(thinking=True)
        from analytics.charts.inputs import Footnote
        from bot.asof import resolve_asof

        services = self.bot.services
        symbols = ((RUT, SPX, TNX) if study == "rates" else
                   analog_symbols() if study == "analogs" else (RUT, SPX))
        snap = await services.snapshot(symbols)
        resolved = resolve_asof(snap.bars, requested, today=market_today())
        session = resolved.session
        basis = TNX if study == "rates" else RUT
        _check_horizon(horizon, _prices(snap, basis), session)
        gap = gap_days if gap_days is not None else (
            self.bot.settings.analytics.breakout_gap_days if study == "breakouts" else 0)
        footnote = Footnote(asof=session, stale=snap.stale, source=snap.source)
        result, kind, chart, extra = await services.memo.get(
            ("history", study, snap.version, session, gap, horizon),
            lambda: services.compute(analyse, study, snap, session, gap, horizon, footnote))
        png = await services.renderer.render(
            kind, {"study": study, "asof": session.isoformat(), "gap": gap, "horizon": horizon},
            chart, version=snap.version)
        embed = embed_for(study)(result, source=snap.source, stale=snap.stale,
                              stale_reason=snap.stale_reason, note=resolved.note, **extra)
        await send_reply(interaction, embed=embed, png=png, filename=f"history-{study}.png")


async def setup(bot: CapbriefBot) -> None:
    await bot.add_cog(History(bot))
