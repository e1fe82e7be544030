"""``python -m bot history breakouts|droughts|cycles|rates|analogs|track-record``: what history
says about setups (analogs: the past sessions most like ``--asof``, ``--k`` of them;
track-record: capbrief's own leadership call replayed since 1990 and scored).

Data comes only through ``build_market_data`` (``^RUT`` extended back to 1979 there). ``--asof``
replays a past session (a non-session day uses the one before it and says so). Parameters are
validated here, so a bad value is one clear line (BadInput), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.leadership import InsufficientData
from analytics.series import to_price
from analytics.studies.analog_features import DRIVER_SYMBOLS
from analytics.studies.analogs import AnalogStudy, calc_analogs
from analytics.studies.breakouts import DEFAULT_HORIZONS, calc_breakout_study
from analytics.studies.cycles import calc_cycles
from analytics.studies.droughts import calc_droughts
from analytics.studies.rates import calc_rate_study
from analytics.studies.track_record import calc_track_record
from bot.asof import ResolvedAsof, parse_asof, resolve_asof
from bot.clock import today_in_new_york
from bot.errors import BadInput, DataUnavailable
from bot.market_data.demo import banner
from bot.market_data.inception import inception_of
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.ui import json_out, study_text
from bot.ui.text import to_jsonable

ANALOG_DRIVERS = sorted(set(DRIVER_SYMBOLS.values()))
K_RANGE = (1, 50)
STUDIES = ("breakouts", "droughts", "cycles", "rates", "analogs", "track-record")
ANALOG_SYMBOLS = ["^RUT", "^GSPC", *ANALOG_DRIVERS]
INDICES = {"^RUT": "Russell 2000", "^GSPC": "S&P 500", "RUT": "Russell 2000",
           "GSPC": "S&P 500", "SPX": "S&P 500"}


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "history", parents=parents,
        help="historical studies: breakouts, droughts, cycles, rates, analogs, track-record",
        description="What happened after past setups, as of any session.")
    p.add_argument("study", choices=STUDIES)
    p.add_argument("--gap-days", type=int, default=None,
                   help="breakouts: days without a record before a record counts (default 365)")
    p.add_argument("--horizons", default=",".join(map(str, DEFAULT_HORIZONS)),
                   help="breakouts: forward horizons in sessions, comma-separated")
    p.add_argument("--index", default="^RUT",
                   help="breakouts/droughts: the index whose records count (^RUT or ^GSPC)")
    p.add_argument("--min-days", type=int, default=365,
                   help="droughts: list droughts of at least this many days (default 365)")
    p.add_argument("--swing", type=float, default=15.0,
                   help="cycles: reversal in %% that ends a regime (default 15)")
    p.add_argument("--bp", type=float, default=5.0,
                   help="rates: yield move in basis points that makes a day count (default 5)")
    p.add_argument("--years", type=float, default=None,
                   help="rates: only the last N years (default: all data)")
    p.add_argument("--k", type=int, default=10,
                   help="analogs: how many past sessions to find (1-50, default 10)")
    add_replay_options(p)
    p.set_defaults(handler=run)


def add_replay_options(parser: argparse.ArgumentParser) -> None:
    """``--asof`` and ``--json`` (same meaning as for ``status``)."""
    parser.add_argument("--asof", metavar="YYYY-MM-DD",
                        help="replay this day (a non-session day uses the session before it)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON (ISO dates, returns as fractions) instead of text")


def resolve(market: MarketSnapshot, asof_text: str | None) -> ResolvedAsof:
    """``--asof`` → the session to answer for (BadInput: malformed, future, before the data).
    "The future" is judged by the New York date."""
    return resolve_asof(market.bars, parse_asof(asof_text), today=today_in_new_york())


def data_block(market: MarketSnapshot) -> dict[str, Any]:
    """Where the data came from and how fresh it is (JSON)."""
    return {"latest_session": to_jsonable(market.asof), "source": market.source,
            "stale": market.stale, "stale_reason": market.stale_reason,
            "missing_symbols": sorted(market.missing)}


def load_snapshot(settings: Settings, data_dir: Path | None, symbols: list[str]
                  ) -> MarketSnapshot:
    """Bars for ``symbols`` through the one data path."""
    async def go() -> MarketSnapshot:
        market = build_market_data(settings, data_dir)
        try:
            return await market.snapshot(symbols)
        finally:
            await market.close()
    return asyncio.run(go())


def parse_horizons(text: str) -> tuple[int, ...]:
    """``"21,63"`` → (21, 63), sorted and unique; BadInput on anything not a positive int."""
    try:
        values = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise BadInput(f"--horizons must be whole numbers of sessions like 21,63,252, "
                       f"not {text!r}") from None
    if not values or values[0] < 1:
        raise BadInput("--horizons must be positive numbers of sessions")
    return tuple(values)


def _index(text: str) -> str:
    key = text.strip().upper()
    symbol = {"RUT": "^RUT", "GSPC": "^GSPC", "SPX": "^GSPC"}.get(key.lstrip("^"), key)
    if symbol not in ("^RUT", "^GSPC"):
        raise BadInput(f"--index must be ^RUT or ^GSPC, not {text!r}")
    return symbol


def _prices(market: MarketSnapshot, symbol: str) -> pd.Series:
    frame = market.bars.get(symbol)
    if frame is None or frame.empty:
        raise DataUnavailable(f"no market data for {symbol}")
    return to_price(frame)


def build_study(args: argparse.Namespace, settings: Settings, market: MarketSnapshot,
                session: ResolvedAsof) -> tuple[str, dict[str, Any]]:
    """(text, json document) of the study asked for; BadInput on bad parameters."""
    asof: date = session.session
    rut, spx = _prices(market, "^RUT"), _prices(market, "^GSPC")
    note = session.note
    if args.study == "breakouts":
        gap = args.gap_days if args.gap_days is not None else settings.analytics.breakout_gap_days
        if not 1 <= gap <= 3650:
            raise BadInput("--gap-days must be between 1 and 3650")
        horizons = parse_horizons(args.horizons)
        symbol = _index(args.index)
        held = len((rut if symbol == "^RUT" else spx).loc[: pd.Timestamp(asof)].dropna())
        if horizons[-1] >= held:
            raise BadInput(f"--horizons: {horizons[-1]} sessions is longer than the "
                           f"{held:,} sessions of history up to {asof.isoformat()}")
        study = calc_breakout_study(rut, spx, asof, gap_days=gap, horizons=horizons,
                                    event_index=symbol, inception=inception_of(symbol))
        return (study_text.render_breakouts_text(study, note=note),
                study_text.breakouts_json(study))
    if args.study == "droughts":
        symbol = _index(args.index)
        if not 0 <= args.min_days <= 36500:
            raise BadInput("--min-days must be between 0 and 36500")
        table = calc_droughts(rut if symbol == "^RUT" else spx, asof, min_days=args.min_days,
                              inception=inception_of(symbol))
        return (study_text.render_droughts_text(table, INDICES[symbol], note=note),
                study_text.droughts_json(table, symbol))
    if args.study == "analogs":
        analogs = build_analogs(market, asof, args.k)
        return (study_text.render_analogs_text(analogs, note=note),
                study_text.analogs_json(analogs))
    if args.study == "track-record":
        try:
            record = calc_track_record(market.bars, asof)
        except InsufficientData as exc:  # pragma: no cover - to_ratio never raises it
            raise BadInput(f"track-record: {exc}") from None
        return (study_text.render_track_record_text(record, note=note),
                study_text.track_record_json(record))
    if args.study == "cycles":
        if not 1 <= args.swing <= 90:
            raise BadInput("--swing must be a percentage between 1 and 90")
        cycles = calc_cycles(rut, spx, asof, swing=args.swing / 100)
        return study_text.render_cycles_text(cycles, note=note), study_text.cycles_json(cycles)
    if not 0 < args.bp <= 500:
        raise BadInput("--bp must be between 0 and 500 basis points")
    if args.years is not None and not 0 < args.years <= 100:
        raise BadInput("--years must be between 0 and 100")
    rates = calc_rate_study(rut, spx, _prices(market, "^TNX"), asof, bp=args.bp,
                            years=args.years)
    return study_text.render_rates_text(rates, note=note), study_text.rates_json(rates)


def build_analogs(market: MarketSnapshot, asof: date, k: int) -> AnalogStudy:
    """The analog study of ``asof`` with the driver series the snapshot holds; BadInput for a
    bad ``k`` or too little history."""
    if not K_RANGE[0] <= k <= K_RANGE[1]:
        raise BadInput(f"--k must be between {K_RANGE[0]} and {K_RANGE[1]}")
    drivers = {s: to_price(market.bars[s]) for s in ANALOG_DRIVERS
               if s in market.bars and not market.bars[s].empty}
    try:
        return calc_analogs(_prices(market, "^RUT"), _prices(market, "^GSPC"), asof, k=k,
                            drivers=drivers, inception=inception_of("^RUT"))
    except InsufficientData as exc:
        raise BadInput(f"analogs: {exc}") from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    symbols = (["^RUT", "^GSPC", "^TNX"] if args.study == "rates" else
               ANALOG_SYMBOLS if args.study == "analogs" else ["^RUT", "^GSPC"])
    market = load_snapshot(settings, args.data_dir, symbols)
    session = resolve(market, args.asof)
    text, doc = build_study(args, settings, market, session)
    if args.json:
        doc = {**doc, "requested_asof": session.requested and session.requested.isoformat(),
               "asof_note": session.note, "data": data_block(market)}
        print(json_out.dumps(f"history.{args.study}", doc))
    else:
        if market.stale:
            text += f"STALE data: {market.stale_reason}\n"
        print(banner(market.source) + text, end="")
    return 0
