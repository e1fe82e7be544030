"""SQL helpers shared by the stores: the one ``MetaData``, a portable upsert, UTC timestamps.

Timestamps are stored as UTC and always returned tz-aware (SQLite keeps them naive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

#: Every repository table, in its current shape (tests check it matches the migrations).
metadata = sa.MetaData()


def to_utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive timestamp is refused (ValueError)."""
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(UTC)


def aware(at: datetime | None) -> datetime | None:
    """A stored timestamp as tz-aware UTC (SQLite returns it naive); None stays None."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def upsert(conn: Connection, table: sa.Table, keys: Sequence[str],
           rows: Sequence[Mapping[str, Any]], update: Sequence[str] | None = None) -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` of ``rows`` (executemany) on SQLite/PostgreSQL.

    ``update`` lists the columns overwritten on conflict (default: every non-key column).
    """
    if not rows:
        return
    name = conn.dialect.name
    if name == "sqlite":
        stmt: Any = sqlite.insert(table)
    elif name == "postgresql":
        stmt = postgresql.insert(table)
    else:
        raise NotImplementedError(f"upsert is implemented for sqlite and postgresql, not {name}")
    cols = update if update is not None else [c.name for c in table.c if c.name not in keys]
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={c: stmt.excluded[c] for c in cols})
    conn.execute(stmt, list(rows))
