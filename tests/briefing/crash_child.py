"""A bot-like process for the kill -9 tests: start-up catch-up through the real discord.py client.

``python -m tests.briefing.crash_child DB_URL API_BASE NOW_ISO INSTANCE [KILL_AT [SHARDS
[RATE]]]`` logs in to the (fake) Discord at ``API_BASE``, runs :meth:`BriefingRuntime.catch_up`
(reconcile, then the fan-out) with the clock fixed at ``NOW_ISO`` as instance ``INSTANCE``, and
prints the report as JSON. ``SHARDS`` is ``all`` or ``0,1/4`` (this process runs shards 0 and 1
of 4: it delivers only to guilds on them); ``RATE`` caps its sends per second (0: none).
``KILL_AT`` is where this process SIGKILLs itself (``claim``, ``after-send``, ``reconcile``, or
``pause:STEP`` to stop there until the test kills it): the hooks of ``tests/kill_hooks.py``,
wrapped around the production objects in test code (production has no crash switch).

Kills "while the send is in flight" and "during a 429 wait" come from the test itself, which
watches the fake Discord and kills this process from outside.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.briefing.fanout import BriefingRuntime
from bot.briefing.models import shard_of
from bot.briefing.sender import SendLimiter
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.storage.db import create_engine
from tests.briefing.conftest import CountingComposer
from tests.kill_hooks import Hook, HookedSender, hook_claim


def owner_of(spec: str) -> Any:
    if spec in ("", "all"):
        return None
    ids, count = spec.split("/")
    mine = {int(i) for i in ids.split(",")}
    return lambda guild_id: shard_of(guild_id, int(count)) in mine


async def main(db_url: str, api_base: str, now_iso: str, instance: str,
               kill_at: str = "", shards: str = "all", rate: str = "0") -> int:
    discord.http.Route.BASE = api_base
    now = datetime.fromisoformat(now_iso)
    client = discord.Client(intents=discord.Intents.none())
    await client.login("crash-test-token")
    engine = create_engine(db_url)
    hook = Hook(kill_at)
    runtime = BriefingRuntime(SubscriptionRepository(engine),
                              hook_claim(DeliveryRepository(engine), hook), CountingComposer(),
                              HookedSender(client, hook, timeout=2.0),
                              grace=timedelta(minutes=60), concurrency=1 if not float(rate)
                              else 5, clock=lambda: now, instance=instance,
                              throttle_backoff=0.2, owns=owner_of(shards),
                              limiter=SendLimiter(float(rate) or None))
    try:
        reports = await runtime.catch_up()
    finally:
        await client.close()
        engine.dispose()
    print(json.dumps([{"sent": r.sent, "skipped": r.skipped, "reconciled": r.reconciled,
                       "unknown": r.unknown, "not_owned": r.not_owned} for r in reports]))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    raise SystemExit(asyncio.run(main(*sys.argv[1:8])))
