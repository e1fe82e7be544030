"""Briefing fan-out at scale against the rate-limited fake Discord; the ledger after 250 sessions.

Fan-out points (default 1,000, 5,000 and 20,000 subscriptions; set
``CAPBRIEF_BENCH_FANOUT=1000,5000`` for others): each runs in a fresh process (so its CPU time and
peak RSS are its own) with the real pieces of the bot's send path: the SQLite ledger (batched
claims, one record per post), the process-wide send limiter, the real discord.py REST client
(nonce, ``enforce_nonce``, bounded rate-limit buckets). The fake Discord runs in yet another
process and enforces Discord's 50 requests/s global limit. The post is a small embed without charts
(composition and rendering are measured elsewhere): the figure is the fan-out machinery. Reported
per point: messages/s and its fraction of 50 (goal ≥ 0.90, never above 1), the most requests the
fake accepted in any one second, 429s met, CPU per message (goal: flat within 20% from 1k to 20k),
peak RSS, and discord.py's rate-limit bucket count at the end (bounded, not one per channel).

Ledger pass (``CAPBRIEF_BENCH_LEDGER=20000x250``): that many subscriptions × sessions of ``sent``
rows, then the query times the bot needs (one session's rows and counts, a subscription's last
delivery, a batch claim, the reconcile scan) and the retention purge to 90 days.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

POINTS = (1_000, 5_000, 20_000)
RATE = 48.0  # the bench's send_rate: 96% of Discord's 50/s, headroom for timer jitter
GLOBAL = 50.0
NOW = datetime(2026, 11, 24, 13, 45, tzinfo=UTC)  # 15 min after the 08:30 New York slot
CHANNEL_BASE = 1_800_000_000_000_000_000


def _points() -> tuple[int, ...]:
    raw = os.environ.get("CAPBRIEF_BENCH_FANOUT")
    return tuple(int(x) for x in raw.split(",") if x.strip()) if raw else POINTS


def _ledger_size() -> tuple[int, int]:
    raw = os.environ.get("CAPBRIEF_BENCH_LEDGER", "20000x250")
    subs, sessions = raw.lower().split("x")
    return int(subs), int(sessions)


# -- one fan-out point (in its own process) ------------------------------------------------------
def _start_fake() -> tuple[subprocess.Popen[str], int]:
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.serve_discord"], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    return fake, int(fake.stdout.readline().split()[1])


def _stop_fake(fake: subprocess.Popen[str]) -> dict[str, Any]:
    assert fake.stdin is not None and fake.stdout is not None
    fake.stdin.close()
    stats = json.loads(fake.stdout.read().strip().splitlines()[-1])
    fake.wait(30)
    return dict(stats)


def _point(n: int, db: Path) -> dict[str, Any]:
    fake, port = _start_fake()
    try:
        figures = asyncio.run(_fanout_point(n, db, port))
    finally:
        stats = _stop_fake(fake)
    figures.update({"peak_requests_in_1s": stats["peak_per_second"],
                    "throttled_429": stats["throttled_429"], "fake_posted": stats["posted"],
                    "fake_channels": stats["channels"],
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                         / 1024, 1)})
    return figures


async def _fanout_point(n: int, db: Path, port: int) -> dict[str, Any]:
    import discord

    from bot.briefing.fanout import BriefingRuntime
    from bot.briefing.models import BriefingOptions
    from bot.briefing.post import BriefingPost, PostField
    from bot.briefing.schedule import slot_on
    from bot.briefing.sender import DiscordSender, SendLimiter
    from bot.briefing.store import DeliveryRepository, SubscriptionRepository, subscriptions_table
    from bot.storage.db import create_engine, migrate, write_transaction

    engine = create_engine(f"sqlite:///{db}")
    migrate(engine)
    with write_transaction(engine) as conn:
        conn.execute(subscriptions_table.insert(), [{
            "guild_id": (i + 1) << 22, "channel_id": CHANNEL_BASE + i, "local_time": "08:30",
            "timezone": "America/New_York", "charts": False,
            "sections": "leadership,records,history,drivers", "enabled": True,
            "consecutive_failures": 0, "created_at": NOW - timedelta(days=30),
            "updated_at": NOW - timedelta(days=30)} for i in range(n)])
    subs, deliveries = SubscriptionRepository(engine), DeliveryRepository(engine)

    class SmallPost:
        async def compose(self, session: date, asof: date, options: BriefingOptions
                          ) -> BriefingPost:
            return BriefingPost(session=session, asof=asof,
                                title=f"Small vs large caps · {session:%a %d %b %Y}",
                                description="🟠 **Small caps lead**",
                                fields=(PostField("Records", "RUT 2,450 · no new high"),),
                                footer=f"Data as of {asof} · yahoo")

    discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
    client = discord.Client(intents=discord.Intents.none())
    await client.login("bench-token")
    runtime = BriefingRuntime(subs, deliveries, SmallPost(), DiscordSender(client),
                              grace=timedelta(minutes=60), concurrency=5,
                              clock=lambda: NOW, limiter=SendLimiter(RATE), instance="bench")
    slot = slot_on(NOW.date(), time(8, 30), "America/New_York")
    assert slot is not None
    members = subs.enabled()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = clock.perf_counter()
    report = await runtime.deliver(slot, members)
    elapsed = clock.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    buckets = len(getattr(client.http, "_buckets", {}))
    await client.close()
    runtime.close()
    counts = deliveries.counts(NOW.date())
    engine.dispose()
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    sent = len(report.sent)
    return {
        "subscriptions": n, "sent": sent, "recorded": counts, "fanout_s": round(elapsed, 1),
        "messages_per_s": round(sent / elapsed, 2),
        "fraction_of_50": round(sent / elapsed / GLOBAL, 3),
        "cpu_s": round(cpu, 2), "cpu_per_message_ms": round(1000 * cpu / max(sent, 1), 3),
        "ratelimit_buckets_at_end": buckets,
    }


# -- the ledger after many sessions (in its own process) -----------------------------------------
def _ledger_pass(n_subs: int, n_sessions: int, db: Path) -> dict[str, Any]:
    from bot.briefing.models import DeliveryStatus
    from bot.briefing.store import (
        DeliveryRepository,
        deliveries_table,
        subscriptions_table,
    )
    from bot.storage.db import create_engine, migrate, write_transaction

    engine = create_engine(f"sqlite:///{db}")
    migrate(engine)
    stamp = NOW - timedelta(days=400)
    with write_transaction(engine) as conn:
        conn.execute(subscriptions_table.insert(), [{
            "guild_id": (i + 1) << 22, "channel_id": CHANNEL_BASE + i, "local_time": "08:30",
            "timezone": "America/New_York", "charts": True, "sections": "leadership",
            "enabled": True, "consecutive_failures": 0, "created_at": stamp,
            "updated_at": stamp} for i in range(n_subs)])
    sessions: list[date] = []
    day = NOW.date() - timedelta(days=1)
    while len(sessions) < n_sessions:
        if day.weekday() < 5:
            sessions.append(day)
        day -= timedelta(days=1)
    started = clock.perf_counter()
    for session in reversed(sessions):
        with write_transaction(engine) as conn:
            conn.execute(deliveries_table.insert(), [{
                "subscription_id": i + 1, "session": session,
                "status": DeliveryStatus.SENT.value, "message_id": 10**18 + i, "attempts": 1,
                "created_at": stamp, "updated_at": stamp} for i in range(n_subs)])
    filled = clock.perf_counter() - started
    repo = DeliveryRepository(engine)
    latest = sessions[0]

    def timed(fn: Any, repeat: int = 5) -> float:
        best = float("inf")
        for _ in range(repeat):
            t0 = clock.perf_counter()
            fn()
            best = min(best, clock.perf_counter() - t0)
        return round(1000 * best, 2)

    today = NOW.date()
    figures = {
        "subscriptions": n_subs, "sessions": n_sessions, "rows": n_subs * n_sessions,
        "fill_s": round(filled, 1),
        "db_mb": round(db.stat().st_size / 1e6, 1),
        "for_session_ms": timed(lambda: repo.for_session(latest)),
        "statuses_ms": timed(lambda: repo.statuses(latest)),
        "counts_ms": timed(lambda: repo.counts(latest)),
        "last_ms": timed(lambda: repo.last(n_subs // 2)),
        "claim_batch_100_ms": timed(lambda: repo.claim(
            list(range(1, 101)), today, owner="bench/1/1", now=NOW, lease_until=NOW), 1),
        "reconcile_scan_ms": timed(lambda: repo.take_unresolved(
            owner="bench/2/1", instance="bench", boot="2", now=NOW + timedelta(hours=1),
            lease_until=NOW + timedelta(hours=1))),
    }
    t0 = clock.perf_counter()
    figures["purged_rows"] = repo.purge(today - timedelta(days=90))
    figures["purge_s"] = round(clock.perf_counter() - t0, 1)
    figures["rows_kept_90_days"] = figures["rows"] + 100 - figures["purged_rows"]
    figures["for_session_after_purge_ms"] = timed(lambda: repo.for_session(latest))
    figures["statuses_after_purge_ms"] = timed(lambda: repo.statuses(latest))
    engine.dispose()
    return figures


def _fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.bench_briefing", *args], cwd=REPO,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(ctx: Any) -> dict[str, Any]:
    workdir = Path(ctx.workdir)
    figures: dict[str, Any] = {"send_rate": RATE, "global_limit": GLOBAL}
    for n in _points():
        db = _fresh(workdir / f"bench_fanout_{n}.sqlite3")
        figures[f"fanout_{n}"] = _child(["--point", str(n), "--db", str(db)])
    n_subs, n_sessions = _ledger_size()
    if n_subs and n_sessions:  # CAPBRIEF_BENCH_LEDGER=0x0 skips the pass
        figures["ledger"] = _child(["--ledger", f"{n_subs}x{n_sessions}", "--db",
                                    str(_fresh(workdir / "bench_ledger.sqlite3"))])
    points = [figures[f"fanout_{n}"] for n in _points() if "error" not in figures[f"fanout_{n}"]]
    targets: dict[str, Any] = {}
    for p in points:
        n = p["subscriptions"]
        targets[f"fraction_of_50_at_{n}"] = {
            "value": p["fraction_of_50"], "target": ">= 0.90 and <= 1.0",
            "ok": 0.9 <= p["fraction_of_50"] <= 1.0 and p["peak_requests_in_1s"] <= 50}
        targets[f"one_post_each_at_{n}"] = {
            "value": p["fake_posted"], "target": f"== {n}",
            "ok": p["fake_posted"] == p["fake_channels"] == n}
    if len(points) >= 2:
        cpu = [p["cpu_per_message_ms"] for p in points]
        spread = max(cpu) / min(cpu) - 1
        targets["cpu_per_message_flat"] = {"value": round(spread, 3),
                                           "target": "<= 0.20 (max/min - 1)",
                                           "ok": spread <= 0.20}
    figures["targets"] = targets
    return figures


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--point", type=int)
    parser.add_argument("--ledger")
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    if args.point:
        print(json.dumps(_point(args.point, args.db)))
    elif args.ledger:
        subs_n, sessions_n = (int(x) for x in args.ledger.split("x"))
        print(json.dumps(_ledger_pass(subs_n, sessions_n, args.db)))
    else:
        from bench.__main__ import BenchContext, _default_data_dir

        out = REPO / "out" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        print(json.dumps(run(BenchContext(data_dir=_default_data_dir(), workdir=out)), indent=2))
