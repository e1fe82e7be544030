"""The metric and health pieces a live bot is hard to put in every state for: the next slot,
delivery outcomes, and /healthz failing for the gateway or for missing data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.briefing.fanout import FanoutReport
from bot.health import DataAge, health_report, measure_age


@dataclass
class Shard:
    closed: bool = False
    latency: float = 0.042

    def is_closed(self) -> bool:
        return self.closed


@dataclass
class FakeBot:
    """Just what the collector and the health report read from a CapbriefBot."""

    ready: bool = True
    shards: dict[int, Shard] = field(default_factory=lambda: {0: Shard()})
    _services: Any = None

    def is_ready(self) -> bool:
        return self.ready

    def is_closed(self) -> bool:
        return False


def scrape(bot: Any, probe: Any = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry_for(bot, probe)).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_next_slot_is_the_earliest_job_and_absent_when_the_scheduler_is_stopped() -> None:
    soon, later = datetime(2026, 3, 2, 13, 30, tzinfo=UTC), datetime(2026, 3, 2, 14, tzinfo=UTC)
    jobs = [SimpleNamespace(next_run_time=later), SimpleNamespace(next_run_time=soon),
            SimpleNamespace(next_run_time=None)]  # a paused job
    aps = SimpleNamespace(running=True, get_jobs=lambda: jobs)
    briefing = SimpleNamespace(scheduler=SimpleNamespace(scheduler=aps))
    bot = FakeBot(_services=SimpleNamespace(scheduler=briefing, renderer=None))
    got = scrape(bot)
    assert got[("capbrief_briefing_next_slot_timestamp_seconds", ())] == soon.timestamp()
    assert got[("capbrief_briefing_slot_jobs", ())] == 2
    aps.running = False
    assert ("capbrief_briefing_next_slot_timestamp_seconds", ()) not in scrape(bot)


def test_renders_and_cache_hits_come_from_the_renderer() -> None:
    renderer = SimpleNamespace(cache_info=lambda: {"renders": 7, "hits": 5, "entries": 3})
    got = scrape(FakeBot(_services=SimpleNamespace(renderer=renderer, scheduler=None)))
    assert got[("capbrief_renders_total", ())] == 7
    assert got[("capbrief_render_cache_hits_total", ())] == 5


def test_deliveries_are_counted_by_status() -> None:
    before = scrape(FakeBot())
    metrics.record_fanout(FanoutReport(session=date(2026, 3, 2), sent=[1, 2, 3], failed=[4],
                                       disabled=[4], skipped=[5, 6]))
    after = scrape(FakeBot())

    def delta(status: str) -> float:
        key = ("capbrief_briefing_deliveries_total", (("status", status),))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert [delta(s) for s in ("sent", "failed", "disabled", "skipped", "missed")] == \
        [3, 1, 1, 2, 0]


def test_a_shard_gone_fails_health_for_the_gateway_only() -> None:
    reading = DataAge(checked_at=0.0, last_completed=date(2026, 3, 2),
                      last_bar={"^RUT": date(2026, 3, 2), "^GSPC": date(2026, 3, 2)},
                      age_sessions={"^RUT": 0, "^GSPC": 0})
    bot = FakeBot(shards={0: Shard(), 1: Shard(closed=True)})
    ok, body = health_report(bot, reading, ["^RUT", "^GSPC"], max_age=2)
    assert not ok and body["failing"] == ["gateway"]
    assert body["gateway"]["shards"]["1"]["connected"] is False
    ok, body = health_report(FakeBot(), reading, ["^RUT", "^GSPC"], max_age=2)
    assert ok and body["status"] == "ok"


def test_a_missing_index_or_no_reading_fails_health_for_the_data() -> None:
    reading = DataAge(checked_at=0.0, last_completed=date(2026, 3, 2),
                      last_bar={"^GSPC": date(2026, 3, 2)}, age_sessions={"^GSPC": 0})
    ok, body = health_report(FakeBot(), reading, ["^RUT", "^GSPC"], max_age=2)
    assert not ok and body["failing"] == ["data"] and body["data"]["age_sessions"]["^RUT"] is None
    ok, body = health_report(FakeBot(), None, ["^RUT"], max_age=2)
    assert not ok and body["data"]["error"] == "not measured yet"


def test_data_age_counts_nyse_sessions_not_calendar_days() -> None:
    # Friday 2026-02-13's bar, measured on Wednesday 2026-02-18 after the close: Monday the
    # 16th is Presidents' Day, so only Tuesday and Wednesday are missing.
    now = datetime(2026, 2, 18, 22, 0, tzinfo=UTC)
    age = measure_age({"^RUT": date(2026, 2, 13), "^GSPC": date(2026, 2, 18), "X": None}, now)
    assert age.last_completed == date(2026, 2, 18)
    assert age.age_sessions == {"^RUT": 2, "^GSPC": 0}
