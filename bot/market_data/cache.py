"""The bar cache in front of any :class:`~bot.market_data.provider.BarProvider`.

Refresh (:meth:`BarCache.refresh`):
- the target is ``calendar.last_completed_session(now())``; a symbol whose last stored session is
  on or after it is up to date, unless it was fetched less than ``settle`` after the target's
  close: such a just-after-the-bell close may be provisional, so the symbol is due once more when
  ``settle`` has passed (the overlap then re-reads it). A symbol behind the target that the
  source was asked about less than ``recheck`` ago is left alone too (the source had nothing
  newer: a lagging or delisted series).
- the others are fetched from ``overlap_sessions`` stored sessions back (to pick up revisions),
  or from ``history_start`` when nothing is stored, to the target: ONE batched provider call per
  distinct start, so an ordinary morning refresh is one call for the whole universe.
- every refresh is written in one transaction (a crash leaves the previous good state); the
  in-memory frames of the written symbols are then extended in place of a re-read: only the
  rows from the earliest written session on are read back (``RefreshReport.rows_read``) and
  spliced after the frame's older rows. Symbols not held in memory are read whole on their
  next read; a frame that then disagrees with the store's row count or last date is dropped.
- concurrent refreshes of the same symbol set share one run (single-flight); refreshes of
  different sets take turns, so a symbol in two overlapping sets is fetched once.
- when a call fails because the source is down or limiting us (``RETRYABLE`` errors, already
  retried by the provider), the other start groups are not tried in this refresh;
- after a failed fetch the source is not asked again for ``retry_after`` (commands keep
  answering from the cache during an outage instead of each waiting for retries).
- when nothing is due, the refresh remembers until when (the target session, or the moment a
  skipped symbol becomes due), so the default ``read(refresh=True)`` of every command costs no
  store query in between. Another process's writes are noticed at the next check (new rows or
  a new last date drop the in-memory frames).

Reads (:meth:`BarCache.read`) decode frames once and keep them in memory; the frames returned
are shared, so callers must treat them as read-only. A read waits for its refresh at most
``wait_seconds``; when the source is slower and bars are held, it answers from the cache labelled
stale ("slow to answer") while the refresh goes on. When the last fetch of a symbol failed the
read is ``stale`` with a reason naming the error and the as-of session, never silently. When the
store holds nothing for any symbol asked, the source's error is raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import utc_now
from bot.market_data import calendar
from bot.market_data.errors import RETRYABLE, MarketDataError
from bot.market_data.provider import BarProvider
from bot.singleflight import SingleFlight
from bot.storage.repositories import BarRepository, SymbolState

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did. ``error`` is set when the source (or the store) failed for some
    symbols; ``failed`` lists them. ``written`` is rows upserted per symbol (overlap included);
    ``rows_read`` the rows read back to extend the frames held in memory."""

    symbols: tuple[str, ...]
    target: date | None
    provider_calls: int = 0
    written: Mapping[str, int] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)
    failed: tuple[str, ...] = ()
    error: str | None = None
    fetched_at: datetime | None = None
    rows_read: int = 0

    @property
    def rows_written(self) -> int:
        return sum(self.written.values())

    @property
    def skipped(self) -> bool:
        """True when nothing needed fetching (every symbol up to date, or in retry pause)."""
        return self.provider_calls == 0


@dataclass(frozen=True)
class CacheRead:
    """Bars for the symbols the store holds, and how fresh they are.

    ``asof`` maps each symbol to its last session. ``stale`` is True when the last fetch of any
    returned symbol failed; ``stale_reason`` then says which, why, and as of when. ``missing``
    maps symbols with no bars at all to a reason. ``fetched_at`` is the oldest last successful
    fetch among the returned symbols (None when unknown).
    """

    bars: Mapping[str, pd.DataFrame]
    asof: Mapping[str, date]
    stale: bool = False
    stale_reason: str | None = None
    fetched_at: datetime | None = None
    missing: Mapping[str, str] = field(default_factory=dict)
    report: RefreshReport | None = None


