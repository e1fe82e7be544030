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


def _m0003_fred(conn: Connection) -> None:
    """FRED observations (one row per series and observation date; missing values are not
    stored) and the per-series fetch state (last observation held, last success, last error)
    used for incremental refreshes and stale labels."""
    meta = sa.MetaData()
    sa.Table(
        "fred_observations", meta,
        sa.Column("series_id", sa.String(32), primary_key=True),
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("value", sa.Double, nullable=False),
    )
    sa.Table(
        "fred_fetch_state", meta,
        sa.Column("series_id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(32)),
        sa.Column("last_date", sa.Date),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
    )
    meta.create_all(conn)


def _m0004_valuations(conn: Connection) -> None:
    """Trailing P/E readings (IWM, SPY, IVW), at most one per symbol and NYSE session, with the
    time they were fetched: recorded once a session so a history accrues."""
    meta = sa.MetaData()
    sa.Table(
        "valuations", meta,
        sa.Column("symbol", sa.String(16), primary_key=True),
        sa.Column("session", sa.Date, primary_key=True),
        sa.Column("trailing_pe", sa.Double, nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn)


def _m0005_bar_blocks(conn: Connection) -> None:
    """Bars packed per symbol and calendar year (``bar_blocks``: int32 days since the epoch and
    float64 cells, column after column; the repository builds them from ``bars`` on its next
    write or read of each symbol), and each symbol's stored row count and date range in
    ``fetch_state`` (backfilled here from ``bars``), so neither reads nor states scan ``bars``.
    Uses only tables of migration 0001."""
    meta = sa.MetaData()
    sa.Table(
        "bar_blocks", meta,
        sa.Column("symbol", sa.String(16), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.Column("last_date", sa.Date, nullable=False),
        sa.Column("days", sa.LargeBinary, nullable=False),
        sa.Column("cells", sa.LargeBinary, nullable=False),
    )
    meta.create_all(conn)
    day = sa.Date().compile(dialect=conn.dialect)
    for ddl in ("ADD COLUMN bar_count INTEGER NOT NULL DEFAULT 0",
                f"ADD COLUMN first_date {day}", f"ADD COLUMN last_date {day}"):
        conn.execute(sa.text(f"ALTER TABLE fetch_state {ddl}"))
    conn.execute(sa.text(
        "INSERT INTO fetch_state (symbol) SELECT DISTINCT symbol FROM bars "
        "WHERE symbol NOT IN (SELECT symbol FROM fetch_state)"))
    conn.execute(sa.text(
        "UPDATE fetch_state SET "
        "bar_count = (SELECT count(*) FROM bars WHERE bars.symbol = fetch_state.symbol), "
        "first_date = (SELECT min(date) FROM bars WHERE bars.symbol = fetch_state.symbol), "
        "last_date = (SELECT max(date) FROM bars WHERE bars.symbol = fetch_state.symbol)"))


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


def _m0007_alerts(conn: Connection) -> None:
    """Alert subscriptions (one per channel: the event kinds wanted, enabled, who and when) and
    alert deliveries: the briefing ledger's columns, constraint and indexes (one row per
    subscription and session; one message per session carries all its events), so the
    briefing's ledger code (claim, leases, reconcile) serves both."""
    meta = sa.MetaData()
    sa.Table(
        "alert_subscriptions", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("channel_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("events", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "alert_deliveries", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Integer,
                  sa.ForeignKey("alert_subscriptions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("session", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(120)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("subscription_id", "session", name="uq_alert_delivery"),
        sa.Index("ix_alert_deliveries_session_status", "session", "status"),
        sa.Index("ix_alert_deliveries_status_lease", "status", "lease_until"),
    )
    meta.create_all(conn)


def _m0008_alert_failures(conn: Connection) -> None:
    """What the briefing's subscriptions have, for alert subscriptions: the count of
    consecutive failed posts and why a subscription was disabled (the briefing's rule), plus
    ``enabled_at`` (created or last re-enabled; existing rows: their ``created_at``), from which
    on sessions are the subscription's own for catch-up."""
    stamp = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    for ddl in ("ADD COLUMN disabled_reason TEXT",
                "ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0",
                f"ADD COLUMN enabled_at {stamp}"):
        conn.execute(sa.text(f"ALTER TABLE alert_subscriptions {ddl}"))
    conn.execute(sa.text("UPDATE alert_subscriptions SET enabled_at = created_at"))


MIGRATIONS: list[Migration] = [
    Migration(1, "bars", _m0001_bars),
    Migration(2, "briefing", _m0002_briefing),
    Migration(3, "fred", _m0003_fred),
    Migration(4, "valuations", _m0004_valuations),
    Migration(5, "bar_blocks", _m0005_bar_blocks),
    Migration(6, "ledger", _m0006_ledger),
    Migration(7, "alerts", _m0007_alerts),
    Migration(8, "alert_failures", _m0008_alert_failures),
]
