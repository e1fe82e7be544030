"""``python -m bot data refresh [SYMBOL ...]`` and ``python -m bot data show SYMBOL [--tail N]``.

``refresh`` brings the cache up to the last completed NYSE session (default: the whole universe)
and prints, per symbol, the sessions held, the as-of session, the rows written and whether the
data is stale (with the reason). Exit status 1 when any symbol failed or is missing.
``show`` prints the last ``N`` bars of one symbol as a table. With ``--data-dir DIR`` both read
CSV files instead (replay, no network). A malformed or unknown symbol is a one-line error (exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bot.errors import BadInput
from bot.market_data.cache import RefreshReport
from bot.market_data.frames import is_valid_symbol
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.storage.repositories import SymbolState
from bot.ui import json_out

DEFAULT_TAIL = 10


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "data", help="refresh the bar cache or show a symbol's bars",
        description="The market-data cache: refresh it, or look at what it holds.")
    sub = parser.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    refresh = sub.add_parser("refresh", parents=parents, help="fetch what is missing, per symbol",
                             description="Bring the cache up to the last completed session.")
    refresh.add_argument("symbols", nargs="*", metavar="SYMBOL",
                         help="symbols to refresh (default: the whole universe)")
    refresh.set_defaults(handler=run_refresh)
    show = sub.add_parser("show", parents=parents, help="print a symbol's last bars",
                          description="Print the last bars of one symbol as a table.")
    show.add_argument("symbol", metavar="SYMBOL", help="a ticker such as ^RUT, ^GSPC or SPY")
    show.add_argument("--tail", type=_positive, default=DEFAULT_TAIL, metavar="N",
                      help=f"how many of the latest sessions to print (default {DEFAULT_TAIL})")
    show.add_argument("--json", action="store_true",
                      help="print JSON (docs/schema/data-show.schema.json) instead of a table")
    show.set_defaults(handler=run_show)


def parse_symbol(text: str) -> str:
    """``text`` as a ticker (upper-cased); :class:`BadInput` when it cannot be one."""
    symbol = text.strip().upper()
    if not is_valid_symbol(symbol):
        raise BadInput(f"{text!r} is not a ticker symbol (examples: ^RUT, ^GSPC, SPY)")
    return symbol


def fmt_price(value: float) -> str:
    """Two decimals from 10 up (index levels, ETF prices), four below (yields, small prices)."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.2f}" if abs(value) >= 10 else f"{value:.4f}"


