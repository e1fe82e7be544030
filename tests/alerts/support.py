"""What the alert delivery tests share: a migrated SQLite ledger, the real-history snapshot cut
at a session's close, and a runtime on the real discord.py sender (``client`` fixture: the fake
Discord and a logged-in REST client, tests/fakes/discord_fixtures.py). The ``engine`` and
``full_snapshot`` fixtures are in ``conftest.py``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import pandas as pd
from sqlalchemy.engine import Engine

from analytics.alerts import AlertParams
from bot.alerts.delivery import AlertRuntime
from bot.alerts.store import AlertDeliveryRepository, AlertSubscriptionRepository
from bot.briefing.compose import render_inline
from bot.briefing.sender import DiscordSender
from bot.market_data.snapshot import MarketSnapshot

SESSION = date(2025, 9, 18)
NOW = datetime(2025, 9, 18, 21, 0, tzinfo=UTC)  # close 20:00 UTC + 30 min delay has passed
CHANNEL = 1_700_000_000_000_000_001
POSTS = r"/channels/\d+/messages$"


def cut(snap: MarketSnapshot, day: date, **changes: object) -> MarketSnapshot:
    """The snapshot as it was at ``day``'s close (nothing after it)."""
    bars = {s: f.loc[:pd.Timestamp(day)] for s, f in snap.bars.items()}
    return dataclasses.replace(snap, bars=bars, asof=day, **changes)  # type: ignore[arg-type]


def runtime(engine: Engine, bot: discord.Client, snap: MarketSnapshot, *,
            instance: str = "test", now: datetime = NOW,
            clock: Callable[[], datetime] | None = None, **options: Any) -> AlertRuntime:
    """A runtime at ``now`` (or on ``clock``); ``options`` go to :class:`AlertRuntime`."""
    async def snapshot() -> MarketSnapshot:
        return snap

    return AlertRuntime(AlertSubscriptionRepository(engine), AlertDeliveryRepository(engine),
                        DiscordSender(bot, timeout=10), snapshot, render_inline, AlertParams(),
                        delay=timedelta(minutes=30), clock=clock or (lambda: now),
                        instance=instance, **options)


def subscribe(engine: Engine, events: tuple[str, ...] = ("breakout", "record"), *,
              now: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> int:
    sub = AlertSubscriptionRepository(engine).upsert(
        guild_id=1, channel_id=CHANNEL, events=events, created_by=42, now=now)
    return sub.id
