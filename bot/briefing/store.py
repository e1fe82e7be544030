"""Briefing subscriptions and the delivery ledger: all of the briefing's SQL (SQLite, PostgreSQL).

Tables from migrations 0002 and 0006. Times are stored as ``"HH:MM"`` text and zones as IANA
names; options as columns (charts flag, comma-separated sections). Timestamps are UTC, returned
tz-aware.

The ledger (``briefing_deliveries``, one row per subscription and session) is what makes the
post exactly-once across restarts and processes:

- :meth:`DeliveryRepository.claim` takes a *batch* of subscriptions in one transaction: a row is
  inserted as ``sending`` (``INSERT … ON CONFLICT DO NOTHING``, so of two processes only one
  wins) or a ``failed`` row is moved back to ``sending``. Each call writes a fresh lease token
  (``instance/boot/n``) and an expiry, and returns the rows carrying that token: exactly the
  ones this call won.
- :meth:`DeliveryRepository.take_unresolved` leases the ``sending``/``unknown`` rows that need
  a reconcile: an expired lease, a released one (``unknown``), or one held by an earlier life of
  *this* instance (a restart does not wait for its own leases). A live process's rows (another
  instance, lease not expired) are left alone, so a rolling restart never steals them.
- Indexes: (session, status) for the fan-out and (status, lease_until) for reconcile; old rows
  go with :meth:`DeliveryRepository.purge` (retention, 90 days by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot.briefing.models import (
    RETRYABLE,
    UNRESOLVED,
    BriefingOptions,
    Delivery,
    DeliveryStatus,
    Subscription,
    format_time,
    parse_local_time,
)
from bot.storage.db import write_transaction
from bot.storage.sql import aware as _aware

metadata = sa.MetaData()
_ERROR_MAX = 500
#: Rows per statement when a batch is written (well under SQLite's 32,766 parameters).
CHUNK = 500

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

def delivery_table(meta: sa.MetaData, name: str, subscriptions: str, unique: str) -> sa.Table:
    """A delivery ledger table: one row per subscription (of table ``subscriptions``) and
    session, with its status, message id, attempts, last error and lease, and the indexes the
    fan-out and reconcile read by. The briefing's and the alerts' ledgers share this shape (and
    :class:`DeliveryRepository`); each table's migration creates the same columns and indexes."""
    return sa.Table(
        name, meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Integer,
                  sa.ForeignKey(f"{subscriptions}.id", ondelete="CASCADE"), nullable=False),
        sa.Column("session", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("subscription_id", "session", name=unique),
        sa.Index(f"ix_{name}_session_status", "session", "status"),
        sa.Index(f"ix_{name}_status_lease", "status", "lease_until"),
    )


deliveries_table = delivery_table(metadata, "briefing_deliveries", "briefing_subscriptions",
                                  "uq_briefing_delivery")


def _insert(conn: Connection, table: sa.Table) -> Any:
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"the ledger runs on sqlite and postgresql, not {name}")


def _chunks(items: Sequence[int]) -> list[Sequence[int]]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


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


