"""Morning-briefing fan-out: compose once per (session, options variant), post to every subscriber
exactly once, whatever fails.

Per (subscription, session), in the ledger (``bot/briefing/store.py``):

1. **claim** – subscriptions are claimed in batches: one transaction inserts ``sending`` rows
   under a lease (a unique owner token and an expiry). Of two processes that both think they own
   a guild (a rolling restart), only one wins each row.
2. **send** – with the deterministic nonce of (subscription, session) and ``enforce_nonce``, so
   a repeat (discord.py's own 5xx retry, or our re-send) returns the first message instead of
   posting again; the nonce is also printed in the embed footer as the post's *marker*.
   Sends pass a process-wide limiter (under Discord's 50 requests/s).
3. **record** – ``sent`` with the message id. A 5xx or a timeout is ``unknown`` (Discord may
   hold the post); a 403/404, or a 429 that outlasted the retries, is ``failed`` (it does not).
4. **reconcile** – before any re-send and at start-up, every ``unknown`` row, and every
   ``sending`` row whose lease expired (or was held by an earlier life of this instance), is
   leased and checked: the channel's recent messages are read and the bot's post with the
   marker is looked for. Found → ``sent``; not found within the grace window → re-sent with the
   same nonce; not found later → ``missed``. A ``sent`` row is never sent again, so a post a
   moderator deleted stays deleted.

Nothing silent: a composition failure is recorded on every subscription's row (``failed``, with
the reason) and retried until the grace window ends; then the last good composition of that
variant is posted with a STALE label, or the row says "skipped: data unavailable". A composition
built from stale data is cached only briefly, so a recovered source replaces it.

Scale-out: only subscriptions whose guild is on a shard this process owns,
``(guild_id >> 22) % shard_count``, are delivered here (:attr:`BriefingRuntime.owns`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import secrets
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from bot import metrics
from bot.briefing.compose import ComposeCache, Composer
from bot.briefing.ledger_runtime import LedgerRuntime, describe_error
from bot.briefing.models import (
    BriefingOptions,
    Delivery,
    DeliveryStatus,
    Subscription,
    format_time,
    nonce_for,
)
from bot.briefing.post import BriefingPost
from bot.briefing.schedule import (
    Clock,
    Slot,
    classify,
    data_asof,
    local_date,
    missed_reason,
    recent_slots,
    slot_on,
)
from bot.briefing.sender import ChannelError, OutcomeUnknown, SendLimiter, Throttled
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.clock import utc_now
from bot.market_data import calendar

log = logging.getLogger(__name__)

#: How far back a firing job looks for its slot (well under a day: yesterday's is never it).
JOB_LOOKBACK = timedelta(hours=12)
NEW_YORK = "America/New_York"
#: Rows leased per reconcile page, and at most this many pages per call.
RECONCILE_PAGE, MAX_RECONCILE_PAGES = 500, 100


class PostSender(Protocol):
    """Posts to a channel and finds a post again by its marker."""

    async def send(self, channel_id: int, post: BriefingPost, *, nonce: str | None = None
                   ) -> int:
        """The message id; :class:`ChannelError`, :class:`Throttled`, :class:`OutcomeUnknown`."""

    async def find(self, channel_id: int, marker: str) -> int | None:
        """The id of the bot's recent message carrying ``marker``, or None."""


class Limiter(Protocol):
    async def acquire(self) -> None: ...


@dataclass
class FanoutReport:
    """What one fan-out did (lists of subscription ids)."""

    session: date
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    disabled: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)
    not_owned: int = 0


def default_instance() -> str:
    """``host-pid``: unique per live process. Set ``briefing.instance`` to a stable name per
    deployment slot (never shared by two live processes) and a restart takes over its own
    earlier leases at once instead of waiting for them to expire."""
    return f"{socket.gethostname()[:50] or 'capbrief'}-{os.getpid()}"


