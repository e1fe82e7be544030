"""``/briefing`` through the real bot and the fake Discord: permissions, validation, settings,
preview and send-now. Subscriptions live in a temporary SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import time as dt_time
from typing import Any

import pytest
import pytest_asyncio

from bot.briefing.models import BriefingOptions
from bot.briefing.service import BriefingService
from bot.client import CapbriefBot
from bot.market_data.demo import demo_label
from tests.conftest import market_data_dir
from tests.fakes import discord_payloads as P
from tests.fakes.discord_api import FakeDiscord, Recorded
from tests.fakes.discord_spec import embed_chars
from tests.fakes.running_bot import running_bot

OPEN = 1_600_000_000_000_000_001
LOCKED = 1_600_000_000_000_000_002
UNREAD = 1_600_000_000_000_000_003  # the bot may post there but not read the history
ADMIN = P.MEMBER_PERMISSIONS | P.MANAGE_GUILD
EPHEMERAL = 64


@dataclass
class Bot:
    fake: FakeDiscord
    bot: CapbriefBot
    task: asyncio.Task[None]

    @property
    def service(self) -> BriefingService:
        service = self.bot.services.scheduler
        assert isinstance(service, BriefingService)
        return service

    async def run(self, sub: str, options: list[dict[str, Any]] | None = None, *,
                  permissions: int = ADMIN, channels: tuple[int, ...] = ()
                  ) -> tuple[Recorded, list[Recorded]]:
        resolved = {"channels": {str(c): {"id": str(c), "name": f"ch{c % 100}", "type": 0,
                                          "guild_id": str(P.GUILD_ID),
                                          "permissions": str(P.MEMBER_PERMISSIONS)}
                                 for c in channels}} if channels else None
        ix = await self.fake.interact("briefing", options or [], subcommand=sub,
                                      user_id=P.snowflake(), permissions=permissions,
                                      resolved=resolved)
        first = await ix.reply(within=60)
        return first, ix.responses()


def channel(cid: int) -> dict[str, Any]:
    return {"name": "channel", "type": 7, "value": str(cid)}


def opt(name: str, value: Any) -> dict[str, Any]:
    return P.command_option(name, value)


def text_of(rec: Recorded) -> str:
    body = rec.json.get("data", rec.json) if isinstance(rec.json, dict) else {}
    embeds = body.get("embeds") or []
    parts = [body.get("content") or ""]
    for e in embeds:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
    return "\n".join(parts)


def flags_of(rec: Recorded) -> int:
    return rec.flags


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Bot]:
    db = tmp_path_factory.mktemp("briefing") / "capbrief.sqlite3"

    def add(fake: FakeDiscord) -> None:
        fake.add_channel(OPEN, "briefing")
        fake.add_channel(LOCKED, "locked", deny_bot=P.ATTACH_FILES)
        fake.add_channel(UNREAD, "unread", deny_bot=P.READ_MESSAGE_HISTORY)

    async with running_bot(f"sqlite:///{db}", ("cogs.briefing",), channels=add,
                           token="briefing-test-token", wait_started=True) as (fake, bot, task):
        yield Bot(fake, bot, task)


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_group_is_synced_with_manage_server_default_permission(harness: Bot) -> None:
    synced = {c["name"]: c for c in harness.fake.synced["global"]}
    group = synced["briefing"]
    assert int(group["default_member_permissions"]) == P.MANAGE_GUILD
    assert {o["name"] for o in group["options"]} == {
        "subscribe", "unsubscribe", "settings", "preview", "send-now"}
    assert harness.service.scheduler.running


async def test_non_admin_cannot_subscribe_and_nothing_is_stored(harness: Bot) -> None:
    reply, _ = await harness.run("subscribe", [channel(OPEN)], permissions=P.MEMBER_PERMISSIONS,
                                 channels=(OPEN,))
    assert "Manage Server" in text_of(reply) and flags_of(reply) & EPHEMERAL
    assert harness.service.subscriptions.for_guild(P.GUILD_ID) == []
    assert harness.fake.channel_messages.get(OPEN) is None


@pytest.mark.parametrize(("options", "expected"), [
    ([opt("time", "8h30")], "time must be HH:MM"),
    ([opt("time", "24:00")], "time must be HH:MM"),
    ([opt("timezone", "Mars/Olympus")], "unknown time zone"),
    ([opt("sections", "records, weather")], "unknown briefing section(s): weather"),
])
async def test_bad_time_or_zone_is_refused_clearly(harness: Bot, options: list[dict[str, Any]],
                                                   expected: str) -> None:
    reply, _ = await harness.run("subscribe", [channel(OPEN), *options], channels=(OPEN,))
    assert expected in text_of(reply) and flags_of(reply) & EPHEMERAL
    assert harness.service.subscriptions.for_guild(P.GUILD_ID) == []


async def test_channel_where_the_bot_cannot_attach_files_is_refused(harness: Bot) -> None:
    reply, _ = await harness.run("subscribe", [channel(LOCKED)], channels=(LOCKED,))
    text = text_of(reply)
    assert "Attach Files" in text and "Send Messages" not in text and "Nothing was changed" in text
    assert harness.service.subscriptions.for_guild(P.GUILD_ID) == []


async def test_channel_without_read_message_history_is_refused(harness: Bot) -> None:
    """Reconcile reads the channel to find a post after an outage: subscribe checks for it."""
    reply, _ = await harness.run("subscribe", [channel(UNREAD)], channels=(UNREAD,))
    text = text_of(reply)
    assert "Read Message History" in text and "Nothing was changed" in text
    assert harness.service.subscriptions.for_guild(P.GUILD_ID) == []


async def test_subscribe_settings_and_unsubscribe(harness: Bot) -> None:
    reply, _ = await harness.run("subscribe", [channel(OPEN), opt("time", "07:15"),
                                               opt("timezone", "europe/london"),
                                               opt("sections", "History, records")],
                                 channels=(OPEN,))
    text = text_of(reply)
    assert "07:15 Europe/London" in text and "Next post:" in text, text
    [sub] = harness.service.subscriptions.for_guild(P.GUILD_ID)
    assert (sub.channel_id, sub.timezone, sub.local_time.isoformat()) == (
        OPEN, "Europe/London", "07:15:00")
    assert sub.options.sections == ("records", "history") and sub.options.charts
    assert harness.service.scheduler.job_ids() == ["briefing:07:15:Europe/London"]
    reply, _ = await harness.run("settings")
    text = text_of(reply)
    assert "07:15 Europe/London" in text and "Next run:" in text and "none yet" in text
    # A subscription disabled by failures shows why.
    harness.service.subscriptions.record_failure(sub.id, "the channel no longer exists",
                                                 max_failures=1, now=sub.created_at)  # type: ignore[arg-type]
    reply, _ = await harness.run("settings", permissions=P.MEMBER_PERMISSIONS)
    assert "Disabled:" in text_of(reply) and "no longer exists" in text_of(reply)
    reply, _ = await harness.run("unsubscribe", permissions=P.MEMBER_PERMISSIONS)
    assert "Manage Server" in text_of(reply)
    assert len(harness.service.subscriptions.for_guild(P.GUILD_ID)) == 1
    reply, _ = await harness.run("unsubscribe")
    assert "Unsubscribed" in text_of(reply)
    assert harness.service.subscriptions.for_guild(P.GUILD_ID) == []
    assert harness.service.scheduler.job_ids() == []


async def test_preview_is_ephemeral_and_send_now_posts_once(harness: Bot) -> None:
    if market_data_dir() is None:
        pytest.skip("real history absent: put ../shared/data/market beside the repo")
    _, responses = await harness.run("preview", permissions=P.MEMBER_PERMISSIONS)
    ix_token = responses[0].path.split("/")[3]
    follow = await harness.fake.wait_for(
        lambda r: ix_token in r.path and r.path.startswith("/webhooks/"), within=60)
    assert flags_of(follow) & EPHEMERAL
    assert "Morning briefing for " in follow.json["embeds"][0]["title"]
    assert [f.filename for f in follow.files] == ["leadership.png", "records.png"]
    before = len(harness.fake.channel_messages.get(OPEN, []))
    _, responses = await harness.run("send-now", [channel(OPEN)], channels=(OPEN,))
    token = responses[0].path.split("/")[3]
    done = await harness.fake.wait_for(
        lambda r: token in r.path and r.path.startswith("/webhooks/"), within=60)
    assert "Posted the briefing" in text_of(done)
    posts = harness.fake.channel_messages[OPEN][before:]
    assert len(posts) == 1 and posts[0].json["embeds"][0]["title"].startswith("Small vs large")


async def test_subscribed_channel_gets_the_scheduled_post_end_to_end(harness: Bot) -> None:
    """/briefing subscribe → the slot's APScheduler job → composer → discord.py → the channel."""
    if market_data_dir() is None:
        pytest.skip("real history absent: put ../shared/data/market beside the repo")
    from datetime import UTC, datetime

    runtime = harness.service.runtime
    real_clock = runtime.clock
    runtime.clock = lambda: datetime(2026, 11, 27, 13, 30, tzinfo=UTC)  # 08:30 NY, early close
    try:
        reply, _ = await harness.run("subscribe", [channel(OPEN)], channels=(OPEN,))
        assert "08:30 America/New_York" in text_of(reply)
        before = len(harness.fake.channel_messages.get(OPEN, []))
        job = harness.service.scheduler.scheduler.get_job("briefing:08:30:America/New_York")
        assert job is not None
        job.modify(next_run_time=datetime.now(UTC))  # fire it now, through APScheduler
        post = await harness.fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{OPEN}/messages", 60,
            index=before)
        embed = post.json["embeds"][0]
        demo = demo_label(market_data_dir())  # the demo snapshot says so in the title
        assert embed["title"].startswith(
            "Small vs large caps · Morning briefing for Fri 27 Nov 2026 · data to the close of ")
        assert embed["title"].endswith(f" · {demo}") == bool(demo)
        assert embed["description"].startswith("**⏰ Early close today (Fri 27 Nov)")
        assert [f.filename for f in post.files] == ["leadership.png", "records.png"]
        [sub] = harness.service.subscriptions.for_guild(P.GUILD_ID)
        for _ in range(200):  # the ledger write follows the send
            row = harness.service.deliveries.last(sub.id)
            if row is not None and row.status == "sent":
                break
            await asyncio.sleep(0.05)
        assert row is not None and row.status == "sent" and row.message_id == int(
            post.response["id"])
        reply, _ = await harness.run("settings")
        assert "Fri 27 Nov 2026: ✅ posted" in text_of(reply)
    finally:
        runtime.clock = real_clock
        await harness.run("unsubscribe", [channel(OPEN)], channels=(OPEN,))


