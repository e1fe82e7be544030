"""``python -m bot drivers [--asof] [--json] [--fred-dir DIR] [--no-record | --walk-forward]``:
what moved with small caps against large caps, and the composite's forecast record.

FRED series come through the one data path (:meth:`MarketData.fred`): a local folder
(``--fred-dir``, ``[analytics] fred_dir``, or ``<data-dir>/fred`` in CSV replay) or FRED itself
through the store; an unavailable series is reported absent (or stale), with the reason.

The forecast record (:mod:`analytics.studies.drivers_forward`) replays the panel every 21
sessions since 1990 up to the as-of session (~0.05 s a point, so ~20 s over the full history;
``--no-record`` skips it). ``--walk-forward`` prints the whole record as the Markdown table of
``docs/drivers.md`` instead of the panel."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from analytics.drivers import MARKET_SPECS, calc_drivers, to_relative
from analytics.premarket import PremarketReading
from analytics.studies.drivers_forward import (
    DriversForward,
    calc_drivers_forward,
    describe_record,
)
from analytics.valuation import ValuationReading
from bot.market_data.demo import banner
from bot.market_data.fred import FredReadings, with_vintage_note
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.subcommands.history import add_replay_options, data_block, resolve
from bot.ui import json_out
from bot.ui.drivers_forward import DRIVER_NAMES, render_walk_forward
from bot.ui.study_text import drivers_json, render_drivers_text
from bot.ui.text import to_jsonable

SYMBOLS = ["^RUT", "^GSPC", *dict.fromkeys(s for spec in MARKET_SPECS for s in spec.symbols)]


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "drivers", parents=parents, help="rates, credit, dollar, VIX, rotation, economy",
        description="Each driver's reading, change and measured relation to small caps.")
    p.add_argument("--fred-dir", type=Path, default=None,
                   help="directory of FRED date,value CSVs (default: settings, DATA_DIR/fred, "
                        "else FRED itself)")
    record = p.add_mutually_exclusive_group()
    record.add_argument("--no-record", action="store_true",
                        help="skip the composite's walk-forward forecast record (~20 s)")
    record.add_argument("--walk-forward", action="store_true",
                        help="print the walk-forward test of every driver and the composite "
                             "(Markdown, as in docs/drivers.md) instead of the panel")
    add_replay_options(p)
    p.set_defaults(handler=run)


def load_with_fred(settings: Settings, data_dir: Path | None, symbols: list[str] | None,
                   fred_dir: Path | None = None) -> tuple[MarketSnapshot, FredReadings]:
    """Bars for ``symbols`` (None: the universe) and the FRED series, both through the one data
    path."""
    async def go() -> tuple[MarketSnapshot, FredReadings]:
        market = build_market_data(settings, data_dir)
        try:
            snapshot = await market.snapshot(symbols)
            return snapshot, await market.fred(fred_dir=fred_dir)
        finally:
            await market.close()
    return asyncio.run(go())


def quote_readings(settings: Settings, market: MarketSnapshot, asof: date, *,
                   session_factory: Callable[[], Any] | None = None,
                   now: Callable[[], datetime] | None = None,
                   ) -> tuple[ValuationReading, PremarketReading | None]:
    """Valuation and pre-market for the panel (:class:`bot.market_data.quotes.QuoteReader`):
    replay gives their labelled absences; Yahoo records the P/E once per session in
    ``storage.url`` and reads futures live."""
    from bot.market_data.quotes import reader_for
    from bot.storage.db import create_engine, migrate

    try:
        relative = to_relative(market.bars, asof)
    except KeyError:
        relative = None
    engine = create_engine(settings.storage.url) if market.source == "yahoo" else None

    async def go() -> tuple[ValuationReading, PremarketReading | None]:
        if engine is not None:
            await asyncio.to_thread(migrate, engine)
        extra: dict[str, Any] = {"now": now} if now is not None else {}
        reader = reader_for(market.source, engine, session_factory=session_factory, **extra)
        return await reader.readings(asof, relative)

    try:
        return asyncio.run(go())
    finally:
        if engine is not None:
            engine.dispose()


def forecast_record(market: MarketSnapshot, fred: FredReadings, asof: date) -> DriversForward:
    """The composite's walk-forward record as of ``asof`` (points every 21 sessions since
    1990; see :mod:`analytics.studies.drivers_forward`)."""
    return calc_drivers_forward(market.bars, asof, fred=fred, names=DRIVER_NAMES)


def run(args: argparse.Namespace, settings: Settings) -> int:
    market, fred = load_with_fred(settings, args.data_dir, SYMBOLS, args.fred_dir)
    session = resolve(market, args.asof)
    if args.walk_forward:
        full = forecast_record(market, fred, session.session)
        if args.json:
            print(json_out.dumps("drivers.walk_forward",
                                 {"asof": session.session.isoformat(),
                                  "scores": to_jsonable(list(full.scores))}))
        else:
            print(render_walk_forward(full), end="")
        return 0
    panel = calc_drivers(market.bars, session.session, fred=fred, fred_notes=fred.notes)
    forward = None if args.no_record else forecast_record(market, fred, session.session)
    replay = market.source == "csv" or session.requested is not None
    note = with_vintage_note(session.note, replay=replay and len(fred) > 0)
    valuation, premarket = quote_readings(settings, market, session.session)
    if args.json:
        doc = {**drivers_json(panel, valuation=valuation, premarket=premarket,
                              forward=forward),
               "requested_asof": session.requested and session.requested.isoformat(),
               "asof_note": note, "fred": fred.as_json(),
               "fred_dir": (fred.source.removeprefix("fred-dir ")
                            if fred.source.startswith("fred-dir ") else None),
               "data": data_block(market)}
        print(json_out.dumps("drivers", doc))
    else:
        text = render_drivers_text(panel, note=note, valuation=valuation, premarket=premarket,
                                   record=describe_record(forward) if forward else None)
        if market.stale:
            text += f"STALE data: {market.stale_reason}\n"
        if fred.stale:
            text += f"STALE FRED data: {fred.stale_reason}\n"
        print(banner(market.source) + text, end="")
    return 0
