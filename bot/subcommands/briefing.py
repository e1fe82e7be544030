"""``python -m bot briefing [--asof DATE] [--json] [--out DIR]``: the briefing as of a session.

Text by default; ``--json`` for the whole :class:`~analytics.briefing.Briefing` (ISO dates,
returns as fractions). :func:`build_briefing` is the one place the CLI composes a briefing, so
writers of other outputs (markdown, HTML, PNG) call it and only add their rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.briefing import Briefing
from bot.asof import ResolvedAsof, parse_asof
from bot.briefing.compose import briefing_for, with_premarket
from bot.data_age import morning_of
from bot.market_data.fred import with_vintage_note
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.subcommands.drivers import load_with_fred
from bot.subcommands.status import add_replay_options, data_block, resolve
from bot.ui import json_out
from bot.ui.text import render_briefing_text, to_jsonable


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "briefing", parents=parents, help="the morning briefing (text or JSON) as of a session",
        description="The morning briefing: headline, scoreboard, records, history, drivers.")
    add_replay_options(parser)
    parser.add_argument("--fred-dir", type=Path, default=None,
                        help="FRED date,value CSVs for the economy drivers "
                             "(default: settings, or DATA_DIR/fred)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="also write briefing.md, briefing.html and the chart PNGs to DIR")
    parser.set_defaults(handler=run)


def build_briefing(market: MarketSnapshot, session: ResolvedAsof, settings: Settings, *,
                   fred: Mapping[str, pd.Series] | None = None) -> Briefing:
    """The briefing for the resolved session, composed exactly as the morning post composes it
    (:func:`bot.briefing.compose.briefing_for`: drivers panel included when it can be computed,
    labelled with the data's freshness; then :func:`~bot.briefing.compose.with_premarket`)."""
    briefing = briefing_for(market, session.session, settings, fred)
    return asyncio.run(with_premarket(briefing, market))


def briefing_json(briefing: Briefing, session: ResolvedAsof, market: MarketSnapshot,
                  briefing_fred: Mapping[str, pd.Series] | None = None) -> dict[str, Any]:
    """The JSON document of ``briefing``."""
    fred = getattr(briefing_fred, "as_json", None)
    replay = _replay(market, session) and bool(briefing_fred)
    return {"asof": briefing.asof.isoformat(), "morning": morning_of(briefing.asof).isoformat(),
            "requested_asof": to_jsonable(session.requested),
            "asof_note": with_vintage_note(session.note, replay=replay),
            "data": data_block(market), "fred": fred() if fred else None,
            "briefing": to_jsonable(briefing)}


def _replay(market: MarketSnapshot, session: ResolvedAsof) -> bool:
    return market.source == "csv" or session.requested is not None


def run(args: argparse.Namespace, settings: Settings) -> int:
    requested = parse_asof(args.asof)  # a malformed date fails before any data is read
    market, fred = load_with_fred(settings, args.data_dir, None, args.fred_dir)
    session = resolve(market, requested)
    briefing = build_briefing(market, session, settings, fred=fred)
    if getattr(args, "out", None) is not None:
        from bot.briefing.files import write_briefing_files

        for path in write_briefing_files(settings, market, briefing, args.out):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json_out.dumps("briefing", briefing_json(briefing, session, market, fred)))
    else:
        note = with_vintage_note(session.note, replay=_replay(market, session) and bool(fred))
        print(render_briefing_text(briefing, note=note), end="")
    return 0
