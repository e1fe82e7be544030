"""Catch-up after the bot was down, through the real discord.py client and the fake Discord: the
latest due session is posted once if within the grace window, every earlier session of the
subscription without a row is recorded ``missed`` (one WARNING per subscription), never posted
late; the look-back is bounded; a re-enabled subscription's disabled days are not its own."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import discord
import exchange_calendars as xcals
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from bot.alerts.store import (
    NOTHING_FIRED,
    AlertDeliveryRepository,
    AlertSubscriptionRepository,
)
from bot.briefing.models import DeliveryStatus
from bot.market_data.snapshot import MarketSnapshot
from tests.alerts.support import CHANNEL, NOW, SESSION, cut, runtime, subscribe
from tests.fakes.discord_api import FakeDiscord

DOWN = [date(2025, 9, 15), date(2025, 9, 16), date(2025, 9, 17)]  # Mon-Wed: the bot was down
BEFORE = date(2025, 9, 12)  # Fri: the last session the bot evaluated


def missed_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.levelno == logging.WARNING and "alerts MISSED" in r.getMessage()]


def evaluated_until_friday(engine: Engine) -> tuple[int, AlertDeliveryRepository]:
    """A subscription since 2025-09-01 whose last evaluated session is :data:`BEFORE`."""
    sid = subscribe(engine, now=datetime(2025, 9, 1, tzinfo=UTC))
    deliveries = AlertDeliveryRepository(engine)
    deliveries.record_outcome([sid], BEFORE, DeliveryStatus.SKIPPED, NOTHING_FIRED,
                              datetime(2025, 9, 12, 20, 31, tzinfo=UTC))
    return sid, deliveries


async def test_restart_after_three_missed_sessions_posts_the_latest_once_and_records_the_rest(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, caplog: pytest.LogCaptureFixture) -> None:
    fake, bot = client
    sid, deliveries = evaluated_until_friday(engine)
    caplog.set_level(logging.INFO)
    rt = runtime(engine, bot, cut(full_snapshot, SESSION))
    report = await rt.run_due()
    assert report.sent == [sid]
    assert report.missed == [(sid, day) for day in DOWN]
    [post] = fake.posts(CHANNEL)
    assert "2025-09-18" in post["embeds"][0]["title"]  # the latest, not a backlog
    for day in DOWN:
        row = deliveries.get(sid, day)
        assert row is not None and row.status == DeliveryStatus.MISSED and row.message_id is None
        assert row.last_error is not None and "the bot was down" in row.last_error
        assert "2025-09-18" in row.last_error  # the session evaluated instead
    [warning] = missed_warnings(caplog)
    assert "3 session(s) 2025-09-15 to 2025-09-17" in warning.getMessage()
    assert "not recorded" not in warning.getMessage()  # nothing beyond the look-back
    # The next checks (same evening, and another life) change nothing and warn no more.
    caplog.clear()
    again = await rt.run_due()
    other = await runtime(engine, bot, cut(full_snapshot, SESSION), instance="other",
                          now=NOW + timedelta(minutes=15)).run_due()
    assert again.sent == again.missed == other.sent == other.missed == []
    assert len(fake.posts(CHANNEL)) == 1 and missed_warnings(caplog) == []


async def test_restart_beyond_the_grace_window_records_the_latest_missed_too(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, caplog: pytest.LogCaptureFixture) -> None:
    fake, bot = client
    sid, deliveries = evaluated_until_friday(engine)
    # 2025-09-18 became due at 20:30 UTC; back at 01:00 the next night, 270 min later.
    late = datetime(2025, 9, 19, 1, 0, tzinfo=UTC)
    report = await runtime(engine, bot, cut(full_snapshot, SESSION), now=late,
                           grace=timedelta(minutes=240)).run_due()
    assert report.sent == [] and fake.find("POST", rf"/channels/{CHANNEL}/messages") == []
    assert report.missed == [(sid, day) for day in [*DOWN, SESSION]]
    row = deliveries.get(sid, SESSION)
    assert row is not None and row.status == DeliveryStatus.MISSED
    assert row.last_error == ("the bot was down at 2025-09-18 20:30 UTC and came back 270 min "
                              "later, beyond the 240-min grace window")
    [warning] = missed_warnings(caplog)
    assert "4 session(s) 2025-09-15 to 2025-09-18" in warning.getMessage()


async def test_the_look_back_is_bounded_and_the_older_gap_is_counted_in_the_warning(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, caplog: pytest.LogCaptureFixture) -> None:
    """Subscribed a year earlier, never evaluated since: only ``catch_up_sessions`` rows are
    written; the warning counts the rest (an independent count from exchange_calendars)."""
    fake, bot = client
    created = datetime(2024, 9, 3, 12, 0, tzinfo=UTC)  # before that Tuesday's close
    sid = subscribe(engine, now=created)
    report = await runtime(engine, bot, cut(full_snapshot, SESSION),
                           catch_up_sessions=3).run_due()
    assert report.sent == [sid]
    assert [day for _sid, day in report.missed] == DOWN
    with engine.connect() as conn:
        statuses = pd.read_sql("SELECT session, status FROM alert_deliveries", conn)
    assert sorted(statuses["status"]) == ["missed"] * 3 + ["sent"]
    assert len(fake.posts(CHANNEL)) == 1
    nyse = xcals.get_calendar("XNYS")
    older = len(nyse.sessions_in_range("2024-09-03", "2025-09-12"))
    [warning] = missed_warnings(caplog)
    assert f"{older} earlier session(s) from 2024-09-03 not recorded" in warning.getMessage()
    assert "catch_up_sessions=3" in warning.getMessage()


async def test_sessions_while_disabled_are_not_recorded_missed_after_re_enabling(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot) -> None:
    fake, bot = client
    subs = AlertSubscriptionRepository(engine)
    sid, deliveries = evaluated_until_friday(engine)
    subs.record_failure(sid, "403 Missing Permissions", max_failures=1,
                        now=datetime(2025, 9, 12, 21, tzinfo=UTC))
    assert not subs.many([sid])[sid].enabled
    back = datetime(2025, 9, 18, 12, 0, tzinfo=UTC)  # re-subscribed Thursday morning
    subs.upsert(guild_id=1, channel_id=CHANNEL, events=("breakout", "record"), created_by=7,
                now=back)
    sub = subs.many([sid])[sid]
    assert sub.enabled and sub.enabled_at == back
    assert sub.created_at == datetime(2025, 9, 1, tzinfo=UTC)
    report = await runtime(engine, bot, cut(full_snapshot, SESSION)).run_due()
    assert report.missed == [] and report.sent == [sid] and len(fake.posts(CHANNEL)) == 1
    assert [deliveries.get(sid, day) for day in DOWN] == [None, None, None]


async def test_a_session_skipped_for_stale_data_keeps_its_reason_past_the_grace_window(
        client: tuple[FakeDiscord, discord.Client], engine: Engine,
        full_snapshot: MarketSnapshot, caplog: pytest.LogCaptureFixture) -> None:
    """Stale data all evening: the row says why, and after the grace window it is neither
    posted nor relabelled missed (it was evaluated), and no missed warning is logged."""
    fake, bot = client
    sid, deliveries = evaluated_until_friday(engine)
    for day in DOWN:  # the bot was up those days and found nothing for this channel
        deliveries.record_outcome([sid], day, DeliveryStatus.SKIPPED, NOTHING_FIRED, NOW)
    stale = cut(full_snapshot, SESSION, stale=True, stale_reason="Yahoo timed out")
    first = await runtime(engine, bot, stale).run_due()
    assert first.skipped == [sid] and first.missed == []
    late = datetime(2025, 9, 19, 1, 0, tzinfo=UTC)
    after = await runtime(engine, bot, cut(full_snapshot, SESSION), now=late).run_due()
    assert after.sent == after.missed == [] and fake.posts(CHANNEL) == []
    row = deliveries.get(sid, SESSION)
    assert row is not None and row.status == DeliveryStatus.FAILED
    assert row.last_error == "skipped: stale data (Yahoo timed out)"
    assert missed_warnings(caplog) == []
