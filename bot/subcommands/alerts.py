"""``python -m bot alerts --from DATE --to DATE [--json]``: every alert that would have fired.

The replay reads through ``build_market_data`` (``^RUT`` extended back to 1979 there), builds
the event history once up to ``--to`` and lists each session's batch with its text; nothing
after ``--to`` is read, so the list is what the bot would have posted at each close.
``--to`` defaults to the latest session either index holds; ``--from`` to ``--to``.
``--brief`` prints one line per alert instead of the history tables.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

import pandas as pd

from analytics.alerts import replay_alerts
from bot.alerts.params import to_alert_params
from bot.asof import parse_asof
from bot.clock import today_in_new_york
from bot.errors import BadInput, DataUnavailable
from bot.market_data.demo import banner
from bot.market_data.inception import inception_of
from bot.settings import Settings
from bot.subcommands.history import data_block, load_snapshot
from bot.ui.alert_text import render_replay_text, replay_json

SYMBOLS = ["^RUT", "^GSPC"]


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "alerts", parents=parents,
        help="replay the alerts (records, breakouts, levels, averages, turns, droughts)",
        description="Every alert that would have fired at each session's close in a range, "
                    "with what followed the earlier ones and the base rate of any day.")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD",
                   help="first session to replay (default: --to)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD",
                   help="last session to replay (default: the latest session held)")
    p.add_argument("--brief", action="store_true",
                   help="one line per alert (session, kind, sentence), no history tables")
    p.add_argument("--json", action="store_true",
                   help="print JSON (docs/schema/alerts.schema.json) instead of text")
    p.set_defaults(handler=run)


def replay_range(start_text: str | None, end_text: str | None, first: date, last: date,
                 today: date) -> tuple[date, date, str | None]:
    """(start, end, note) from the options; BadInput for malformed, future or reversed dates
    and for a range that ends before the data begins."""
    start = parse_asof(start_text, today=today, option="--from")
    end = parse_asof(end_text, today=today, option="--to")
    note = None
    if end is None or end > last:
        if end is not None:
            note = f"no data after {last.isoformat()}; the replay stops there"
        end = last
    start = start or end
    if start > end:
        raise BadInput(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    if end < first:
        raise BadInput(f"--to {end.isoformat()} is before the data begins ({first.isoformat()})")
    return start, end, note


def _prices(frame: pd.DataFrame | None, symbol: str) -> pd.Series:
    if frame is None or frame.empty:
        raise DataUnavailable(f"no market data for {symbol}")
    from analytics.series import to_price

    return to_price(frame)


def run(args: argparse.Namespace, settings: Settings) -> int:
    params = to_alert_params(settings)
    market = load_snapshot(settings, args.data_dir, SYMBOLS)
    rut, spx = (_prices(market.bars.get(s), s) for s in SYMBOLS)
    first = max(rut.index[0], spx.index[0]).date()
    last = max(rut.index[-1], spx.index[-1]).date()
    start, end, note = replay_range(args.start, args.end, first, last, today_in_new_york())
    batches = replay_alerts(rut, spx, start, end, params, inception=inception_of("^RUT"))
    if args.json:
        doc = {**replay_json(batches, start, end, params.horizons), "note": note,
               "data": data_block(market)}
        print(json.dumps(doc, indent=2))
        return 0
    text = render_replay_text(batches, start, end, brief=args.brief)
    if note:
        text += f"note: {note}\n"
    if market.stale:
        text += f"STALE data: {market.stale_reason}\n"
    print(banner(market.source) + text, end="")
    return 0
