"""Two real bot processes on one PostgreSQL, 500 subscriptions, one killed mid fan-out.

Processes A and B each run one of two shards (a guild's shard is ``(guild_id >> 22) % 2``) and
post through the real discord.py client to the rate-limited fake Discord (50 requests/s in all;
each process paces itself at 22/s). A is SIGKILLed once it has posted about a fifth of its
share; it restarts running *both* shards while B is still going (the overlap of a rolling
restart). Every subscription ends with exactly one post and a ``sent`` row naming the message.
Runs only where PostgreSQL is available (``CAPBRIEF_TEST_POSTGRES_URL``; CI starts one).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime, time
from pathlib import Path

from bot.briefing.models import BriefingOptions, DeliveryStatus, shard_of
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.storage.db import migrate
from tests.briefing.conftest import NY
from tests.fakes.discord_api import FakeDiscord
from tests.postgres import needs_postgres, schema_engine

pytestmark = needs_postgres
REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
TUE = NOW.date()
SUBSCRIPTIONS = 500


async def _spawn(url: str, fake: FakeDiscord, instance: str, shards: str
                 ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.briefing.crash_child", url, fake.base_url,
        NOW.isoformat(), instance, "", shards, "22", cwd=REPO, env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _done(proc: asyncio.subprocess.Process) -> tuple[int | None, str, str]:
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    return proc.returncode, out.decode(), err.decode()


async def test_two_processes_one_killed_and_restarted_every_subscription_posts_once() -> None:
    with schema_engine("capbrief_two_procs") as engine:
        migrate(engine)
        subs, deliveries = SubscriptionRepository(engine), DeliveryRepository(engine)
        members = [subs.upsert(guild_id=(1000 + i) << 22, channel_id=1_800_000_000_000_000_000
                               + i, local_time=time(8, 30), timezone=NY,
                               options=BriefingOptions(charts=False), created_by=None,
                               now=datetime(2026, 1, 1, tzinfo=UTC))
                   for i in range(SUBSCRIPTIONS)]
        shard_a = {m.channel_id for m in members if shard_of(m.guild_id, 2) == 0}
        url = engine.url.render_as_string(hide_password=False)
        fake = await FakeDiscord(validate=False).start()  # 50 requests/s global, enforced
        try:
            a = await _spawn(url, fake, "bot-a", "0/2")
            b = await _spawn(url, fake, "bot-b", "1/2")

            def a_post(rec: object) -> bool:
                path = getattr(rec, "path", "")
                return getattr(rec, "method", "") == "POST" and path.endswith("/messages") \
                    and int(path.split("/")[2]) in shard_a

            await fake.wait_for(a_post, 120, index=len(shard_a) // 5)
            a.send_signal(signal.SIGKILL)
            code, _, err = await _done(a)
            assert code == -signal.SIGKILL, err
            posted_by_a = sum(len(fake.channel_messages.get(c, [])) for c in shard_a)
            assert 0 < posted_by_a < len(shard_a)  # killed mid fan-out

            a2 = await _spawn(url, fake, "bot-a", "0,1/2")  # restart, overlapping B's shard
            (code_a, out_a, err_a), (code_b, _, err_b) = await asyncio.gather(_done(a2),
                                                                            _done(b))
            assert code_a == 0, err_a
            assert code_b == 0, err_b
        finally:
            await fake.close()
        for sub in members:
            assert len(fake.channel_messages.get(sub.channel_id, [])) == 1, sub
            row = deliveries.get(sub.id, TUE)
            assert row is not None and row.status == DeliveryStatus.SENT, row
            [msg] = fake.posts(sub.channel_id)
            assert row.message_id == int(msg["id"])
        report = json.loads(out_a)[0]
        assert len(report["sent"]) + len(report["reconciled"]) + len(report["skipped"]) \
            == SUBSCRIPTIONS
        assert fake.global_limit.peak <= 50  # the fake refuses beyond; 429s were waited out
