"""``python -m bot run [--data-dir DIR] [--out DIR]``: the main job (``make run``).

With ``DISCORD_TOKEN`` in the environment it starts the bot (:func:`bot.client.run_bot`).
Without it, it writes a preview into ``./out/`` and says how to add a token; the token itself is
never printed. The preview is :func:`write_preview`, one small function, so it can be replaced by
the real briefing preview without touching the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bot.errors import DataUnavailable
from bot.market_data.errors import MarketDataError
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings, load_secrets

DEFAULT_OUT = Path("out")
OFFLINE_HINT = ("Offline? Replay from CSV files: `python -m bot run --data-dir DIR` "
                "(or `make run DATA_DIR=DIR`).")


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run", parents=parents, help="start the bot (DISCORD_TOKEN set) or write a preview",
        description="With DISCORD_TOKEN set, start the Discord bot; without it, write a "
                    "preview into --out and explain how to add a token.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="where the preview goes when there is no token (default ./out)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    token = load_secrets().discord_token
    if token is not None and token.get_secret_value().strip():
        from bot.client import run_bot  # lazy: discord.py is only needed with a token

        return run_bot(settings, token, args.data_dir)
    path = write_preview(settings, args.data_dir, args.out)
    print(f"No DISCORD_TOKEN in the environment, so the bot was not started.\n"
          f"Preview written to {path}\n"
          f"To run the bot on Discord: export DISCORD_TOKEN=<your bot token> "
          f"(from the Discord developer portal), then run `make run` again.")
    return 0


# -- the preview (replace this function's body with the real briefing preview) ---------------
def write_preview(settings: Settings, data_dir: Path | None, out_dir: Path) -> Path:
    """Write the no-token preview into ``out_dir`` and return its path.

    ``summary.md``, a data summary of the universe (per symbol: group, first and last session,
    sessions held, last close, and whether it is stale or lags the as-of session), then the
    morning briefing for the latest session held: ``briefing.html`` (returned), ``briefing.md``
    and the chart PNGs (:func:`bot.briefing.files.write_latest_preview`).
    """
    snap = asyncio.run(_universe(settings, data_dir))
    groups = _groups(settings)
    text = render_summary(snap, settings.universe.symbols(), groups, datetime.now(UTC))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "summary.md"
    partial = path.with_suffix(".md.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)  # never leave a half-written preview behind
    from bot.briefing.files import write_latest_preview  # the real briefing preview

    try:
        return write_latest_preview(settings, data_dir, out_dir, snapshot=snap)
    except DataUnavailable as exc:  # e.g. a data directory without ^RUT: keep the summary
        print(f"No briefing preview: {exc.message}")
        return path


async def _universe(settings: Settings, data_dir: Path | None) -> MarketSnapshot:
    market = build_market_data(settings, data_dir)
    try:
        return await market.snapshot()
    except MarketDataError as exc:
        raise DataUnavailable(f"{exc.message.rstrip('.')}. {OFFLINE_HINT}") from exc
    finally:
        await market.close()


def _groups(settings: Settings) -> dict[str, str]:
    u = settings.universe
    named = (("index", u.indices), ("ETF", u.etfs), ("driver", u.drivers),
             ("sector/style", u.sectors))
    out: dict[str, str] = {}
    for group, symbols in named:
        for s in symbols:
            out.setdefault(s, group)
    return out


def _last_close(frame: pd.DataFrame) -> str:
    """The last close, or the last adjusted close (marked) for adjusted-only series."""
    for column, mark in (("close", ""), ("adj_close", " (adj)")):
        values = frame[column].dropna()
        if len(values):
            value = float(values.iloc[-1])
            return (f"{value:.2f}" if abs(value) >= 10 else f"{value:.4f}") + mark
    return "-"


def render_summary(snap: MarketSnapshot, symbols: Sequence[str], groups: dict[str, str],
                   generated: datetime) -> str:
    """Markdown: a heading line with the as-of session, then one table row per symbol."""
    asof = snap.asof.isoformat() if snap.asof else "n/a"
    lines = ["# capbrief: market data summary", "",
             f"As of session **{asof}** (source: {snap.source}); generated "
             f"{generated:%Y-%m-%d %H:%M} UTC.", ""]
    if snap.stale:
        lines += [f"> **Stale data**: {snap.stale_reason}", ""]
    lines += ["| symbol | group | first | last | sessions | last close | status |",
              "|---|---|---|---|--:|--:|---|"]
    for s in symbols:
        frame = snap.bars.get(s)
        group = groups.get(s, "")
        if frame is None or frame.empty:
            reason = snap.missing.get(s, "no bars")
            lines.append(f"| {s} | {group} | - | - | 0 | - | missing: {reason} |")
            continue
        first, last = frame.index[0].date(), frame.index[-1].date()
        status = "ok"
        if snap.asof and last < snap.asof:
            status = f"lags: ends {last.isoformat()}"
        lines.append(f"| {s} | {group} | {first.isoformat()} | {last.isoformat()} | "
                     f"{len(frame):,} | {_last_close(frame)} | {status} |")
    if snap.stale:
        lines += ["", "Every row above is the last good data; the source could not be reached."]
    return "\n".join(lines) + "\n"
