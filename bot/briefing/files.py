"""Write the morning post without Discord: ``briefing.md``, ``briefing.html`` and the chart PNGs.

Used by ``python -m bot briefing --out DIR`` and by ``python -m bot run`` without a token. The
post is the one subscribers get the morning after ``asof`` (the next NYSE session), composed by
the same :class:`~bot.briefing.compose.BriefingComposer` the scheduler uses. Every file is written
to a temporary name and renamed, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date
from pathlib import Path

from analytics.briefing import Briefing
from bot.briefing.compose import BriefingComposer
from bot.briefing.models import BriefingOptions
from bot.briefing.post import BriefingPost
from bot.data_age import morning_of
from bot.market_data.fred import FredReadings
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.ui.html import render_post_html


def post_session(asof: date) -> date:
    """The morning that reads ``asof``'s close (:func:`bot.data_age.morning_of`)."""
    return morning_of(asof)


async def compose_preview(settings: Settings, market: MarketSnapshot, briefing: Briefing,
                          options: BriefingOptions | None = None) -> BriefingPost:
    """The post of ``briefing`` for the morning after its session (charts rendered inline)."""

    async def snapshot() -> MarketSnapshot:
        return market

    composer = BriefingComposer(settings, snapshot)
    return await composer.post_for(briefing, market, post_session(briefing.asof),
                                   options or BriefingOptions())


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_post(post: BriefingPost, out_dir: Path) -> list[Path]:
    """Write the PNGs, ``briefing.md`` and ``briefing.html`` into ``out_dir``; returns paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for img in post.images:
        _write(out_dir / img.filename, img.data)
        written.append(out_dir / img.filename)
    posted = f"{post.session:%a %d %b %Y} at 8:30 AM"
    for name, text in (("briefing.md", post.markdown()),
                       ("briefing.html", render_post_html(post, posted_at=posted))):
        _write(out_dir / name, text.encode("utf-8"))
        written.append(out_dir / name)
    return written


def write_briefing_files(settings: Settings, market: MarketSnapshot, briefing: Briefing,
                         out_dir: Path) -> list[Path]:
    """Render the post of ``briefing`` (the morning after its session) into ``out_dir``."""
    post = asyncio.run(compose_preview(settings, market, briefing))
    return write_post(post, out_dir)


def write_latest_preview(settings: Settings, data_dir: Path | None, out_dir: Path,
                         snapshot: MarketSnapshot | None = None) -> Path:
    """``make run`` without a token: the post for the latest session held → ``out_dir``.

    Returns the path of ``briefing.html``. ``snapshot`` (if given) saves reloading the data.
    FRED series for the drivers line come through the one data path
    (:meth:`~bot.market_data.service.MarketData.fred`).
    """
    from bot.briefing.compose import briefing_for, with_premarket
    from bot.market_data.service import build_market_data

    async def load(held: MarketSnapshot | None) -> tuple[MarketSnapshot, FredReadings]:
        market = build_market_data(settings, data_dir)
        try:
            snap = held if held is not None else await market.snapshot()
            return snap, await market.fred()
        finally:
            await market.close()

    snapshot, fred = asyncio.run(load(snapshot))
    if snapshot.asof is None:
        from bot.errors import DataUnavailable

        raise DataUnavailable("no market data to build the briefing preview from")
    briefing = briefing_for(snapshot, snapshot.asof, settings, fred)
    briefing = asyncio.run(with_premarket(briefing, snapshot))
    write_briefing_files(settings, snapshot, briefing, out_dir)
    return out_dir / "briefing.html"
