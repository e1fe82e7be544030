"""Migrations: numbered, recorded, idempotent, each atomic; the repositories' tables match them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.storage.db import applied_versions, create_engine, migrate
from bot.storage.migrations import MIGRATIONS, Migration
from bot.storage.repositories import metadata


def test_migrate_creates_the_file_records_versions_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "capbrief.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    assert applied_versions(engine) == []
    first = migrate(engine)
    assert first == [m.number for m in MIGRATIONS]
    assert path.is_file()
    assert migrate(engine) == []
    assert applied_versions(engine) == first
    engine.dispose()
    again = create_engine(f"sqlite:///{path}")  # a restart: nothing to do
    assert migrate(again) == []
    again.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 1000
    engine.dispose()


def test_a_failing_migration_rolls_back_and_is_retried(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")

    def broken(conn: Connection) -> None:
        conn.execute(sa.text("CREATE TABLE half_done (id INTEGER PRIMARY KEY)"))
        raise RuntimeError("boom")

    steps = [*MIGRATIONS, Migration(99, "broken", broken)]
    with pytest.raises(RuntimeError):
        migrate(engine, steps)
    assert 99 not in applied_versions(engine)
    assert not sa.inspect(engine).has_table("half_done")  # DDL rolled back with it
    assert set(applied_versions(engine)) == {m.number for m in MIGRATIONS}

    def fixed(conn: Connection) -> None:
        conn.execute(sa.text("CREATE TABLE half_done (id INTEGER PRIMARY KEY)"))

    assert migrate(engine, [*MIGRATIONS, Migration(99, "fixed", fixed)]) == [99]
    engine.dispose()


def test_unordered_migration_numbers_are_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ValueError, match="unique and ascending"):
        migrate(engine, [MIGRATIONS[0], MIGRATIONS[0]])
    engine.dispose()


def test_repository_tables_match_the_migrated_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    migrate(engine)
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        assert inspector.has_table(table.name), table.name
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        pk = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert set(pk) == {c.name for c in table.primary_key.columns}, table.name
    engine.dispose()


def test_in_memory_sqlite_is_shared_across_threads() -> None:
    import threading

    engine = create_engine("sqlite://")
    migrate(engine)
    seen: list[list[int]] = []
    worker = threading.Thread(target=lambda: seen.append(applied_versions(engine)))
    worker.start()
    worker.join()
    assert seen == [[m.number for m in MIGRATIONS]]


def test_concurrent_migrators_take_turns(tmp_path: Path) -> None:
    """Two processes starting at once (bot + CLI): each migration is applied exactly once."""
    import threading

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    engines = [create_engine(url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def run(engine: sa.engine.Engine) -> None:
        barrier.wait()
        try:
            applied.append(migrate(engine))
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(n for numbers in applied for n in numbers) == [m.number for m in MIGRATIONS]
    for e in engines:
        e.dispose()
