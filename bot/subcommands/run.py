"""``python -m bot run [--data-dir DIR] [--out DIR]``: the main job (``make run``).

With ``DISCORD_TOKEN`` in the environment it starts the bot (:func:`bot.client.run_bot`).
Without it, it writes a preview into ``./out/`` and says how to add a token; the token itself is
never printed. The preview is :func:`write_preview`, one small function, so it can be replaced by
the real briefing preview without touching the rest.

A first run anywhere: when Yahoo cannot be reached (or fails) and the local store holds nothing
to serve, the preview says so in one line and is built from the bundled demo snapshot
(:mod:`bot.market_data.demo`) instead; every file it writes then says "demo data to <date>".
A replay (``--data-dir``) never falls back: its error names the directory.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bot.errors import BadInput, DataUnavailable
from bot.market_data import demo, reach
from bot.market_data.errors import MarketDataError
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import ConfigError, Settings, load_secrets

DEFAULT_OUT = Path("out")
OFFLINE_HINT = ("Offline? Replay from CSV files: `python -m bot run --data-dir DIR` "
                "(or `make run DATA_DIR=DIR`).")
#: Asked before Yahoo (and before yfinance is even imported) so that an offline first run says
#: so within seconds; tests replace it. None: no early check.
PROBE: Callable[[], MarketDataError | None] | None = reach.probe_yahoo


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run", parents=parents, help="start the bot (DISCORD_TOKEN set) or write a preview",
        description="With DISCORD_TOKEN set, start the Discord bot; without it, write a "
                    "preview into --out and explain how to add a token.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="where the preview goes when there is no token (default ./out)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        token = load_secrets().token()
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    if token is not None:
        from bot.client import run_bot  # lazy: discord.py is only needed with a token

        return run_bot(settings, token, args.data_dir)
    path, source = preview(settings, args.data_dir, args.out)
    print(f"No DISCORD_TOKEN in the environment, so the bot was not started.\n"
          f"Preview written to {path}{f' ({source})' if demo.is_demo(source) else ''}\n"
          f"To run the bot on Discord: export DISCORD_TOKEN=<your bot token> (from the Discord "
          f"developer portal), or DISCORD_TOKEN_FILE=<a file holding it> (Docker/compose "
          f"secrets), then start it again.")
    return 0


# -- the preview (replace this function's body with the real briefing preview) ---------------
def write_preview(settings: Settings, data_dir: Path | None, out_dir: Path) -> Path:
    """Write the no-token preview into ``out_dir`` and return its path (see :func:`preview`)."""
    return preview(settings, data_dir, out_dir)[0]


def preview(settings: Settings, data_dir: Path | None, out_dir: Path) -> tuple[Path, str]:
    """Write the no-token preview into ``out_dir``; returns its path and the data's source.

    ``summary.md``, a data summary of the universe (per symbol: group, first and last session,
    sessions held, last close, and whether it is stale or lags the as-of session), then the
    morning briefing for the latest session held: ``briefing.html`` (returned), ``briefing.md``
    and the chart PNGs (:func:`bot.briefing.files.write_latest_preview`).
    """
    snap, data_dir = asyncio.run(_universe(settings, data_dir))
    groups = _groups(settings)
    text = render_summary(snap, settings.universe.symbols(), groups, datetime.now(UTC))
    path = out_dir / "summary.md"
    partial = path.with_suffix(".md.partial")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        partial.write_text(text, encoding="utf-8")
    except OSError as exc:  # e.g. a read-only working directory: say so, no traceback
        raise BadInput(f"cannot write the preview to {out_dir}: {exc.strerror or exc}; "
                       "choose a writable directory with --out DIR") from None
    os.replace(partial, path)  # never leave a half-written preview behind
    from bot.briefing.files import write_latest_preview  # the real briefing preview

    try:
        return write_latest_preview(settings, data_dir, out_dir, snapshot=snap), snap.source
    except DataUnavailable as exc:  # e.g. a data directory without ^RUT: keep the summary
        print(f"No briefing preview: {exc.message}")
        return path, snap.source


async def _universe(settings: Settings, data_dir: Path | None
                    ) -> tuple[MarketSnapshot, Path | None]:
    """The universe's snapshot and the CSV directory it came from (None: Yahoo / the store).

    From Yahoo with nothing stored to serve, the bundled demo snapshot stands in (one line says
    why); a replay directory's failure is an error. An early :data:`PROBE` that finds Yahoo out
    of reach says so at once; Yahoo is still asked (through the store, which then serves its
    last good bars, labelled stale, if it holds any), and fails as fast.
    """
    market = build_market_data(settings, data_dir)
    replay = market.data_dir is not None
    said = False
    if not replay and PROBE is not None and settings.data.provider == "yahoo":
        early = await asyncio.to_thread(PROBE)
        if early is not None:
            print(f"{early.message.rstrip('.')}.", flush=True)
            said = True
    try:
        with _reported_here():
            return await market.snapshot(), market.data_dir
    except MarketDataError as exc:
        failure = exc
        if replay:
            raise DataUnavailable(f"{exc.message.rstrip('.')}. {OFFLINE_HINT}") from exc
    finally:
        await market.close()
    try:
        demo_dir = await asyncio.to_thread(demo.materialize)
    except demo.DemoError as exc:
        raise DataUnavailable(f"{failure.message.rstrip('.')}. {OFFLINE_HINT}") from exc
    fallback = build_market_data(settings, demo_dir)
    why = "" if said else f"{failure.message.rstrip('.')}. "
    print(f"{why}Using the bundled demo snapshot instead ({fallback.source}).", flush=True)
    try:
        return await fallback.snapshot(), demo_dir
    finally:
        await fallback.close()


class _DropSourceFailures(logging.Filter):
    """Drops log records about a market-data failure (the run command reports it itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(isinstance(a, MarketDataError) for a in args)


@contextmanager
def _reported_here() -> Iterator[None]:
    """While the preview asks the source, its failure reaches the console once: as the line
    :func:`_universe` prints, not also as the cache's warning."""
    logger, dropper = logging.getLogger("bot.market_data.cache"), _DropSourceFailures()
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)


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
    heading = "# capbrief: market data summary"
    if demo.is_demo(snap.source):
        heading += f" ({snap.source})"
    lines = [heading, "",
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