def _to_delivery(row: sa.Row[Any], prefix: str = "cb") -> Delivery:
    m = row._mapping
    return Delivery(
        subscription_id=int(m["subscription_id"]), session=m["session"],
        status=DeliveryStatus(m["status"]),
        message_id=None if m["message_id"] is None else int(m["message_id"]),
        attempts=int(m["attempts"]), last_error=m["last_error"],
        updated_at=_aware(m["updated_at"]), lease_owner=m["lease_owner"],
        lease_until=_aware(m["lease_until"]), created_at=_aware(m["created_at"]),
        nonce_prefix=prefix,
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

    def many(self, ids: Sequence[int]) -> dict[int, Subscription]:
        """The subscriptions of ``ids`` that still exist, by id."""
        t = subscriptions_table
        out: dict[int, Subscription] = {}
        with self.engine.connect() as conn:
            for part in _chunks(list(ids)):
                for row in conn.execute(sa.select(t).where(t.c.id.in_(part))):
                    sub = _to_subscription(row)
                    out[sub.id] = sub
        return out

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
        row = count_failure(self.engine, subscriptions_table, subscription_id, reason,
                            max_failures=max_failures, now=now)
        return None if row is None else _to_subscription(row)

    def record_success(self, subscription_id: int, now: datetime) -> None:
        reset_failures(self.engine, subscriptions_table, subscription_id, now)


def count_failure(engine: Engine, table: sa.Table, subscription_id: int, reason: str, *,
                  max_failures: int, now: datetime) -> sa.Row[Any] | None:
    """One more consecutive failed post for a subscription of ``table`` (a table with
    ``enabled``, ``disabled_reason`` and ``consecutive_failures``: the briefing's or the
    alerts'); at ``max_failures`` in a row it is disabled, the reason saying how many and why.
    Returns the row after the change (None if the subscription is gone)."""
    t = table
    with write_transaction(engine) as conn:
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
    return row


def reset_failures(engine: Engine, table: sa.Table, subscription_id: int, now: datetime) -> None:
    """A post went out: the consecutive-failure count of ``table``'s subscription is zero."""
    t = table
    with write_transaction(engine) as conn:
        conn.execute(t.update().where(t.c.id == subscription_id, t.c.consecutive_failures != 0)
                     .values(consecutive_failures=0, updated_at=now))


class DeliveryRepository:
    """One row per (subscription, session): the exactly-once ledger (see the module docstring)."""

    def __init__(self, engine: Engine, table: sa.Table | None = None) -> None:
        self.engine = engine
        #: ``briefing_deliveries`` by default; the alerts pass ``alert_deliveries`` (the same
        #: columns, constraint and indexes), so both share every exactly-once code path.
        self.table = deliveries_table if table is None else table

    #: The nonce prefix of this ledger's posts (:attr:`Delivery.nonce`).
    nonce_prefix = "cb"

    # -- claiming -------------------------------------------------------------------------
    def claim(self, subscription_ids: Sequence[int], session: date, *, owner: str,
              now: datetime, lease_until: datetime) -> list[int]:
        """Claim a batch for ``session`` under the unique lease token ``owner``.

        New rows are inserted ``sending``; ``failed`` rows (Discord holds no post) go back to
        ``sending``; every other row is left alone. Returns the ids this call won.
        """
        d = self.table
        ids = list(dict.fromkeys(subscription_ids))
        won: list[int] = []
        with write_transaction(self.engine) as conn:
            for part in _chunks(ids):
                stmt = _insert(conn, d).on_conflict_do_nothing(
                    index_elements=["subscription_id", "session"])
                conn.execute(stmt, [{
                    "subscription_id": sid, "session": session,
                    "status": DeliveryStatus.SENDING.value, "attempts": 1, "created_at": now,
                    "updated_at": now, "lease_owner": owner, "lease_until": lease_until}
                    for sid in part])
                conn.execute(d.update().where(
                    d.c.session == session, d.c.subscription_id.in_(part),
                    d.c.status.in_([s.value for s in RETRYABLE])).values(
                    status=DeliveryStatus.SENDING.value, attempts=d.c.attempts + 1,
                    lease_owner=owner, lease_until=lease_until, updated_at=now))
                won += [int(r[0]) for r in conn.execute(sa.select(d.c.subscription_id).where(
                    d.c.session == session, d.c.subscription_id.in_(part),
                    d.c.lease_owner == owner,
                    d.c.status == DeliveryStatus.SENDING.value))]
        return sorted(won)

    def take_unresolved(self, *, owner: str, instance: str, boot: str, now: datetime,
                        lease_until: datetime, session: date | None = None,
                        limit: int = CHUNK) -> list[Delivery]:
        """Lease up to ``limit`` ``sending``/``unknown`` rows that need a reconcile.

        Taken: a lease that expired or was released, or one held by an earlier life of
        ``instance`` (lease tokens are ``instance/boot/n``; this life is ``boot``).
        """
        d = self.table
        mine_before = d.c.lease_owner.like(f"{instance}/%") & ~d.c.lease_owner.like(
            f"{instance}/{boot}/%")
        free = (d.c.lease_until.is_(None) | (d.c.lease_until <= now) | mine_before)
        cond = d.c.status.in_([s.value for s in UNRESOLVED]) & free
        if session is not None:
            cond = cond & (d.c.session == session)
        with write_transaction(self.engine) as conn:
            ids = [int(r[0]) for r in conn.execute(
                sa.select(d.c.id).where(cond).order_by(d.c.id).limit(limit))]
            if not ids:
                return []
            conn.execute(d.update().where(d.c.id.in_(ids), cond).values(
                lease_owner=owner, lease_until=lease_until))
            rows = conn.execute(sa.select(d).where(d.c.id.in_(ids), d.c.lease_owner == owner))
            return [_to_delivery(r, self.nonce_prefix) for r in rows]

    def renew(self, subscription_id: int, session: date, owner: str,
              lease_until: datetime) -> bool:
        """Extend a lease this owner holds (before a long wait); False if it was lost."""
        d = self.table
        with write_transaction(self.engine) as conn:
            done = conn.execute(d.update().where(
                d.c.subscription_id == subscription_id, d.c.session == session,
                d.c.lease_owner == owner).values(lease_until=lease_until))
            return done.rowcount == 1

    # -- outcomes ---------------------------------------------------------------------------
    def _finish(self, subscription_id: int, session: date, now: datetime,
                **values: Any) -> None:
        d = self.table
        with write_transaction(self.engine) as conn:
            conn.execute(d.update().where(d.c.subscription_id == subscription_id,
                                          d.c.session == session)
                         .values(updated_at=now, lease_until=now, **values))

    def mark_sent(self, subscription_id: int, session: date, message_id: int | None,
                  now: datetime, note: str | None = None) -> None:
        """The post was seen (sent, or found by reconcile); ``note`` e.g. a stale label."""
        self._finish(subscription_id, session, now, status=DeliveryStatus.SENT.value,
                     message_id=message_id, last_error=note)

    def mark_unknown(self, subscription_id: int, session: date, error: str,
                     now: datetime) -> None:
        """A 5xx or timeout: maybe posted. The lease is released so reconcile can take it."""
        self._finish(subscription_id, session, now, status=DeliveryStatus.UNKNOWN.value,
                     last_error=error[:_ERROR_MAX])

    def mark_failed(self, subscription_id: int, session: date, error: str,
                    now: datetime) -> None:
        """Discord holds no post (refused, throttled, or nothing composed): may be retried."""
        self._finish(subscription_id, session, now, status=DeliveryStatus.FAILED.value,
                     last_error=error[:_ERROR_MAX])

    def mark_skipped(self, subscription_id: int, session: date, reason: str,
                     now: datetime) -> None:
        self._finish(subscription_id, session, now, status=DeliveryStatus.SKIPPED.value,
                     last_error=reason[:_ERROR_MAX])

    def record_failures(self, subscription_ids: Sequence[int], session: date, error: str,
                        now: datetime) -> None:
        """Record ``failed`` rows (e.g. the composition failed) for a batch, inserting absent
        rows and leaving ``sent``/``unknown``/``sending`` ones alone."""
        self.record_outcome(subscription_ids, session, DeliveryStatus.FAILED, error, now)

    def record_outcome(self, subscription_ids: Sequence[int], session: date,
                       status: DeliveryStatus, reason: str, now: datetime) -> list[int]:
        """Record ``status`` with ``reason`` for a batch with nothing to send: absent rows are
        inserted, ``failed`` rows (Discord holds no post) take the new status and reason, every
        other row is left alone. Returns the ids whose row was written, in order."""
        d = self.table
        written: set[int] = set()
        with write_transaction(self.engine) as conn:
            for part in _chunks(list(dict.fromkeys(subscription_ids))):
                stmt = _insert(conn, d).values([{
                    "subscription_id": sid, "session": session, "status": status.value,
                    "attempts": 0, "last_error": reason[:_ERROR_MAX], "created_at": now,
                    "updated_at": now} for sid in part]).on_conflict_do_nothing(
                    index_elements=["subscription_id", "session"]).returning(d.c.subscription_id)
                written.update(int(r[0]) for r in conn.execute(stmt))
                done = conn.execute(d.update().where(
                    d.c.session == session, d.c.subscription_id.in_(part),
                    d.c.status == DeliveryStatus.FAILED.value).values(
                    status=status.value, last_error=reason[:_ERROR_MAX], updated_at=now)
                    .returning(d.c.subscription_id))
                written.update(int(r[0]) for r in done)
        return sorted(written)

    def mark_missed(self, subscription_id: int, session: date, reason: str,
                    now: datetime) -> bool:
        """Record a slot that passed outside the grace window; False if a row already exists
        (a ``failed`` row, which Discord holds no post for, becomes ``missed``)."""
        d = self.table
        with write_transaction(self.engine) as conn:
            stmt = _insert(conn, d).values(
                subscription_id=subscription_id, session=session,
                status=DeliveryStatus.MISSED.value, attempts=0, last_error=reason,
                created_at=now, updated_at=now).on_conflict_do_nothing(
                index_elements=["subscription_id", "session"]).returning(d.c.id)
            return conn.execute(stmt).first() is not None

    # -- reads ------------------------------------------------------------------------------
    def get(self, subscription_id: int, session: date) -> Delivery | None:
        d = self.table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(d).where(d.c.subscription_id == subscription_id,
                                                  d.c.session == session)).first()
        return None if row is None else _to_delivery(row, self.nonce_prefix)

    def last(self, subscription_id: int) -> Delivery | None:
        d = self.table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(d).where(d.c.subscription_id == subscription_id)
                               .order_by(d.c.session.desc()).limit(1)).first()
        return None if row is None else _to_delivery(row, self.nonce_prefix)

    def for_session(self, session: date) -> list[Delivery]:
        d = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(d).where(d.c.session == session)
                                .order_by(d.c.subscription_id))
            return [_to_delivery(r, self.nonce_prefix) for r in rows]

    def statuses(self, session: date) -> dict[int, DeliveryStatus]:
        """``{subscription_id: status}`` for ``session``: two columns, for the fan-out."""
        d = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(d.c.subscription_id, d.c.status).where(
                d.c.session == session))
            return {int(sid): DeliveryStatus(status) for sid, status in rows}

    def counts(self, session: date) -> dict[str, int]:
        """Rows per status for ``session`` (one indexed query)."""
        d = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(d.c.status, sa.func.count()).where(
                d.c.session == session).group_by(d.c.status))
            return {str(s): int(n) for s, n in rows}

    def unresolved(self, session: date | None = None) -> list[Delivery]:
        d = self.table
        cond: Any = d.c.status.in_([s.value for s in UNRESOLVED])
        if session is not None:
            cond = cond & (d.c.session == session)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(d).where(cond))
            return [_to_delivery(r, self.nonce_prefix) for r in rows]

    # -- retention --------------------------------------------------------------------------
    def purge(self, before: date) -> int:
        """Delete rows of sessions before ``before``; returns how many went."""
        d = self.table
        with write_transaction(self.engine) as conn:
            return int(conn.execute(d.delete().where(d.c.session < before)).rowcount or 0)
