"""Prometheus metrics: what happened (counters fed by small hooks) and what is (read at scrape).

Event metrics are module-level objects, registered in no global registry (one process may run
several bots in tests); :func:`registry_for` builds the registry one health server exposes:

- ``capbrief_commands_total{command,outcome}`` (outcome ``ok`` | ``refused``: a user-facing
  refusal | ``error``: a bug) and ``capbrief_command_duration_seconds{command}``, from the
  command tree (:mod:`bot.tree`) and the ``app_command_completion`` event;
- ``capbrief_ack_latency_seconds{command}``: command receipt → Discord took the first response
  (the deferral); its ``_count`` is the number of acks. Measured on the bot's own HTTP session
  (:func:`http_trace`), so it includes the round trip to Discord;
- ``capbrief_briefing_deliveries_total{status}`` (sent | skipped | failed | disabled | missed),
  from :mod:`bot.briefing.fanout`.

State metrics are read from the running bot when scraped (:class:`BotCollector`): readiness,
gateway connection and latency per shard, renders and render-cache hits
(``Renderer.cache_info()``), data age per symbol (from :class:`bot.health.DataAgeProbe`) and
the next scheduled briefing slot.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, Protocol

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class AgeReading(Protocol):
    """One data-age measurement (:class:`bot.health.DataAge` fits)."""

    @property
    def checked_at(self) -> float: ...
    @property
    def last_bar(self) -> Mapping[str, date]: ...
    @property
    def age_sessions(self) -> Mapping[str, int]: ...


class AgeSource(Protocol):
    """Holds the latest reading (:class:`bot.health.DataAgeProbe` fits)."""

    @property
    def reading(self) -> AgeReading | None: ...

#: Latency buckets in seconds: interaction acks are milliseconds, charts up to a few seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

COMMANDS = Counter("capbrief_commands", "Slash commands finished, by command and outcome "
                   "(ok, refused: a user-facing refusal, error: a bug)",
                   ["command", "outcome"], registry=None)
COMMAND_SECONDS = Histogram("capbrief_command_duration_seconds",
                            "Slash command receipt to its last reply, seconds", ["command"],
                            buckets=BUCKETS, registry=None)
ACK_SECONDS = Histogram("capbrief_ack_latency_seconds",
                        "Slash command receipt to Discord accepting the first response "
                        "(deferral or message), seconds; _count is the number of acks",
                        ["command"], buckets=BUCKETS, registry=None)
DELIVERIES = Counter("capbrief_briefing_deliveries",
                     "Morning-briefing deliveries by outcome "
                     "(sent, skipped, failed, disabled, missed)", ["status"], registry=None)

EVENT_METRICS = (COMMANDS, COMMAND_SECONDS, ACK_SECONDS, DELIVERIES)

#: ``interaction.extras`` key: (perf_counter at receipt, command name).
STARTED = "capbrief_started"
_CALLBACK = re.compile(r"/interactions/(\d+)/[^/]+/callback")
#: Interactions seen but not yet acknowledged: id → (perf_counter at receipt, command name).
_pending_acks: dict[int, tuple[float, str]] = {}
_MAX_PENDING = 10_000


def command_started(interaction_id: int, extras: dict[Any, Any], command: str) -> None:
    """Remember when a slash command arrived (called before its callback runs)."""
    now = time.perf_counter()
    extras[STARTED] = (now, command)
    if len(_pending_acks) >= _MAX_PENDING:  # acks that never came (e.g. a dead connection)
        _pending_acks.clear()
    _pending_acks[interaction_id] = (now, command)


def command_finished(interaction_id: int, extras: dict[Any, Any], outcome: str) -> None:
    """Count a finished command and observe its duration (once per interaction)."""
    started = extras.pop(STARTED, None)
    _pending_acks.pop(interaction_id, None)
    if started is None:
        return
    t0, command = started
    COMMANDS.labels(command, outcome).inc()
    COMMAND_SECONDS.labels(command).observe(time.perf_counter() - t0)


def record_fanout(report: Any) -> None:
    """Count one fan-out's outcomes (a :class:`bot.briefing.fanout.FanoutReport`)."""
    for status in ("sent", "skipped", "failed", "unknown", "reconciled", "disabled", "missed"):
        count = len(getattr(report, status, ()))
        if count:
            DELIVERIES.labels(status).inc(count)