class BriefingRuntime(LedgerRuntime):
    """The live briefing service: scheduled slots, catch-up, reconcile, send-now and preview
    (the ledger thread, the failure rule and retention: :class:`LedgerRuntime`)."""

    kind = "briefing"

    def __init__(self, subscriptions: SubscriptionRepository, deliveries: DeliveryRepository,
                 composer: Composer, sender: PostSender, *, grace: timedelta,
                 max_failures: int = 3, concurrency: int = 5, clock: Clock = utc_now,
                 throttle_retries: int = 3, throttle_backoff: float = 2.0,
                 limiter: Limiter | None = None, instance: str | None = None,
                 lease: timedelta = timedelta(minutes=5), claim_batch: int = 100,
                 compose_retry: timedelta = timedelta(minutes=5),
                 owns: Callable[[int], bool] | None = None) -> None:
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
        self.limiter: Limiter = limiter or SendLimiter(None)
        self.instance = (instance or default_instance()).replace("/", "-")
        self.boot = secrets.token_hex(4)
        self.lease = lease
        self.claim_batch = max(1, claim_batch)
        self.compose_retry = compose_retry
        #: ``owns(guild_id)``: is this guild's shard ours? (set by the service once connected)
        self.owns: Callable[[int], bool] = owns or (lambda _gid: True)
        self._tokens = itertools.count(1)
        self._retries: set[asyncio.Task[Any]] = set()
        self._start_ledger_thread()

    def close(self) -> None:
        """Cancel pending composition retries and release the ledger thread."""
        for task in self._retries:
            task.cancel()
        super().close()

    @property
    def compositions(self) -> int:
        return self.cache.compositions

    def _owner(self) -> str:
        """A fresh lease token: ``instance/boot/n`` (unique per claim)."""
        return f"{self.instance}/{self.boot}/{next(self._tokens)}"

    def _lease_end(self) -> datetime:
        return self.clock() + self.lease

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
        """On start: reconcile unresolved rows, deliver slots within grace once, record (and
        log) older ones as missed."""
        now = self.clock()
        await self.reconcile()
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
        reason = missed_reason(slot.fire_at, now, self.grace)
        for sub in subs:
            if not self.owns(sub.guild_id):
                continue
            if await self._db(self.deliveries.mark_missed, sub.id, slot.session, reason, now):
                log.warning("briefing MISSED for subscription %s (channel %s), session %s: %s",
                            sub.id, sub.channel_id, slot.session, reason)
                report.missed.append(sub.id)
        metrics.record_fanout(report)
        return report

    # -- fan-out --------------------------------------------------------------------------
    async def deliver(self, slot: Slot, subs: list[Subscription]) -> FanoutReport:
        """Post ``slot``'s briefing once to each of ``subs`` whose guild this process owns."""
        report = FanoutReport(session=slot.session)
        owned = [s for s in subs if self.owns(s.guild_id)]
        report.not_owned = len(subs) - len(owned)
        await self.reconcile(slot.session, report)
        rows = await self._db(self.deliveries.statuses, slot.session)
        pending: dict[str, list[Subscription]] = defaultdict(list)
        for sub in owned:
            done = rows.get(sub.id)
            if done is not None and done != DeliveryStatus.FAILED:
                if sub.id not in report.reconciled:
                    report.skipped.append(sub.id)
            else:
                pending[sub.options.variant].append(sub)
        asof = data_asof(slot)
        for group in pending.values():
            post = await self._compose_or_fallback(slot, asof, group, report)
            if post is not None:
                await self._fan_out(slot, post, group, report)
        if report.unknown:
            await self.reconcile(slot.session, report)
        log.info("briefing %s: %d sent, %d skipped, %d failed, %d unknown, %d reconciled, "
                 "%d disabled, %d on other shards", slot.session, len(report.sent),
                 len(report.skipped), len(report.failed), len(report.unknown),
                 len(report.reconciled), len(report.disabled), report.not_owned)
        metrics.record_fanout(report)
        return report

    async def _compose_or_fallback(self, slot: Slot, asof: date, subs: list[Subscription],
                                   report: FanoutReport) -> BriefingPost | None:
        """The variant's post; on failure the reason goes on every row, and a retry is
        scheduled within the grace window; at its end, the stale fallback or "skipped"."""
        options = subs[0].options
        try:
            return await self.cache.get(slot.session, asof, options)
        except Exception as exc:
            reason = f"composition failed: {describe_error(exc)}"
            log.warning("briefing %s (%s): %s", slot.session, options.variant, reason)
        now = self.clock()
        deadline = slot.fire_at + self.grace
        ids = [s.id for s in subs]
        if now + self.compose_retry < deadline:
            until = f"{(now + self.compose_retry):%H:%M} UTC"
            await self._db(self.deliveries.record_failures, ids, slot.session,
                           f"{reason}; retrying at {until}", now)
            report.failed += ids
            self._schedule_retry(slot, subs)
            return None
        older = self.cache.last_good.get(options.variant)
        if older is not None:
            log.warning("briefing %s: posting the last good composition (data as of %s) "
                        "labelled stale", slot.session, older.asof)
            return dataclasses.replace(older.as_stale(reason), session=slot.session)
        await self._db(self.deliveries.record_failures, ids, slot.session, reason, now)
        for sub in subs:
            await self._db(self.deliveries.mark_skipped, sub.id, slot.session,
                           f"skipped: data unavailable ({reason})", now)
            report.skipped.append(sub.id)
        log.warning("briefing %s SKIPPED for %d subscription(s): data unavailable",
                    slot.session, len(subs))
        return None

    def _schedule_retry(self, slot: Slot, subs: list[Subscription]) -> None:
        async def later() -> None:
            await asyncio.sleep(self.compose_retry.total_seconds())
            fresh = await self._db(self.subscriptions.many, [s.id for s in subs])
            await self.deliver(slot, [s for s in fresh.values() if s.enabled])

        task = asyncio.ensure_future(later())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _fan_out(self, slot: Slot, post: BriefingPost, subs: list[Subscription],
                       report: FanoutReport) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        by_id = {s.id: s for s in subs}

        async def one(sub: Subscription, owner: str) -> None:
            async with gate:
                await self._send(sub, slot.session, post, owner, report)

        for start in range(0, len(subs), self.claim_batch):
            batch = subs[start:start + self.claim_batch]
            owner = self._owner()
            won = await self._db(self.deliveries.claim, [s.id for s in batch], slot.session,
                                 owner=owner, now=self.clock(), lease_until=self._lease_end())
            report.skipped += [s.id for s in batch if s.id not in set(won)]
            await asyncio.gather(*(one(by_id[sid], owner) for sid in won))

    async def _send(self, sub: Subscription, session: date, post: BriefingPost, owner: str,
                    report: FanoutReport) -> None:
        """Send a claimed delivery (nonce and marker of (sub, session)) and record the outcome."""
        nonce = nonce_for(sub.id, session)
        marked = post.marked(nonce)
        attempt = 0
        while True:
            try:
                await self.limiter.acquire()
                message_id = await self.sender.send(sub.channel_id, marked, nonce=nonce)
                break
            except Throttled as exc:
                attempt += 1
                if attempt > self.throttle_retries:
                    await self._failed(sub, session, exc, report)
                    return
                pause = self.throttle_backoff * attempt
                await self._db(self.deliveries.renew, sub.id, session, owner,
                               self._lease_end() + timedelta(seconds=pause))
                log.info("channel %s still rate limited; retry %d in %.1f s", sub.channel_id,
                         attempt, pause)
                await asyncio.sleep(pause)
            except OutcomeUnknown as exc:
                log.warning("briefing to channel %s: outcome unknown (%s); will reconcile",
                            sub.channel_id, exc)
                await self._db(self.deliveries.mark_unknown, sub.id, session, str(exc),
                               self.clock())
                report.unknown.append(sub.id)
                return
            except Exception as exc:  # 403/404 (ChannelError) or a bug: Discord took nothing
                await self._failed(sub, session, exc, report)
                return
        now = self.clock()
        note = "posted with a STALE label: today's data was unavailable" if post.stale else None
        await self._db(self.deliveries.mark_sent, sub.id, session, message_id, now, note)
        if sub.consecutive_failures:
            await self._db(self.subscriptions.record_success, sub.id, now)
        report.sent.append(sub.id)

    # -- reconcile ------------------------------------------------------------------------
    async def reconcile(self, session: date | None = None,
                        report: FanoutReport | None = None) -> list[Delivery]:
        """Lease and settle every unresolved row (optionally of one session): found in the
        channel → ``sent``; absent and within grace → re-sent with the same nonce; absent
        later → ``missed``. Returns the rows taken."""
        taken: list[Delivery] = []
        for _page in range(MAX_RECONCILE_PAGES):
            owner = self._owner()
            rows = await self._db(self.deliveries.take_unresolved, owner=owner,
                                  instance=self.instance, boot=self.boot, now=self.clock(),
                                  lease_until=self._lease_end(), session=session,
                                  limit=RECONCILE_PAGE)
            taken += rows
            subs = await self._db(self.subscriptions.many, [r.subscription_id for r in rows])
            gate = asyncio.Semaphore(self.concurrency)
            await asyncio.gather(*(self._settle_gated(gate, r, subs.get(r.subscription_id),
                                                      owner, report) for r in rows))
            if len(rows) < RECONCILE_PAGE:  # a row still unresolved has released its lease
                break
        return taken

    async def _settle_gated(self, gate: asyncio.Semaphore, row: Delivery,
                            sub: Subscription | None, owner: str,
                            report: FanoutReport | None) -> None:
        async with gate:
            await self._settle(row, sub, owner, report)

    async def _settle(self, row: Delivery, sub: Subscription | None, owner: str,
                      report: FanoutReport | None) -> None:
        now = self.clock()
        if sub is None:
            return  # unsubscribed meanwhile (its rows were deleted with it)
        try:
            await self.limiter.acquire()
            found = await self.sender.find(sub.channel_id, row.nonce)
        except ChannelError as exc:
            if exc.status == 404:
                await self._db(self.deliveries.mark_failed, sub.id, row.session,
                               f"reconcile: {exc.reason}", now)
            else:  # cannot read the channel: never re-send blind
                await self._db(self.deliveries.mark_unknown, sub.id, row.session,
                               f"cannot check the channel for the post ({exc.reason}); "
                               "not re-sent", now)
            log.warning("briefing reconcile for channel %s: %s", sub.channel_id, exc.reason)
            return
        except Exception as exc:
            log.warning("briefing reconcile for channel %s failed: %s; will retry",
                        sub.channel_id, describe_error(exc))
            await self._db(self.deliveries.mark_unknown, sub.id, row.session,
                           f"reconcile failed: {describe_error(exc)}", now)
            return
        if found is not None:
            log.info("briefing for subscription %s, session %s found in the channel "
                     "(message %s): recorded as sent", sub.id, row.session, found)
            await self._db(self.deliveries.mark_sent, sub.id, row.session, found, now,
                           f"found in the channel after: {row.last_error or 'a restart'}")
            if report is not None:
                report.reconciled.append(sub.id)
            return
        slot = slot_on(row.session, sub.local_time, sub.timezone)
        if slot is None or classify(now, slot, self.grace) != "due":
            await self._db(self.deliveries.mark_skipped, sub.id, row.session,
                           "missed: not found in the channel after an outage, and the grace "
                           "window has passed", now)
            return
        try:
            post = await self.cache.get(row.session, data_asof(slot), sub.options)
        except Exception as exc:
            await self._db(self.deliveries.mark_failed, sub.id, row.session,
                           f"composition failed: {describe_error(exc)}", now)
            return
        log.info("briefing for subscription %s, session %s not in the channel: re-sending "
                 "with the same nonce", sub.id, row.session)
        await self._send(sub, row.session, post, owner, report or FanoutReport(row.session))

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
        await self.limiter.acquire()
        return await self.sender.send(sub.channel_id, post)


def _wanted(sub: Subscription, slot: Slot) -> bool:
    """A subscription receives a slot's post only if it existed when the slot fired."""
    return sub.created_at is None or sub.created_at <= slot.fire_at
