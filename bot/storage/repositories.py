"""All SQL lives in the stores under ``bot/storage/``; repositories are synchronous and async
callers run them in a thread.

The bar cache's tables and :class:`BarRepository` live in :mod:`bot.storage.bars` (re-exported
here under their old names); this module holds the briefing subscriptions and deliveries
(tables from migration 0002). Timestamps are stored as UTC and always returned tz-aware.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.storage.bars import (
    BarRepository,
    SymbolState,
    bar_blocks_table,
    bars_table,
    fetch_state_table,
)
from bot.storage.db import write_transaction
from bot.storage.sql import aware as _aware
from bot.storage.sql import metadata, upsert
from bot.subscriptions import (
    BriefingOptions,
    Delivery,
    DeliveryStatus,
    Subscription,
    format_time,
    parse_local_time,
)

__all__ = ["BarRepository", "SymbolState", "bar_blocks_table", "bars_table",
           "fetch_state_table", "metadata", "upsert"]


# ---------------------------------------------------------------------------------------------
# Briefing subscriptions and deliveries (BRIEFING-DELIVERY). Tables created by migration 0002.
# Times are stored as "HH:MM" text and zones as IANA names; options as columns (charts flag,
# comma-separated sections) so the same SQL runs on SQLite and PostgreSQL.
# ---------------------------------------------------------------------------------------------

subscriptions_table = sa.Table(
    "briefing_subscriptions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("guild_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("channel_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("local_time", sa.String(5), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("charts", sa.Boolean, nullable=False, default=True),
    sa.Column("sections", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("created_by", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

deliveries_table = sa.Table(
    "briefing_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", sa.Integer,
              sa.ForeignKey("briefing_subscriptions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("session", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message_id", sa.BigInteger, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("subscription_id", "session", name="uq_briefing_delivery"),
)


def _to_subscription(row: sa.Row[Any]) -> Subscription:
    m = row._mapping
    sections = tuple(s for s in str(m["sections"]).split(",") if s)
    return Subscription(
        id=int(m["id"]), guild_id=int(m["guild_id"]), channel_id=int(m["channel_id"]),
        local_time=parse_local_time(m["local_time"]), timezone=str(m["timezone"]),
        options=BriefingOptions(charts=bool(m["charts"]), sections=sections),
        enabled=bool(m["enabled"]), disabled_reason=m["disabled_reason"],
        consecutive_failures=int(m["consecutive_failures"]),
        created_by=None if m["created_by"] is None else int(m["created_by"]),
        created_at=_aware(m["created_at"]),
    )


def _to_delivery(row: sa.Row[Any]) -> Delivery:
    m = row._mapping
    return Delivery(
        subscription_id=int(m["subscription_id"]), session=m["session"],
        status=DeliveryStatus(m["status"]),
        message_id=None if m["message_id"] is None else int(m["message_id"]),
        attempts=int(m["attempts"]), last_error=m["last_error"],
        updated_at=_aware(m["updated_at"]),
    )


class SubscriptionRepository:
    """Briefing subscriptions: one per channel; a guild may subscribe several channels."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(self, *, guild_id: int, channel_id: int, local_time: time, timezone: str,
               options: BriefingOptions, created_by: int | None, now: datetime) -> Subscription:
        """Create the channel's subscription, or update it (re-enabled, failures reset)."""
        t = subscriptions_table
        values = {"guild_id": guild_id, "local_time": format_time(local_time),
                  "timezone": timezone, "charts": options.charts,
                  "sections": ",".join(options.sections), "enabled": True,
                  "disabled_reason": None, "consecutive_failures": 0, "updated_at": now}
        with write_transaction(self.engine) as conn:
            found = conn.execute(sa.select(t.c.id).where(t.c.channel_id == channel_id)).first()
            if found is None:
                conn.execute(t.insert().values(channel_id=channel_id, created_by=created_by,
                                               created_at=now, **values))
            else:
                conn.execute(t.update().where(t.c.id == found.id).values(**values))
            row = conn.execute(sa.select(t).where(t.c.channel_id == channel_id)).one()
        return _to_subscription(row)

    def get(self, subscription_id: int) -> Subscription | None:
        t = subscriptions_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == subscription_id)).first()
        return None if row is None else _to_subscription(row)

    def for_channel(self, channel_id: int) -> Subscription | None:
        t = subscriptions_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.channel_id == channel_id)).first()
        return None if row is None else _to_subscription(row)

    def for_guild(self, guild_id: int) -> list[Subscription]:
        t = subscriptions_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.guild_id == guild_id).order_by(t.c.id))
            return [_to_subscription(r) for r in rows]

    def enabled(self, slot: tuple[str, str] | None = None) -> list[Subscription]:
        """Enabled subscriptions, optionally only those of one ``("HH:MM", zone)`` slot."""
        t = subscriptions_table
        query = sa.select(t).where(t.c.enabled.is_(True)).order_by(t.c.id)
        if slot is not None:
            query = query.where(t.c.local_time == slot[0], t.c.timezone == slot[1])
        with self.engine.connect() as conn:
            return [_to_subscription(r) for r in conn.execute(query)]

    def slots(self) -> list[tuple[time, str]]:
        """The distinct (local time, zone) pairs of enabled subscriptions."""
        t = subscriptions_table
        query = (sa.select(t.c.local_time, t.c.timezone).where(t.c.enabled.is_(True))
                 .distinct().order_by(t.c.local_time, t.c.timezone))
        with self.engine.connect() as conn:
            return [(parse_local_time(r.local_time), str(r.timezone)) for r in conn.execute(query)]

    def delete(self, subscription_id: int) -> bool:
        """Remove a subscription and its delivery history; False if it was not there."""
        t = subscriptions_table
        with write_transaction(self.engine) as conn:
            conn.execute(deliveries_table.delete().where(
                deliveries_table.c.subscription_id == subscription_id))
            return conn.execute(t.delete().where(t.c.id == subscription_id)).rowcount > 0

    def record_failure(self, subscription_id: int, reason: str, *, max_failures: int,
                       now: datetime) -> Subscription | None:
        """Count one more consecutive failure; at ``max_failures`` disable with ``reason``."""
        t = subscriptions_table
        with write_transaction(self.engine) as conn:
            conn.execute(t.update().where(t.c.id == subscription_id).values(
                consecutive_failures=t.c.consecutive_failures + 1, updated_at=now))
            row = conn.execute(sa.select(t).where(t.c.id == subscription_id)).first()
            if row is None:
                return None
            if row.enabled and row.consecutive_failures >= max_failures:
                why = f"disabled after {row.consecutive_failures} failed posts in a row: {reason}"
                conn.execute(t.update().where(t.c.id == subscription_id).values(
                    enabled=False, disabled_reason=why, updated_at=now))
                row = conn.execute(sa.select(t).where(t.c.id == subscription_id)).one()
        return _to_subscription(row)

    def record_success(self, subscription_id: int, now: datetime) -> None:
        t = subscriptions_table
        with write_transaction(self.engine) as conn:
            conn.execute(t.update().where(t.c.id == subscription_id,
                                          t.c.consecutive_failures != 0)
                         .values(consecutive_failures=0, updated_at=now))


