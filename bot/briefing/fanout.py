"""Morning-briefing fan-out: compose once per (session, options variant), post to every subscriber.

Exactly-once bookkeeping, per (subscription, session), in ``briefing_deliveries``:

1. **claim** – in one transaction, insert the row as ``sending`` (or move a ``failed`` row back
   to ``sending``). A row that is ``sent``, ``sending``, ``interrupted`` or ``missed`` is never
   claimed again, so a second job firing, a restart or a second process cannot post twice.
2. **send** – post to Discord (discord.py waits out 429s using ``retry-after`` itself).
   A 429 that outlasts discord.py's retries is retried here after a pause (Discord did not
   take the message, so this cannot double-post); a 5xx or timeout is NOT retried, because
   Discord may have posted it.
3. **record** – ``sent`` with the message id, or ``failed`` with the error; a failure also bumps
   the subscription's consecutive-failure count, and at ``settings.briefing.max_failures`` the
   subscription is disabled with the reason (shown by ``/briefing settings``).

**Crash between send and record: at-most-once.** The row stays ``sending``; at the next start
:meth:`BriefingRuntime.catch_up` marks it ``interrupted`` and logs a warning, and it is NOT
re-sent. We prefer possibly missing one post (visible in the log and in ``/briefing settings``)
to posting the same briefing twice into a community channel. ``tests/briefing/test_crash.py``
kills a real process right after the send and restarts it to prove this.

Catch-up: on start, a subscription whose slot fired within the misfire grace window and has no
delivery row is delivered once; an older slot gets a ``missed`` row and a warning in the log. A
subscription created after a slot fired does not receive that slot's post.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from bot.briefing.post import BriefingPost
from bot.market_data import calendar
from bot.briefing.schedule import (
    Clock,
    Slot,
    classify,
    data_asof,
    local_date,
    recent_slots,
    utc_now,
)
from bot.storage.repositories import DeliveryRepository, SubscriptionRepository
from bot.briefing.models import BriefingOptions, Subscription, format_time

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Test hook: when set to ``after-send``, the process exits right after a successful send and
#: before the delivery is recorded (used by the crash test; never set in production).
CRASH_ENV = "CAPBRIEF_TEST_CRASH_AFTER_SEND"
CRASH_EXIT_CODE = 77
#: How far back a firing job looks for its slot (well under a day: yesterday's is never it).
JOB_LOOKBACK = timedelta(hours=12)
NEW_YORK = "America/New_York"


class ChannelError(Exception):
    """The channel refused the post for good (403 forbidden, 404 gone)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class Throttled(Exception):
    """Discord still answered 429 after discord.py's own retries: not posted, safe to retry."""


class Composer(Protocol):
    """Builds the post for a session (data as of ``asof``) and one options variant."""

    async def compose(self, session: date, asof: date, options: BriefingOptions
                      ) -> BriefingPost: ...


class PostSender(Protocol):
    """Posts to a channel and returns the message id; raises :class:`ChannelError` on 403/404."""

    async def send(self, channel_id: int, post: BriefingPost) -> int: ...


class ComposeCache:
    """Single-flight composition keyed by (session, asof, variant); counts real compositions.

    Concurrent callers for the same key await the same task; only the last few sessions are
    kept. A failed composition is not cached (the next caller tries again).
    """

    def __init__(self, composer: Composer, keep_sessions: int = 3) -> None:
        self._composer = composer
        self._keep = keep_sessions
        self._tasks: dict[tuple[date, date, str], asyncio.Task[BriefingPost]] = {}
        self.compositions = 0

    async def get(self, session: date, asof: date, options: BriefingOptions) -> BriefingPost:
        key = (session, asof, options.variant)
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(self._compose(session, asof, options))
            self._tasks[key] = task
            self._trim()
        try:
            return await asyncio.shield(task)
        except Exception:
            if self._tasks.get(key) is task:
                del self._tasks[key]
            raise

    async def _compose(self, session: date, asof: date, options: BriefingOptions
                       ) -> BriefingPost:
        self.compositions += 1
        log.info("composing briefing for %s (data as of %s), %s", session, asof, options.variant)
        return await self._composer.compose(session, asof, options)

    def _trim(self) -> None:
        sessions = sorted({k[0] for k in self._tasks})
        for old in sessions[:-self._keep]:
            for key in [k for k in self._tasks if k[0] == old]:
                del self._tasks[key]


