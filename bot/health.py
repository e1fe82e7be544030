"""``/healthz`` and ``/metrics`` on a small aiohttp server inside the bot's event loop.

Off unless ``[health] enabled`` (the container turns it on with
``CAPBRIEF_HEALTH__ENABLED=true``); it listens on ``health.host:health.port``.

- ``GET /healthz`` → JSON, **200** when all three hold, else **503** with ``failing`` naming
  which: ``ready`` (logged in, guilds loaded), ``gateway`` (every shard's connection open) and
  ``data`` (every index in ``universe.indices`` has a bar no more than
  ``health.max_data_age_sessions`` completed NYSE sessions old).
- ``GET /metrics`` → Prometheus text (:mod:`bot.metrics`).

Data age comes from :class:`DataAgeProbe`, which re-reads the last stored session per symbol
every ``health.probe_seconds`` in a worker thread (never on the loop, never per request).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import registry_for
from bot.settings import HealthSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataAge:
    """One measurement: last bar per symbol and NYSE sessions completed since (0 = current)."""

    checked_at: float
    last_completed: date
    last_bar: dict[str, date] = field(default_factory=dict)
    age_sessions: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def measure_age(last_bar: Mapping[str, date | None], now: datetime) -> DataAge:
    """Age in sessions of each symbol's last bar, against the last session completed at
    ``now``. Symbols with no bar are left out (the health check counts them as failing)."""
    from bot.market_data import calendar  # exchange_calendars + pandas: not needed to start

    done = calendar.last_completed_session(now)
    held = {s: d for s, d in last_bar.items() if d is not None}
    ages = {s: len(calendar.sessions(d + timedelta(days=1), done)) for s, d in held.items()}
    return DataAge(checked_at=now.timestamp(), last_completed=done, last_bar=held,
                   age_sessions=ages)


async def last_bar_dates(market: Any, symbols: list[str]) -> dict[str, date | None]:
    """The last session held per symbol, read the cheapest way the data path allows: the CSV
    files (parsed once and kept) in replay, else one aggregate query on the bar store."""
    if market.data_dir is not None:
        snap = await market.snapshot(symbols, refresh=False)
        return {s: (snap.bars[s].index[-1].date() if s in snap.bars and len(snap.bars[s])
                    else None) for s in symbols}
    cache = await market.cache()
    dates: dict[str, date | None] = await asyncio.to_thread(cache.repo.last_dates, symbols)
    return dates


class DataAgeProbe:
    """Keeps :attr:`reading` current: measured once ``first`` completes (the bot is ready, so
    the store has been set up and migrated by start-up, not raced), then every ``interval``
    seconds."""

    def __init__(self, market: Any, symbols: list[str], interval: float,
                 first: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.market = market
        self.symbols = symbols
        self.interval = interval
        self.first = first
        self.reading: DataAge | None = None
        self._task: asyncio.Task[None] | None = None

    async def measure(self) -> DataAge:
        try:
            dates = await last_bar_dates(self.market, self.symbols)
            now = datetime.now(UTC)
            self.reading = await asyncio.to_thread(measure_age, dates, now)
        except Exception as exc:  # the store is down: report it, keep the loop alive
            log.warning("data age probe failed: %s", exc)
            now = datetime.now(UTC)
            self.reading = DataAge(checked_at=now.timestamp(), last_completed=now.date(),
                                   error=type(exc).__name__)
        return self.reading

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        if self.first is not None:
            await self.first()
        while True:
            await self.measure()
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def health_report(bot: Any, reading: DataAge | None, indices: list[str],
                  max_age: int) -> tuple[bool, dict[str, Any]]:
    """(healthy, JSON body) for ``/healthz`` (see the module docstring)."""
    ready = bool(bot.is_ready() and not bot.is_closed())
    shards = {str(i): {"connected": not info.is_closed(),
                       "latency_ms": round(info.latency * 1000, 1)
                       if math.isfinite(info.latency) else None}
              for i, info in sorted(getattr(bot, "shards", {}).items())}
    connected = ready and bool(shards) and all(s["connected"] for s in shards.values())
    data: dict[str, Any] = {"max_age_sessions": max_age}
    data_ok = False
    if reading is None:
        data["error"] = "not measured yet"
    elif reading.error is not None:
        data["error"] = reading.error
    else:
        ages = {s: reading.age_sessions.get(s) for s in indices}
        data.update(last_completed_session=reading.last_completed.isoformat(),
                    age_sessions=ages,
                    last_bar={s: d.isoformat() for s, d in reading.last_bar.items()
                              if s in indices})
        data_ok = all(a is not None and a <= max_age for a in ages.values())
    checks = {"ready": ready, "gateway": connected, "data": data_ok}
    body = {"status": "ok" if all(checks.values()) else "unavailable",
            "failing": [name for name, ok in checks.items() if not ok],
            "ready": ready, "gateway": {"connected": connected, "shards": shards},
            "data": data}
    return all(checks.values()), body


class HealthServer:
    """The aiohttp app and its data probe for one bot; :meth:`start` / :meth:`stop`."""

    def __init__(self, bot: Any, settings: HealthSettings, indices: list[str],
                 probe: DataAgeProbe | None) -> None:
        self.bot = bot
        self.settings = settings
        self.indices = indices
        self.probe = probe
        self.registry = registry_for(bot, probe)
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        reading = self.probe.reading if self.probe is not None else None
        ok, body = health_report(self.bot, reading, self.indices,
                                 self.settings.max_data_age_sessions)
        return web.json_response(body, status=200 if ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        payload = generate_latest(self.registry)
        log.debug("metrics scraped in %.1f ms", (time.perf_counter() - started) * 1000)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        bound = self._runner.addresses  # the real port when health.port is 0
        self.port = int(bound[0][1]) if bound else self.settings.port
        if self.probe is not None:
            self.probe.start()
        log.info("health endpoint on http://%s:%s/healthz and /metrics",
                 self.settings.host, self.port)

    async def stop(self) -> None:
        if self.probe is not None:
            await self.probe.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def start_health(bot: Any) -> HealthServer | None:
    """Start the health server for ``bot`` when ``[health] enabled``; stopped with the
    bot's services. None when disabled."""
    settings = bot.settings
    if not settings.health.enabled:
        return None
    services = bot.services
    indices = list(settings.universe.indices)
    probe = DataAgeProbe(services.market, settings.universe.symbols(),
                         settings.health.probe_seconds, first=bot.wait_until_ready)
    server = HealthServer(bot, settings.health, indices, probe)
    await server.start()
    services.on_close(server.stop)
    return server
