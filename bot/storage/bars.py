"""Daily bars and per-symbol fetch state: the bar cache's SQL (migrations 0001 and 0005).

Three tables:

- ``bars``: one row per symbol and session, the record (upserted; NaN stored as NULL);
- ``bar_blocks``: the same rows packed per symbol and calendar year into two arrays: ``days``,
  little-endian int32 days since 1970-01-01, and ``cells``, little-endian float64 holding the
  :data:`~bot.market_data.frames.BAR_COLUMNS` one after another (NaN kept). This is what
  :meth:`BarRepository.load_bars` reads: about 30 rows per symbol instead of one per session,
  decoded with ``numpy.frombuffer`` (a row-per-bar read builds a Python object for every
  cell, which alone costs several times ``pandas.read_csv`` of the same rows);
- ``fetch_state``: per symbol, the last fetch outcomes plus the stored row count and date
  range, so :meth:`BarRepository.states` is a primary-key lookup, not a scan of the bars.

Every write goes through :meth:`BarRepository.write_refresh`: it upserts the rows, rebuilds from
them the blocks of the years it touched, and updates the counts, all in ONE transaction (a
crash leaves the previous good state). A symbol whose blocks do not add up to its stored count
(right after migration 0005, which leaves the blocks to be built, or after rows were written
around the repository) is read from the rows and its blocks rebuilt, once.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.market_data.frames import BAR_COLUMNS, normalize_bars
from bot.storage.db import write_transaction
from bot.storage.sql import aware, metadata, to_utc, upsert

log = logging.getLogger(__name__)

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
    sa.Column("bar_count", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("first_date", sa.Date),
    sa.Column("last_date", sa.Date),
)
bar_blocks_table = sa.Table(
    "bar_blocks", metadata,
    sa.Column("symbol", sa.String(16), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("first_date", sa.Date, nullable=False),
    sa.Column("last_date", sa.Date, nullable=False),
    sa.Column("days", sa.LargeBinary, nullable=False),
    sa.Column("cells", sa.LargeBinary, nullable=False),
)
_ERROR_MAX = 500  # characters of an error message kept in fetch_state
_DAYS = np.dtype("<i4")
_CELLS = np.dtype("<f8")
_NCOLS = len(BAR_COLUMNS)


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


def _to_frame(days: np.ndarray, cells: np.ndarray) -> pd.DataFrame:
    """A bar frame over ``days`` (int days since the epoch) and ``cells`` (shape (6, n),
    C-ordered, owned: the frame uses it without a copy)."""
    index = pd.DatetimeIndex(days.astype("int64").view("datetime64[D]").astype("datetime64[ns]"),
                             name="date")
    return pd.DataFrame(cells.T, index=index, columns=list(BAR_COLUMNS), copy=False)


def _frames_from_rows(rows: Sequence[Sequence[Any]]) -> dict[str, pd.DataFrame]:
    """Bar frames from ``(symbol, date, *BAR_COLUMNS)`` rows sorted by symbol and date
    (dates as ISO text or ``date``; NULL cells become NaN)."""
    if not rows:
        return {}
    columns = list(zip(*rows, strict=True))
    symbols = np.asarray(columns[0], dtype=object)
    days = np.array(columns[1], dtype="datetime64[D]").view("int64")
    cells = np.array(columns[2:], dtype="float64")  # None -> NaN
    cuts = [0, *(np.flatnonzero(symbols[1:] != symbols[:-1]) + 1).tolist(), len(symbols)]
    return {str(symbols[a]): _to_frame(days[a:b], np.ascontiguousarray(cells[:, a:b]))
            for a, b in itertools.pairwise(cuts)}


def _encode_blocks(symbol: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame`` (one symbol's bar frame) as one ``bar_blocks`` row per calendar year."""
    if frame.empty:
        return []
    days = pd.DatetimeIndex(frame.index).values.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype("int64") + 1970
    cells = frame.loc[:, list(BAR_COLUMNS)].to_numpy(dtype="float64").T
    cuts = [0, *(np.flatnonzero(np.diff(years)) + 1).tolist(), len(years)]
    out = []
    for a, b in itertools.pairwise(cuts):
        out.append({
            "symbol": symbol, "year": int(years[a]), "rows": b - a,
            "first_date": days[a].item(), "last_date": days[b - 1].item(),
            "days": days[a:b].astype("int64").astype(_DAYS).tobytes(),
            "cells": np.ascontiguousarray(cells[:, a:b], dtype=_CELLS).tobytes(),
        })
    return out


