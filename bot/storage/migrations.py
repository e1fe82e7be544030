"""Numbered schema migrations, oldest first, in portable SQLAlchemy DDL (SQLite and PostgreSQL).

Each migration is ``Migration(number, name, apply)``, where ``apply(conn)`` issues DDL on a
connection already inside a transaction (see :func:`bot.storage.db.migrate`). A migration is
history: never edit one that has shipped; append a new number instead. Tables are declared on a
private ``MetaData`` per migration so later changes to the repositories' table objects cannot
alter what an old migration creates.

To add one: write ``def _m000N_what(conn: Connection) -> None`` and append
``Migration(N, "what", _m000N_what)`` to :data:`MIGRATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection


class Migration(NamedTuple):
    number: int
    name: str
    apply: Callable[[Connection], None]


def _m0001_bars(conn: Connection) -> None:
    """Daily bars (one row per symbol and session; NULL = the source gave nothing) and the
    per-symbol fetch state used for incremental refreshes and stale labels."""
    meta = sa.MetaData()
    sa.Table(
        "bars", meta,
        sa.Column("symbol", sa.String(16), primary_key=True),
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("open", sa.Double),
        sa.Column("high", sa.Double),
        sa.Column("low", sa.Double),
        sa.Column("close", sa.Double),
        sa.Column("adj_close", sa.Double),
        sa.Column("volume", sa.Double),
    )
    sa.Table(
        "fetch_state", meta,
        sa.Column("symbol", sa.String(16), primary_key=True),
        sa.Column("source", sa.String(32)),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
    )
    meta.create_all(conn)


def _m0002_briefing(conn: Connection) -> None:
    """Briefing subscriptions (one per channel: local time, IANA zone, options, enabled and why
    not, consecutive failures, who and when) and deliveries (one per subscription and session:
    status, message id, attempts, last error)."""
    meta = sa.MetaData()
    sa.Table(
        "briefing_subscriptions", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("channel_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("local_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("charts", sa.Boolean, nullable=False),
        sa.Column("sections", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "briefing_deliveries", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Integer,
                  sa.ForeignKey("briefing_subscriptions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("session", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subscription_id", "session", name="uq_briefing_delivery"),
    )
    meta.create_all(conn)


def _m0006_ledger(conn: Connection) -> None:
    """Delivery leases (owner token + expiry, so a restart reconciles instead of guessing and a
    live process's rows survive a rolling restart) and the ledger's indexes: (session, status)
    for the fan-out, (status, lease_until) for reconcile."""
    stamp = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.execute(sa.text("ALTER TABLE briefing_deliveries ADD COLUMN lease_owner VARCHAR(120)"))
    conn.execute(sa.text(f"ALTER TABLE briefing_deliveries ADD COLUMN lease_until {stamp}"))
    conn.execute(sa.text("CREATE INDEX ix_briefing_deliveries_session_status "
                         "ON briefing_deliveries (session, status)"))
    conn.execute(sa.text("CREATE INDEX ix_briefing_deliveries_status_lease "
                         "ON briefing_deliveries (status, lease_until)"))


MIGRATIONS: list[Migration] = [
    Migration(1, "bars", _m0001_bars),
    Migration(2, "briefing", _m0002_briefing),
    Migration(6, "ledger", _m0006_ledger),
]
