"""Alert delivery: evaluate a session once its close is final, post each subscriber's events
once, through the briefing's ledger and sender.

**When.** :func:`due_session` is the latest NYSE session whose close (early closes from the
calendar) plus ``[alerts] delay_minutes`` is at or before now. A job runs every
``check_minutes`` and calls :meth:`AlertRuntime.run_due`; the ledger makes the repeats no-ops.
Only subscriptions that existed when the session became due receive it.

**Data.** One ``snapshot()`` (the same data path as everything else). Stale data
(``snapshot.stale``) or data that ends before the session evaluated: nothing fires; every
pending subscription gets a ``failed`` row whose reason starts ``skipped:`` (logged), and the
next check tries again until a later session becomes due.

**Once.** Per (subscription, session), in ``alert_deliveries`` (the briefing ledger's table
shape and :class:`~bot.briefing.store.DeliveryRepository` code): reconcile first (rows left
``sending``/``unknown`` by a crash or a 5xx are leased; the channel is read for the marker
``ref ca<sub>-<yyyymmdd>``; found → ``sent``, absent → ``failed`` so it is claimed again, never
re-sent blind), then claim under a lease, send with the deterministic nonce (``enforce_nonce``)
and record. All of a session's events wanted by one subscription go out as ONE message.
``max_per_day`` caps messages per channel per New York day (default 1: one session's events
are already one message, so the cap only bites if a backlog of sessions is delivered at once).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from analytics.alerts import AlertBatch, AlertParams, calc_alerts
from bot.alerts.store import (
    AlertDeliveryRepository,
    AlertSubscription,
    AlertSubscriptionRepository,
    alert_nonce,
)
from bot.briefing.fanout import PostSender, default_instance
from bot.briefing.models import DeliveryStatus
from bot.briefing.post import BriefingPost, PostField, PostImage
from bot.briefing.sender import ChannelError, OutcomeUnknown, SendLimiter
from bot.clock import utc_now
from bot.market_data import calendar
from bot.market_data.inception import inception_of
from bot.market_data.snapshot import MarketSnapshot
from bot.ui.alert_embeds import alert_embed

log = logging.getLogger(__name__)
T = TypeVar("T")
NEW_YORK = ZoneInfo("America/New_York")
SYMBOLS = ("^RUT", "^GSPC")
CHART_FILE = "alerts.png"
#: ``render(kind, data, version) -> PNG bytes`` (the services' renderer, or inline in tests).
Render = Callable[[str, Any, str], Awaitable[bytes]]


def due_session(now: datetime, delay: timedelta) -> date:
    """The latest session whose close + ``delay`` is at or before ``now`` (early closes use
    their own close time)."""
    day = calendar.last_completed_session(now)
    while calendar.session_close(day) + delay > now:
        day = calendar.previous_session(day)
    return day


def build_alert_post(batch: AlertBatch, *, source: str, chart: bytes | None) -> BriefingPost:
    """The message of one batch: the alert embed's content (sentence, history, base rate per
    event) as a :class:`BriefingPost`, so the briefing's sender and marker serve it."""
    embed = alert_embed(batch, source=source)
    fields = tuple(PostField(f.name or "", f.value or "", bool(f.inline)) for f in embed.fields)
    images = (PostImage(CHART_FILE, chart, "alerts"),) if chart else ()
    colour = embed.colour.value if embed.colour is not None else 0x99AAB5
    return BriefingPost(session=batch.session, asof=batch.session, title=embed.title or "",
                        description=embed.description or "", color=colour, fields=fields,
                        footer=embed.footer.text or "", images=images)


@dataclass
class AlertReport:
    """What one evaluation did (subscription ids)."""

    session: date
    events: int = 0
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)
    skip_reason: str | None = None


