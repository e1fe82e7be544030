"""Fan-out through the real discord.py REST client to the loopback fake Discord."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time

import discord

from bot.briefing.models import DeliveryStatus
from bot.briefing.service import DiscordSender
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from tests.briefing.conftest import NY, Clock, CountingComposer, add_sub, make_runtime
from tests.fakes.discord_api import FakeDiscord

TUE = date(2026, 11, 24)
CHANNEL_BASE = 1_500_000_000_000_000_000


# ``client``: the fake Discord and a logged-in REST client (tests/fakes/discord_fixtures.py).


async def test_200_subscribers_with_429s_each_get_exactly_one_post_and_one_composition(
        client: tuple[FakeDiscord, discord.Client], subs: SubscriptionRepository,
        deliveries: DeliveryRepository) -> None:
    fake, bot = client
    channels = [CHANNEL_BASE + i for i in range(200)]
    for ch in channels:
        add_sub(subs, ch)
    fake.fail("POST", r"/channels/\d+/messages", 429, times=25, retry_after=0.05)
    composer = CountingComposer()
    runtime = make_runtime(subs, deliveries, Clock(datetime(2026, 11, 24, 13, 30, tzinfo=UTC)),
                           DiscordSender(bot), composer, concurrency=10)
    report = await runtime.run_slot(time(8, 30), NY)
    assert report is not None and len(report.sent) == 200 and report.failed == []
    posts = fake.find("POST", r"/channels/\d+/messages$")
    # The fake also enforces Discord's global 50 requests/s: those 429s say ``global``.
    throttled = [r for r in posts if r.status == 429 and not r.response["global"]]
    delivered = Counter(int(r.path.split("/")[2]) for r in posts if r.status == 200)
    assert len(throttled) == 25  # every injected 429 was met ...
    assert fake.global_limit.peak <= 50
    assert delivered == Counter(channels)  # ... and retried: each channel exactly once
    assert len(composer.calls) == 1
    one = next(r for r in posts if r.status == 200)
    assert one.json["embeds"][0]["title"] == f"Briefing {TUE}"
    assert one.json["embeds"][0]["image"]["url"] == "attachment://leadership.png"
    assert [f.filename for f in one.files] == ["leadership.png"]
    rows = deliveries.for_session(TUE)
    assert len(rows) == 200 and {r.status for r in rows} == {DeliveryStatus.SENT}
    assert len({r.message_id for r in rows}) == 200


async def test_403_and_404_from_discord_recorded_then_disabled(
        client: tuple[FakeDiscord, discord.Client], subs: SubscriptionRepository,
        deliveries: DeliveryRepository) -> None:
    fake, bot = client
    ok, forbidden, gone = (add_sub(subs, CHANNEL_BASE + i) for i in (1, 2, 3))
    fake.fail("POST", rf"/channels/{forbidden.channel_id}/messages", 403, times=99)
    fake.fail("POST", rf"/channels/{gone.channel_id}/messages", 404, times=99)
    sender = DiscordSender(bot)
    days = [date(2026, 11, 23), date(2026, 11, 24)]
    for day in days:
        clock = Clock(datetime(day.year, day.month, day.day, 13, 30, tzinfo=UTC))
        await make_runtime(subs, deliveries, clock, sender, max_failures=2).run_slot(
            time(8, 30), NY)
    first = deliveries.get(forbidden.id, days[0])
    assert first is not None and first.status == DeliveryStatus.FAILED
    assert first.last_error is not None and "may not post" in first.last_error
    assert "Missing Permissions" in first.last_error
    gone_row = deliveries.get(gone.id, days[1])
    assert gone_row is not None and "no longer exists" in (gone_row.last_error or "")
    for sub in (forbidden, gone):
        after = subs.get(sub.id)
        assert after is not None and not after.enabled
        assert after.disabled_reason is not None and "after 2 failed posts" in after.disabled_reason
    assert subs.get(ok.id).enabled  # type: ignore[union-attr]
    assert len(fake.channel_messages[ok.channel_id]) == 2


async def test_429_outlasting_discordpy_retries_is_retried_once_delivered(
        client: tuple[FakeDiscord, discord.Client], subs: SubscriptionRepository,
        deliveries: DeliveryRepository) -> None:
    fake, bot = client
    sub = add_sub(subs, CHANNEL_BASE + 7)
    # discord.py gives up after 5 tries; 7 consecutive 429s exhaust it once, then ours retries.
    fake.fail("POST", rf"/channels/{sub.channel_id}/messages", 429, times=7, retry_after=0.01)
    runtime = make_runtime(subs, deliveries, Clock(datetime(2026, 11, 24, 13, 30, tzinfo=UTC)),
                           DiscordSender(bot))
    runtime.throttle_backoff = 0.01
    report = await runtime.run_slot(time(8, 30), NY)
    assert report is not None and report.sent == [sub.id]
    statuses = [r.status for r in fake.find("POST", rf"/channels/{sub.channel_id}/messages$")]
    assert statuses == [429] * 7 + [200]
    assert len(fake.channel_messages[sub.channel_id]) == 1
    assert subs.get(sub.id).consecutive_failures == 0  # type: ignore[union-attr]
