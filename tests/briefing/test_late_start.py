"""The briefing and alerts services start after READY, through the real bot and the fake
Discord: a command that arrives while the service is still being built is deferred (private)
and then answered; a database that cannot be opened is logged as an error and every command
says so in a sentence, without hanging."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import pytest

from bot.briefing import service as briefing_service
from bot.client import CapbriefBot
from bot.deferred_service import ServiceUnavailable
from tests.conftest import market_data_dir
from tests.fakes import discord_payloads as P
from tests.fakes.discord_api import FakeDiscord, Recorded
from tests.fakes.running_bot import running_bot as bot_on_fake

ADMIN = P.MEMBER_PERMISSIONS | P.MANAGE_GUILD
EPHEMERAL = 64


@asynccontextmanager
async def running_bot(db_url: str, channels: tuple[int, ...] = ()
                      ) -> AsyncIterator[tuple[FakeDiscord, CapbriefBot]]:
    def add(fake: FakeDiscord) -> None:
        for channel_id in channels:
            fake.add_channel(channel_id, f"ch{channel_id % 100}")

    async with bot_on_fake(db_url, ("cogs.briefing", "cogs.alerts"), channels=add,
                           token="late-start-token") as (fake, bot, _task):
        yield fake, bot


def text_of(rec: Recorded) -> str:
    body = rec.json.get("data", rec.json) if isinstance(rec.json, dict) else {}
    return str(body.get("content") or "")


async def settings_command(fake: FakeDiscord, group: str) -> Any:
    return await fake.interact(group, [], subcommand="settings", user_id=P.snowflake(),
                               permissions=ADMIN)


async def test_a_command_during_the_build_is_deferred_then_answered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    build = briefing_service.build_briefing_service

    def gated(*args: Any, **kw: Any) -> Any:
        assert gate.wait(60)
        return build(*args, **kw)

    # (the cog module is re-executed by load_extension: patch what it imports on first use)
    monkeypatch.setattr(briefing_service, "build_briefing_service", gated)
    async with running_bot(f"sqlite:///{tmp_path / 'late.sqlite3'}") as (fake, bot):
        ix = await settings_command(fake, "briefing")
        callback = await ix.callback(within=10)
        assert callback.json["type"] == 5 and callback.json["data"]["flags"] == EPHEMERAL
        assert not ix.responses()[1:], "answered before the service was built"
        gate.set()
        answer = await ix.followup(within=60)
        assert "No channel here is subscribed" in text_of(answer)
        assert answer.flags == EPHEMERAL
        assert bot.services.scheduler.scheduler.running  # started once built
        later = await settings_command(fake, "briefing")
        assert (await later.callback(within=10)).json["type"] == 4  # no deferral once running


async def test_a_database_that_cannot_open_is_logged_and_every_command_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    url = f"sqlite:///{tmp_path / 'a-file' / 'capbrief.sqlite3'}"  # cannot be created
    cid = 1_700_000_000_000_000_077
    with caplog.at_level(logging.ERROR, logger="bot.deferred_service"):
        async with running_bot(url, channels=(cid,)) as (fake, bot):
            with pytest.raises(ServiceUnavailable):
                await asyncio.wait_for(bot.wait_started(), 60)
            for group, what in (("briefing", "The briefing"), ("alerts", "Alerts")):
                ix = await settings_command(fake, group)
                reply = await ix.reply(within=60)
                assert text_of(reply).startswith(f"{what} could not start"), text_of(reply)
                assert reply.flags == EPHEMERAL
            # Bad input is still named as such: it is checked before the service is needed.
            ix = await fake.interact(
                "alerts", [{"name": "channel", "type": 7, "value": str(cid)},
                           P.command_option("events", "breakout, moonshot")],
                subcommand="subscribe", user_id=P.snowflake(), permissions=ADMIN,
                resolved={"channels": {str(cid): {
                    "id": str(cid), "name": "ch77", "type": 0, "guild_id": str(P.GUILD_ID),
                    "permissions": str(P.MEMBER_PERMISSIONS)}}})
            reply = await ix.reply(within=60)
            assert "unknown alert event(s): moonshot" in text_of(reply), text_of(reply)
            assert reply.flags == EPHEMERAL
    failures = [r for r in caplog.records if "failed to start" in r.getMessage()]
    assert {r.getMessage().split()[0] for r in failures} == {"briefing", "alerts"}
    assert all(r.levelno == logging.ERROR and r.exc_info for r in failures)


async def test_a_restart_after_the_slot_still_delivers_once_ready(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscription stored by an earlier run; the process starts 15 minutes after its slot
    (within the grace window): the catch-up, begun after READY, posts the briefing with no
    command, and records it."""
    if market_data_dir() is None:
        pytest.skip("real history absent: put ../shared/data/market beside the repo")
    from bot.briefing.models import BriefingOptions
    from bot.briefing.store import SubscriptionRepository
    from bot.storage.db import create_engine, migrate

    channel_id = 1_600_000_000_000_000_021
    now = datetime(2026, 11, 27, 13, 45, tzinfo=UTC)  # 08:45 New York, a (half) session
    url = f"sqlite:///{tmp_path / 'restart.sqlite3'}"
    engine = create_engine(url)
    migrate(engine)
    [sub] = [SubscriptionRepository(engine).upsert(
        guild_id=P.GUILD_ID, channel_id=channel_id, local_time=dt_time(8, 30),
        timezone="America/New_York", options=BriefingOptions(charts=False), created_by=1,
        now=now - timedelta(days=7))]  # subscribed before the slot
    engine.dispose()
    build = briefing_service.build_briefing_service
    monkeypatch.setattr(briefing_service, "build_briefing_service",
                        lambda services, client: build(services, client, clock=lambda: now))
    async with running_bot(url, channels=(channel_id,)) as (fake, bot):
        assert fake.find("POST", f"/channels/{channel_id}/messages") == []  # not before READY
        post = await fake.wait_for(lambda r: r.method == "POST" and r.path ==
                                   f"/channels/{channel_id}/messages", 90)
        assert post.json["embeds"][0]["title"].startswith(
            "Small vs large caps · Morning briefing for Fri 27 Nov 2026")
        service = bot.services.scheduler
        await service.wait_catch_up()
        row = service.deliveries.last(sub.id)
        assert row is not None and row.status == "sent"
        assert len(fake.find("POST", f"/channels/{channel_id}/messages")) == 1