class AlertRuntime:
    """Evaluate, claim, send, record and reconcile alert deliveries."""

    def __init__(self, subscriptions: AlertSubscriptionRepository,
                 deliveries: AlertDeliveryRepository, sender: PostSender,
                 snapshot: Callable[[], Awaitable[MarketSnapshot]], render: Render | None,
                 params: AlertParams, *, delay: timedelta, max_per_day: int = 1,
                 clock: Callable[[], datetime] = utc_now, lease: timedelta = timedelta(minutes=5),
                 instance: str | None = None, limiter: SendLimiter | None = None,
                 owns: Callable[[int], bool] | None = None) -> None:
        self.subscriptions = subscriptions
        self.deliveries = deliveries
        self.sender = sender
        self.snapshot = snapshot
        self.render = render
        self.params = params
        self.delay = delay
        self.max_per_day = max_per_day
        self.clock = clock
        self.lease = lease
        self.instance = (instance or default_instance()).replace("/", "-")
        self.boot = secrets.token_hex(4)
        self.limiter = limiter or SendLimiter(None)
        self.owns: Callable[[int], bool] = owns or (lambda _gid: True)
        self._tokens = itertools.count(1)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="alerts-db")

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        call = partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    def _owner(self) -> str:
        return f"alerts-{self.instance}/{self.boot}/{next(self._tokens)}"

    # -- scheduled --------------------------------------------------------------------------
    async def run_due(self) -> AlertReport:
        """The job: evaluate the session that is due now (a no-op once it is delivered)."""
        # The NYSE calendar is built on first use (~0.5 s): not on the event loop.
        session = await asyncio.to_thread(due_session, self.clock(), self.delay)
        return await self.evaluate(session)

    async def evaluate(self, session: date) -> AlertReport:
        """Deliver ``session``'s alerts to every enabled subscription not yet served."""
        report = AlertReport(session)
        became_due = await asyncio.to_thread(calendar.session_close, session) + self.delay
        await self.reconcile(session, report)
        subs = [s for s in await self._db(self.subscriptions.enabled)
                if self.owns(s.guild_id)
                and (s.created_at is None or s.created_at <= became_due)]
        statuses = await self._db(self.deliveries.statuses, session)
        pending = [s for s in subs if statuses.get(s.id) in (None, DeliveryStatus.FAILED)]
        if not pending:
            return report
        snap = await self.snapshot()
        reason = _stale_reason(snap, session)
        if reason is not None:
            report.skip_reason = reason
            ids = [s.id for s in pending]
            await self._db(self.deliveries.record_failures, ids, session,
                           f"skipped: {reason}", self.clock())
            report.skipped += ids
            log.warning("alerts %s SKIPPED for %d subscription(s): %s", session, len(ids),
                        reason)
            return report
        rut, spx = (_prices(snap, s) for s in SYMBOLS)
        batch = await asyncio.to_thread(calc_alerts, rut, spx, session, self.params,
                                        inception=inception_of("^RUT"))
        report.events = len(batch.events)
        posts: dict[tuple[str, ...], BriefingPost | None] = {}
        for sub in pending:
            wanted = tuple(e for e in batch.events if e.kind in sub.events)
            key = tuple(e.key for e in wanted)
            if key not in posts:
                posts[key] = (await self._compose(replace(batch, events=wanted), snap, rut, spx)
                              if wanted else None)
            post = posts[key]
            if post is None:
                continue  # nothing this channel wants fired: no row, no message
            if await self._over_cap(sub):
                await self._db(self.deliveries.record_failures, [sub.id], session,
                               f"skipped: [alerts] max_per_day={self.max_per_day} reached",
                               self.clock())
                report.skipped.append(sub.id)
                continue
            won = await self._db(self.deliveries.claim, [sub.id], session, owner=self._owner(),
                                 now=self.clock(), lease_until=self.clock() + self.lease)
            if won:
                await self._send(sub, session, post, report)
        if report.unknown:  # a 5xx or timeout: look for the marker now (found → sent)
            await self.reconcile(session, report)
        log.info("alerts %s: %d event(s); %d sent, %d failed, %d unknown, %d reconciled",
                 session, report.events, len(report.sent), len(report.failed),
                 len(report.unknown), len(report.reconciled))
        return report

    async def _compose(self, batch: AlertBatch, snap: MarketSnapshot, rut: Any, spx: Any
                       ) -> BriefingPost:
        chart: bytes | None = None
        if self.render is not None:
            try:
                from analytics.charts.build import alerts_input
                from bot.render import footnote_for

                data = alerts_input(batch, rut, spx, footnote_for(snap, batch.session))
                version = f"{snap.version}:{batch.session}:" + ",".join(
                    e.key for e in batch.events)
                chart = await self.render("alerts", data, version)
            except Exception:
                log.warning("alerts %s: chart not rendered; posting without it",
                            batch.session, exc_info=True)
        return build_alert_post(batch, source=snap.source, chart=chart)

    async def _over_cap(self, sub: AlertSubscription) -> bool:
        local = self.clock().astimezone(NEW_YORK)
        start = datetime(local.year, local.month, local.day, tzinfo=NEW_YORK).astimezone(UTC)
        sent = await self._db(self.deliveries.sent_between, sub.id, start,
                              start + timedelta(days=1))
        return sent >= self.max_per_day

    async def _send(self, sub: AlertSubscription, session: date, post: BriefingPost,
                    report: AlertReport) -> None:
        nonce = alert_nonce(sub.id, session)
        try:
            await self.limiter.acquire()
            message_id = await self.sender.send(sub.channel_id, post.marked(nonce), nonce=nonce)
        except OutcomeUnknown as exc:
            log.warning("alert to channel %s: outcome unknown (%s); will reconcile",
                        sub.channel_id, exc)
            await self._db(self.deliveries.mark_unknown, sub.id, session, str(exc),
                           self.clock())
            report.unknown.append(sub.id)
            return
        except Exception as exc:  # 403/404, a 429 past the retries, or a bug: nothing posted
            why = exc.reason if isinstance(exc, ChannelError) else f"{type(exc).__name__}: {exc}"
            log.warning("alert to channel %s failed: %s", sub.channel_id, why)
            await self._db(self.deliveries.mark_failed, sub.id, session, why, self.clock())
            report.failed.append(sub.id)
            return
        await self._db(self.deliveries.mark_sent, sub.id, session, message_id, self.clock())
        report.sent.append(sub.id)

    # -- reconcile ---------------------------------------------------------------------------
    async def reconcile(self, session: date | None = None,
                        report: AlertReport | None = None) -> None:
        """Settle ``sending``/``unknown`` rows (an expired lease, a released one, or one of an
        earlier life of this instance): the marker in the channel → ``sent``; absent →
        ``failed`` (claimed again and re-sent with the same nonce); unreadable → stays
        ``unknown`` (never re-sent blind)."""
        now = self.clock()
        rows = await self._db(self.deliveries.take_unresolved, owner=self._owner(),
                              instance=f"alerts-{self.instance}", boot=self.boot, now=now,
                              lease_until=now + self.lease, session=session)
        subs = await self._db(self.subscriptions.many, [r.subscription_id for r in rows])
        for row in rows:
            sub = subs.get(row.subscription_id)
            if sub is None:
                continue
            marker = alert_nonce(sub.id, row.session)
            try:
                found = await self.sender.find(sub.channel_id, marker)
            except ChannelError as exc:
                await self._db(self.deliveries.mark_unknown, sub.id, row.session,
                               f"cannot check the channel for the post ({exc.reason}); "
                               "not re-sent", self.clock())
                continue
            if found is not None:
                log.info("alert %s for channel %s found in the channel (message %s)",
                         row.session, sub.channel_id, found)
                await self._db(self.deliveries.mark_sent, sub.id, row.session, found,
                               self.clock(), f"found in the channel after: "
                                             f"{row.last_error or 'a restart'}")
                if report is not None:
                    report.reconciled.append(sub.id)
            else:
                await self._db(self.deliveries.mark_failed, sub.id, row.session,
                               "not found in the channel after an outage; re-sent with the "
                               "same nonce", self.clock())


def _stale_reason(snap: MarketSnapshot, session: date) -> str | None:
    """Why ``snap`` may not be evaluated for ``session`` (None when it may)."""
    if snap.stale:
        return f"stale data ({snap.stale_reason or 'the last refresh failed'})"
    lasts = [frame.index[-1].date() for s in SYMBOLS
             if (frame := snap.bars.get(s)) is not None and not frame.empty]
    if len(lasts) < len(SYMBOLS):
        return "no data for " + ", ".join(s for s in SYMBOLS if s not in snap.bars)
    last = min(lasts)
    if last < session:  # later bars are harmless: the events are computed as of ``session``
        return (f"the data's last session is {last.isoformat()}, not {session.isoformat()}")
    return None


def _prices(snap: MarketSnapshot, symbol: str) -> Any:
    from analytics.series import to_price

    return to_price(snap.bars[symbol])

