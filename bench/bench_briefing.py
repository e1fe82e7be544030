"""Briefing fan-out to 1,000 subscriptions against the loopback fake Discord.

Real pieces: the SQLite ledger (claim → send → record per subscription); the real composer
(analytics briefing + Matplotlib charts in the warmed process-pool renderer) on the shared CSV
history; the real discord.py REST client posting embeds + PNGs; the fake Discord answering (and
injecting 429s) on 127.0.0.1 in the same process, on its own thread and loop. Two options
variants (charts on / off) → 2 compositions and one render per chart of the charts variant.
Figures: total fan-out time, loop lag, compositions, renders, messages the fake received, 429s
met, peak Python memory during the fan-out (tracemalloc) and the process's max RSS.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import threading
import time as clock
import tracemalloc
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SUBSCRIPTIONS = 1_000
THROTTLED = 50
NOW = datetime(2025, 9, 19, 12, 30, tzinfo=UTC)  # 08:30 New York, the morning after 2025-09-18
CHANNEL_BASE = 1_800_000_000_000_000_000


def _fresh_db(workdir: Path) -> Path:
    db = workdir / "bench_briefing.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


async def _fanout(data_dir: Path | None, db: Path, concurrency: int) -> dict[str, Any]:
    import discord

    from bot.briefing.compose import CHARTS, BriefingComposer
    from bot.briefing.fanout import BriefingRuntime
    from bot.briefing.models import BriefingOptions
    from bot.briefing.service import BRIEFING_PARAMS, DiscordSender
    from bot.briefing.store import DeliveryRepository, SubscriptionRepository
    from bot.market_data import calendar
    from bot.market_data.service import build_market_data
    from bot.render import Renderer
    from bot.settings import Settings
    from bot.storage.db import create_engine, migrate
    from tests.fakes.discord_api import FakeDiscord

    engine = create_engine(f"sqlite:///{db}")
    migrate(engine)
    subs, deliveries = SubscriptionRepository(engine), DeliveryRepository(engine)
    created = NOW - timedelta(days=30)
    for i in range(SUBSCRIPTIONS):
        subs.upsert(guild_id=1 + i // 3, channel_id=CHANNEL_BASE + i, local_time=time(8, 30),
                    timezone="America/New_York", options=BriefingOptions(charts=i % 2 == 0),
                    created_by=None, now=created)

    settings = Settings(data={"provider": "csv", "csv_dir": data_dir})  # type: ignore[arg-type]
    market = build_market_data(settings, data_dir)
    snapshot = await market.snapshot()

    async def snap() -> Any:
        return snapshot

    renderer = Renderer(pool_size=1)
    await renderer.start()  # warmed, as in the bot (not part of the fan-out time)

    async def render(kind: str, data: Any, version: str) -> bytes:
        return await renderer.render(kind, BRIEFING_PARAMS, data, version=version)

    composer = BriefingComposer(settings, snap, render)
    await asyncio.to_thread(calendar.is_session, NOW.date())  # built once at bot start-up
    # The fake Discord gets its own thread and loop, so the loop lag measured is the bot's.
    fake_loop = asyncio.new_event_loop()
    fake_thread = threading.Thread(target=fake_loop.run_forever, daemon=True)
    fake_thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeDiscord().start(), fake_loop).result(30)
    fake.install()
    client = discord.Client(intents=discord.Intents.none())
    await client.login("bench-token")
    fake.fail("POST", r"/channels/\d+/messages", 429, times=THROTTLED, retry_after=0.05)
    runtime = BriefingRuntime(subs, deliveries, composer, DiscordSender(client),
                              grace=timedelta(minutes=60), concurrency=concurrency,
                              clock=lambda: NOW)
    lags: list[float] = []
    stop = asyncio.Event()

    async def sample_lag() -> None:  # how late a 5 ms sleep wakes up = loop blocking
        while not stop.is_set():
            t0 = clock.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(clock.perf_counter() - t0 - 0.005)

    sampler = asyncio.create_task(sample_lag())
    tracemalloc.start()
    started = clock.perf_counter()
    try:
        report = await runtime.run_slot(time(8, 30), "America/New_York")
        elapsed = clock.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        stop.set()
        await sampler
        await client.close()
        await renderer.close()
        asyncio.run_coroutine_threadsafe(fake.close(), fake_loop).result(30)
        fake_loop.call_soon_threadsafe(fake_loop.stop)
        fake_thread.join(10)
        fake.uninstall()
        engine.dispose()
    assert report is not None
    posts = fake.find("POST", r"/channels/\d+/messages$")
    ok = [r for r in posts if r.status == 200]
    per_channel = {r.path for r in ok}
    rows = deliveries.for_session(date(2025, 9, 19))
    return {
        "subscriptions": SUBSCRIPTIONS, "variants": 2, "concurrency": concurrency,
        "fanout_s": round(elapsed, 2),
        "per_message_ms": round(1000 * elapsed / max(len(ok), 1), 2),
        "compositions": composer.compositions, "renders": renderer.renders,
        "charts_per_post": len(CHARTS),
        "messages_sent": len(ok), "distinct_channels": len(per_channel),
        "throttled_429": len([r for r in posts if r.status == 429]),
        "recorded_sent": sum(1 for r in rows if r.status == "sent"),
        # The bot's loop (the fake runs on its own thread, but shares the GIL and 2 cores).
        "loop_lag_p50_ms": round(1000 * sorted(lags)[len(lags) // 2], 1) if lags else None,
        "loop_lag_p99_ms": round(1000 * sorted(lags)[int(len(lags) * 0.99)], 1) if lags else None,
        "upload_mb": round(sum(sum(f.size for f in r.files) for r in ok) / 1e6, 1),
        "peak_python_mb": round(peak / 1e6, 1),
        # The in-process fake keeps every uploaded file; without it, roughly the bot's own peak.
        "peak_python_without_fake_uploads_mb": round(
            (peak - sum(sum(f.size for f in r.files) for r in posts)) / 1e6, 1),
    }


def run(ctx: Any) -> dict[str, Any]:
    from bot.settings import BriefingSettings

    if ctx.data_dir is None:
        return {"skipped": "no market data directory (set CAPBRIEF_MARKET_DATA)"}
    concurrency = BriefingSettings().fanout_concurrency
    figures = asyncio.run(_fanout(Path(ctx.data_dir), _fresh_db(Path(ctx.workdir)), concurrency))
    figures["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    n = figures["subscriptions"]
    figures["targets"] = {
        "messages_sent": {"value": figures["messages_sent"], "target": f"== {n}",
                          "ok": figures["messages_sent"] == n == figures["distinct_channels"]},
        "compositions": {"value": figures["compositions"], "target": "== 2 (one per variant)",
                         "ok": figures["compositions"] == 2},
        "renders": {"value": figures["renders"], "target": f"== {figures['charts_per_post']}",
                    "ok": figures["renders"] == figures["charts_per_post"]},
        "fanout_s": {"value": figures["fanout_s"], "target": "< 120 s",
                     "ok": figures["fanout_s"] < 120},
        "peak_python_mb": {"value": figures["peak_python_mb"], "target": "< 300 MB",
                           "ok": figures["peak_python_mb"] < 300},
    }
    return figures


if __name__ == "__main__":
    from bench.__main__ import BenchContext, _default_data_dir

    out = REPO / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    print(run(BenchContext(data_dir=_default_data_dir(), workdir=out)))
