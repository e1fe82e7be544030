"""Concurrency, reconnects, the 3-second deadline, data outages, stale data and bugs."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from bot.market_data.errors import SourceUnavailable
from tests.e2e.conftest import Harness, png_size
from tests.fakes import discord_payloads as P

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture
def market(harness: Harness) -> Iterator[Any]:
    """The bot's MarketData, with ``snapshot`` restored after the test."""
    market = harness.bot.services.market
    original = market.snapshot
    yield market
    market.snapshot = original  # type: ignore[method-assign]


async def test_fifty_concurrent_status_one_render(harness: Harness) -> None:
    renderer = harness.bot.services.renderer
    before = renderer.renders
    options = {"asof": "2024-06-03", "window": "2y"}  # not rendered by any other test
    handles = await asyncio.gather(*(harness.fake.interact("status", options,
                                                           user_id=P.snowflake())
                                     for _ in range(50)))
    callbacks = await asyncio.gather(*(ix.callback() for ix in handles))
    followups = await asyncio.gather(*(ix.followup(within=120) for ix in handles))
    assert all(cb.json["type"] == 5 for cb in callbacks)
    assert all(len(f.files) == 1 and png_size(f.files[0].data) for f in followups)
    titles = {f.embeds()[0]["title"] for f in followups}
    assert len(titles) == 1 and "2024-06-03" in titles.pop()
    assert len({f.files[0].data for f in followups}) == 1  # the same chart bytes for everyone
    assert renderer.renders - before == 1


async def test_reconnect_resume_then_identify(harness: Harness) -> None:
    fake = harness.fake
    resumes, identifies = fake.resumes, fake.identifies
    await fake.drop_gateway(code=1000)
    await fake.wait_ready(30)
    assert fake.resumes == resumes + 1 and fake.identifies == identifies
    _, followup = await harness.reply("about")
    assert followup.embeds()[0]["title"] == "About capbrief"

    await fake.invalidate_session()  # not resumable: the client must IDENTIFY again
    await fake.wait_ready(30)
    assert fake.identifies == identifies + 1
    _, followup = await harness.reply("chart", {"symbols": "SPY", "period": "3m"})
    assert followup.files and followup.embeds()[0]["title"] == "SPY · 63 sessions"


async def test_slow_data_source_still_defers_at_once(harness: Harness, market: Any) -> None:
    """The data source blocks until the test has seen the deferral: the deferral cannot have
    waited for the data."""
    release = asyncio.Event()
    original = market.snapshot

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await original(*args, **kwargs)

    market.snapshot = slow
    ix = await harness.fake.interact("status", {"window": "6m"}, user_id=P.snowflake())
    callback = await ix.callback(within=3.0)  # Discord's deadline for the first response
    assert callback.json["type"] == 5
    assert callback.at - ix.sent_at < 3.0
    assert not ix.responses()[1:], "nothing but the deferral may arrive before the data"
    release.set()
    followup = await ix.followup()
    assert followup.files and followup.at > callback.at


async def test_data_outage_is_a_short_private_message(harness: Harness, market: Any) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise SourceUnavailable("Yahoo Finance is not answering right now; try again shortly.")

    market.snapshot = down
    ix, callback = await harness.run("status")
    assert callback.json["type"] == 5
    followup = await ix.followup()
    assert followup.flags & 64
    assert followup.json["content"].startswith("Yahoo Finance is not answering")
    assert not followup.files


async def test_stale_data_is_labelled(harness: Harness, market: Any) -> None:
    original = market.snapshot

    async def stale(*args: Any, **kwargs: Any) -> Any:
        snap = await original(*args, **kwargs)
        return dataclasses.replace(snap, stale=True, stale_reason="Yahoo Finance timed out")

    market.snapshot = stale
    _, followup = await harness.reply("status", {"window": "3m"})
    (embed,) = followup.embeds()
    assert "Stale data" in embed["description"]
    assert "Yahoo Finance timed out" in embed["description"]
    assert followup.flags & 64 == 0 and followup.files


async def test_a_bug_is_logged_and_the_user_gets_a_generic_message(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = harness.bot.services.renderer

    async def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("internal detail 0xDEADBEEF")

    monkeypatch.setattr(renderer, "render", broken)
    ix, callback = await harness.run("chart", {"symbols": "QQQ", "period": "6m"})
    assert callback.json["type"] == 5
    followup = await ix.followup()
    message = followup.json["content"]
    assert followup.flags & 64
    assert message.startswith("Something went wrong") and "DEADBEEF" not in message
    ref = message.rsplit("ref ", 1)[1].rstrip(")")
    logged = [line for line in harness.logs.lines if f"ref {ref}" in line]
    assert logged and "Traceback" in logged[0] and "0xDEADBEEF" in logged[0]


async def test_a_bug_before_the_deferral_is_handled_too(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = sys.modules["cogs.chart"]  # the module discord.py loaded as the extension

    def broken(*args: object) -> object:
        raise KeyError("unexpected")

    monkeypatch.setattr(loaded, "parse_chart_request", broken)  # the cog's input check
    _, callback = await harness.run("chart", {"symbols": "QQQ"})
    assert callback.json["type"] == 4
    assert callback.json["data"]["flags"] & 64
    assert callback.json["data"]["content"].startswith("Something went wrong")
