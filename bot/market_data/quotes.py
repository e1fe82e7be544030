"""Valuation and pre-market readings for the drivers panel and the morning post.

:class:`QuoteReader` is the one place that decides where they come from:
- CSV replay (``replay=True``): neither is in the replay folder, so the readings are the
  labelled absences "not in replay data" and "no pre-market quotes in replay"; Yahoo is never
  called.
- Yahoo: the trailing P/E of IWM, SPY and IVW is fetched at most once per NYSE session and
  recorded in the ``valuations`` table (:class:`~bot.storage.valuations.ValuationRepository`).
  The session is ``last_completed_session(now)``, the close Yahoo's P/E reflects between that
  close and the next open. During regular trading hours nothing is recorded (the P/E then moves
  with the intraday price and belongs to no completed session). A request for the latest
  session first records what is missing for it; a symbol that failed is asked again at most
  every :data:`RETRY_AFTER`. A request for a past ``asof`` only reads, and reads only sessions
  on or before it (no look-ahead).
  Futures are read live (never stored): they only mean something for the coming session.
Fetches run in a worker thread; a failure is a labelled absence, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.premarket import (
    FUTURES,
    NO_PREMARKET_IN_REPLAY,
    PremarketReading,
    absent_premarket,
    calc_premarket,
)
from analytics.valuation import (
    NOT_IN_REPLAY,
    SYMBOLS,
    ValuationReading,
    absent_valuation,
    calc_valuation,
)
from bot.market_data import calendar
from bot.storage.valuations import ValuationRepository

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
NEW_YORK = ZoneInfo("America/New_York")
RETRY_AFTER = timedelta(minutes=15)
IN_SESSION = ("not recorded during trading hours (the P/E moves with the price); the next "
              "reading is taken after the close")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class QuoteReader:
    """See the module docstring. ``session_factory`` makes the yfinance session (tests aim it
    at the loopback fake; default: yfinance's own)."""

    def __init__(self, engine: Engine | None, *, replay: bool,
                 session_factory: Callable[[], Any] | None = None,
                 now: Clock = _utc_now) -> None:
        self.replay = replay
        self.repo = ValuationRepository(engine) if engine is not None else None
        self._session_factory = session_factory
        self._now = now
        self._lock = asyncio.Lock()
        self._failed: dict[str, tuple[date, datetime, str]] = {}  # symbol → session, when, why

    def _session(self) -> Any:
        return self._session_factory() if self._session_factory is not None else None

    async def record_valuations(self) -> dict[str, str]:
        """Fetch and record the P/Es the current session lacks (nothing when it has them all,
        or during trading hours); returns why symbols are missing."""
        assert self.repo is not None
        repo = self.repo
        async with self._lock:  # concurrent requests share one fetch per session
            now = self._now()
            session, trading = await asyncio.to_thread(_session_and_trading, now)
            have = await asyncio.to_thread(repo.symbols_on, session)
            missing = [s for s in SYMBOLS if s not in have]
            if trading:
                return dict.fromkeys(missing, IN_SESSION)
            reasons = {s: why for s, (day, at, why) in self._failed.items()
                       if s in missing and day == session and now - at < RETRY_AFTER}
            wanted = [s for s in missing if s not in reasons]
            if not wanted:
                return reasons
            from bot.market_data.yahoo import fetch_trailing_pe  # lazy: the yfinance import

            result = await asyncio.to_thread(fetch_trailing_pe, wanted, session=self._session())
            added = await asyncio.to_thread(repo.record, session, result.values, now)
            log.info("valuations for %s: %d recorded, %d absent", session, added,
                     len(result.absent))
            for symbol, why in result.absent.items():
                self._failed[symbol] = (session, now, why)
            return {**reasons, **result.absent}

    async def valuation(self, asof: date, relative: pd.Series | None = None
                        ) -> ValuationReading:
        """The valuation reading as of ``asof`` (see the module docstring)."""
        if self.replay:
            return absent_valuation(asof, NOT_IN_REPLAY)
        if self.repo is None:
            return absent_valuation(asof, "no store to record it in")
        reasons: dict[str, str] = {}
        try:
            latest = await asyncio.to_thread(calendar.last_completed_session, self._now())
            if asof >= latest:
                reasons = await self.record_valuations()
            history = await asyncio.to_thread(self.repo.history, SYMBOLS, asof)
        except Exception:  # a store failure must not take the panel down
            log.exception("valuation reading failed")
            return absent_valuation(asof, "could not be read (see the log)")
        return calc_valuation(history, asof, relative, reasons=reasons)

    async def premarket(self, prior_session: date) -> PremarketReading:
        """RTY=F and ES=F since ``prior_session``'s close, read now (replay: the absence)."""
        if self.replay:
            return absent_premarket(NO_PREMARKET_IN_REPLAY, prior_session)
        from bot.market_data.yahoo import fetch_intraday_closes  # lazy: the yfinance import

        try:
            result = await asyncio.to_thread(fetch_intraday_closes, list(FUTURES),
                                             session=self._session())
            close_at = await asyncio.to_thread(calendar.session_close, prior_session)
            open_at = await asyncio.to_thread(
                lambda: calendar.session_open(calendar.next_session(prior_session)))
        except Exception:
            log.exception("pre-market reading failed")
            return absent_premarket("could not be read (see the log)", prior_session)
        return calc_premarket(result.values, prior_session, close_at, self._now(),
                              reasons=result.absent, open_at=open_at)

    async def premarket_for(self, asof: date) -> PremarketReading | None:
        """:meth:`premarket` when ``asof`` is the latest completed session (the coming session
        is the next one); None for a past date (there is no pre-market to show for it). Replay
        gives its labelled absence whatever the date."""
        if self.replay:
            return await self.premarket(asof)
        latest = await asyncio.to_thread(calendar.last_completed_session, self._now())
        return await self.premarket(asof) if asof >= latest else None

    async def readings(self, asof: date, relative: pd.Series | None = None
                       ) -> tuple[ValuationReading, PremarketReading | None]:
        """(:meth:`valuation`, :meth:`premarket_for`) as of ``asof``."""
        return await self.valuation(asof, relative), await self.premarket_for(asof)

def _session_and_trading(now: datetime) -> tuple[date, bool]:
    """(the last completed session, whether ``now`` is within a session's regular hours)."""
    session = calendar.last_completed_session(now)
    today = now.astimezone(NEW_YORK).date()
    trading = (calendar.is_session(today)
               and calendar.session_open(today) <= now < calendar.session_close(today))
    return session, trading


def reader_for(source: str, engine: Engine | None, **kwargs: Any) -> QuoteReader:
    """The reader for a snapshot's ``source``: Yahoo for ``"yahoo"``, replay for anything else
    (CSV replay, a demo snapshot, a provider injected by tests)."""
    return QuoteReader(engine, replay=source != "yahoo", **kwargs)
