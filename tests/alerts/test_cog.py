"""``/alerts`` through the real bot and the fake Discord: admin-only, unknown event names, a
channel the bot cannot post in (or read), subscribe / settings / unsubscribe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import pytest_asyncio

from analytics.alerts import EVENT_KINDS
from bot.alerts.service import AlertService
from bot.alerts.store import NOTHING_FIRED
from bot.briefing.models import DeliveryStatus
from bot.client import CapbriefBot
from tests.fakes import discord_payloads as P
from tests.fakes.discord_api import FakeDiscord, Recorded
from tests.fakes.running_bot import running_bot

OPEN = 1_600_000_000_000_000_011
LOCKED = 1_600_000_000_000_000_012
UNREAD = 1_600_000_000_000_000_013
ADMIN = P.MEMBER_PERMISSIONS | P.MANAGE_GUILD
EPHEMERAL = 64


@dataclass
class Bot:
    fake: FakeDiscord
    bot: CapbriefBot

    @property
    def service(self) -> AlertService:
        [service] = [s for s in self.bot.services.background if isinstance(s, AlertService)]
        return service

    async def run(self, sub: str, options: list[dict[str, Any]] | None = None, *,
                  permissions: int = ADMIN, channels: tuple[int, ...] = ()) -> Recorded:
        resolved = {"channels": {str(c): {"id": str(c), "name": f"ch{c % 100}", "type": 0,
                                          "guild_id": str(P.GUILD_ID),
                                          "permissions": str(P.MEMBER_PERMISSIONS)}
                                 for c in channels}} if channels else None
        ix = await self.fake.interact("alerts", options or [], subcommand=sub,
                                      user_id=P.snowflake(), permissions=permissions,
                                      resolved=resolved)
        return await ix.reply(within=60)

    def subs(self) -> list[Any]:
        return self.service.subscriptions.for_guild(P.GUILD_ID)


def channel(cid: int) -> dict[str, Any]:
    return {"name": "channel", "type": 7, "value": str(cid)}


def text_of(rec: Recorded) -> str:
    body = rec.json.get("data", rec.json) if isinstance(rec.json, dict) else {}
    parts = [body.get("content") or ""]
    for e in body.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
    return "\n".join(parts)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bot]:
    db = tmp_path_factory.mktemp("alerts") / "capbrief.sqlite3"

    def add(fake: FakeDiscord) -> None:
        fake.add_channel(OPEN, "alerts")
        fake.add_channel(LOCKED, "locked", deny_bot=P.ATTACH_FILES)
        fake.add_channel(UNREAD, "unread", deny_bot=P.READ_MESSAGE_HISTORY)

    async with running_bot(f"sqlite:///{db}", ("cogs.alerts",), channels=add,
                           token="alerts-test-token", wait_started=True) as (fake, bot, _):
        yield Bot(fake, bot)


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_group_is_admin_only_and_the_job_is_scheduled(harness: Bot) -> None:
    synced = {c["name"]: c for c in harness.fake.synced["global"]}
    group = synced["alerts"]
    assert int(group["default_member_permissions"]) == P.MANAGE_GUILD
    assert {o["name"] for o in group["options"]} == {"subscribe", "unsubscribe", "settings"}
    scheduler = harness.service.scheduler
    assert scheduler is not None and scheduler.running
    assert sorted(j.id for j in scheduler.get_jobs()) == ["alerts:due", "alerts:purge"]


async def test_non_admin_is_refused_and_nothing_is_stored(harness: Bot) -> None:
    reply = await harness.run("subscribe", [channel(OPEN)], permissions=P.MEMBER_PERMISSIONS,
                              channels=(OPEN,))
    assert "Manage Server" in text_of(reply) and reply.flags & EPHEMERAL
    assert harness.subs() == []


async def test_unknown_event_names_list_the_valid_ones(harness: Bot) -> None:
    reply = await harness.run("subscribe", [channel(OPEN), P.command_option(
        "events", "breakout, moonshot")], channels=(OPEN,))
    text = text_of(reply)
    assert "unknown alert event(s): moonshot" in text and reply.flags & EPHEMERAL
    assert all(kind in text for kind in EVENT_KINDS)
    assert harness.subs() == []


@pytest.mark.parametrize(("cid", "missing"), [(LOCKED, "Attach Files"),
                                              (UNREAD, "Read Message History")])
async def test_channel_the_bot_cannot_use_is_refused(harness: Bot, cid: int,
                                                     missing: str) -> None:
    reply = await harness.run("subscribe", [channel(cid)], channels=(cid,))
    text = text_of(reply)
    assert missing in text and "Nothing was changed" in text
    assert harness.subs() == []


async def test_subscribe_settings_unsubscribe(harness: Bot) -> None:
    reply = await harness.run("subscribe", [channel(OPEN), P.command_option(
        "events", "Record, breakout")], channels=(OPEN,))
    assert "Subscribed" in text_of(reply), text_of(reply)
    [sub] = harness.subs()
    assert (sub.channel_id, sub.events) == (OPEN, ("record", "breakout"))
    text = text_of(await harness.run("settings"))
    assert "Russell 2000 record close, Breakout" in text and "none yet" in text
    # A skipped session shows why.
    harness.service.deliveries.record_failures(
        [sub.id], date(2025, 9, 18), "skipped: stale data (Yahoo timed out)",
        datetime(2025, 9, 18, 21, tzinfo=UTC))
    assert "stale data (Yahoo timed out)" in text_of(await harness.run("settings"))
    reply = await harness.run("unsubscribe", [channel(OPEN)], permissions=P.MEMBER_PERMISSIONS,
                              channels=(OPEN,))
    assert "Manage Server" in text_of(reply) and len(harness.subs()) == 1
    reply = await harness.run("unsubscribe", [channel(OPEN)], channels=(OPEN,))
    assert "Unsubscribed" in text_of(reply) and harness.subs() == []
    reply = await harness.run("unsubscribe", [channel(OPEN)], channels=(OPEN,))
    assert "not subscribed" in text_of(reply)


async def test_settings_show_a_disabled_channel_and_subscribing_again_re_enables(
        harness: Bot) -> None:
    reply = await harness.run("subscribe", [channel(OPEN)], channels=(OPEN,))
    assert "Subscribed" in text_of(reply)
    [sub] = harness.subs()
    service = harness.service
    assert service.runtime.compute == harness.bot.services.compute  # the shared lane
    at = datetime(2025, 9, 18, 21, tzinfo=UTC)
    for _ in range(service.runtime.max_failures):  # the runtime's rule: [briefing] max_failures
        service.subscriptions.record_failure(sub.id, "the bot may not post there: Missing "
                                             "Access", max_failures=service.runtime.max_failures,
                                             now=at)
    text = text_of(await harness.run("settings"))
    assert (f"Disabled:** disabled after {service.runtime.max_failures} failed posts in a row: "
            "the bot may not post there: Missing Access") in text
    assert "`/alerts subscribe` it again" in text
    reply = await harness.run("subscribe", [channel(OPEN)], channels=(OPEN,))
    assert "Subscribed" in text_of(reply)
    [again] = harness.subs()
    assert again.id == sub.id and again.enabled and again.consecutive_failures == 0
    assert "Disabled" not in text_of(await harness.run("settings"))
    # A session evaluated with nothing for the channel reads as such, not as a failure.
    service.deliveries.record_outcome([sub.id], date(2025, 9, 19), DeliveryStatus.SKIPPED,
                                      NOTHING_FIRED, at)
    text = text_of(await harness.run("settings"))
    assert f"Fri 19 Sep 2025: {NOTHING_FIRED}" in text and "not posted" not in text
    await harness.run("unsubscribe", [channel(OPEN)], channels=(OPEN,))
    assert harness.subs() == []