class DeliveryRepository:
    """One row per (subscription, session): the exactly-once ledger of the morning post.

    :meth:`claim` commits a ``sending`` row *before* the post is sent; only a ``failed`` row may
    be claimed again. So a crash between send and :meth:`mark_sent` leaves ``sending``, which
    :meth:`interrupt_stale` turns into ``interrupted`` at the next start: never re-sent
    (at-most-once), always visible.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, subscription_id: int, session: date, now: datetime) -> bool:
        """Atomically take the right to post; False if sent, in flight, interrupted or missed."""
        d = deliveries_table
        key = (d.c.subscription_id == subscription_id) & (d.c.session == session)
        try:
            with write_transaction(self.engine) as conn:
                row = conn.execute(sa.select(d.c.status).where(key)).first()
                if row is None:
                    conn.execute(d.insert().values(
                        subscription_id=subscription_id, session=session,
                        status=DeliveryStatus.SENDING.value, attempts=1, created_at=now,
                        updated_at=now))
                    return True
                if row.status != DeliveryStatus.FAILED.value:
                    return False
                done = conn.execute(d.update().where(
                    key, d.c.status == DeliveryStatus.FAILED.value).values(
                    status=DeliveryStatus.SENDING.value, attempts=d.c.attempts + 1,
                    updated_at=now))
                return done.rowcount == 1
        except sa.exc.IntegrityError:
            return False  # another process inserted the row first

    def _finish(self, subscription_id: int, session: date, now: datetime,
                **values: Any) -> None:
        d = deliveries_table
        with write_transaction(self.engine) as conn:
            conn.execute(d.update().where(d.c.subscription_id == subscription_id,
                                          d.c.session == session)
                         .values(updated_at=now, **values))

    def mark_sent(self, subscription_id: int, session: date, message_id: int | None,
                  now: datetime) -> None:
        self._finish(subscription_id, session, now, status=DeliveryStatus.SENT.value,
                     message_id=message_id, last_error=None)

    def mark_failed(self, subscription_id: int, session: date, error: str,
                    now: datetime) -> None:
        self._finish(subscription_id, session, now, status=DeliveryStatus.FAILED.value,
                     last_error=error[:500])

    def mark_missed(self, subscription_id: int, session: date, reason: str,
                    now: datetime) -> bool:
        """Record a slot that passed outside the grace window; False if a row already exists."""
        d = deliveries_table
        try:
            with write_transaction(self.engine) as conn:
                exists = conn.execute(sa.select(d.c.id).where(
                    d.c.subscription_id == subscription_id, d.c.session == session)).first()
                if exists is not None:
                    return False
                conn.execute(d.insert().values(
                    subscription_id=subscription_id, session=session,
                    status=DeliveryStatus.MISSED.value, attempts=0, last_error=reason,
                    created_at=now, updated_at=now))
                return True
        except sa.exc.IntegrityError:
            return False

    def interrupt_stale(self, now: datetime) -> list[Delivery]:
        """At start-up: every ``sending`` row is from a dead process → ``interrupted``."""
        d = deliveries_table
        reason = ("the bot stopped between posting and recording; not re-sent (at-most-once), "
                  "check the channel")
        with write_transaction(self.engine) as conn:
            rows = conn.execute(sa.select(d).where(
                d.c.status == DeliveryStatus.SENDING.value)).all()
            if rows:
                conn.execute(d.update().where(d.c.status == DeliveryStatus.SENDING.value)
                             .values(status=DeliveryStatus.INTERRUPTED.value,
                                     last_error=reason, updated_at=now))
        return [_to_delivery(r) for r in rows]

    def get(self, subscription_id: int, session: date) -> Delivery | None:
        d = deliveries_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(d).where(d.c.subscription_id == subscription_id,
                                                  d.c.session == session)).first()
        return None if row is None else _to_delivery(row)

    def last(self, subscription_id: int) -> Delivery | None:
        d = deliveries_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(d).where(d.c.subscription_id == subscription_id)
                               .order_by(d.c.session.desc()).limit(1)).first()
        return None if row is None else _to_delivery(row)

    def for_session(self, session: date) -> list[Delivery]:
        d = deliveries_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(d).where(d.c.session == session)
                                .order_by(d.c.subscription_id))
            return [_to_delivery(r) for r in rows]


__all__ += ["DeliveryRepository", "SubscriptionRepository", "deliveries_table",
            "subscriptions_table"]
