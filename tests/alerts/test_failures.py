"""A channel the bot can no longer post in, through the real discord.py client and the fake
Discord: each refused post (403 Missing Permissions, 404 Unknown Channel) is recorded and
counted; ``max_failures`` in a row disable the subscription with the reason (WARNING), after
which it is not tried again; a post that goes out resets the count; subscribing again
re-enables it. The analysis runs through the ``compute`` it is given."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import pytest
from sqlalchemy.engine import Engine

from analytics.alerts import EVENT_TITLES
from bot.alerts.store import AlertDeliveryRepository, AlertSubscriptionRepository
from bot.briefing.models import DeliveryStatus
from bot.market_data.snapshot import MarketSnapshot
from tests.alerts.support import CHANNEL, NOW, SESSION, cut, runtime, subscribe
from tests.fakes.discord_api import FakeDiscord

SENDS = rf"/channels/{CHANNEL}/messages$"


def attempts(fake: FakeDiscord) -> int:
    return len(fake.find("POST", SENDS))


@pytest.mark.parametrize(("status", "words"), [(403, "Missing Permissions"),
                                               (404, "no longer exists")])
async def test_refused_posts_disable_the_subscription_after_max_failures(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, caplog: pytest.LogCaptureFixture, status: int,
        words: str) -> None:
    fake, bot = client
    sid = subscribe(engine)
    subs = AlertSubscriptionRepository(engine)
    fake.fail("POST", SENDS, status, times=99)
    now = [NOW]
    rt = runtime(engine, bot, cut(full_snapshot, SESSION), clock=lambda: now[0],
                 max_failures=3)
    reports = []
    for _check in range(3):  # three checks, 15 min apart: the failed row is retried
        reports.append(await rt.run_due())
        now[0] += timedelta(minutes=15)
    assert [r.failed for r in reports] == [[sid]] * 3
    assert [r.disabled for r in reports] == [[], [], [sid]]
    sub = subs.many([sid])[sid]
    assert not sub.enabled and sub.disabled_reason is not None
    assert sub.disabled_reason.startswith("disabled after 3 failed posts in a row: ")
    assert words in sub.disabled_reason
    row = AlertDeliveryRepository(engine).get(sid, SESSION)
    assert row is not None and row.status == DeliveryStatus.FAILED
    assert words in (row.last_error or "")
    assert row.attempts == 3
    assert any("disabled" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)
    # Disabled: the next checks do not try the channel again.
    tried = attempts(fake)
    later = await rt.run_due()
    assert later.failed == later.sent == [] and attempts(fake) == tried
    assert fake.posts(CHANNEL) == []


async def test_a_post_that_goes_out_resets_the_count(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    fake, bot = client
    sid = subscribe(engine)
    subs = AlertSubscriptionRepository(engine)
    fake.fail("POST", SENDS, 403, times=2)
    now = [NOW]
    rt = runtime(engine, bot, cut(full_snapshot, SESSION), clock=lambda: now[0],
                 max_failures=3)
    for _check in range(2):
        assert (await rt.run_due()).failed == [sid]
        now[0] += timedelta(minutes=15)
    assert subs.many([sid])[sid].consecutive_failures == 2
    assert (await rt.run_due()).sent == [sid]
    sub = subs.many([sid])[sid]
    assert sub.enabled and sub.consecutive_failures == 0 and len(fake.posts(CHANNEL)) == 1


async def test_subscribing_again_re_enables_and_delivers_the_next_session(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    fake, bot = client
    sid = subscribe(engine, events=("record", "breakout", "level_cross", "ma_cross",
                                    "cycle_turn", "drought"))
    subs = AlertSubscriptionRepository(engine)
    fake.fail("POST", SENDS, 403, times=1)
    report = await runtime(engine, bot, cut(full_snapshot, SESSION), max_failures=1).run_due()
    assert report.disabled == [sid] and not subs.many([sid])[sid].enabled
    # An admin fixes the channel and subscribes it again the next morning.
    back = datetime(2025, 9, 19, 13, 0, tzinfo=UTC)
    again = subs.upsert(guild_id=1, channel_id=CHANNEL, events=("ma_cross",), created_by=7,
                        now=back)
    assert again.id == sid and again.enabled and again.disabled_reason is None
    assert again.consecutive_failures == 0 and again.enabled_at == back
    # 2025-09-19's close (RUT/SPX's confirmed 200-day cross) goes out.
    friday = date(2025, 9, 19)
    report = await runtime(engine, bot, cut(full_snapshot, friday),
                           now=datetime(2025, 9, 19, 21, 0, tzinfo=UTC)).run_due()
    assert report.sent == [sid] and report.missed == [] and report.failed == []
    [post] = fake.posts(CHANNEL)
    assert "2025-09-19" in post["embeds"][0]["title"]
    assert [f["name"] for f in post["embeds"][0]["fields"]] == [EVENT_TITLES["ma_cross"]]


async def test_analysis_runs_through_the_compute_it_is_given(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    fake, bot = client
    sid = subscribe(engine)
    seen: list[str] = []

    async def lane(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await asyncio.to_thread(fn, *args, **kwargs)

    report = await runtime(engine, bot, cut(full_snapshot, SESSION), compute=lane).run_due()
    assert report.sent == [sid] and len(fake.posts(CHANNEL)) == 1
    assert seen == ["_calc", "alerts_input"]


@pytest.mark.parametrize("status", [404, 500])
async def test_reconcile_of_a_gone_or_failing_channel_is_recorded_not_raised(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, status: int) -> None:
    """A row left ``sending`` by an earlier life, whose channel can't be read back: a deleted
    channel (404) → ``failed``, and the send that follows counts toward disabling (as the
    briefing's reconcile does); a server error → ``unknown``, nothing re-sent blind. Neither
    escapes the check as an exception."""
    fake, bot = client
    sid = subscribe(engine)
    deliveries = AlertDeliveryRepository(engine)
    assert deliveries.claim([sid], SESSION, owner="alerts-test/deadbeef/1", now=NOW,
                            lease_until=NOW - timedelta(minutes=1)) == [sid]  # lease expired
    fake.fail("GET", SENDS, status, times=99)
    fake.fail("POST", SENDS, status, times=99)
    report = await runtime(engine, bot, cut(full_snapshot, SESSION)).run_due()
    row = deliveries.get(sid, SESSION)
    assert row is not None and fake.posts(CHANNEL) == []
    if status == 404:
        assert report.failed == [sid] and row.status == DeliveryStatus.FAILED
        assert AlertSubscriptionRepository(engine).many([sid])[sid].consecutive_failures == 1
    else:
        assert row.status == DeliveryStatus.UNKNOWN and attempts(fake) == 0
