"""FRED series through the store: incremental refresh, and stale-but-labelled fallback.

A series is refreshed when it was never fetched or its last success is older than
``refresh_hours`` (a failing series is retried at most every ``RETRY_FAILED_MINUTES``), asking
only from its last stored date minus ``revision_days`` (FRED revises recent observations);
the first fetch asks for the whole history. When a fetch fails the last good observations are
served, labelled in :attr:`FredReadings.notes` with the error, when they were fetched and their
last date; a series never fetched successfully is absent, with the reason. The readings are
kept until this cache writes to the store again (one process owns a store's FRED refreshes; a
second process sharing the store re-reads after its own next refresh).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pandas as pd

from bot.market_data.fred import (
    DRIVER_SERIES,
    FredClient,
    FredError,
    FredMalformed,
    FredReadings,
    read_fred_dir,
    redact,
)
from bot.market_data.fred_store import FredStore, SeriesState

log = logging.getLogger(__name__)
RETRY_FAILED_MINUTES = 15


def utc_now() -> datetime:
    return datetime.now(UTC)


def dir_readings(root: Path, series: Iterable[str] = DRIVER_SERIES) -> FredReadings:
    """Readings from a local folder (CSV replay): each series absent from it is noted."""
    wanted = list(dict.fromkeys(series))
    held = read_fred_dir(root, wanted)
    notes = {s: f"no {s}.csv in the FRED folder {root}" for s in wanted if s not in held}
    return FredReadings(series=held, source=f"fred-dir {root}", notes=notes)


class FredCache:
    """See the module docstring. ``now`` is injectable (tests)."""

    def __init__(self, client: FredClient, store: FredStore, *, revision_days: int = 90,
                 refresh_hours: float = 6.0, concurrency: int = 8,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.client = client
        self.store = store
        self.revision_days = revision_days
        self.refresh_hours = refresh_hours
        self.concurrency = concurrency
        self._now = now
        self._lock = asyncio.Lock()
        self._writes = 0  # store writes made through this cache (invalidates the memo)
        self._memo: tuple[tuple[str, ...], int, FredReadings] | None = None

    def _due(self, state: SeriesState, now: datetime) -> bool:
        if state.failing and state.last_error_at is not None and \
                now - state.last_error_at < timedelta(minutes=RETRY_FAILED_MINUTES):
            return False
        return (state.last_success_at is None
                or now - state.last_success_at >= timedelta(hours=self.refresh_hours))

    async def refresh(self, series: Iterable[str] = DRIVER_SERIES, *,
                      force: bool = False) -> dict[str, str]:
        """Fetch the series that are due (all with ``force``); returns errors by series id.
        Concurrent callers take turns, so a burst asks FRED once."""
        wanted = list(dict.fromkeys(series))
        async with self._lock:
            states = await asyncio.to_thread(self.store.states, wanted)
            now = self._now()
            due = [s for s in wanted if force or self._due(states[s], now)]
            if not due:
                return {}
            limit = asyncio.Semaphore(self.concurrency)
            async with aiohttp.ClientSession() as session:
                results = await asyncio.gather(
                    *(self._refresh_one(session, limit, states[s]) for s in due))
        errors = {s: msg for s, msg in results if msg is not None}
        if errors:  # one line per refresh, not one per series (a dead network fails them all)
            first = next(iter(errors.values()))
            log.warning("FRED refresh failed for %d of %d series (%s); last good data is "
                        "served where held", len(errors), len(due), first)
        return errors

    async def _refresh_one(self, session: aiohttp.ClientSession, limit: asyncio.Semaphore,
                           state: SeriesState) -> tuple[str, str | None]:
        series_id = state.series_id
        start = (state.last_date - timedelta(days=self.revision_days)
                 if state.last_date is not None else None)
        try:
            async with limit:
                observations = await self.client.fetch(session, series_id, start)
            if observations.empty:
                since = f" since {start.isoformat()}" if start else ""
                raise FredMalformed(f"FRED {series_id}: no observations{since}")
        except FredError as exc:
            message = redact(str(exc), self.client.api_key)
            await asyncio.to_thread(self.store.record_error, series_id, message, at=self._now())
            self._writes += 1
            return series_id, message
        await asyncio.to_thread(self.store.save, series_id, observations, start=start,
                                source=self.client.source, at=self._now())
        self._writes += 1
        log.info("FRED %s: %d observations from %s", series_id, len(observations),
                 start.isoformat() if start else "the start")
        return series_id, None

    async def readings(self, series: Iterable[str] = DRIVER_SERIES, *,
                       refresh: bool = True) -> FredReadings:
        """The stored series (after a refresh of those due), labelled as described above."""
        wanted = list(dict.fromkeys(series))
        errors = await self.refresh(wanted) if refresh else {}
        memo = self._memo
        if not errors and memo is not None and memo[:2] == (tuple(wanted), self._writes):
            return memo[2]  # nothing written since: the same readings (no re-read of the store)

        def load() -> tuple[dict[str, SeriesState], dict[str, pd.Series]]:
            return self.store.states(wanted), self.store.read(wanted)

        states, held = await asyncio.to_thread(load)
        notes: dict[str, str] = {}
        stale: list[str] = []
        for series_id in wanted:
            state = states[series_id]
            error = errors.get(series_id) or (state.last_error if state.failing else None)
            if series_id not in held:
                notes[series_id] = error or f"FRED {series_id} not fetched yet"
            elif error:
                fetched = (f"{state.last_success_at:%Y-%m-%d %H:%M} UTC"
                           if state.last_success_at else "earlier")
                notes[series_id] = (f"stale: last good data fetched {fetched}, last observation "
                                    f"{held[series_id].index[-1].date().isoformat()} ({error})")
                stale.append(series_id)
        successes = [s.last_success_at for s in states.values() if s.last_success_at]
        reason = (f"FRED refresh failed for {', '.join(stale)}: serving the last good data"
                  if stale else None)
        readings = FredReadings(series=held, source=self.client.source, stale=bool(stale),
                                stale_reason=reason, notes=notes,
                                fetched_at=max(successes) if successes else None)
        self._memo = (tuple(wanted), self._writes, readings)
        return readings
