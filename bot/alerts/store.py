"""Alert subscriptions and their delivery ledger (migration 0007), SQLite and PostgreSQL.

A subscription is one channel and the event kinds it wants (:data:`analytics.alerts.EVENT_KINDS`,
stored comma-separated). Deliveries live in ``alert_deliveries``, a table with exactly the
columns, unique constraint and indexes of ``briefing_deliveries``: the briefing's
:class:`~bot.briefing.store.DeliveryRepository` runs on it unchanged (claim under a lease,
``unknown`` after a 5xx, reconcile, purge), so alerts and briefings share one exactly-once code
path. One row per (subscription, session): the session's events for that channel go out as one
message, and a session evaluated with nothing for the channel leaves a ``skipped`` row
(:data:`NOTHING_FIRED`), so a session with no row is one that was never evaluated (catch-up).

Migration 0008 adds what the briefing's subscriptions have: ``consecutive_failures`` and
``disabled_reason`` (the briefing's disabling rule, :func:`~bot.briefing.store.count_failure`),
and ``enabled_at``: when the subscription was created or last re-enabled; sessions that became
due before it are not its own (neither delivered nor recorded missed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.alerts import EVENT_KINDS
from bot.briefing.models import DeliveryStatus, nonce_for
from bot.briefing.store import (
    CHUNK,
    DeliveryRepository,
    count_failure,
    delivery_table,
    reset_failures,
)
from bot.storage.db import write_transaction
from bot.storage.sql import aware as _aware

metadata = sa.MetaData()

alert_subscriptions_table = sa.Table(
    "alert_subscriptions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("guild_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("channel_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("events", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
)

alert_deliveries_table = delivery_table(metadata, "alert_deliveries", "alert_subscriptions",
                                        "uq_alert_delivery")


#: ``last_error`` of the ``skipped`` row of a session evaluated with none of the channel's events.
NOTHING_FIRED = "no alert: none of this channel's events fired"


def alert_nonce(subscription_id: int, session: date) -> str:
    """``"ca12-20250918"``: the briefing's nonce scheme with its own prefix (a channel may hold
    both a briefing and an alert subscription with the same id)."""
    return nonce_for(subscription_id, session, AlertDeliveryRepository.nonce_prefix)


@dataclass(frozen=True)
class AlertSubscription:
    """One channel's alerts: the event kinds it wants."""

    id: int
    guild_id: int
    channel_id: int
    events: tuple[str, ...] = EVENT_KINDS
    enabled: bool = True
    created_by: int | None = None
    created_at: datetime | None = None
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    #: Created or last re-enabled; sessions that became due earlier are not this one's.
    enabled_at: datetime | None = None

    @property
    def since(self) -> datetime | None:
        """Sessions that became due at or after this instant are this subscription's."""
        return self.enabled_at or self.created_at


def _to_sub(row: sa.Row[Any]) -> AlertSubscription:
    m = row._mapping
    return AlertSubscription(
        id=int(m["id"]), guild_id=int(m["guild_id"]), channel_id=int(m["channel_id"]),
        events=tuple(e for e in str(m["events"]).split(",") if e),
        enabled=bool(m["enabled"]),
        created_by=None if m["created_by"] is None else int(m["created_by"]),
        created_at=_aware(m["created_at"]), disabled_reason=m["disabled_reason"],
        consecutive_failures=int(m["consecutive_failures"] or 0),
        enabled_at=_aware(m["enabled_at"]))


class AlertSubscriptionRepository:
    """Alert subscriptions: one per channel; a guild may subscribe several channels."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(self, *, guild_id: int, channel_id: int, events: Sequence[str],
               created_by: int | None, now: datetime) -> AlertSubscription:
        """Create the channel's subscription, or update it: re-enabled (``enabled_at`` moves to
        ``now`` if it was disabled), failures reset."""
        t = alert_subscriptions_table
        values = {"guild_id": guild_id, "events": ",".join(events), "enabled": True,
                  "disabled_reason": None, "consecutive_failures": 0, "updated_at": now}
        with write_transaction(self.engine) as conn:
            found = conn.execute(sa.select(t.c.id).where(t.c.channel_id == channel_id)).first()
            if found is None:
                conn.execute(t.insert().values(channel_id=channel_id, created_by=created_by,
                                               created_at=now, enabled_at=now, **values))
            else:  # SET reads the row as it was: ``enabled`` before this update
                conn.execute(t.update().where(t.c.id == found.id).values(
                    enabled_at=sa.case((t.c.enabled.is_(False), now),
                                       else_=sa.func.coalesce(t.c.enabled_at, t.c.created_at)),
                    **values))
            row = conn.execute(sa.select(t).where(t.c.channel_id == channel_id)).one()
        return _to_sub(row)

    def for_guild(self, guild_id: int) -> list[AlertSubscription]:
        t = alert_subscriptions_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.guild_id == guild_id).order_by(t.c.id))
            return [_to_sub(r) for r in rows]

    def enabled(self) -> list[AlertSubscription]:
        t = alert_subscriptions_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.enabled.is_(True)).order_by(t.c.id))
            return [_to_sub(r) for r in rows]

    def many(self, ids: Sequence[int]) -> dict[int, AlertSubscription]:
        t = alert_subscriptions_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.id.in_(list(ids))))
            return {s.id: s for s in map(_to_sub, rows)}

    def record_failure(self, subscription_id: int, reason: str, *, max_failures: int,
                       now: datetime) -> AlertSubscription | None:
        """The briefing's rule: one more consecutive failure; at ``max_failures`` disabled."""
        row = count_failure(self.engine, alert_subscriptions_table, subscription_id, reason,
                            max_failures=max_failures, now=now)
        return None if row is None else _to_sub(row)

    def record_success(self, subscription_id: int, now: datetime) -> None:
        reset_failures(self.engine, alert_subscriptions_table, subscription_id, now)

    def delete(self, subscription_id: int) -> bool:
        """Remove a subscription and its delivery rows; False if it was not there."""
        t, d = alert_subscriptions_table, alert_deliveries_table
        with write_transaction(self.engine) as conn:
            conn.execute(d.delete().where(d.c.subscription_id == subscription_id))
            return conn.execute(t.delete().where(t.c.id == subscription_id)).rowcount > 0


class AlertDeliveryRepository(DeliveryRepository):
    """The briefing ledger on ``alert_deliveries``, plus the per-day count of sent messages."""

    nonce_prefix = "ca"

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, alert_deliveries_table)

    def last_sessions(self, subscription_ids: Sequence[int]) -> dict[int, date]:
        """``{subscription_id: latest session with a row}`` (absent: no row yet)."""
        d = self.table
        out: dict[int, date] = {}
        with self.engine.connect() as conn:
            ids = list(subscription_ids)
            for start in range(0, len(ids), CHUNK):
                rows = conn.execute(sa.select(d.c.subscription_id, sa.func.max(d.c.session))
                                    .where(d.c.subscription_id.in_(ids[start:start + CHUNK]))
                                    .group_by(d.c.subscription_id))
                out.update({int(sid): day for sid, day in rows})
        return out

    def sent_between(self, subscription_id: int, start: datetime, end: datetime) -> int:
        """Messages recorded ``sent`` for the subscription with ``start <= updated_at < end``
        (the ``max_per_day`` cap counts these)."""
        d = self.table
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(
                d.c.subscription_id == subscription_id,
                d.c.status == DeliveryStatus.SENT.value,
                d.c.updated_at >= start, d.c.updated_at < end)).scalar_one())
