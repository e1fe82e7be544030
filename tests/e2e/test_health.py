"""``/healthz`` and ``/metrics`` of a running bot: the real client against the fake Discord runs
commands, then both endpoints are scraped over HTTP and their numbers checked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from bot.healthcheck import check
from bot.market_data import calendar
from tests.e2e import expected as X
from tests.e2e.conftest import Harness, e2e_settings, start_harness, stop_harness

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def health(market_dir: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[Harness]:
    # The replayed history ends months ago: allow any age here; a strict bound is tested below.
    settings = e2e_settings(market_dir, tmp_path_factory.mktemp("health"),
                            health={"enabled": True, "port": 0,
                                    "max_data_age_sessions": 100_000})
    h = await start_harness(market_dir, tmp_path_factory.mktemp("e2e-health"), settings=settings)
    try:
        yield h
    finally:
        await stop_harness(h)


async def get(h: Harness, path: str) -> tuple[int, str, str]:
    assert h.bot.health is not None and h.bot.health.port
    url = f"http://127.0.0.1:{h.bot.health.port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, resp.headers["Content-Type"], await resp.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def scrape(h: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, ctype, text = await get(h, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    return samples(text)


async def measured(h: Harness) -> None:
    """Wait for the data-age probe's first reading (it starts with the server)."""
    probe = h.bot.health.probe if h.bot.health else None
    assert probe is not None
    for _ in range(200):
        if probe.reading is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the data age probe never reported")


async def test_metrics_count_commands_acks_renders_and_data_age(health: Harness) -> None:
    await measured(health)
    before = await scrape(health)
    opts = {"symbols": "IWM SPY", "period": "3m", "kind": "ratio"}
    for _ in range(2):  # the second is a render-cache hit
        callback, followup = await health.reply("chart", opts)
        assert callback.json["type"] == 5 and followup.files
    ix, _ = await health.run("chart", {"symbols": "IWM NOPEX"})  # refused: unknown symbol
    await ix.followup()  # the refusal is counted before it is sent
    after = await scrape(health)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    # a success is counted by the completion event, dispatched just after the reply is sent
    for _ in range(100):
        if delta("capbrief_commands_total", command="chart", outcome="ok") >= 2:
            break
        await asyncio.sleep(0.05)
        after = await scrape(health)

    assert delta("capbrief_commands_total", command="chart", outcome="ok") == 2
    assert delta("capbrief_commands_total", command="chart", outcome="refused") == 1
    assert delta("capbrief_command_duration_seconds_count", command="chart") == 3
    assert delta("capbrief_ack_latency_seconds_count", command="chart") == 3
    # every ack (a deferral) landed well within Discord's 3-second deadline
    assert delta("capbrief_ack_latency_seconds_bucket", command="chart", le="2.5") == 3
    assert delta("capbrief_renders_total") == 1
    assert delta("capbrief_render_cache_hits_total") == 1
    assert after[("capbrief_ready", ())] == 1
    assert after[("capbrief_gateway_connected", (("shard", "0"),))] == 1
    # data age: ^GSPC's last bar in the replayed files, counted in NYSE sessions to today
    last = X.last_date(health.market_dir, "GSPC").date()
    assert after[("capbrief_data_last_bar_timestamp_seconds", (("symbol", "^GSPC"),))] == \
        pytest.approx(pd_epoch(last))
    done = health.bot.health.probe.reading.last_completed  # type: ignore[union-attr]
    want = len(calendar.sessions(date.fromordinal(last.toordinal() + 1), done))
    assert after[("capbrief_data_age_sessions", (("symbol", "^GSPC"),))] == want


def pd_epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


async def test_healthz_ok_then_503_naming_the_data_when_too_old(health: Harness) -> None:
    await measured(health)
    status, ctype, _ = await get(health, "/healthz")
    assert status == 200 and ctype.startswith("application/json")
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{health.bot.health.port}/healthz"  # type: ignore[union-attr]
        async with session.get(url) as resp:
            body = await resp.json()
    assert body["status"] == "ok" and body["failing"] == []
    port = health.bot.health.port  # type: ignore[union-attr]
    assert await asyncio.to_thread(check, port) == (True, "200 ok")  # the container's check
    assert body["ready"] is True and body["gateway"]["connected"] is True
    assert set(body["data"]["age_sessions"]) == {"^RUT", "^GSPC"}
    # the same reading against a bound it exceeds: 503, naming only the data check
    server = health.bot.health
    assert server is not None
    age = max(body["data"]["age_sessions"].values())
    server.settings = server.settings.model_copy(update={"max_data_age_sessions": age - 1})
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            assert resp.status == 503
            failed = await resp.json()
        assert await asyncio.to_thread(check, port) == (False, "503 failing: data")
    finally:
        server.settings = server.settings.model_copy(update={"max_data_age_sessions": 100_000})
    assert failed["status"] == "unavailable" and failed["failing"] == ["data"]
