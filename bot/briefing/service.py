"""Wiring of the morning briefing into a running bot: storage, composer, sender, scheduler.

:func:`build_briefing_service` is called by ``cogs/briefing.py`` in a worker thread after the
bot is READY (or on the first /briefing command; :class:`bot.deferred_service.DeferredService`),
never before READY: importing this module loads SQLAlchemy, APScheduler, the NYSE calendar and
the composer. It migrates the database (``settings.storage.url``), builds the runtime and the
APScheduler wrapper, and puts the service in ``services.scheduler``, so ``Bot.close()`` shuts it
down. Starting (on the loop) syncs one cron job per slot in use, then runs the start-up catch-up
(in a task) so a restart within the grace window still delivers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

import discord
from sqlalchemy.engine import Engine

from bot.briefing.compose import BriefingComposer, render_inline
from bot.briefing.fanout import BriefingRuntime
from bot.briefing.models import shard_of
from bot.briefing.schedule import BriefingScheduler, Clock
from bot.briefing.sender import DiscordSender, SendLimiter
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.clock import utc_now
from bot.market_data import calendar
from bot.services import Services
from bot.storage.db import create_engine, migrate

log = logging.getLogger(__name__)
#: Render-cache params of the briefing's charts (fixed windows; see ``bot.briefing.compose``).
BRIEFING_PARAMS = {"use": "briefing"}


def shard_owner(client: discord.Client) -> Callable[[int], bool]:
    """``owns(guild_id)``: is the guild on a shard this process runs? ``(guild_id >> 22) %
    shard_count`` in the client's ``shard_ids`` (all shards when it runs them all)."""
    def owns(guild_id: int) -> bool:
        count = getattr(client, "shard_count", None) or 1
        ids = getattr(client, "shard_ids", None)
        return ids is None or shard_of(guild_id, count) in ids

    return owns


@dataclass
class BriefingService:
    """What the cog and the bot life cycle use (``start``/``shutdown`` for ``Services``)."""

    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository
    runtime: BriefingRuntime
    scheduler: BriefingScheduler
    composer: BriefingComposer
    retention_days: int = 90
    _catch_up: asyncio.Task[Any] | None = field(default=None, repr=False)

    def start(self, slots: Iterable[tuple[time, str]] | None = None) -> None:
        """Start APScheduler (needs the loop), add the jobs of ``slots`` (default: read them
        now; pass them read in a thread to keep the loop free), then catch up in a task."""
        self.scheduler.start()
        jobs = self.scheduler.sync(self.subscriptions.slots() if slots is None else slots)
        log.info("briefing scheduler started with %d slot job(s)", len(jobs))
        self._catch_up = asyncio.ensure_future(self._run_catch_up())

    async def _run_catch_up(self) -> None:
        try:
            # Building the NYSE calendar takes ~0.5 s: do it in a thread, not on the loop.
            await asyncio.to_thread(calendar.is_session, self.runtime.clock().date())
            await self.runtime.purge(self.retention_days)
            await self.runtime.catch_up()
        except Exception:
            log.exception("briefing catch-up failed")

    async def wait_catch_up(self) -> None:
        if self._catch_up is not None:
            await asyncio.shield(self._catch_up)

    def shutdown(self) -> None:
        if self._catch_up is not None and not self._catch_up.done():
            self._catch_up.cancel()
        self.scheduler.shutdown()
        self.runtime.close()

    async def refresh_slots(self) -> None:
        """After a subscription change: jobs exactly for the slots in use (the slots are read
        in a thread; the jobs are changed on the loop)."""
        if self.scheduler.running:
            self.scheduler.sync(await asyncio.to_thread(self.subscriptions.slots))


#: The briefing and the alerts are built in parallel threads: one engine, migrated once at a time.
_STORAGE_LOCK = threading.Lock()


def storage_engine(services: Services) -> Engine:
    """The services' engine (built from ``settings.storage.url`` and migrated if absent).
    Blocks (connects, migrates): call it in a worker thread."""
    with _STORAGE_LOCK:
        return _storage_engine(services)


def _storage_engine(services: Services) -> Engine:
    current = services.storage
    if isinstance(current, Engine):
        engine = current
    elif current is not None and isinstance(getattr(current, "engine", None), Engine):
        engine = current.engine
    else:
        engine = create_engine(services.settings.storage.url)
        services.storage = engine
    migrate(engine)
    return engine


def _renderer_fn(services: Services) -> Any:
    renderer = services.renderer
    if renderer is None:
        return render_inline

    async def render(kind: str, data: Any, version: str) -> bytes:
        # ``version`` carries the data version and the briefing's session, so together with
        # these params it determines the chart (the renderer's cache key).
        return bytes(await renderer.render(kind, BRIEFING_PARAMS, data, version=version))

    return render


def _fred(services: Services) -> Any:
    """An async function giving the FRED series for each composition, through the one data
    path (:meth:`~bot.market_data.service.MarketData.fred`: local folder or FRED via the
    store); on an unexpected failure the drivers line goes without them."""

    async def fred() -> Any:
        try:
            return await services.market.fred()
        except Exception:
            log.warning("FRED series not read; the drivers line goes without them",
                        exc_info=True)
            return None

    return fred


def build_briefing_service(services: Services, client: discord.Client, *,
                           clock: Clock = utc_now, sender: Any = None) -> BriefingService:
    """Build the briefing service and register it as ``services.scheduler``."""
    settings = services.settings.briefing
    engine = storage_engine(services)
    subs, deliveries = SubscriptionRepository(engine), DeliveryRepository(engine)

    async def snapshot() -> Any:
        return await services.market.snapshot()

    composer = BriefingComposer(services.settings, snapshot, _renderer_fn(services),
                                fred=_fred(services))
    runtime = BriefingRuntime(
        subs, deliveries, composer,
        sender or DiscordSender(client, timeout=settings.send_timeout_seconds),
        grace=timedelta(minutes=settings.misfire_grace_minutes),
        max_failures=settings.max_failures, concurrency=settings.fanout_concurrency,
        clock=clock, limiter=SendLimiter(settings.send_rate), instance=settings.instance,
        lease=timedelta(minutes=settings.lease_minutes), claim_batch=settings.claim_batch,
        compose_retry=timedelta(minutes=settings.compose_retry_minutes),
        owns=shard_owner(client))
    scheduler = BriefingScheduler(runtime, grace_minutes=settings.misfire_grace_minutes,
                                  runtime_key=f"bot-{id(client)}")
    service = BriefingService(subs, deliveries, runtime, scheduler, composer,
                              retention_days=settings.retention_days)
    services.scheduler = service
    return service