# -- replies Discord accepts (issue 11) -----------------------------------------------------
def string_options(command: dict[str, Any]) -> list[dict[str, Any]]:
    """Every string option (type 3) in a synced command, subcommands included."""
    out = []
    for o in command.get("options") or []:
        if o["type"] in (1, 2):
            out += string_options(o)
        elif o["type"] == 3:
            out.append(o)
    return out


async def test_every_free_text_option_is_bounded_and_the_group_is_guild_only(
        harness: Bot) -> None:
    group = {c["name"]: c for c in harness.fake.synced["global"]}["briefing"]
    assert group["contexts"] == [0]  # guild only: Discord hides it in DMs
    bounded = {o["name"]: (o.get("min_length"), o.get("max_length"))
               for o in string_options(group)}
    assert bounded == {"time": (4, 5), "timezone": (2, 40), "sections": (4, 80)}


@pytest.mark.parametrize(("name", "value"), [("time", "9" * 3000), ("timezone", "Z" * 3000),
                                             ("sections", "records," * 400)])
async def test_overlong_text_is_refused_without_echoing_it(harness: Bot, name: str,
                                                           value: str) -> None:
    """Discord's client enforces max_length; a request that skips it gets a short answer (the
    value used to be echoed into a reply over 2,000 characters, which Discord refused)."""
    reply, _ = await harness.run("subscribe", [channel(OPEN), opt(name, value)],
                                 channels=(OPEN,))
    text = text_of(reply)
    assert f"`{name}` must be" in text and f"(got {len(value):,})" in text, text
    assert len(text) < 200 and flags_of(reply) & EPHEMERAL
    assert harness.service.subscriptions.for_guild(P.GUILD_ID) == []