def sessions_back(day: date, n: int) -> date:
    """The session ``n - 1`` sessions before ``day`` (``day`` itself for n = 1), so fetching from
    it re-reads the last ``n`` stored sessions; the session after ``day`` when n = 0. Before the
    calendar's range, approximates with calendar days (7 per 5 sessions, plus a margin)."""
    try:
        if n <= 0:
            return calendar.next_session(day)
        back = calendar.sessions(day - timedelta(days=2 * n + 10), day)
        return back[-n] if len(back) >= n else back[0]
    except ValueError:  # exchange_calendars.errors.DateOutOfBounds
        return day + timedelta(days=1) if n <= 0 else day - timedelta(days=(n * 7) // 5 + 3)


def _describe(error: BaseException) -> str:
    text = str(error.message if isinstance(error, MarketDataError) else error).strip()
    return text or type(error).__name__


class BarCache:
    """SQLite/PostgreSQL-backed bars with incremental refresh and honest stale fallback."""

    def __init__(self, provider: BarProvider, repo: BarRepository, *, overlap_sessions: int = 5,
                 history_start: date = date(1979, 1, 1), now: Clock = utc_now,
                 recheck: timedelta = timedelta(minutes=15),
                 retry_after: timedelta = timedelta(minutes=1),
                 wait_seconds: float | None = 15.0,
                 settle: timedelta = timedelta(hours=1), max_frames: int = 256) -> None:
        self.provider = provider
        self.repo = repo
        self.overlap_sessions = overlap_sessions
        self.history_start = history_start
        self.now = now
        self.recheck = recheck
        self.retry_after = retry_after
        self.wait_seconds = wait_seconds
        self.settle = settle
        self.max_frames = max_frames
        self._frames: OrderedDict[str, pd.DataFrame] = OrderedDict()  # least recently read first
        self._generation: dict[str, int] = {}
        self._states: dict[str, SymbolState] = {}
        self._inflight: SingleFlight[tuple[str, ...], RefreshReport] = SingleFlight()
        self._fetching = asyncio.Lock()
        # key -> (target, until): nothing to fetch for ``target`` before ``until`` (None: at all)
        self._quiet: dict[tuple[str, ...], tuple[date, datetime | None]] = {}
        self._last_errors: dict[str, MarketDataError] = {}

    # -- refresh --------------------------------------------------------------------------
    async def refresh(self, symbols: Sequence[str]) -> RefreshReport:
        """Bring ``symbols`` up to the last completed session (see module doc)."""
        key = tuple(sorted(set(symbols)))
        return await self._inflight.run(key, lambda: self._refresh(key))

    async def _refresh(self, key: tuple[str, ...]) -> RefreshReport:
        now = self.now()
        target = calendar.last_completed_session(now)
        quiet = self._quiet.get(key)
        if quiet is not None and quiet[0] == target and (quiet[1] is None or now < quiet[1]):
            return RefreshReport(symbols=key, target=target)  # no store query either
        async with self._fetching:  # overlapping symbol sets: the later one sees the first's rows
            return await self._refresh_locked(key, now, target)

    async def _refresh_locked(self, key: tuple[str, ...], now: datetime,
                              target: date) -> RefreshReport:
        states = await asyncio.to_thread(self.repo.states, key)
        self._adopt_states(states)
        groups, until = self._plan(states, target, now)
        if not groups:
            self._remember_quiet(key, target, until)
            return RefreshReport(symbols=key, target=target)
        self._quiet.pop(key, None)
        calls = 0
        written: dict[str, int] = {}
        missing: dict[str, str] = {}
        failed: list[str] = []
        errors: list[str] = []
        rows_read = 0
        down: MarketDataError | None = None  # the source itself failed: stop asking it
        for start, group in sorted(groups.items()):
            if down is not None:
                failed.extend(group)
                for s in group:
                    self._last_errors[s] = down
                await self._record_failure(group, _describe(down), now)
                continue
            calls += 1
            try:
                result = await self.provider.fetch(group, start, target)
            except MarketDataError as exc:
                log.warning("fetch of %d symbol(s) from %s failed: %s", len(group), start, exc)
                errors.append(_describe(exc))
                failed.extend(group)
                for s in group:
                    self._last_errors[s] = exc
                await self._record_failure(group, _describe(exc), now)
                if isinstance(exc, RETRYABLE):
                    down = exc
                continue
            try:
                done = await asyncio.to_thread(
                    self.repo.write_refresh, result.bars, fetched_at=now,
                    source=self.provider.name, missing=result.missing)
            except (SQLAlchemyError, OSError) as exc:
                log.exception("writing %d symbol(s) to the bar store failed", len(group))
                reason = f"the local bar store could not be updated ({type(exc).__name__})"
                errors.append(reason)
                failed.extend(group)
                await self._record_failure(group, reason, now)
                continue
            written.update(done)
            missing.update(result.missing)
            for s in group:
                self._last_errors.pop(s, None)
            rows_read += await self._append(done, result.bars, start)
        states = await asyncio.to_thread(self.repo.states, key)
        self._adopt_states(states)
        pending, until = self._plan(states, target, now)
        if not pending:
            self._remember_quiet(key, target, until)
        return RefreshReport(symbols=key, target=target, provider_calls=calls, written=written,
                             missing=missing, failed=tuple(failed),
                             error="; ".join(dict.fromkeys(errors)) or None, fetched_at=now,
                             rows_read=rows_read)

    async def _append(self, written: Mapping[str, int], fetched: Mapping[str, pd.DataFrame],
                      start: date) -> int:
        """Extend the held frames of the ``written`` symbols with the store's rows from the
        earliest session written (``start``, or an earlier first row the source sent); drop
        the rest. Returns the rows read. A held frame stays readable until its extension is
        ready; a store error drops it instead (read whole next time)."""
        held = {s: f for s in written if (f := self._frames.get(s)) is not None}
        self._invalidate([s for s in written if s not in held])
        for s in held:  # a read that began before the write must not install what it got
            self._generation[s] = self._generation.get(s, 0) + 1
        if not held:
            return 0
        firsts = [pd.Timestamp(f.index.min()).date() for s in held
                  if (f := fetched.get(s)) is not None and len(f)]
        since = min([start, *firsts])
        try:
            tails = await asyncio.to_thread(self.repo.load_rows, list(held), since)
        except (SQLAlchemyError, OSError):
            log.exception("reading back %d refreshed symbol(s) failed", len(held))
            self._invalidate(list(held))
            return 0
        cut = pd.Timestamp(since)
        for s, old in held.items():
            if self._frames.get(s) is not old:
                continue  # evicted or replaced meanwhile
            head = old.loc[old.index < cut]
            tail = tails.get(s)
            self._frames[s] = head if tail is None or tail.empty else (
                tail if head.empty else pd.concat([head, tail]))
        return sum(len(t) for t in tails.values())

    def _remember_quiet(self, key: tuple[str, ...], target: date,
                        until: datetime | None) -> None:
        if len(self._quiet) >= 1024:  # many ad-hoc symbol sets: forget them all (cheap to redo)
            self._quiet.clear()
        self._quiet[key] = (target, until)

    def _plan(self, states: Mapping[str, SymbolState], target: date,
              now: datetime) -> tuple[dict[date, list[str]], datetime | None]:
        """Symbols to fetch, grouped by start date (see module doc), and the earliest time a
        symbol skipped now becomes due (None when every symbol is up to date with ``target``)."""
        groups: dict[date, list[str]] = {}
        due: list[datetime] = []
        settled = calendar.session_close(target) + self.settle
        for symbol, st in states.items():
            if st.last is not None and st.last >= target:
                if st.last_success_at is None or st.last_success_at >= settled:
                    continue  # final
                if now < settled:
                    due.append(settled)  # provisional: read it again once it has settled
                    continue
            if st.failing and st.last_error_at and now - st.last_error_at < self.retry_after:
                due.append(st.last_error_at + self.retry_after)
                continue
            asked = st.last_success_at
            if asked is not None and now - asked < self.recheck and not st.failing:
                due.append(asked + self.recheck)
                continue
            start = (self.history_start if st.last is None
                     else sessions_back(st.last, self.overlap_sessions))
            groups.setdefault(min(start, target), []).append(symbol)
        return groups, min(due) if due else None

    async def _record_failure(self, symbols: Sequence[str], reason: str, at: datetime) -> None:
        try:
            await asyncio.to_thread(self.repo.record_failure, symbols, reason, at)
        except (SQLAlchemyError, OSError):
            log.exception("could not record the fetch failure")

    def _adopt_states(self, states: Mapping[str, SymbolState]) -> None:
        """Take fresh store states; a symbol whose stored rows changed behind our back (another
        process refreshed) has its in-memory frame dropped."""
        changed = []
        for symbol, st in states.items():
            frame = self._frames.get(symbol)
            if frame is not None and (len(frame) != st.rows or (
                    st.last is not None and frame.index[-1].date() != st.last)):
                changed.append(symbol)
            self._states[symbol] = st
        self._invalidate(changed)

    def _invalidate(self, symbols: Sequence[str] | Mapping[str, int]) -> None:
        for symbol in symbols:
            self._frames.pop(symbol, None)
            self._generation[symbol] = self._generation.get(symbol, 0) + 1

    # -- reads ----------------------------------------------------------------------------
    async def frames(self, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
        """The stored bars of ``symbols`` that have any (decoded once, then from memory)."""
        wanted = list(dict.fromkeys(symbols))
        cold = [s for s in wanted if s not in self._frames
                and ((st := self._states.get(s)) is None or st.rows > 0)]  # none stored: skip
        if cold:
            generations = {s: self._generation.get(s, 0) for s in cold}
            loaded = await asyncio.to_thread(self.repo.load_bars, cold)
            for symbol, frame in loaded.items():
                if self._generation.get(symbol, 0) == generations[symbol]:
                    self._frames[symbol] = frame
            out = {s: self._frames.get(s, loaded.get(s)) for s in wanted}
            self._touch(wanted)
            return {s: f for s, f in out.items() if f is not None}
        self._touch(wanted)
        return {s: self._frames[s] for s in wanted if s in self._frames}

    def _touch(self, symbols: Sequence[str]) -> None:
        """Mark ``symbols`` recently used; beyond ``max_frames`` drop the least recently read
        (ad-hoc chart symbols must not grow memory forever; they reload from the store)."""
        for symbol in symbols:
            if symbol in self._frames:
                self._frames.move_to_end(symbol)
        while len(self._frames) > self.max_frames:
            self._frames.popitem(last=False)

    async def read(self, symbols: Sequence[str], *, refresh: bool = True) -> CacheRead:
        """Bars for ``symbols`` (refreshed first unless ``refresh=False``), labelled honestly.

        Raises the source's :class:`MarketDataError` when the store holds no bars for any of
        ``symbols`` and the source failed; :class:`MarketDataError` too when nothing is stored
        and no refresh was asked for.
        """
        wanted = list(dict.fromkeys(symbols))
        report, slow = (await self._refresh_within(wanted)) if refresh else (None, False)
        if slow or any(s not in self._states for s in wanted):
            self._adopt_states(await asyncio.to_thread(self.repo.states, wanted))
        if slow and not any(self._states[s].rows for s in wanted):
            report, slow = await self.refresh(wanted), False  # nothing to serve meanwhile
        bars = await self.frames(wanted)
        missing: dict[str, str] = {}
        for s in wanted:
            if s not in bars:
                st = self._states.get(s)
                missing[s] = (st.last_error if st and st.last_error
                              else "no bars stored yet" if not refresh else "no bars at source")
        if not bars:
            errors = [self._last_errors[s] for s in wanted if s in self._last_errors]
            if errors:
                raise errors[0]
            why = "; ".join(dict.fromkeys(missing.values()))
            raise MarketDataError(f"No market data is available for {', '.join(wanted)}: {why}")
        asof = {s: f.index[-1].date() for s, f in bars.items() if len(f)}
        failing = [s for s in bars if (st := self._states.get(s)) is not None and st.failing]
        reason = self._stale_reason(failing, asof) if failing else None
        if slow and asof:
            reason = "; ".join(filter(None, [reason, (
                f"the data source is slow to answer (refresh still running after "
                f"{self.wait_seconds:g} s); showing the last good bars, as of "
                f"{max(asof.values()).isoformat()}")]))
        fetched = [st.last_success_at for s in bars
                   if (st := self._states.get(s)) is not None and st.last_success_at]
        return CacheRead(bars=bars, asof=asof, stale=bool(failing) or slow, stale_reason=reason,
                         fetched_at=min(fetched) if fetched else None, missing=missing,
                         report=report)

    async def _refresh_within(self, wanted: list[str]) -> tuple[RefreshReport | None, bool]:
        """Refresh, waiting at most ``wait_seconds``; ``(None, True)`` when the source is slower
        (the refresh goes on in the background and later reads see its result)."""
        if self.wait_seconds is None:
            return await self.refresh(wanted), False
        try:
            return await asyncio.wait_for(self.refresh(wanted), self.wait_seconds), False
        except TimeoutError:
            log.warning("refresh of %d symbol(s) still running after %g s; serving the cache",
                        len(wanted), self.wait_seconds)
            return None, True

    def _stale_reason(self, failing: Sequence[str], asof: Mapping[str, date]) -> str:
        errors = dict.fromkeys(self._states[s].last_error or "unknown error" for s in failing)
        since = min(at for s in failing if (at := self._states[s].last_error_at) is not None)
        days = [asof[s] for s in failing if s in asof]
        held = f"; showing the last good bars, as of {max(days).isoformat()}" if days else ""
        who = ", ".join(failing) if len(failing) <= 4 else f"{len(failing)} symbols"
        return (f"refresh of {who} failed at {since:%Y-%m-%d %H:%M} UTC: "
                f"{'; '.join(errors)}{held}")

    def state(self, symbol: str) -> SymbolState | None:
        """The last known store state of ``symbol`` (after a read or refresh)."""
        return self._states.get(symbol)
