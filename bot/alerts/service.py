"""Wiring of alert delivery into a running bot: storage, runtime, APScheduler job.

:func:`build_alert_service` (called by ``cogs/alerts.py`` in a worker thread after READY, or on
the first /alerts command) migrates the database, builds the runtime on the briefing's sender
(:class:`~bot.briefing.sender.DiscordSender`) and adds the service to ``services.background``,
so the bot stops it on close (the cog starts it). One job, every ``[alerts] check_minutes``
(UTC cron), runs :func:`run_alerts_job` with a primitive key resolved to the live runtime here;
another, at start and then daily, purges ``alert_deliveries`` rows older than ``[briefing]
retention_days`` (:func:`purge_alerts_job`). The analysis runs in the services' analysis lane
(:meth:`~bot.services.Services.compute`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.alerts.delivery import AlertRuntime
from bot.alerts.params import to_alert_params
from bot.alerts.store import AlertDeliveryRepository, AlertSubscriptionRepository
from bot.briefing.sender import DiscordSender, SendLimiter
from bot.briefing.service import shard_owner, storage_engine
from bot.clock import utc_now
from bot.services import Services

log = logging.getLogger(__name__)
JOB_ID = "alerts:due"
PURGE_JOB_ID = "alerts:purge"
_RUNTIMES: dict[str, AlertRuntime] = {}


async def run_alerts_job(runtime_key: str) -> None:
    """The APScheduler job: primitive argument only, resolved to the live runtime here."""
    runtime = _RUNTIMES.get(runtime_key)
    if runtime is None:
        log.warning("alerts job fired with no runtime %r; skipped", runtime_key)
        return
    try:
        await runtime.run_due()
    except Exception:
        log.exception("alerts evaluation failed")


async def purge_alerts_job(runtime_key: str, keep_days: int) -> None:
    """The daily retention job (primitive arguments, like :func:`run_alerts_job`)."""
    runtime = _RUNTIMES.get(runtime_key)
    if runtime is None:
        return
    try:
        await runtime.purge(keep_days)
    except Exception:
        log.exception("alerts ledger purge failed")


@dataclass
class AlertService:
    """What the cog and the bot life cycle use."""

    subscriptions: AlertSubscriptionRepository
    deliveries: AlertDeliveryRepository
    runtime: AlertRuntime
    check_minutes: int
    runtime_key: str
    retention_days: int = 90
    scheduler: AsyncIOScheduler | None = None
    first_run: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start APScheduler (needs the loop) with the one job, and run it once now (a restart
        after the delay still delivers, and reconciles what a crash left)."""
        _RUNTIMES[self.runtime_key] = self.runtime
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 600})
        self.scheduler.add_job(run_alerts_job, CronTrigger(
            minute=f"*/{self.check_minutes}", timezone=UTC), id=JOB_ID, name="alerts",
            args=[self.runtime_key], replace_existing=True)
        self.scheduler.add_job(purge_alerts_job, "interval", days=1, next_run_time=utc_now(),
                               id=PURGE_JOB_ID, name="alerts purge",
                               args=[self.runtime_key, self.retention_days],
                               replace_existing=True)
        self.scheduler.start()
        self.first_run = asyncio.ensure_future(run_alerts_job(self.runtime_key))
        log.info("alerts scheduler started (every %d min)", self.check_minutes)

    def shutdown(self) -> None:
        if self.first_run is not None and not self.first_run.done():
            self.first_run.cancel()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        _RUNTIMES.pop(self.runtime_key, None)
        self.runtime.close()


def build_alert_service(services: Services, client: discord.Client, *, sender: Any = None
                        ) -> AlertService:
    """Build the alert service and add it to ``services.background``."""
    settings = services.settings
    engine = storage_engine(services)
    subs, deliveries = AlertSubscriptionRepository(engine), AlertDeliveryRepository(engine)
    renderer = services.renderer

    async def render(kind: str, data: Any, version: str) -> bytes:
        return bytes(await renderer.render(kind, {"use": "alerts"}, data, version=version))

    async def snapshot() -> Any:
        return await services.market.snapshot()

    runtime = AlertRuntime(
        subs, deliveries,
        sender or DiscordSender(client, timeout=settings.briefing.send_timeout_seconds),
        snapshot, render if renderer is not None else None, to_alert_params(settings),
        delay=timedelta(minutes=settings.alerts.delay_minutes),
        max_per_day=settings.alerts.max_per_day, clock=utc_now,
        lease=timedelta(minutes=settings.briefing.lease_minutes),
        instance=settings.briefing.instance, limiter=SendLimiter(settings.briefing.send_rate),
        owns=shard_owner(client), grace=timedelta(minutes=settings.alerts.grace_minutes),
        catch_up_sessions=settings.alerts.catch_up_sessions,
        max_failures=settings.briefing.max_failures, compute=services.compute)
    service = AlertService(subs, deliveries, runtime, settings.alerts.check_minutes,
                           runtime_key=f"alerts-{id(client)}",
                           retention_days=settings.briefing.retention_days)
    services.background.append(service)
    return service
