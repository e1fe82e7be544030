"""Engine creation and numbered migrations (SQLAlchemy Core; SQLite by default, PostgreSQL by URL).

SQLite engines get, on every new DBAPI connection: WAL journal (readers never block the writer),
``foreign_keys=ON``, ``busy_timeout`` and ``synchronous=NORMAL``. pysqlite's own implicit
transaction handling is switched off and SQLAlchemy emits ``BEGIN`` itself, so DDL is
transactional too (each migration commits or rolls back as a whole); a connection with the
execution option ``sqlite_begin="IMMEDIATE"`` (see :func:`write_transaction`) takes the write
lock up front, which avoids the read-then-upgrade ``database is locked`` trap.

:func:`migrate` applies :data:`bot.storage.migrations.MIGRATIONS` in order, each in its own
transaction together with its row in ``schema_migrations``; re-running it is a no-op. On
PostgreSQL a transaction-scoped advisory lock makes concurrent migrators take turns.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from bot.storage.migrations import MIGRATIONS, Migration

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 10_000
_PG_MIGRATION_LOCK = 0x6361_7062  # "capb": pg_advisory_xact_lock key for migrations

_meta = sa.MetaData()
schema_migrations = sa.Table(
    "schema_migrations", _meta,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent, so only a new file ever needs it).

    The switch needs an exclusive lock and SQLite answers "database is locked" at once, without
    its busy handler, while another connection holds any lock: so when several processes open a
    new database together the switch is retried for up to ``BUSY_TIMEOUT_MS``. Connect hooks run
    in whichever thread opens the connection (a worker thread for the bot), never on the loop.
    """
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)  # worker thread (see docstring)
        delay = min(delay * 2, 0.2)


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def create_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``. For file SQLite the parent directory is created; ``sqlite://``
    (in memory) shares one connection across threads so every caller sees the same database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, echo=echo, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine = sa.create_engine(url, echo=echo, poolclass=StaticPool,
                                  connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False})
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that takes the write lock at once on SQLite.

    Commits when the block ends, rolls back (leaving the previous state) when it raises.
    """
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def applied_versions(engine: Engine) -> list[int]:
    """Migration numbers recorded in ``schema_migrations`` (empty before the first migrate)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("schema_migrations"):
            return []
        rows = conn.execute(sa.select(schema_migrations.c.version).order_by("version"))
        return [int(v) for v in rows.scalars()]


def migrate(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply every migration not yet recorded, in order; returns the numbers applied now.

    Each runs in its own transaction with its ``schema_migrations`` row, so a failure leaves
    the database at the previous version and the next run retries it.
    """
    numbers = [m.number for m in migrations]
    if numbers != sorted(set(numbers)):
        raise ValueError(f"migration numbers must be unique and ascending: {numbers}")
    with write_transaction(engine) as conn:
        schema_migrations.create(conn, checkfirst=True)
    applied: list[int] = []
    for migration in migrations:
        with write_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            done = conn.execute(sa.select(schema_migrations.c.version).where(
                schema_migrations.c.version == migration.number)).first()
            if done is not None:
                continue
            log.debug("applying migration %04d %s", migration.number, migration.name)
            migration.apply(conn)
            conn.execute(schema_migrations.insert().values(
                version=migration.number, name=migration.name, applied_at=datetime.now(UTC)))
            applied.append(migration.number)
    if applied:  # one line for a new database, not one per migration
        log.info("database schema migrated to %04d (applied %s)", applied[-1],
                 ", ".join(f"{n:04d}" for n in applied))
    return applied