async def _on_request_end(session: aiohttp.ClientSession, ctx: Any,
                          params: aiohttp.TraceRequestEndParams) -> None:
    match = _CALLBACK.search(params.url.path)
    if match is None or params.response.status >= 400:
        return
    pending = _pending_acks.pop(int(match.group(1)), None)
    if pending is not None:
        ACK_SECONDS.labels(pending[1]).observe(time.perf_counter() - pending[0])


def http_trace() -> aiohttp.TraceConfig:
    """An aiohttp trace for the bot's HTTP session that times interaction acks."""
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_on_request_end)
    return trace


class BotCollector(Collector):
    """Scrape-time state of one running bot (see the module docstring)."""

    def __init__(self, bot: Any, probe: AgeSource | None = None) -> None:
        self.bot = bot
        self.probe = probe

    def collect(self) -> Iterator[Metric]:
        bot = self.bot
        yield _gauge("capbrief_ready", "1 once the bot is logged in and its guilds are loaded",
                     float(bot.is_ready() and not bot.is_closed()))
        shards = GaugeMetricFamily("capbrief_gateway_connected",
                                   "1 while the shard's gateway connection is open",
                                   labels=["shard"])
        latency = GaugeMetricFamily("capbrief_gateway_latency_seconds",
                                    "Gateway heartbeat round trip per shard, seconds",
                                    labels=["shard"])
        for shard_id, info in sorted(getattr(bot, "shards", {}).items()):
            shards.add_metric([str(shard_id)], float(not info.is_closed()))
            if math.isfinite(info.latency):
                latency.add_metric([str(shard_id)], info.latency)
        yield shards
        yield latency
        yield from self._renders()
        yield from self._data()
        yield from self._schedule()

    def _renders(self) -> Iterator[Metric]:
        renderer: Any = getattr(getattr(self.bot, "_services", None), "renderer", None)
        info = renderer.cache_info() if hasattr(renderer, "cache_info") else {}
        if "renders" in info:
            yield _counter("capbrief_renders", "Charts rendered by the pool (cache misses)",
                           info["renders"])
        if "hits" in info:
            yield _counter("capbrief_render_cache_hits", "Chart requests served from the "
                           "render cache", info["hits"])
        if "entries" in info:
            yield _gauge("capbrief_render_cache_entries", "PNGs held in the render cache",
                         info["entries"])

    def _data(self) -> Iterator[Metric]:
        reading = self.probe.reading if self.probe is not None else None
        if reading is None:
            return
        age = GaugeMetricFamily("capbrief_data_age_sessions",
                                "NYSE sessions completed since the symbol's last bar "
                                "(0 = up to date)", labels=["symbol"])
        last = GaugeMetricFamily("capbrief_data_last_bar_timestamp_seconds",
                                 "The symbol's last bar date (00:00 UTC), Unix seconds",
                                 labels=["symbol"])
        for symbol, sessions in sorted(reading.age_sessions.items()):
            age.add_metric([symbol], sessions)
        for symbol, day in sorted(reading.last_bar.items()):
            last.add_metric([symbol], _epoch(day))
        yield age
        yield last
        yield _gauge("capbrief_data_checked_timestamp_seconds",
                     "When data age was last measured, Unix seconds", reading.checked_at)

    def _schedule(self) -> Iterator[Metric]:
        briefing = getattr(getattr(self.bot, "_services", None), "scheduler", None)
        aps = getattr(getattr(briefing, "scheduler", None), "scheduler", None)
        if aps is None or not getattr(aps, "running", False):
            return
        times = [job.next_run_time.timestamp() for job in aps.get_jobs()
                 if job.next_run_time is not None]
        yield _gauge("capbrief_briefing_slot_jobs", "Scheduled briefing slot jobs", len(times))
        if times:
            yield _gauge("capbrief_briefing_next_slot_timestamp_seconds",
                         "When the next scheduled briefing slot fires, Unix seconds", min(times))


def registry_for(bot: Any, probe: AgeSource | None = None) -> CollectorRegistry:
    """The registry a health server exposes: the event metrics plus ``bot``'s state."""
    registry = CollectorRegistry(auto_describe=False)
    for metric in EVENT_METRICS:
        registry.register(metric)
    registry.register(BotCollector(bot, probe))
    return registry


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=float(value))


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
