"""``python -m bot chart SYMBOLS... [--period P] [--kind K] --out FILE``: what ``/chart`` draws.

Same checks and chart input as the slash command (:mod:`bot.chart_request`), the same data path
and the same renderer function the render pool's workers run, inline (one chart does not pay
for a pool). The PNG is written atomically: a failure leaves no partial file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from analytics.charts.inputs import CUSTOM_KINDS, CustomInput
from bot.chart_request import PERIODS, ChartRequest, build_chart_input, parse_chart_request
from bot.errors import BadInput, DataUnavailable
from bot.market_data.errors import MarketDataError
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings

EPILOG = """\
examples:
  python -m bot chart IWM SPY --out chart.png
      IWM and SPY rebased to 100 over the past year
  python -m bot chart ^RUT ^GSPC --kind ratio --period 5y --out ratio.png
      the Russell 2000 / S&P 500 ratio over five years
  python -m bot chart ^RUT --kind drawdown --period max --out dd.png --data-dir DIR
      replay from CSV files in DIR, no network

kinds: price, rebased (to 100 at the start), ratio (first / second, exactly two
symbols), drawdown (from the running high). The chart ends at the latest session held.
"""


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "chart", parents=parents, help="draw one chart of 1 to 4 symbols to a PNG (like /chart)",
        description="Draw one chart of 1 to 4 symbols, as the /chart command does in Discord, "
                    "and write it to a PNG file.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("symbols", nargs="+", metavar="SYMBOL",
                        help="ticker symbols, e.g. IWM SPY or ^RUT ^GSPC (at most 4)")
    parser.add_argument("--period", default="1y", metavar="P",
                        help=f"how far back: {', '.join(PERIODS)} (default 1y)")
    parser.add_argument("--kind", default="rebased", metavar="K",
                        help=f"what to draw: {', '.join(CUSTOM_KINDS)} (default rebased)")
    parser.add_argument("--theme", choices=("dark", "light"), default=None,
                        help="chart theme (default: charts.theme from the config)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the PNG file to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    request = parse_chart_request(" ".join(args.symbols), args.period, args.kind)
    if args.out.is_dir():
        raise BadInput(f"--out {args.out} is a directory; give a file name such as chart.png")
    snap = asyncio.run(_snapshot(settings, args.data_dir, request))
    data, png = draw(request, snap, args.theme or settings.charts.theme)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".partial")
    partial.write_bytes(png)
    os.replace(partial, args.out)
    stale = ", stale" if snap.stale else ""
    print(f"{args.out} ({len(png):,} bytes): {' '.join(request.symbols)}, {request.kind}, "
          f"{request.period}, as of {data.footnote.asof} ({snap.source}{stale})")
    return 0


def draw(request: ChartRequest, snap: MarketSnapshot, theme: str) -> tuple[CustomInput, bytes]:
    """The chart input and its PNG, from the render pool's own worker function run inline.
    Data the chart cannot be drawn from (too short, no overlap) is :class:`ChartUnavailable`."""
    from analytics.charts import ChartInputError
    from bot.render import ChartUnavailable, render_job

    try:
        data = build_chart_input(request, snap)
        return data, render_job("custom", data, theme)
    except ChartInputError as exc:
        raise ChartUnavailable(f"Can't draw that chart: {exc}") from exc


async def _snapshot(settings: Settings, data_dir: Path | None,
                    request: ChartRequest) -> MarketSnapshot:
    market = build_market_data(settings, data_dir)
    try:
        return await market.snapshot(request.symbols)
    except MarketDataError as exc:
        raise DataUnavailable(exc.message) from exc
    finally:
        await market.close()
