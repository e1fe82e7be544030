"""The briefing ledger on PostgreSQL (same SQL as SQLite). Runs only when
``CAPBRIEF_TEST_POSTGRES_URL`` is set; works in a fresh schema dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.briefing.models import BriefingOptions, DeliveryStatus
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.storage.db import migrate
from tests.postgres import needs_postgres, schema_engine

pytestmark = needs_postgres
NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
TUE = date(2026, 11, 24)


def _claim(deliveries: DeliveryRepository, sub_id: int, day: date, owner: str) -> bool:
    return deliveries.claim([sub_id], day, owner=owner, now=NOW,
                            lease_until=NOW + timedelta(minutes=5)) == [sub_id]


@pytest.fixture
def engine() -> Iterator[Engine]:
    with schema_engine("capbrief_briefing") as eng:
        migrate(eng)
        yield eng


def test_subscription_and_delivery_ledger_on_postgres(engine: Engine) -> None:
    subs, deliveries = SubscriptionRepository(engine), DeliveryRepository(engine)
    sub = subs.upsert(guild_id=2**62, channel_id=2**62 + 1, local_time=time(8, 30),
                      timezone="America/New_York", options=BriefingOptions(charts=False),
                      created_by=2**61, now=NOW)
    assert sub.channel_id == 2**62 + 1 and sub.created_at == NOW and not sub.options.charts
    assert subs.slots() == [(time(8, 30), "America/New_York")]
    assert [s.id for s in subs.enabled(("08:30", "America/New_York"))] == [sub.id]
    assert _claim(deliveries, sub.id, TUE, "a/1/1")
    assert not _claim(deliveries, sub.id, TUE, "b/1/1")
    deliveries.mark_sent(sub.id, TUE, 2**63 - 1, NOW)
    row = deliveries.get(sub.id, TUE)
    assert row is not None and row.status == DeliveryStatus.SENT and row.message_id == 2**63 - 1
    assert _claim(deliveries, sub.id, date(2026, 11, 25), "a/1/2")
    taken = deliveries.take_unresolved(owner="a/2/1", instance="a", boot="2", now=NOW,
                                       lease_until=NOW + timedelta(minutes=5))
    assert [d.session for d in taken] == [date(2026, 11, 25)]
    assert deliveries.counts(TUE) == {"sent": 1}
    assert deliveries.purge(date(2026, 11, 25)) == 1
    assert deliveries.mark_missed(sub.id, date(2026, 11, 27), "down", NOW)
    assert not deliveries.mark_missed(sub.id, date(2026, 11, 27), "down", NOW)
    for _ in range(3):
        after = subs.record_failure(sub.id, "gone", max_failures=3, now=NOW)
    assert after is not None and not after.enabled and "gone" in (after.disabled_reason or "")
    assert subs.slots() == []
    assert subs.delete(sub.id) and subs.get(sub.id) is None


def test_concurrent_claims_on_postgres_let_exactly_one_through(engine: Engine) -> None:
    subs, deliveries = SubscriptionRepository(engine), DeliveryRepository(engine)
    sub = subs.upsert(guild_id=1, channel_id=2, local_time=time(8, 30),
                      timezone="America/New_York", options=BriefingOptions(), created_by=None,
                      now=NOW)
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda n: _claim(deliveries, sub.id, TUE, f"p{n}/1/1"), range(16)))
    assert won.count(True) == 1
