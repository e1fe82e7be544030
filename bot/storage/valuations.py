"""The trailing-P/E store (table ``valuations``, migration 0004): all its SQL lives here.

One row per (symbol, NYSE session): the first reading recorded for a session is kept
(``INSERT … ON CONFLICT DO NOTHING``), so recording twice in a session adds nothing and a
history accrues one row per symbol and session. Synchronous; async callers use a thread.
``fetched_at`` is stored in UTC and returned tz-aware.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from bot.storage.db import write_transaction

metadata = sa.MetaData()

#: Current shape of the table created by migration 0004.
valuations_table = sa.Table(
    "valuations", metadata,
    sa.Column("symbol", sa.String(16), primary_key=True),
    sa.Column("session", sa.Date, primary_key=True),
    sa.Column("trailing_pe", sa.Double, nullable=False),
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)
COLUMNS = ("symbol", "session", "trailing_pe", "fetched_at")


class ValuationRepository:
    """Trailing P/E readings per symbol and session (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, session: date, values: Mapping[str, float], fetched_at: datetime) -> int:
        """Insert ``values`` (symbol → trailing P/E) for ``session`` unless that symbol already
        has a reading for it; returns how many rows were added. One transaction."""
        if fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be timezone-aware")
        rows = [{"symbol": s, "session": session, "trailing_pe": float(v),
                 "fetched_at": fetched_at.astimezone(UTC)} for s, v in values.items()]
        if not rows:
            return 0
        with write_transaction(self.engine) as conn:
            before = self._count(conn, session)
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
            conn.execute(insert(valuations_table).on_conflict_do_nothing(
                index_elements=["symbol", "session"]), rows)
            return self._count(conn, session) - before

    @staticmethod
    def _count(conn: sa.Connection, session: date) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(valuations_table)
                                .where(valuations_table.c.session == session)).scalar_one())

    def symbols_on(self, session: date) -> set[str]:
        """The symbols that have a reading for ``session``."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(valuations_table.c.symbol)
                                .where(valuations_table.c.session == session))
            return {r[0] for r in rows}

    def history(self, symbols: Sequence[str], until: date) -> pd.DataFrame:
        """Every reading of ``symbols`` for sessions on or before ``until`` (nothing later is
        read, so a replay never sees a reading recorded after its date), sorted by session
        then symbol; columns :data:`COLUMNS` (``session`` as ``date``, ``fetched_at`` UTC)."""
        t = valuations_table
        query = (sa.select(t.c.symbol, t.c.session, t.c.trailing_pe, t.c.fetched_at)
                 .where(t.c.symbol.in_(list(symbols)), t.c.session <= until)
                 .order_by(t.c.session, t.c.symbol))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=list(COLUMNS))
        if not frame.empty:
            frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True)
            frame["trailing_pe"] = frame["trailing_pe"].astype("float64")
        return frame
