"""Alert subscriptions and their delivery ledger (migration 0007), SQLite and PostgreSQL.

A subscription is one channel and the event kinds it wants (:data:`analytics.alerts.EVENT_KINDS`,
stored comma-separated). Deliveries live in ``alert_deliveries``, a table with exactly the
columns, unique constraint and indexes of ``briefing_deliveries``: the briefing's
:class:`~bot.briefing.store.DeliveryRepository` runs on it unchanged (claim under a lease,
``unknown`` after a 5xx, reconcile, purge), so alerts and briefings share one exactly-once code
path. One row per (subscription, session): the session's events for that channel go out as one
message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.alerts import EVENT_KINDS
from bot.briefing.models import DeliveryStatus
from bot.briefing.store import DeliveryRepository, delivery_table
from bot.errors import BadInput
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
)

alert_deliveries_table = delivery_table(metadata, "alert_deliveries", "alert_subscriptions",
                                        "uq_alert_delivery")


def alert_nonce(subscription_id: int, session: date) -> str:
    """``"ca12-20250918"``: the briefing's nonce scheme with its own prefix (a channel may hold
    both a briefing and an alert subscription with the same id)."""
    return f"ca{subscription_id}-{session:%Y%m%d}"


def parse_events(text: str | None) -> tuple[str, ...]:
    """``"record, breakout"`` → ``("record", "breakout")`` (in :data:`EVENT_KINDS` order);
    None/empty → every kind; an unknown name is a one-line :class:`BadInput` listing the valid
    ones."""
    if not text or not text.strip():
        return EVENT_KINDS
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in EVENT_KINDS]
    if unknown or not names:
        shown = ", ".join(unknown) if unknown else repr(text)
        raise BadInput(f"unknown alert event(s): {shown}; choose from {', '.join(EVENT_KINDS)}")
    return tuple(k for k in EVENT_KINDS if k in names)


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


def _to_sub(row: sa.Row[Any]) -> AlertSubscription:
    m = row._mapping
    return AlertSubscription(
        id=int(m["id"]), guild_id=int(m["guild_id"]), channel_id=int(m["channel_id"]),
        events=tuple(e for e in str(m["events"]).split(",") if e),
        enabled=bool(m["enabled"]),
        created_by=None if m["created_by"] is None else int(m["created_by"]),
        created_at=_aware(m["created_at"]))


class AlertSubscriptionRepository:
    """Alert subscriptions: one per channel; a guild may subscribe several channels."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(self, *, guild_id: int, channel_id: int, events: Sequence[str],
               created_by: int | None, now: datetime) -> AlertSubscription:
        t = alert_subscriptions_table
        values = {"guild_id": guild_id, "events": ",".join(events), "enabled": True,
                  "updated_at": now}
        with write_transaction(self.engine) as conn:
            found = conn.execute(sa.select(t.c.id).where(t.c.channel_id == channel_id)).first()
            if found is None:
                conn.execute(t.insert().values(channel_id=channel_id, created_by=created_by,
                                               created_at=now, **values))
            else:
                conn.execute(t.update().where(t.c.id == found.id).values(**values))
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

    def delete(self, subscription_id: int) -> bool:
        """Remove a subscription and its delivery rows; False if it was not there."""
        t, d = alert_subscriptions_table, alert_deliveries_table
        with write_transaction(self.engine) as conn:
            conn.execute(d.delete().where(d.c.subscription_id == subscription_id))
            return conn.execute(t.delete().where(t.c.id == subscription_id)).rowcount > 0


class AlertDeliveryRepository(DeliveryRepository):
    """The briefing ledger on ``alert_deliveries``, plus the per-day count of sent messages."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, alert_deliveries_table)

    def sent_between(self, subscription_id: int, start: datetime, end: datetime) -> int:
        """Messages recorded ``sent`` for the subscription with ``start <= updated_at < end``
        (the ``max_per_day`` cap counts these)."""
        d = self.table
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(
                d.c.subscription_id == subscription_id,
                d.c.status == DeliveryStatus.SENT.value,
                d.c.updated_at >= start, d.c.updated_at < end)).scalar_one())
