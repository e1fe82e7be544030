"""A bot-like alerts process for the kill -9 tests: a real :class:`AlertRuntime` posting through
the real discord.py client (REST), driven line by line from stdin.

``python -m tests.alerts.crash_child DB_URL API_BASE MARKET_DIR INSTANCE [HOOK]`` logs in to the
(fake) Discord at ``API_BASE``, reads the ^RUT/^GSPC snapshot once through the one data path
(:class:`MarketData`, CSV replay of ``MARKET_DIR``), builds the NYSE calendar, prints ``ready``
and then serves one command a line:

- ``run NOW_ISO``: the scheduled check, :meth:`AlertRuntime.run_due`, with the clock at
  ``NOW_ISO``; prints ``report {json}``;
- end of input: closes and exits 0.

``HOOK`` (see ``tests/kill_hooks.py``): ``claim``, ``after-send`` or ``reconcile`` kills this
process there; ``pause:STEP`` prints ``paused STEP`` and blocks until the test kills it. No chart
is rendered (``render=None``): the delivery is under test, not the picture.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path

import discord

from analytics.alerts import AlertParams
from bot.alerts.delivery import SYMBOLS, AlertRuntime, due_session
from bot.alerts.store import AlertDeliveryRepository, AlertSubscriptionRepository
from bot.market_data.service import MarketData
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.storage.db import create_engine
from tests.kill_hooks import Hook, HookedSender, hook_claim

DELAY = timedelta(minutes=30)  # [alerts] delay_minutes' default


async def main(db_url: str, api_base: str, market_dir: str, instance: str,
               hook_spec: str = "") -> int:
    discord.http.Route.BASE = api_base
    client = discord.Client(intents=discord.Intents.none())
    await client.login("alerts-crash-token")
    settings = Settings(data={"provider": "csv", "csv_dir": Path(market_dir)})  # type: ignore[arg-type]
    market = MarketData(settings)
    snap = await market.snapshot(list(SYMBOLS))

    async def snapshot() -> MarketSnapshot:
        return snap

    clock = [datetime.now().astimezone()]
    await asyncio.to_thread(due_session, clock[0], DELAY)  # the calendar, built before "ready"
    engine = create_engine(db_url)
    hook = Hook(hook_spec)
    runtime = AlertRuntime(AlertSubscriptionRepository(engine),
                           hook_claim(AlertDeliveryRepository(engine), hook),
                           HookedSender(client, hook, timeout=10.0), snapshot, None,
                           AlertParams(), delay=DELAY, clock=lambda: clock[0],
                           instance=instance)
    print("ready", flush=True)
    try:
        while line := (await asyncio.to_thread(sys.stdin.readline)).split():
            command, now = line
            assert command == "run", line
            clock[0] = datetime.fromisoformat(now)
            report = await runtime.run_due()
            print("report", json.dumps(dataclasses.asdict(report), default=str), flush=True)
    finally:
        runtime.close()
        await client.close()
        await market.close()
        engine.dispose()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    raise SystemExit(asyncio.run(main(*sys.argv[1:6])))
