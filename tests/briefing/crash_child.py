"""A bot-like process for the crash test: start-up catch-up through the real discord.py client.

``python -m tests.briefing.crash_child DB_URL API_BASE NOW_ISO`` logs in to the (fake) Discord
at ``API_BASE``, runs :meth:`BriefingRuntime.catch_up` with the clock fixed at ``NOW_ISO`` and
prints the report as JSON. With ``CAPBRIEF_TEST_CRASH_AFTER_SEND=after-send`` the process dies
(``os._exit``) right after the first successful send, before the delivery is recorded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import datetime, timedelta

import discord

from bot.briefing.fanout import BriefingRuntime
from bot.briefing.service import DiscordSender
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.storage.db import create_engine
from tests.briefing.conftest import CountingComposer


async def main(db_url: str, api_base: str, now_iso: str) -> int:
    discord.http.Route.BASE = api_base
    now = datetime.fromisoformat(now_iso)
    client = discord.Client(intents=discord.Intents.none())
    await client.login("crash-test-token")
    engine = create_engine(db_url)
    runtime = BriefingRuntime(SubscriptionRepository(engine), DeliveryRepository(engine),
                              CountingComposer(), DiscordSender(client),
                              grace=timedelta(minutes=60), concurrency=1, clock=lambda: now)
    try:
        reports = await runtime.catch_up()
    finally:
        await client.close()
        engine.dispose()
    print(json.dumps([{"sent": r.sent, "skipped": r.skipped, "missed": r.missed}
                      for r in reports]))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    raise SystemExit(asyncio.run(main(*sys.argv[1:4])))