@dataclass
class FanoutReport:
    """What one fan-out did (sent/skipped/failed are subscription ids)."""

    session: date
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    disabled: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)


class BriefingRuntime:
    """The live briefing service: scheduled slots, catch-up, send-now and preview."""

    def __init__(self, subscriptions: SubscriptionRepository, deliveries: DeliveryRepository,
                 composer: Composer, sender: PostSender, *, grace: timedelta,
                 max_failures: int = 3, concurrency: int = 5, clock: Clock = utc_now,
                 throttle_retries: int = 3, throttle_backoff: float = 2.0) -> None:
        self.subscriptions = subscriptions
        self.deliveries = deliveries
        self.cache = ComposeCache(composer)
        self.sender = sender
        self.grace = grace
        self.max_failures = max_failures
        self.concurrency = concurrency
        self.clock = clock
        self.throttle_retries = throttle_retries
        self.throttle_backoff = throttle_backoff
        # Ledger calls run on ONE worker thread: off the event loop, and never two at once
        # (so an in-memory SQLite's single shared connection is safe too).
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="briefing-db")

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a repository call on the ledger thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        """Release the ledger thread (the service calls this on shutdown)."""
        self._executor.shutdown(wait=False)

    @property
    def compositions(self) -> int:
        return self.cache.compositions

    # -- scheduled ------------------------------------------------------------------------
    async def run_slot(self, at: time, tz: str) -> FanoutReport | None:
        """The cron job for slot (``at``, ``tz``): deliver the post of the slot that just fired.

        The slot is the latest one at or before now within :data:`JOB_LOOKBACK` (so a 23:30 job
        running at 00:10 still serves yesterday's slot); none means NYSE did not trade that
        day. A slot older than the grace window is recorded as missed, not posted.
        """
        now = self.clock()
        key = (format_time(at), tz)
        fired = recent_slots(now, at, tz, lookback=JOB_LOOKBACK)
        if not fired:
            log.info("briefing %s %s: %s is not an NYSE session; nothing posted", *key,
                     local_date(now, tz))
            return None
        slot = fired[-1]
        subs = [s for s in await self._db(self.subscriptions.enabled, key) if _wanted(s, slot)]
        if classify(now, slot, self.grace) == "missed":
            return await self._record_missed(slot, subs, now)
        return await self.deliver(slot, subs)

    async def catch_up(self) -> list[FanoutReport]:
        """On start: mark stale ``sending`` rows interrupted, deliver slots within grace once,
        record (and log) older ones as missed."""
        now = self.clock()
        for row in await self._db(self.deliveries.interrupt_stale, now):
            log.warning("briefing for subscription %s, session %s was interrupted between "
                        "send and record; not re-sent (at-most-once)", row.subscription_id,
                        row.session)
        due: dict[Slot, list[Subscription]] = defaultdict(list)
        missed: dict[Slot, list[Subscription]] = defaultdict(list)
        for sub in await self._db(self.subscriptions.enabled):
            for slot in recent_slots(now, sub.local_time, sub.timezone):
                if not _wanted(sub, slot):
                    continue
                kind = classify(now, slot, self.grace)
                (due if kind == "due" else missed)[slot].append(sub)
        reports = [await self._record_missed(slot, subs, now) for slot, subs in missed.items()]
        for slot, subs in sorted(due.items(), key=lambda kv: kv[0].fire_at):
            reports.append(await self.deliver(slot, subs))
        return reports

    async def _record_missed(self, slot: Slot, subs: Iterable[Subscription], now: datetime
                             ) -> FanoutReport:
        report = FanoutReport(session=slot.session)
        late = now - slot.fire_at
        for sub in subs:
            reason = (f"the bot was down at {slot.fire_at:%Y-%m-%d %H:%M} UTC and came back "
                      f"{int(late.total_seconds() // 60)} min later, beyond the "
                      f"{int(self.grace.total_seconds() // 60)}-min grace window")
            if await self._db(self.deliveries.mark_missed, sub.id, slot.session, reason, now):
                log.warning("briefing MISSED for subscription %s (channel %s), session %s: %s",
                            sub.id, sub.channel_id, slot.session, reason)
                report.missed.append(sub.id)
        return report

    # -- fan-out --------------------------------------------------------------------------
    async def deliver(self, slot: Slot, subs: list[Subscription]) -> FanoutReport:
        """Post ``slot``'s briefing to each subscription at most once (bounded concurrency)."""
        report = FanoutReport(session=slot.session)
        pending = []
        rows = {d.subscription_id: d
                for d in await self._db(self.deliveries.for_session, slot.session)}
        for sub in subs:
            done = rows.get(sub.id)
            if done is not None and done.status != "failed":
                report.skipped.append(sub.id)
            else:
                pending.append(sub)
        if not pending:
            return report
        asof = data_asof(slot)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(sub: Subscription) -> None:
            async with gate:
                await self._deliver_one(sub, slot, asof, report)

        await asyncio.gather(*(one(s) for s in pending))
        log.info("briefing %s: %d sent, %d skipped, %d failed, %d disabled", slot.session,
                 len(report.sent), len(report.skipped), len(report.failed),
                 len(report.disabled))
        return report

    async def _deliver_one(self, sub: Subscription, slot: Slot, asof: date,
                           report: FanoutReport) -> None:
        try:
            post = await self.cache.get(slot.session, asof, sub.options)
        except Exception:
            log.exception("could not compose the briefing for %s", slot.session)
            report.failed.append(sub.id)
            return
        if not await self._db(self.deliveries.claim, sub.id, slot.session, self.clock()):
            report.skipped.append(sub.id)
            return
        attempt = 0
        while True:
            try:
                message_id = await self.sender.send(sub.channel_id, post)
                break
            except Throttled as exc:
                # A 429 means Discord did not take the message: retrying cannot double-post.
                attempt += 1
                if attempt > self.throttle_retries:
                    await self._failed(sub, slot, exc, report)
                    return
                log.info("channel %s still rate limited; retry %d in %.1f s", sub.channel_id,
                         attempt, self.throttle_backoff * attempt)
                await asyncio.sleep(self.throttle_backoff * attempt)
            except Exception as exc:  # 403/404, or 5xx/timeouts: maybe posted, never retried
                await self._failed(sub, slot, exc, report)
                return
        if os.environ.get(CRASH_ENV) == "after-send":
            os._exit(CRASH_EXIT_CODE)
        now = self.clock()
        await self._db(self.deliveries.mark_sent, sub.id, slot.session, message_id, now)
        if sub.consecutive_failures:
            await self._db(self.subscriptions.record_success, sub.id, now)
        report.sent.append(sub.id)

    async def _failed(self, sub: Subscription, slot: Slot, exc: Exception,
                      report: FanoutReport) -> None:
        reason = _describe(exc)
        now = self.clock()
        await self._db(self.deliveries.mark_failed, sub.id, slot.session, reason, now)
        report.failed.append(sub.id)
        after = await self._db(partial(self.subscriptions.record_failure, sub.id, reason,
                                       max_failures=self.max_failures, now=now))
        if isinstance(exc, ChannelError):
            log.warning("briefing to channel %s failed: %s", sub.channel_id, reason)
        else:
            log.error("briefing to channel %s failed", sub.channel_id, exc_info=exc)
        if after is not None and not after.enabled and sub.enabled:
            log.warning("subscription %s (channel %s) disabled: %s", sub.id, sub.channel_id,
                        after.disabled_reason)
            report.disabled.append(sub.id)

    # -- on demand ------------------------------------------------------------------------
    async def compose_now(self, options: BriefingOptions) -> BriefingPost:
        """The post as it would go out now (preview / send-now): for today's session (or the
        next one on a closed day), with data as of the last session completed now."""
        now = self.clock()
        today = local_date(now, NEW_YORK)
        session = today if calendar.is_session(today) else calendar.next_session(today)
        asof = calendar.last_completed_session(now)
        return await self.cache.get(session, asof, options)

    async def send_now(self, sub: Subscription) -> int:
        """Post now to ``sub``'s channel (not recorded as the scheduled delivery)."""
        post = await self.compose_now(sub.options)
        return await self.sender.send(sub.channel_id, post)


def _wanted(sub: Subscription, slot: Slot) -> bool:
    """A subscription receives a slot's post only if it existed when the slot fired."""
    return sub.created_at is None or sub.created_at <= slot.fire_at


def _describe(exc: Exception) -> str:
    if isinstance(exc, ChannelError):
        return exc.reason
    return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
