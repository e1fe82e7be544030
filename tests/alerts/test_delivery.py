"""Alert delivery through the real discord.py REST client to the fake Discord, on real history:
the 2025-09-18 breakout posted once (with its chart), a restart between evaluation and send,
a 5xx after Discord stored the post, and stale data (no post, a recorded skip)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import discord
import pytest
from sqlalchemy.engine import Engine

from bot.alerts.delivery import due_session
from bot.alerts.store import (
    NOTHING_FIRED,
    AlertDeliveryRepository,
    alert_nonce,
)
from bot.briefing.models import DeliveryStatus
from bot.market_data.snapshot import MarketSnapshot
from tests.alerts.support import CHANNEL, NOW, POSTS, SESSION, cut, runtime, subscribe
from tests.fakes.discord_api import FakeDiscord

# ``client``: the fake Discord and a logged-in REST client (tests/fakes/discord_fixtures.py).


def test_due_session_waits_for_the_delay_after_the_close_including_early_closes() -> None:
    delay = timedelta(minutes=30)
    assert due_session(NOW, delay) == SESSION
    assert due_session(datetime(2025, 9, 18, 20, 10, tzinfo=UTC), delay) == date(2025, 9, 17)
    # 2025-11-28 (day after Thanksgiving) closed at 13:00 ET = 18:00 UTC.
    assert due_session(datetime(2025, 11, 28, 18, 31, tzinfo=UTC), delay) == date(2025, 11, 28)
    assert due_session(datetime(2025, 11, 28, 18, 29, tzinfo=UTC), delay) == date(2025, 11, 26)


async def test_breakout_alert_is_posted_once_with_history_and_chart(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, tmp_path: Path) -> None:
    fake, bot = client
    sid = subscribe(engine)
    rt = runtime(engine, bot, cut(full_snapshot, SESSION))
    report = await rt.run_due()
    assert report.sent == [sid] and report.events >= 1
    again = await rt.run_due()  # the next check: the ledger says it is done
    assert again.sent == [] and again.failed == []
    posts = [r for r in fake.find("POST", POSTS) if r.status == 200]
    assert len(posts) == 1
    embed = posts[0].json["embeds"][0]
    assert "2025-09-18" in embed["title"]
    names = [f["name"] for f in embed["fields"]]
    assert "Breakout" in names
    breakout = embed["fields"][names.index("Breakout")]["value"]
    assert "earlier" in breakout and "Any day" in breakout  # history and base rate
    assert embed["footer"]["text"].endswith(f"ref {alert_nonce(sid, SESSION)}")
    assert embed["image"]["url"] == "attachment://alerts.png"
    png = posts[0].files[0].data
    assert png.startswith(b"\x89PNG")
    (tmp_path / "alert.png").write_bytes(png)
    row = AlertDeliveryRepository(engine).get(sid, SESSION)
    assert row is not None and row.status == DeliveryStatus.SENT


async def test_events_not_wanted_post_nothing(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    fake, bot = client
    sid = subscribe(engine, events=("drought",))
    report = await runtime(engine, bot, cut(full_snapshot, SESSION)).run_due()
    assert report.sent == [] and fake.find("POST", POSTS) == []
    # The session was evaluated: its row says so (so a restart does not call it missed).
    row = AlertDeliveryRepository(engine).get(sid, SESSION)
    assert row is not None and row.status == DeliveryStatus.SKIPPED
    assert row.last_error == NOTHING_FIRED and row.message_id is None


async def test_restart_between_evaluation_and_send_posts_once(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    fake, bot = client
    sid = subscribe(engine)
    deliveries = AlertDeliveryRepository(engine)
    # The first life claimed the row (lease for 5 min) and died before sending.
    won = deliveries.claim([sid], SESSION, owner="alerts-test/deadbeef/1", now=NOW,
                           lease_until=NOW + timedelta(minutes=5))
    assert won == [sid]
    report = await runtime(engine, bot, cut(full_snapshot, SESSION)).run_due()
    assert report.sent == [sid]
    assert len([r for r in fake.find("POST", POSTS) if r.status == 200]) == 1
    # And a third life finds it done.
    assert (await runtime(engine, bot, cut(full_snapshot, SESSION)).run_due()).sent == []
    assert len([r for r in fake.find("POST", POSTS) if r.status == 200]) == 1


async def test_5xx_after_store_is_reconciled_by_marker_not_resent(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    fake, bot = client
    sid = subscribe(engine)
    fake.fail("POST", POSTS, 503, after_store=True)
    rt = runtime(engine, bot, cut(full_snapshot, SESSION))
    report = await rt.run_due()
    assert report.unknown == [sid] and report.reconciled == [sid]
    await rt.run_due()
    assert len(fake.posts(CHANNEL)) == 1
    row = AlertDeliveryRepository(engine).get(sid, SESSION)
    assert row is not None and row.status == DeliveryStatus.SENT and row.message_id


@pytest.mark.parametrize("how", ["flagged", "behind"])
async def test_stale_data_posts_nothing_and_records_the_skip(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, how: str, caplog: pytest.LogCaptureFixture) -> None:
    fake, bot = client
    sid = subscribe(engine)
    snap = (cut(full_snapshot, SESSION, stale=True, stale_reason="Yahoo timed out")
            if how == "flagged" else cut(full_snapshot, date(2025, 9, 17)))
    report = await runtime(engine, bot, snap).run_due()
    assert report.sent == [] and report.skipped == [sid]
    assert fake.find("POST", POSTS) == []
    row = AlertDeliveryRepository(engine).get(sid, SESSION)
    assert row is not None and row.last_error is not None
    assert row.last_error.startswith("skipped:")
    assert ("Yahoo timed out" if how == "flagged" else "2025-09-17") in row.last_error
    assert "SKIPPED" in caplog.text
    # Once fresh data arrives (the next check), the alert goes out.
    fresh = await runtime(engine, bot, cut(full_snapshot, SESSION)).run_due()
    assert fresh.sent == [sid] and len(fake.posts(CHANNEL)) == 1


async def test_one_message_per_session_and_at_most_max_per_day(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    """Every kind wanted: 2025-09-18's three events (record, breakout, 2,400) are ONE message;
    a backlog session (2025-09-16's average cross) on the same day is over max_per_day=1."""
    fake, bot = client
    sid = subscribe(engine, events=("record", "breakout", "level_cross", "ma_cross",
                                    "cycle_turn", "drought"))
    rt = runtime(engine, bot, cut(full_snapshot, SESSION))
    first = await rt.evaluate(SESSION)
    assert first.sent == [sid] and first.events == 3
    [post] = fake.posts(CHANNEL)
    assert len(post["embeds"][0]["fields"]) == 3
    backlog = await rt.evaluate(date(2025, 9, 16))
    assert backlog.events == 1 and backlog.sent == [] and backlog.skipped == [sid]
    assert len(fake.posts(CHANNEL)) == 1
    row = AlertDeliveryRepository(engine).get(sid, date(2025, 9, 16))
    assert row is not None and "max_per_day=1" in (row.last_error or "")


async def test_two_runtimes_on_one_ledger_post_once(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    """Two processes (distinct instances, one database) evaluating the same session at once:
    the claim lets exactly one send."""
    import asyncio

    fake, bot = client
    sid = subscribe(engine)
    snap = cut(full_snapshot, SESSION)
    a, b = (runtime(engine, bot, snap, instance=name) for name in ("host-a", "host-b"))
    reports = await asyncio.gather(a.run_due(), b.run_due())
    assert sorted(len(r.sent) for r in reports) == [0, 1]
    assert [r.sent for r in reports if r.sent] == [[sid]]
    assert len(fake.posts(CHANNEL)) == 1
