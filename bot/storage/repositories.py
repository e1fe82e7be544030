"""All SQL lives here. Repositories are synchronous; async callers run them in a thread.

:class:`BarRepository` stores daily bars and per-symbol fetch state (tables from migration 0001).
Upserts use the dialect's ``INSERT … ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL); a whole
refresh is written in ONE transaction, so a crash mid-write leaves the previous good state.
Timestamps are stored as UTC and always returned tz-aware (SQLite keeps them naive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot.market_data.frames import BAR_COLUMNS, normalize_bars
from bot.storage.db import write_transaction

metadata = sa.MetaData()

#: Current shape of the tables created by migration 0001 (tests check they match).
bars_table = sa.Table(
    "bars", metadata,
    sa.Column("symbol", sa.String(16), primary_key=True),
    sa.Column("date", sa.Date, primary_key=True),
    *(sa.Column(c, sa.Double) for c in BAR_COLUMNS),
)
fetch_state_table = sa.Table(
    "fetch_state", metadata,
    sa.Column("symbol", sa.String(16), primary_key=True),
    sa.Column("source", sa.String(32)),
    sa.Column("last_success_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", sa.DateTime(timezone=True)),
)
_ERROR_MAX = 500  # characters of an error message kept in fetch_state


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(UTC)


def _aware(at: datetime | None) -> datetime | None:
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


@dataclass(frozen=True)
class SymbolState:
    """What the store holds for one symbol: bar count and range, and the last fetch outcomes.

    ``failing`` is True when the last fetch attempt failed (an error newer than any success).
    """

    symbol: str
    rows: int = 0
    first: date | None = None
    last: date | None = None
    source: str | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def failing(self) -> bool:
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at > self.last_success_at


def _bar_rows(symbol: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for ``frame`` (a bar frame); NaN becomes NULL (PostgreSQL would store 'NaN')."""
    if frame.empty:
        return []
    values = frame.loc[:, list(BAR_COLUMNS)].to_numpy(dtype="float64")
    cells: np.ndarray = values.astype(object)
    cells[np.isnan(values)] = None
    days = pd.DatetimeIndex(frame.index).date
    return [{"symbol": symbol, "date": day, **dict(zip(BAR_COLUMNS, row, strict=True))}
            for day, row in zip(days, cells.tolist(), strict=True)]


class BarRepository:
    """Bars and fetch state for any number of symbols. Thread-safe (one connection per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writes ---------------------------------------------------------------------------
    def write_refresh(self, bars: Mapping[str, pd.DataFrame], *, fetched_at: datetime,
                      source: str, missing: Mapping[str, str] | None = None) -> dict[str, int]:
        """Upsert every symbol's bars and mark it fetched; record ``missing`` symbols' reasons.

        All in one transaction: on any exception nothing is written. Returns rows per symbol.
        """
        at = _utc(fetched_at)
        written: dict[str, int] = {}
        with write_transaction(self.engine) as conn:
            for symbol, frame in bars.items():
                written[symbol] = self._upsert_bars(conn, symbol, normalize_bars(frame))
            upsert(conn, fetch_state_table, ["symbol"],
                   [{"symbol": s, "source": source, "last_success_at": at} for s in bars],
                   update=["source", "last_success_at"])
            self._record_errors(conn, dict(missing or {}), at)
        return written

    def _upsert_bars(self, conn: Connection, symbol: str, frame: pd.DataFrame) -> int:
        rows = _bar_rows(symbol, frame)
        upsert(conn, bars_table, ["symbol", "date"], rows)
        return len(rows)

    def record_failure(self, symbols: Iterable[str], error: str, at: datetime) -> None:
        """Record that fetching ``symbols`` failed with ``error`` at ``at`` (bars untouched)."""
        with write_transaction(self.engine) as conn:
            self._record_errors(conn, dict.fromkeys(symbols, error), _utc(at))

    @staticmethod
    def _record_errors(conn: Connection, errors: Mapping[str, str], at: datetime) -> None:
        upsert(conn, fetch_state_table, ["symbol"],
               [{"symbol": s, "last_error": e[:_ERROR_MAX], "last_error_at": at}
                for s, e in errors.items()],
               update=["last_error", "last_error_at"])

    # -- reads ----------------------------------------------------------------------------
    def states(self, symbols: Sequence[str]) -> dict[str, SymbolState]:
        """A :class:`SymbolState` for every symbol asked (zero rows when nothing is stored)."""
        wanted = list(dict.fromkeys(symbols))
        if not wanted:
            return {}
        b, f = bars_table.c, fetch_state_table.c
        agg = (sa.select(b.symbol, sa.func.count(), sa.func.min(b.date), sa.func.max(b.date))
               .where(b.symbol.in_(wanted)).group_by(b.symbol))
        fs = sa.select(f.symbol, f.source, f.last_success_at, f.last_error, f.last_error_at).where(
            f.symbol.in_(wanted))
        with self.engine.connect() as conn:
            counts = {r[0]: (int(r[1]), r[2], r[3]) for r in conn.execute(agg)}
            fetched = {r[0]: r for r in conn.execute(fs)}
        out: dict[str, SymbolState] = {}
        for symbol in wanted:
            rows, first, last = counts.get(symbol, (0, None, None))
            st = fetched.get(symbol)
            out[symbol] = SymbolState(
                symbol=symbol, rows=rows, first=first, last=last,
                source=st.source if st else None,
                last_success_at=_aware(st.last_success_at) if st else None,
                last_error=st.last_error if st else None,
                last_error_at=_aware(st.last_error_at) if st else None,
            )
        return out

    def last_dates(self, symbols: Sequence[str]) -> dict[str, date | None]:
        """The last stored session per symbol (None when nothing is stored)."""
        return {s: st.last for s, st in self.states(symbols).items()}

    def load_bars(self, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Normalised bar frames for the symbols that have rows, read with ONE query."""
        wanted = list(dict.fromkeys(symbols))
        if not wanted:
            return {}
        b = bars_table.c
        # The date comes back raw (ISO text on SQLite, a date on PostgreSQL) and is parsed
        # vectorised below: per-row conversion dominates the read otherwise.
        query = (sa.select(b.symbol, sa.type_coerce(b.date, sa.String).label("date"),
                           *(b[c] for c in BAR_COLUMNS))
                 .where(b.symbol.in_(wanted)).order_by(b.symbol, b.date))
        with self.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query).all()]
        if not rows:
            return {}
        table = pd.DataFrame.from_records(rows, columns=["symbol", "date", *BAR_COLUMNS],
                                          coerce_float=True)
        table["date"] = pd.to_datetime(table["date"].astype(str), format="%Y-%m-%d")
        out: dict[str, pd.DataFrame] = {}
        for symbol, part in table.groupby("symbol", sort=False):
            frame = part.set_index("date")[list(BAR_COLUMNS)].astype("float64")
            out[str(symbol)] = frame
        return out

    def symbols(self) -> list[str]:
        """Every symbol with stored bars, sorted."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(bars_table.c.symbol).distinct().order_by("symbol"))
            return [str(s) for s in rows.scalars()]


__all__ = ["BarRepository", "SymbolState", "bars_table", "fetch_state_table",
           "metadata", "upsert"]
