"""``python -m bot drivers [--asof] [--json] [--fred-dir DIR]``: tailwinds and headwinds for
small caps. FRED data (``date,value`` CSVs: UNRATE, GDPC1/GDP, ICSA, BAMLH0A0HYM2) is read from
``--fred-dir``, else ``[analytics] fred_dir``, else ``<data-dir>/fred`` when it exists; without
it the economy readings are reported absent, with the reason."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from analytics.drivers import MARKET_SPECS, calc_drivers
from bot.errors import BadInput
from bot.market_data.fred_files import read_fred_dir
from bot.settings import Settings
from bot.subcommands.history import add_replay_options, data_block, load_snapshot, resolve
from bot.ui.study_text import drivers_json, render_drivers_text


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "drivers", parents=parents, help="rates, credit, dollar, VIX, rotation, economy",
        description="Each driver's reading, change and measured relation to small caps.")
    p.add_argument("--fred-dir", type=Path, default=None,
                   help="directory of FRED date,value CSVs (default: settings, or DATA_DIR/fred)")
    add_replay_options(p)
    p.set_defaults(handler=run)


def fred_dir_for(args: argparse.Namespace, settings: Settings) -> Path | None:
    """The FRED directory to read, or None (BadInput when one was named but is missing)."""
    if args.fred_dir is not None:
        if not args.fred_dir.is_dir():
            raise BadInput(f"--fred-dir {args.fred_dir} is not a directory")
        return Path(args.fred_dir)
    if settings.analytics.fred_dir is not None:
        return settings.analytics.fred_dir
    data_dir = args.data_dir or settings.data.csv_dir
    if data_dir is not None and (Path(data_dir) / "fred").is_dir():
        return Path(data_dir) / "fred"
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    symbols = ["^RUT", "^GSPC", *dict.fromkeys(s for spec in MARKET_SPECS for s in spec.symbols)]
    market = load_snapshot(settings, args.data_dir, symbols)
    session = resolve(market, args.asof)
    root = fred_dir_for(args, settings)
    fred = read_fred_dir(root) if root is not None else None
    panel = calc_drivers(market.bars, session.session, fred=fred)
    if args.json:
        doc = {**drivers_json(panel),
               "requested_asof": session.requested and session.requested.isoformat(),
               "asof_note": session.note, "fred_dir": str(root) if root else None,
               "data": data_block(market)}
        print(json.dumps(doc, indent=2))
    else:
        text = render_drivers_text(panel, note=session.note)
        if market.stale:
            text += f"STALE data: {market.stale_reason}\n"
        print(text, end="")
    return 0
