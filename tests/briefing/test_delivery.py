"""Fan-out bookkeeping with a recording sender: restarts, calendar, failures, compose-once."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.briefing.models import BriefingOptions, DeliveryStatus
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from tests.briefing.conftest import (
    NY,
    Clock,
    CountingComposer,
    RecordingSender,
    add_sub,
    make_runtime,
)

AT = time(8, 30)
TUE = date(2026, 11, 24)  # 08:30 New York = 13:30 UTC (EST)


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


async def test_slot_job_posts_once_even_if_fired_twice(subs: SubscriptionRepository,
                                                       deliveries: DeliveryRepository) -> None:
    add_sub(subs, 11)
    sender, clock = RecordingSender(), Clock(utc(TUE, 13, 30))
    runtime = make_runtime(subs, deliveries, clock, sender)
    await runtime.run_slot(AT, NY)
    await runtime.run_slot(AT, NY)  # e.g. an ambiguous DST hour firing twice
    assert sender.sent == [(11, TUE)]
    row = deliveries.get(1, TUE)
    assert row is not None and row.status == DeliveryStatus.SENT and row.message_id == 1001


async def test_no_post_on_weekend_or_thanksgiving(subs: SubscriptionRepository,
                                                  deliveries: DeliveryRepository) -> None:
    add_sub(subs, 11)
    sender = RecordingSender()
    for day in (date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 26)):
        runtime = make_runtime(subs, deliveries, Clock(utc(day, 13, 30)), sender)
        assert await runtime.run_slot(AT, NY) is None
        assert await runtime.catch_up() == []
    assert sender.sent == []
    assert deliveries.for_session(date(2026, 11, 26)) == []


async def test_down_at_0830_up_at_0900_posts_once(subs: SubscriptionRepository,
                                                  deliveries: DeliveryRepository) -> None:
    add_sub(subs, 11)
    sender = RecordingSender()
    runtime = make_runtime(subs, deliveries, Clock(utc(TUE, 14, 0)), sender)
    await runtime.catch_up()
    assert sender.sent == [(11, TUE)]


async def test_up_at_1000_with_60_min_grace_no_post_and_miss_logged(
        subs: SubscriptionRepository, deliveries: DeliveryRepository,
        caplog: pytest.LogCaptureFixture) -> None:
    add_sub(subs, 11)
    sender = RecordingSender()
    runtime = make_runtime(subs, deliveries, Clock(utc(TUE, 15, 0)), sender)
    with caplog.at_level(logging.WARNING, logger="bot.briefing.fanout"):
        await runtime.catch_up()
    assert sender.sent == []
    assert any("MISSED" in r.getMessage() and "2026-11-24" in r.getMessage()
               for r in caplog.records)
    row = deliveries.get(1, TUE)
    assert row is not None and row.status == DeliveryStatus.MISSED
    assert row.last_error is not None and "60-min grace" in row.last_error
    # A second restart the same morning neither posts nor logs the miss again.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.briefing.fanout"):
        await make_runtime(subs, deliveries, Clock(utc(TUE, 15, 30)), sender).catch_up()
    assert sender.sent == [] and not [r for r in caplog.records if "MISSED" in r.getMessage()]


async def test_restarted_twice_in_a_day_still_one_post(subs: SubscriptionRepository,
                                                       deliveries: DeliveryRepository) -> None:
    add_sub(subs, 11)
    sender = RecordingSender()
    for hh, mm in ((13, 45), (14, 0), (14, 10)):  # three starts after the 13:30 UTC slot
        await make_runtime(subs, deliveries, Clock(utc(TUE, hh, mm)), sender).catch_up()
    # And the scheduled job, if it fires late too, still finds the record.
    await make_runtime(subs, deliveries, Clock(utc(TUE, 14, 15)), sender).run_slot(AT, NY)
    assert sender.sent == [(11, TUE)]


async def test_subscription_made_after_the_slot_waits_for_tomorrow(
        subs: SubscriptionRepository, deliveries: DeliveryRepository) -> None:
    add_sub(subs, 11, created=utc(TUE, 13, 40))
    sender = RecordingSender()
    await make_runtime(subs, deliveries, Clock(utc(TUE, 14, 0)), sender).catch_up()
    assert sender.sent == []
    await make_runtime(subs, deliveries, Clock(utc(date(2026, 11, 25), 13, 30)),
                       sender).run_slot(AT, NY)
    assert sender.sent == [(11, date(2026, 11, 25))]


async def test_compose_once_per_variant(subs: SubscriptionRepository,
                                        deliveries: DeliveryRepository) -> None:
    for ch in range(100, 130):
        add_sub(subs, ch, charts=ch % 2 == 0)
    composer, sender = CountingComposer(), RecordingSender()
    runtime = make_runtime(subs, deliveries, Clock(utc(TUE, 13, 30)), sender, composer,
                           concurrency=4)
    report = await runtime.run_slot(AT, NY)
    assert report is not None and len(report.sent) == 30
    assert sorted(c[2] for c in composer.calls) == sorted(
        ["charts=0;sections=leadership,records,history,drivers",
         "charts=1;sections=leadership,records,history,drivers"])
    assert {c[1] for c in composer.calls} == {date(2026, 11, 23)}  # Monday's close
    assert len(sender.sent) == len(set(sender.sent)) == 30


async def test_early_close_friday_is_posted_with_wednesday_data(
        subs: SubscriptionRepository, deliveries: DeliveryRepository) -> None:
    add_sub(subs, 11)
    composer, sender = CountingComposer(), RecordingSender()
    fri = date(2026, 11, 27)
    await make_runtime(subs, deliveries, Clock(utc(fri, 13, 30)), sender, composer
                       ).run_slot(AT, NY)
    assert sender.sent == [(11, fri)]
    assert composer.calls[0][:2] == (fri, date(2026, 11, 25))


async def test_403_404_recorded_and_disabled_after_n(subs: SubscriptionRepository,
                                                     deliveries: DeliveryRepository) -> None:
    ok, forbidden, gone = add_sub(subs, 1), add_sub(subs, 403), add_sub(subs, 404)
    sender = RecordingSender(errors={403: 403, 404: 404})
    days = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
    for i, day in enumerate(days):
        report = await make_runtime(subs, deliveries, Clock(utc(day, 13, 30)), sender,
                                    max_failures=3).run_slot(AT, NY)
        assert report is not None
        assert sorted(report.failed) == [forbidden.id, gone.id]
        assert sorted(report.disabled) == ([forbidden.id, gone.id] if i == 2 else [])
    row = deliveries.get(gone.id, days[0])
    assert row is not None and row.status == DeliveryStatus.FAILED
    assert row.last_error == "channel not found"
    after = subs.get(forbidden.id)
    assert after is not None and not after.enabled and after.consecutive_failures == 3
    assert after.disabled_reason == "disabled after 3 failed posts in a row: forbidden"
    assert subs.get(ok.id).enabled  # type: ignore[union-attr]
    # Disabled subscriptions are no longer posted to.
    sender.errors.clear()
    await make_runtime(subs, deliveries, Clock(utc(date(2026, 11, 27), 13, 30)), sender
                       ).run_slot(AT, NY)
    assert [c for c, _ in sender.sent if c != 1] == []
    # Resubscribing re-enables and resets the count.
    again = add_sub(subs, 403)
    assert again.enabled and again.consecutive_failures == 0 and again.disabled_reason is None


async def test_a_success_resets_consecutive_failures(subs: SubscriptionRepository,
                                                     deliveries: DeliveryRepository) -> None:
    sub = add_sub(subs, 7)
    sender = RecordingSender(errors={7: 403})
    await make_runtime(subs, deliveries, Clock(utc(TUE, 13, 30)), sender).run_slot(AT, NY)
    assert subs.get(sub.id).consecutive_failures == 1  # type: ignore[union-attr]
    sender.errors.clear()
    await make_runtime(subs, deliveries, Clock(utc(date(2026, 11, 25), 13, 30)), sender
                       ).run_slot(AT, NY)
    assert subs.get(sub.id).consecutive_failures == 0  # type: ignore[union-attr]


def _claim(deliveries: DeliveryRepository, sub_id: int, day: date, now: datetime,
           owner: str = "a/1/1", minutes: int = 5) -> bool:
    return deliveries.claim([sub_id], day, owner=owner, now=now,
                            lease_until=now + timedelta(minutes=minutes)) == [sub_id]


def test_claim_is_exclusive_and_leases_decide_who_reconciles(
        subs: SubscriptionRepository, deliveries: DeliveryRepository) -> None:
    sub = add_sub(subs, 5)
    now = utc(TUE, 13, 30)
    assert _claim(deliveries, sub.id, TUE, now, owner="a/1/1")
    assert not _claim(deliveries, sub.id, TUE, now, owner="b/1/1")  # in flight elsewhere
    # A live process (instance b) may not take instance a's unexpired lease ...
    assert deliveries.take_unresolved(owner="b/2/1", instance="b", boot="2", now=now,
                                      lease_until=now + timedelta(minutes=5)) == []
    # ... a restart of instance a (new boot) takes it at once ...
    taken = deliveries.take_unresolved(owner="a/2/1", instance="a", boot="2", now=now,
                                       lease_until=now + timedelta(minutes=5))
    assert [(d.subscription_id, d.status, d.lease_owner) for d in taken] == [
        (sub.id, DeliveryStatus.SENDING, "a/2/1")]
    # ... and anyone may once the lease has expired.
    later = now + timedelta(minutes=6)
    assert len(deliveries.take_unresolved(owner="b/2/2", instance="b", boot="2", now=later,
                                          lease_until=later)) == 1
    # A failed row (Discord holds no post) may be claimed again, counting the attempt.
    wed = date(2026, 11, 25)
    assert _claim(deliveries, sub.id, wed, now)
    deliveries.mark_failed(sub.id, wed, "boom", now)
    assert _claim(deliveries, sub.id, wed, now, owner="a/1/2")
    assert deliveries.get(sub.id, wed).attempts == 2  # type: ignore[union-attr]
    # An unknown row is never claimed; it waits for reconcile.
    deliveries.mark_unknown(sub.id, wed, "502", now)
    assert not _claim(deliveries, sub.id, wed, now, owner="a/1/3")


def test_claims_come_in_batches_and_retention_purges(
        subs: SubscriptionRepository, deliveries: DeliveryRepository) -> None:
    ids = [add_sub(subs, 100 + i).id for i in range(7)]
    now = utc(TUE, 13, 30)
    assert deliveries.claim(ids[:4], TUE, owner="a/1/1", now=now, lease_until=now) == ids[:4]
    assert deliveries.claim(ids, TUE, owner="a/1/2", now=now, lease_until=now) == ids[4:]
    assert deliveries.counts(TUE) == {"sending": 7}
    old = date(2026, 8, 1)
    deliveries.claim(ids, old, owner="a/1/3", now=now, lease_until=now)
    assert deliveries.purge(TUE - timedelta(days=90)) == 7
    assert deliveries.for_session(old) == [] and len(deliveries.for_session(TUE)) == 7


async def test_late_evening_slot_run_after_midnight_serves_its_own_day(
        subs: SubscriptionRepository, deliveries: DeliveryRepository) -> None:
    add_sub(subs, 11, at=time(23, 30))
    sender = RecordingSender()
    # 23:30 New York on Tue 2026-11-24 = 04:30 UTC Wed; the job runs 40 min late, after
    # local midnight: it is still Tuesday's post (not Wednesday's, hours early).
    runtime = make_runtime(subs, deliveries, Clock(utc(date(2026, 11, 25), 5, 10)), sender)
    await runtime.run_slot(time(23, 30), NY)
    assert sender.sent == [(11, TUE)]


async def test_job_beyond_grace_records_and_logs_the_miss(
        subs: SubscriptionRepository, deliveries: DeliveryRepository,
        caplog: pytest.LogCaptureFixture) -> None:
    add_sub(subs, 11)
    sender = RecordingSender()
    with caplog.at_level(logging.WARNING, logger="bot.briefing.fanout"):
        report = await make_runtime(subs, deliveries, Clock(utc(TUE, 15, 0)), sender
                                    ).run_slot(AT, NY)
    assert report is not None and report.missed == [1] and sender.sent == []
    assert "MISSED" in caplog.text


@pytest.mark.parametrize(("now", "session", "asof"), [
    (utc(TUE, 10, 0), TUE, date(2026, 11, 23)),  # before the open: Monday's close
    (utc(TUE, 22, 0), TUE, TUE),  # after Tuesday's close
    (utc(date(2026, 11, 26), 15, 0), date(2026, 11, 27), date(2026, 11, 25)),  # Thanksgiving
])
async def test_preview_and_send_now_compose_for_now(subs: SubscriptionRepository,
                                                    deliveries: DeliveryRepository,
                                                    now: datetime, session: date,
                                                    asof: date) -> None:
    composer = CountingComposer()
    runtime = make_runtime(subs, deliveries, Clock(now), RecordingSender(), composer)
    post = await runtime.compose_now(BriefingOptions())
    assert (post.session, post.asof) == (session, asof)
    sub = add_sub(subs, 77)
    await runtime.send_now(sub)
    assert deliveries.get(sub.id, session) is None  # send-now is not the scheduled delivery
    assert len(composer.calls) == 1  # the second call reused the composition


def test_concurrent_claims_on_sqlite_let_exactly_one_through(
        subs: SubscriptionRepository, deliveries: DeliveryRepository) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sub = add_sub(subs, 5)
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda n: _claim(deliveries, sub.id, TUE, utc(TUE, 13, 30),
                                             owner=f"p{n}/1/1"), range(16)))
    assert won.count(True) == 1