async def test_settings_in_a_dm_says_it_needs_a_server(harness: Bot,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    for sub in ("settings", "subscribe", "send-now"):
        ix = await harness.fake.interact("briefing", [], subcommand=sub, guild_id=None,
                                         user_id=P.snowflake())
        reply = await ix.reply(within=30)
        assert text_of(reply) == "This command only works in a server.", text_of(reply)
        assert flags_of(reply) & EPHEMERAL
    assert "AssertionError" not in caplog.text and "Traceback" not in caplog.text


async def test_settings_with_40_subscriptions_is_paginated_within_discords_limits(
        harness: Bot) -> None:
    repo = harness.service.subscriptions
    created = harness.service.runtime.clock()
    channels = [1_700_000_000_000_000_000 + i for i in range(40)]
    subs = [repo.upsert(guild_id=P.GUILD_ID, channel_id=c, local_time=dt_time(8, 30),
                        timezone="America/Argentina/ComodRivadavia",
                        options=BriefingOptions(charts=False), created_by=P.USER_ID,
                        now=created) for c in channels]
    try:
        ix = await harness.fake.interact("briefing", [], subcommand="settings",
                                         user_id=P.snowflake(), permissions=ADMIN)
        first = await ix.reply(within=60)
        messages = [first]
        total = sum(len(e.get("fields", [])) for e in first.embeds())
        while total < len(subs):  # the rest come as follow-ups
            follow = await ix.followup(index=len(messages) - 1, within=60)
            messages.append(follow)
            total += sum(len(e.get("fields", [])) for e in follow.embeds())
        assert len(messages) >= 2 and all(flags_of(m) & EPHEMERAL for m in messages)
        names = [f["name"] for m in messages for e in m.embeds() for f in e["fields"]]
        assert sorted(names) == sorted(f"#{c}" for c in channels)  # each exactly once
        for m in messages:
            assert all(r.status == 200 for r in ix.responses())  # none refused by the fake
            embeds = m.embeds()
            assert sum(embed_chars(e) for e in embeds) <= 6000
            assert all(len(e["fields"]) <= 25 for e in embeds)
        titles = [e["title"] for m in messages for e in m.embeds()]
        assert titles[0].endswith(f"(page 1 of {len(titles)})")
    finally:
        for sub in subs:
            repo.delete(sub.id)


@pytest.mark.parametrize(("status", "needle"), [(403, ": missing "),
                                                (404, ": Discord says the channel no longer")])
async def test_send_now_into_a_channel_discord_refuses_says_what_is_missing(
        harness: Bot, status: int, needle: str) -> None:
    if market_data_dir() is None:
        pytest.skip("real history absent: put ../shared/data/market beside the repo")
    harness.fake.fail("POST", rf"/channels/{OPEN}/messages", status)
    _, responses = await harness.run("send-now", [channel(OPEN)], channels=(OPEN,))
    token = responses[0].path.split("/")[3]
    done = await harness.fake.wait_for(
        lambda r: token in r.path and r.method == "POST" and r.path.startswith("/webhooks/"),
        within=60)
    text = text_of(done)
    assert text.startswith(f"I can't post in <#{OPEN}>{needle}"), text
    assert ("Send Messages" in text) == (status == 403) and "Nothing was posted" in text
    assert "Something went wrong" not in text and flags_of(done) & EPHEMERAL