def fmt_volume(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.0f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]],
          left: Sequence[int] = (0,)) -> str:
    """A plain-text table; columns listed in ``left`` are left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


# -- show -------------------------------------------------------------------------------------
async def _show(settings: Settings, data_dir: Path | None, symbol: str) -> MarketSnapshot:
    market = build_market_data(settings, data_dir)
    try:
        return await market.snapshot([symbol])
    finally:
        await market.close()


def render_show(snap: MarketSnapshot, symbol: str, tail: int) -> str:
    frame = snap.frame(symbol)
    if frame.empty:
        return f"{symbol}: no bars held (source {snap.source})"
    head = (f"{symbol}: {len(frame):,} sessions, {frame.index[0].date()} .. "
            f"{frame.index[-1].date()} (as of {frame.index[-1].date()}, source {snap.source})")
    lines = [head]
    if snap.stale:
        lines.append(f"STALE: {snap.stale_reason}")
    rows = [[ts.date().isoformat(), *(fmt_price(float(r[c])) for c in
                                      ("open", "high", "low", "close", "adj_close")),
             fmt_volume(float(r["volume"]))]
            for ts, r in frame.tail(tail).iterrows() if isinstance(ts, pd.Timestamp)]
    lines.append(table(["date", "open", "high", "low", "close", "adj close", "volume"], rows))
    return "\n".join(lines)


def show_json(snap: MarketSnapshot, symbol: str, tail: int) -> dict[str, Any]:
    """The last ``tail`` bars of ``symbol`` (prices as held; NaN → null, volume whole)."""
    frame = snap.frame(symbol)
    bars = [{"date": ts.date().isoformat(),
             **{c: float(r[c]) for c in ("open", "high", "low", "close", "adj_close")},
             "volume": None if math.isnan(float(r["volume"])) else int(r["volume"])}
            for ts, r in frame.tail(tail).iterrows() if isinstance(ts, pd.Timestamp)]
    return {"symbol": symbol,
            "asof": frame.index[-1].date().isoformat() if len(frame) else None,
            "sessions": len(frame),
            "first_session": frame.index[0].date().isoformat() if len(frame) else None,
            "source": snap.source, "stale": snap.stale, "stale_reason": snap.stale_reason,
            "bars": bars}


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    symbol = parse_symbol(args.symbol)
    snap = asyncio.run(_show(settings, args.data_dir, symbol))
    if symbol not in snap.bars:
        reason = snap.missing.get(symbol, "no bars held")
        raise BadInput(f"unknown symbol {symbol}: {reason}")
    if getattr(args, "json", False):
        print(json_out.dumps("data.show", show_json(snap, symbol, args.tail)))
    else:
        print(render_show(snap, symbol, args.tail))
    return 0


# -- refresh ----------------------------------------------------------------------------------
async def _refresh(settings: Settings, data_dir: Path | None, symbols: Sequence[str]
                   ) -> tuple[RefreshReport, MarketSnapshot, dict[str, SymbolState]]:
    market = build_market_data(settings, data_dir)
    try:
        report = await market.refresh(symbols)
        snap = await market.snapshot(symbols, refresh=False)
        states: dict[str, SymbolState] = {}
        if market.data_dir is None:
            cache = await market.cache()
            states = {s: st for s in symbols if (st := cache.state(s)) is not None}
        return report, snap, states
    finally:
        await market.close()


def _status(symbol: str, snap: MarketSnapshot, state: SymbolState | None) -> str:
    if symbol not in snap.bars:
        return f"MISSING: {snap.missing.get(symbol, 'no bars')}"
    if state is not None and state.failing:
        return f"STALE: {state.last_error}"
    return "ok"


def render_refresh(report: RefreshReport, snap: MarketSnapshot,
                   states: dict[str, SymbolState], symbols: Sequence[str]) -> str:
    if report.target is None:
        head = f"CSV replay ({snap.source}): the files are the store; nothing to fetch."
    elif report.skipped and not report.error:
        head = f"Up to date with session {report.target}: nothing fetched."
    else:
        head = (f"Refreshed from {snap.source} up to session {report.target}: "
                f"{report.provider_calls} provider call(s), {report.rows_written:,} rows written.")
    lines = [head]
    if report.error:
        lines.append(f"ERROR: {report.error}")
    rows = []
    for s in symbols:
        frame = snap.bars.get(s)
        held = frame is not None and len(frame) > 0
        rows.append([
            s,
            f"{len(frame):,}" if frame is not None else "0",
            frame.index[0].date().isoformat() if held and frame is not None else "-",
            frame.index[-1].date().isoformat() if held and frame is not None else "-",
            f"{report.written[s]:,}" if s in report.written else "-",
            _status(s, snap, states.get(s)),
        ])
    lines.append(table(["symbol", "sessions", "first", "as of", "written", "status"], rows,
                       left=(0, 5)))
    if snap.stale:
        lines.append(f"STALE data is being served: {snap.stale_reason}")
    return "\n".join(lines)


def run_refresh(args: argparse.Namespace, settings: Settings) -> int:
    symbols = ([parse_symbol(s) for s in args.symbols] if args.symbols
               else settings.universe.symbols())
    symbols = list(dict.fromkeys(symbols))
    report, snap, states = asyncio.run(_refresh(settings, args.data_dir, symbols))
    print(render_refresh(report, snap, states, symbols))
    failed = bool(report.error or report.missing or snap.missing or snap.stale)
    return 1 if failed else 0
