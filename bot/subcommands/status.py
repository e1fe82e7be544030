"""``python -m bot status [--asof YYYY-MM-DD] [--json]``: who leads, small or large caps.

Prints the leadership snapshot (scoreboard, RUT/SPX trend, records) as text, or as JSON with
stable snake_case keys (dates ISO, returns as fractions). The small functions here are reused by
``briefing`` and by anyone who needs the same data path (:func:`load_market`).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from analytics.briefing import compose_headline
from analytics.leadership import InsufficientData, LeadershipSnapshot, calc_leadership_snapshot
from analytics.verdict import verdict_from_relative
from bot.asof import ResolvedAsof, parse_asof, resolve_asof
from bot.clock import today_in_new_york
from bot.data_age import data_age_line
from bot.errors import DataUnavailable
from bot.market_data.demo import banner
from bot.market_data.inception import INCEPTIONS
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.ui import json_out
from bot.ui.text import render_status_text, to_jsonable

#: What ``status`` needs: the two indices and the two ETFs (total-return rows).
STATUS_SYMBOLS: tuple[str, ...] = ("^RUT", "^GSPC", "IWM", "SPY")


def add_replay_options(parser: argparse.ArgumentParser) -> None:
    """``--asof`` and ``--json``, shared by status and briefing."""
    parser.add_argument("--asof", metavar="YYYY-MM-DD",
                        help="replay this day (a non-session day uses the session before it)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON (ISO dates, returns as fractions) instead of text")


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status", parents=parents, help="who leads now: returns, RUT/SPX trend, records",
        description="Small caps (Russell 2000) vs large caps (S&P 500) as of a session.")
    add_replay_options(parser)
    parser.set_defaults(handler=run)


async def _snapshot(settings: Settings, data_dir: Path | None,
                    symbols: Sequence[str] | None) -> MarketSnapshot:
    market = build_market_data(settings, data_dir)
    try:
        return await market.snapshot(symbols)
    finally:
        await market.close()


def load_market(settings: Settings, data_dir: Path | None,
                symbols: Sequence[str] | None = None) -> MarketSnapshot:
    """The market snapshot (``symbols``, default the whole universe) through the one data path
    (``build_market_data``)."""
    return asyncio.run(_snapshot(settings, data_dir, symbols))


def resolve(market: MarketSnapshot, requested: date | None) -> ResolvedAsof:
    """Resolve a parsed ``--asof`` against the bars held (BadInput on out-of-range dates)."""
    return resolve_asof(market.bars, requested, today=today_in_new_york())


def build_status(market: MarketSnapshot, session: ResolvedAsof,
                 settings: Settings) -> LeadershipSnapshot:
    """The leadership snapshot for the resolved session (DataUnavailable if it cannot answer)."""
    try:
        return calc_leadership_snapshot(market.bars, session.session,
                                        gap_days=settings.analytics.breakout_gap_days,
                                        round_step=settings.analytics.round_step,
                                        inceptions=INCEPTIONS)
    except InsufficientData as exc:
        raise DataUnavailable(str(exc)) from None


def data_block(market: MarketSnapshot) -> dict[str, Any]:
    """Where the data came from and how fresh it is (JSON): ``age`` is the line saying how old
    the newest close held is, null within one session of the last completed NYSE session."""
    return {"latest_session": to_jsonable(market.asof), "source": market.source,
            "stale": market.stale, "stale_reason": market.stale_reason,
            "age": data_age_line(market.asof),
            "missing_symbols": sorted(market.missing)}


def status_json(snapshot: LeadershipSnapshot, session: ResolvedAsof,
                market: MarketSnapshot) -> dict[str, Any]:
    """The JSON document of ``status``."""
    return {"asof": snapshot.asof.isoformat(),
            "requested_asof": to_jsonable(session.requested),
            "asof_note": session.note, "headline": compose_headline(snapshot),
            "verdict": to_jsonable(verdict_from_relative(snapshot.relative)),
            "data": data_block(market), "leadership": to_jsonable(snapshot)}


def run(args: argparse.Namespace, settings: Settings) -> int:
    requested = parse_asof(args.asof)  # a malformed date fails before any data is read
    market = load_market(settings, args.data_dir, STATUS_SYMBOLS)
    session = resolve(market, requested)
    snapshot = build_status(market, session, settings)
    if args.json:
        print(json_out.dumps("status", status_json(snapshot, session, market)))
    else:
        note = session.note
        age = data_age_line(market.asof) if snapshot.asof == market.asof else None
        if age:
            note = "; ".join(x for x in (age, note) if x)
        if market.stale:
            note = "; ".join(x for x in (note, f"STALE data: {market.stale_reason}") if x)
        print(banner(market.source)
              + render_status_text(snapshot, headline=compose_headline(snapshot), note=note),
              end="")
    return 0
