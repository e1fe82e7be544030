"""The alert store on SQLite (and PostgreSQL when ``CAPBRIEF_TEST_POSTGRES_URL`` is set):
migration 0008 on a database holding 0007's rows, the tables against the migrated schema, the
batch outcomes the catch-up writes, and the retention purge (old rows go, recent ones stay)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.alerts.delivery import AlertRuntime
from bot.alerts.service import _RUNTIMES, purge_alerts_job
from bot.alerts.store import (
    AlertDeliveryRepository,
    AlertSubscriptionRepository,
    alert_subscriptions_table,
    metadata,
)
from bot.briefing.models import DeliveryStatus
from bot.storage.db import applied_versions, create_engine, migrate
from bot.storage.migrations import MIGRATIONS
from tests.postgres import PG_URL, schema_engine

CREATED = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
TODAY = datetime(2025, 9, 18, 21, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_path / 'capbrief.sqlite3'}")
        yield eng
        eng.dispose()
        return
    if not PG_URL:
        pytest.skip("set CAPBRIEF_TEST_POSTGRES_URL to run the storage tests on PostgreSQL")
    with schema_engine("capbrief_alerts") as eng:
        yield eng


def test_migration_0008_keeps_0007_rows_and_their_start(any_engine: Engine) -> None:
    migrate(any_engine, [m for m in MIGRATIONS if m.number <= 7])
    with any_engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO alert_subscriptions (guild_id, channel_id, events, enabled, created_by,"
            " created_at, updated_at) VALUES (1, 2, 'record', :t, 3, :at, :at)"),
            {"t": True, "at": CREATED})
    assert migrate(any_engine) == [m.number for m in MIGRATIONS if m.number >= 8]
    assert applied_versions(any_engine)[-1] == 8
    [sub] = AlertSubscriptionRepository(any_engine).for_guild(1)
    assert sub.enabled and sub.disabled_reason is None and sub.consecutive_failures == 0
    assert sub.enabled_at == CREATED == sub.since
    inspector = sa.inspect(any_engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name


def test_failures_disable_and_subscribing_again_re_enables(any_engine: Engine) -> None:
    migrate(any_engine)
    subs = AlertSubscriptionRepository(any_engine)
    sid = subs.upsert(guild_id=1, channel_id=2, events=("record",), created_by=3,
                      now=CREATED).id
    for n in (1, 2):
        after = subs.record_failure(sid, "403 Missing Access", max_failures=3,
                                    now=CREATED + timedelta(days=n))
        assert after is not None and after.enabled and after.consecutive_failures == n
    after = subs.record_failure(sid, "403 Missing Access", max_failures=3,
                                now=CREATED + timedelta(days=3))
    assert after is not None and not after.enabled
    assert after.disabled_reason == "disabled after 3 failed posts in a row: 403 Missing Access"
    assert subs.enabled() == []
    # Changing the events of an enabled subscription keeps its start; re-enabling moves it.
    back = CREATED + timedelta(days=10)
    again = subs.upsert(guild_id=1, channel_id=2, events=("breakout",), created_by=4, now=back)
    assert (again.enabled, again.disabled_reason, again.consecutive_failures) == (True, None, 0)
    assert again.enabled_at == back and again.created_at == CREATED and again.created_by == 3
    edited = subs.upsert(guild_id=1, channel_id=2, events=("record",), created_by=4,
                         now=back + timedelta(days=1))
    assert edited.enabled_at == back
    assert subs.record_failure(999, "gone", max_failures=1, now=back) is None


def test_record_outcome_writes_absent_and_failed_rows_only(any_engine: Engine) -> None:
    migrate(any_engine)
    subs = AlertSubscriptionRepository(any_engine)
    a, b, c, d = (subs.upsert(guild_id=1, channel_id=10 + i, events=("record",), created_by=1,
                              now=CREATED).id for i in range(4))
    ledger = AlertDeliveryRepository(any_engine)
    day = date(2025, 9, 17)
    ledger.claim([a], day, owner="x/y/1", now=TODAY, lease_until=TODAY)
    ledger.mark_sent(a, day, 123, TODAY)
    ledger.record_failures([b], day, "skipped: stale data", TODAY)
    ledger.claim([c], day, owner="x/y/2", now=TODAY, lease_until=TODAY)  # in flight
    written = ledger.record_outcome([a, b, c, d], day, DeliveryStatus.MISSED, "down", TODAY)
    assert written == [b, d]
    assert {s: ledger.get(s, day).status for s in (a, b, c, d)} == {  # type: ignore[union-attr]
        a: DeliveryStatus.SENT, b: DeliveryStatus.MISSED, c: DeliveryStatus.SENDING,
        d: DeliveryStatus.MISSED}
    assert ledger.record_outcome([d], day, DeliveryStatus.MISSED, "again", TODAY) == []
    assert ledger.last_sessions([a, b, c, d, 999]) == {a: day, b: day, c: day, d: day}


async def test_purge_removes_rows_past_retention_and_keeps_recent_ones(
        engine: Engine) -> None:
    subs = AlertSubscriptionRepository(engine)
    sid = subs.upsert(guild_id=1, channel_id=2, events=("record",), created_by=1,
                      now=CREATED).id
    ledger = AlertDeliveryRepository(engine)
    days = [date(2025, 6, 18), date(2025, 6, 19), date(2025, 6, 20), date(2025, 9, 17)]
    for day in days:
        ledger.record_outcome([sid], day, DeliveryStatus.SKIPPED, "quiet", TODAY)
    runtime = AlertRuntime(subs, ledger, sender=None, snapshot=None,  # type: ignore[arg-type]
                           render=None, params=None,  # type: ignore[arg-type]
                           delay=timedelta(minutes=30), clock=lambda: TODAY)
    try:
        # 90 days before 2025-09-18 is 2025-06-20: rows of earlier sessions go.
        assert await runtime.purge(90) == 2
        assert [d for d in days if ledger.get(sid, d)] == days[2:]
        _RUNTIMES["purge-test"] = runtime
        await purge_alerts_job("purge-test", 1)  # the scheduled job, by its primitive key
        assert [d for d in days if ledger.get(sid, d)] == [date(2025, 9, 17)]
    finally:
        _RUNTIMES.pop("purge-test", None)
        runtime.close()
    assert alert_subscriptions_table.name in sa.inspect(engine).get_table_names()


def test_an_alert_rows_nonce_is_the_alert_marker_not_the_briefings(any_engine: Engine) -> None:
    """Both ledgers share one row type: a row read from ``alert_deliveries`` must name the
    ``ca…`` marker its post carries, or anything reconciling by ``row.nonce`` looks for the
    briefing's ``cb…`` marker and never finds the alert."""
    from dataclasses import replace

    from bot.alerts.store import alert_nonce

    migrate(any_engine)
    subs = AlertSubscriptionRepository(any_engine)
    sid = subs.upsert(guild_id=1, channel_id=2, events=("record",), created_by=None,
                      now=CREATED).id
    day = date(2025, 9, 18)
    ledger = AlertDeliveryRepository(any_engine)
    ledger.claim([sid], day, owner="x/y/1", now=TODAY, lease_until=TODAY)
    row = ledger.get(sid, day)
    assert row is not None and row.nonce == alert_nonce(sid, day) == f"ca{sid}-20250918"
    assert replace(row, nonce_prefix="cb").nonce == f"cb{sid}-20250918"  # the briefing's