def _decode_blocks(blocks: Sequence[Sequence[Any]], expected: int) -> pd.DataFrame | None:
    """One symbol's frame from its ``(rows, days, cells)`` blocks in year order; None when they
    do not hold exactly ``expected`` strictly increasing sessions (rebuild them)."""
    if not blocks or sum(int(r) for r, _, _ in blocks) != expected:
        return None
    try:
        days = np.concatenate([np.frombuffer(d, dtype=_DAYS) for _, d, _ in blocks])
        cells = np.concatenate([np.frombuffer(c, dtype=_CELLS).reshape(_NCOLS, int(r))
                                for r, _, c in blocks], axis=1)
    except ValueError:  # a blob of the wrong size
        return None
    if len(days) != expected or (len(days) > 1 and not bool(np.all(np.diff(days) > 0))):
        return None
    return _to_frame(days, cells.astype("float64", copy=False))


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
        at = to_utc(fetched_at)
        written: dict[str, int] = {}
        with write_transaction(self.engine) as conn:
            for symbol, frame in bars.items():
                frame = normalize_bars(frame)
                written[symbol] = self._upsert_bars(conn, symbol, frame)
                if len(frame):
                    years = pd.DatetimeIndex(frame.index).year
                    self._rebuild_blocks(conn, symbol, int(years.min()), int(years.max()))
            extents = self._extents(conn, list(bars))
            upsert(conn, fetch_state_table, ["symbol"],
                   [{"symbol": s, "source": source, "last_success_at": at, **extents[s]}
                    for s in bars],
                   update=["source", "last_success_at", "bar_count", "first_date", "last_date"])
            self._record_errors(conn, dict(missing or {}), at)
        return written

    def _upsert_bars(self, conn: Connection, symbol: str, frame: pd.DataFrame) -> int:
        rows = _bar_rows(symbol, frame)
        upsert(conn, bars_table, ["symbol", "date"], rows)
        return len(rows)

    def _rebuild_blocks(self, conn: Connection, symbol: str, first_year: int | None = None,
                        last_year: int | None = None) -> None:
        """Re-pack ``symbol``'s stored rows of ``first_year..last_year`` (all when None)."""
        k = bar_blocks_table.c
        drop = sa.delete(bar_blocks_table).where(k.symbol == symbol)
        since = until = None
        if first_year is not None and last_year is not None:
            drop = drop.where(k.year.between(first_year, last_year))
            since, until = date(first_year, 1, 1), date(last_year, 12, 31)
        conn.execute(drop)
        frame = _frames_from_rows(self._select_rows(conn, [symbol], since, until)).get(symbol)
        if frame is not None:
            conn.execute(sa.insert(bar_blocks_table), _encode_blocks(symbol, frame))

    def _extents(self, conn: Connection, symbols: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored row count and date range per symbol, counted on ``bars`` (at write time, so
        reads need not); a symbol whose blocks then disagree gets them all rebuilt."""
        if not symbols:
            return {}
        b, k = bars_table.c, bar_blocks_table.c
        counted = {r[0]: (int(r[1]), r[2], r[3]) for r in conn.execute(
            sa.select(b.symbol, sa.func.count(), sa.func.min(b.date), sa.func.max(b.date))
            .where(b.symbol.in_(symbols)).group_by(b.symbol))}
        packed = {r[0]: int(r[1]) for r in conn.execute(
            sa.select(k.symbol, sa.func.sum(k.rows)).where(k.symbol.in_(symbols))
            .group_by(k.symbol))}
        out: dict[str, dict[str, Any]] = {}
        for symbol in symbols:
            count, first, last = counted.get(symbol, (0, None, None))
            if packed.get(symbol, 0) != count:
                self._rebuild_blocks(conn, symbol)
            out[symbol] = {"bar_count": count, "first_date": first, "last_date": last}
        return out

    def record_failure(self, symbols: Iterable[str], error: str, at: datetime) -> None:
        """Record that fetching ``symbols`` failed with ``error`` at ``at`` (bars untouched)."""
        with write_transaction(self.engine) as conn:
            self._record_errors(conn, dict.fromkeys(symbols, error), to_utc(at))

    @staticmethod
    def _record_errors(conn: Connection, errors: Mapping[str, str], at: datetime) -> None:
        upsert(conn, fetch_state_table, ["symbol"],
               [{"symbol": s, "last_error": e[:_ERROR_MAX], "last_error_at": at}
                for s, e in errors.items()],
               update=["last_error", "last_error_at"])

    # -- reads ----------------------------------------------------------------------------
    def states(self, symbols: Sequence[str]) -> dict[str, SymbolState]:
        """A :class:`SymbolState` for every symbol asked (zero rows when nothing is stored),
        from ``fetch_state`` alone."""
        wanted = list(dict.fromkeys(symbols))
        if not wanted:
            return {}
        f = fetch_state_table.c
        query = sa.select(f.symbol, f.bar_count, f.first_date, f.last_date, f.source,
                          f.last_success_at, f.last_error, f.last_error_at).where(
            f.symbol.in_(wanted))
        with self.engine.connect() as conn:
            found = {r.symbol: r for r in conn.execute(query)}
        out: dict[str, SymbolState] = {}
        for symbol in wanted:
            st = found.get(symbol)
            out[symbol] = SymbolState(symbol=symbol) if st is None else SymbolState(
                symbol=symbol, rows=int(st.bar_count or 0), first=st.first_date,
                last=st.last_date, source=st.source,
                last_success_at=aware(st.last_success_at), last_error=st.last_error,
                last_error_at=aware(st.last_error_at))
        return out

    def last_dates(self, symbols: Sequence[str]) -> dict[str, date | None]:
        """The last stored session per symbol (None when nothing is stored)."""
        return {s: st.last for s, st in self.states(symbols).items()}

    def load_bars(self, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Normalised bar frames for the symbols that have rows, from their packed blocks.

        ONE query (fetch_state joined to bar_blocks, so counts and blocks come from the same
        snapshot), streamed one symbol at a time: peak memory is the frames plus one symbol's
        blocks. Symbols whose blocks are missing or disagree with the count are re-packed
        from ``bars`` and read again.
        """
        wanted = list(dict.fromkeys(symbols))
        if not wanted:
            return {}
        f, k = fetch_state_table.c, bar_blocks_table.c
        query = (sa.select(f.symbol, f.bar_count, k.rows, k.days, k.cells)
                 .select_from(fetch_state_table.outerjoin(
                     bar_blocks_table, k.symbol == f.symbol))
                 .where(f.symbol.in_(wanted), f.bar_count > 0)
                 .order_by(f.symbol, k.year))
        out: dict[str, pd.DataFrame] = {}
        broken: list[str] = []
        with self.engine.connect() as conn:
            for symbol, group in itertools.groupby(conn.execute(query), key=itemgetter(0)):
                rows = list(group)
                blocks = [(r[2], r[3], r[4]) for r in rows if r[2] is not None]
                frame = _decode_blocks(blocks, int(rows[0][1]))
                if frame is None:
                    broken.append(str(symbol))
                else:
                    out[str(symbol)] = frame
        if broken:
            log.info("re-packing the stored bars of %d symbol(s): %s", len(broken),
                     ", ".join(broken[:5]))
            try:
                out.update(self._repack(broken))
            except sa.exc.SQLAlchemyError:  # e.g. another process re-packing the same symbol
                log.warning("re-packing failed; reading %d symbol(s) row by row", len(broken),
                            exc_info=True)
                out.update(self.load_rows(broken))
        return {s: out[s] for s in wanted if s in out}

    def _repack(self, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Rebuild ``symbols``' blocks and counts from ``bars``; their frames from the rows."""
        with write_transaction(self.engine) as conn:
            for symbol in symbols:
                self._rebuild_blocks(conn, symbol)
            extents = self._extents(conn, symbols)
            f = fetch_state_table.c
            for symbol, values in extents.items():
                conn.execute(sa.update(fetch_state_table).where(f.symbol == symbol)
                             .values(**values))
            return _frames_from_rows(self._select_rows(conn, symbols))

    def load_rows(self, symbols: Sequence[str], since: date | None = None,
                  ) -> dict[str, pd.DataFrame]:
        """Bar frames read row by row from ``bars`` (sessions on or after ``since`` when
        given): the incremental path, where only a few recent rows are wanted."""
        wanted = list(dict.fromkeys(symbols))
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            return _frames_from_rows(self._select_rows(conn, wanted, since))

    @staticmethod
    def _select_rows(conn: Connection, symbols: Sequence[str], since: date | None = None,
                     until: date | None = None) -> list[Any]:
        b = bars_table.c
        # The date comes back raw (ISO text on SQLite, a date on PostgreSQL) and is parsed
        # vectorised: per-row conversion would dominate otherwise.
        query = (sa.select(b.symbol, sa.type_coerce(b.date, sa.String).label("date"),
                           *(b[c] for c in BAR_COLUMNS))
                 .where(b.symbol.in_(list(symbols))).order_by(b.symbol, b.date))
        if since is not None:
            query = query.where(b.date >= since)
        if until is not None:
            query = query.where(b.date <= until)
        return list(conn.execute(query).all())

    def symbols(self) -> list[str]:
        """Every symbol with stored bars, sorted."""
        f = fetch_state_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(f.symbol).where(f.bar_count > 0).order_by(f.symbol))
            return [str(s) for s in rows.scalars()]


__all__ = ["BarRepository", "SymbolState", "bar_blocks_table", "bars_table",
           "fetch_state_table"]
