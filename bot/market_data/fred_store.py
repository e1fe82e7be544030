"""All SQL for FRED: observations and per-series fetch state (tables from migration 0003).

Synchronous (SQLAlchemy Core on the bars' engine, SQLite or PostgreSQL); async callers run it
in a thread. :meth:`FredStore.save` replaces every stored observation from the first date of
the fetched window on (a revision or a withdrawn observation inside the window is picked up)
and updates the fetch state, all in ONE transaction: a crash leaves the previous good state.
Timestamps are stored as UTC and returned tz-aware.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.storage.db import write_transaction
from bot.storage.sql import aware as _aware

metadata = sa.MetaData()
#: Current shape of the tables created by migration 0003.
observations_table = sa.Table(
    "fred_observations", metadata,
    sa.Column("series_id", sa.String(32), primary_key=True),
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
)
state_table = sa.Table(
    "fred_fetch_state", metadata,
    sa.Column("series_id", sa.String(32), primary_key=True),
    sa.Column("source", sa.String(32)),
    sa.Column("last_date", sa.Date),
    sa.Column("last_success_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", sa.DateTime(timezone=True)),
)
_ERROR_MAX = 500


@dataclass(frozen=True)
class SeriesState:
    """What the store holds for one series and how its last fetches went."""

    series_id: str
    source: str | None = None
    last_date: date | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def failing(self) -> bool:
        """The last attempt failed (an error newer than any success)."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at > self.last_success_at


class FredStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def states(self, series: Iterable[str]) -> dict[str, SeriesState]:
        """The fetch state of each of ``series`` (a blank state when never fetched)."""
        wanted = list(series)
        out = {s: SeriesState(s) for s in wanted}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(state_table).where(
                state_table.c.series_id.in_(wanted))).mappings()
            for row in rows:
                out[row["series_id"]] = SeriesState(
                    series_id=row["series_id"], source=row["source"], last_date=row["last_date"],
                    last_success_at=_aware(row["last_success_at"]), last_error=row["last_error"],
                    last_error_at=_aware(row["last_error_at"]))
        return out

    def read(self, series: Iterable[str]) -> dict[str, pd.Series]:
        """Stored observations of each of ``series`` that has any (float, sorted date index)."""
        wanted = list(series)
        stmt = (sa.select(observations_table.c.series_id, observations_table.c.date,
                          observations_table.c.value)
                .where(observations_table.c.series_id.in_(wanted))
                .order_by(observations_table.c.series_id, observations_table.c.date))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if not rows:
            return {}
        frame = pd.DataFrame(rows, columns=["series_id", "date", "value"])
        out: dict[str, pd.Series] = {}
        for series_id, part in frame.groupby("series_id", sort=False):
            index = pd.DatetimeIndex(pd.to_datetime(part["date"]), name="date")
            out[str(series_id)] = pd.Series(part["value"].to_numpy(dtype="float64"),
                                            index=index, name=str(series_id))
        return out

    def save(self, series_id: str, observations: pd.Series, *, start: date | None,
             source: str, at: datetime) -> None:
        """Replace the observations from ``start`` on (all when None) by ``observations`` and
        record the success, in one transaction."""
        obs = observations.dropna()
        rows = [{"series_id": series_id, "date": ts.date(), "value": float(v)}
                for ts, v in zip(pd.DatetimeIndex(obs.index), obs.to_numpy(), strict=True)]
        with write_transaction(self.engine) as conn:
            delete = observations_table.delete().where(
                observations_table.c.series_id == series_id)
            if start is not None:
                delete = delete.where(observations_table.c.date >= start)
            conn.execute(delete)
            if rows:
                conn.execute(observations_table.insert(), rows)
            last = conn.execute(sa.select(sa.func.max(observations_table.c.date)).where(
                observations_table.c.series_id == series_id)).scalar()
            self._put_state(conn, series_id, {"source": source, "last_date": last,
                                              "last_success_at": at.astimezone(UTC)})

    def record_error(self, series_id: str, message: str, *, at: datetime) -> None:
        """Remember a failed fetch (the stored observations are left as they were)."""
        with write_transaction(self.engine) as conn:
            self._put_state(conn, series_id, {"last_error": message[:_ERROR_MAX],
                                              "last_error_at": at.astimezone(UTC)})

    @staticmethod
    def _put_state(conn: Connection, series_id: str, values: dict[str, object]) -> None:
        updated = conn.execute(state_table.update().where(
            state_table.c.series_id == series_id).values(**values))
        if updated.rowcount == 0:
            conn.execute(state_table.insert().values(series_id=series_id, **values))
