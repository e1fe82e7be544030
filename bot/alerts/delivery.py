"""Alert delivery: evaluate a session once its close is final, post each subscriber's events
once, through the briefing's ledger and sender.

**When.** :func:`due_session` is the latest NYSE session whose close (early closes from the
calendar) plus ``[alerts] delay_minutes`` is at or before now. A job runs every
``check_minutes`` and on start, and calls :meth:`AlertRuntime.run_due`; the ledger makes the
repeats no-ops. A session is a subscription's own if it became due at or after the
subscription was created or last re-enabled (``enabled_at``).

**Catch-up** (the briefing's rule, :func:`bot.briefing.schedule.classify`): the due session is
evaluated while it is at most ``[alerts] grace_minutes`` old; later it is recorded ``missed``.
Every session evaluated leaves a row (``sent``, ``failed`` with the reason, or ``skipped`` with
:data:`~bot.alerts.store.NOTHING_FIRED`), so a session without a row was never evaluated (the bot
was down): each check records every such session after the subscription's last row as
``missed`` with the reason, logs one WARNING per subscription, and never posts it late. The
look-back is bounded: at most ``[alerts] catch_up_sessions`` sessions before the due one; older
gaps are counted in that warning, not written.

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
are already one message and a restart posts only the latest due session, so the cap is a
safety bound for sessions evaluated directly with :meth:`AlertRuntime.evaluate`).

**Failures.** A post Discord refused (403/404, a 429 past the retries, or a bug) counts against
the subscription; ``max_failures`` in a row (``[briefing] max_failures``, the briefing's rule and
code) disable it with the reason, logged as a WARNING; a post that goes out resets the count.
``/alerts subscribe`` on the channel again re-enables it. Old rows go with :meth:`purge`.

**Analysis** (``calc_alerts`` and the chart's data) runs through ``compute`` (the services'
bounded analysis lane; ``asyncio.to_thread`` when none is given), never on the event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analytics.alerts import AlertBatch, AlertParams, calc_alerts
from bot.alerts.store import (
    NOTHING_FIRED,
    AlertDeliveryRepository,
    AlertSubscription,
    AlertSubscriptionRepository,
    alert_nonce,
)
from bot.briefing.fanout import PostSender, default_instance
from bot.briefing.ledger_runtime import LedgerRuntime, describe_error
from bot.briefing.models import DeliveryStatus
from bot.briefing.post import BriefingPost, PostField, PostImage
from bot.briefing.schedule import Slot, classify, missed_reason
from bot.briefing.sender import ChannelError, OutcomeUnknown, SendLimiter
from bot.clock import utc_now
from bot.market_data import calendar
from bot.market_data.inception import inception_of
from bot.market_data.snapshot import MarketSnapshot
from bot.ui.alert_embeds import alert_embed

log = logging.getLogger(__name__)
NEW_YORK = ZoneInfo("America/New_York")
SYMBOLS = ("^RUT", "^GSPC")
CHART_FILE = "alerts.png"
#: ``render(kind, data, version) -> PNG bytes`` (the services' renderer, or inline in tests).
Render = Callable[[str, Any, str], Awaitable[bytes]]
#: ``compute(fn, *args, **kwargs)``: runs ``fn`` off the loop (``Services.compute``).
Compute = Callable[..., Awaitable[Any]]


def due_session(now: datetime, delay: timedelta) -> date:
    """The latest session whose close + ``delay`` is at or before ``now`` (early closes use
    their own close time)."""
    day = calendar.last_completed_session(now)
    while calendar.session_close(day) + delay > now:
        day = calendar.previous_session(day)
    return day


def due_slots(now: datetime, delay: timedelta, earlier: int) -> tuple[Slot, list[Slot]]:
    """The due session and the ``earlier`` sessions before it (oldest first), each as a
    :class:`Slot` firing when it became due (close + ``delay``)."""
    latest = due_session(now, delay)
    days = [latest]
    for _ in range(earlier):
        days.append(calendar.previous_session(days[-1]))
    slots = [Slot(d, calendar.session_close(d) + delay) for d in reversed(days)]
    return slots[-1], slots[:-1]


def _unrecorded(after: date | None, since: datetime | None, before: date,
                delay: timedelta) -> tuple[int, date | None]:
    """How many sessions after ``after`` (and due at or after ``since``) come before
    ``before``, and the first of them: the gap the look-back bound leaves unwritten."""
    lo = date.min if after is None else after + timedelta(days=1)
    if since is not None:
        lo = max(lo, since.astimezone(NEW_YORK).date())
    days = calendar.sessions(lo, before - timedelta(days=1)) if lo < before else []
    if days and since is not None and calendar.session_close(days[0]) + delay < since:
        days = days[1:]
    return len(days), (days[0] if days else None)


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
    disabled: list[int] = field(default_factory=list)
    #: (subscription, session) pairs recorded ``missed`` by the catch-up.
    missed: list[tuple[int, date]] = field(default_factory=list)
    skip_reason: str | None = None


class AlertRuntime(LedgerRuntime):
    """Evaluate, claim, send, record and reconcile alert deliveries (the ledger thread, the
    failure rule and retention: :class:`LedgerRuntime`, shared with the briefing)."""

    kind = "alert"
    deliveries: AlertDeliveryRepository

    def __init__(self, subscriptions: AlertSubscriptionRepository,
                 deliveries: AlertDeliveryRepository, sender: PostSender,
                 snapshot: Callable[[], Awaitable[MarketSnapshot]], render: Render | None,
                 params: AlertParams, *, delay: timedelta, max_per_day: int = 1,
                 clock: Callable[[], datetime] = utc_now, lease: timedelta = timedelta(minutes=5),
                 instance: str | None = None, limiter: SendLimiter | None = None,
                 owns: Callable[[int], bool] | None = None,
                 grace: timedelta = timedelta(hours=4), catch_up_sessions: int = 10,
                 max_failures: int = 3, compute: Compute | None = None) -> None:
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
        self.grace = grace
        self.catch_up_sessions = max(0, catch_up_sessions)
        self.max_failures = max_failures
        self.compute: Compute = compute or asyncio.to_thread
        self._tokens = itertools.count(1)
        self._start_ledger_thread()

    def _owner(self) -> str:
        return f"alerts-{self.instance}/{self.boot}/{next(self._tokens)}"

    # -- scheduled --------------------------------------------------------------------------
    async def run_due(self) -> AlertReport:
        """The job: record the sessions missed while the bot was down, then evaluate the due
        session if it is within the grace window (else it is recorded missed too). Repeats are
        no-ops once every session has its row."""
        now = self.clock()
        # The NYSE calendar is built on first use (~0.5 s): not on the event loop.
        latest, earlier = await asyncio.to_thread(due_slots, now, self.delay,
                                                  self.catch_up_sessions)
        report = AlertReport(latest.session)
        too_late = classify(now, latest, self.grace) == "missed"
        await self.catch_up(latest, earlier, now, report, include_latest=too_late)
        if too_late:
            return report
        return await self.evaluate(latest.session, report)

    async def catch_up(self, latest: Slot, earlier: list[Slot], now: datetime,
                       report: AlertReport, *, include_latest: bool) -> None:
        """Record ``missed`` every session of ``earlier`` (and ``latest`` if
        ``include_latest``) that is a subscription's own and comes after its last row; one
        WARNING per subscription, naming any older gap left unwritten (the look-back bound)."""
        subs = [s for s in await self._db(self.subscriptions.enabled) if self.owns(s.guild_id)]
        if not subs:
            return
        last = await self._db(self.deliveries.last_sessions, [s.id for s in subs])
        slots = [*earlier, latest] if include_latest else list(earlier)
        written: dict[int, list[date]] = defaultdict(list)
        for slot in slots:
            ids = [s.id for s in subs if _owns_slot(s, slot)
                   and (last.get(s.id) is None or slot.session > last[s.id])]
            if not ids:
                continue
            reason = (missed_reason(slot.fire_at, now, self.grace) if slot is latest else
                      f"the bot was down at {slot.fire_at:%Y-%m-%d %H:%M} UTC, when this "
                      f"session became due; after an outage only the latest due session "
                      f"({latest.session}) is evaluated, never a backlog")
            for sid in await self._db(self.deliveries.record_outcome, ids, slot.session,
                                      DeliveryStatus.MISSED, reason, now):
                written[sid].append(slot.session)
                report.missed.append((sid, slot.session))
        window = slots[0] if slots else latest
        for sub in subs:
            done = last.get(sub.id)
            older, first = 0, None
            if (done is None or done < window.session) and (
                    sub.since is None or sub.since < window.fire_at):  # a gap may lie before
                older, first = await asyncio.to_thread(_unrecorded, done, sub.since,
                                                       window.session, self.delay)
            days = written.get(sub.id, [])
            if not days and not older:
                continue
            gap = (f"; {older} earlier session(s) from {first} not recorded (look-back limit "
                   f"[alerts] catch_up_sessions={self.catch_up_sessions})" if older else "")
            span = (f"{len(days)} session(s) {days[0]} to {days[-1]} recorded missed (the bot "
                    "was down when they became due; not posted late)" if days else
                    "nothing recorded")
            log.warning("alerts MISSED for subscription %s (channel %s): %s%s", sub.id,
                        sub.channel_id, span, gap)

    async def evaluate(self, session: date, report: AlertReport | None = None) -> AlertReport:
        """Deliver ``session``'s alerts to every enabled subscription not yet served; one
        whose events did not fire gets a ``skipped`` row (:data:`NOTHING_FIRED`)."""
        report = report or AlertReport(session)
        slot = Slot(session, await asyncio.to_thread(calendar.session_close, session)
                    + self.delay)
        await self.reconcile(session, report)
        subs = [s for s in await self._db(self.subscriptions.enabled)
                if self.owns(s.guild_id) and _owns_slot(s, slot)]
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
        batch, rut, spx = await self.compute(_calc, snap, session, self.params,
                                             inception_of("^RUT"))
        report.events = len(batch.events)
        posts: dict[tuple[str, ...], BriefingPost | None] = {}
        quiet: list[int] = []
        for sub in pending:
            wanted = tuple(e for e in batch.events if e.kind in sub.events)
            key = tuple(e.key for e in wanted)
            if key not in posts:
                posts[key] = (await self._compose(replace(batch, events=wanted), snap, rut, spx)
                              if wanted else None)
            post = posts[key]
            if post is None:
                quiet.append(sub.id)  # nothing this channel wants fired: no message
                continue
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
        if quiet:  # the row says the session was evaluated (catch-up reads it)
            await self._db(self.deliveries.record_outcome, quiet, session,
                           DeliveryStatus.SKIPPED, NOTHING_FIRED, self.clock())
        if report.unknown:  # a 5xx or timeout: look for the marker now (found → sent)
            await self.reconcile(session, report)
        log.info("alerts %s: %d event(s); %d sent, %d failed, %d unknown, %d reconciled, "
                 "%d disabled, %d with nothing to post", session, report.events,
                 len(report.sent), len(report.failed), len(report.unknown),
                 len(report.reconciled), len(report.disabled), len(quiet))
        return report

    async def _compose(self, batch: AlertBatch, snap: MarketSnapshot, rut: Any, spx: Any
                       ) -> BriefingPost:
        chart: bytes | None = None
        if self.render is not None:
            try:
                from analytics.charts.build import alerts_input
                from bot.render import footnote_for

                data = await self.compute(alerts_input, batch, rut, spx,
                                          footnote_for(snap, batch.session))
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
            await self._failed(sub, session, exc, report)
            return
        now = self.clock()
        await self._db(self.deliveries.mark_sent, sub.id, session, message_id, now)
        if sub.consecutive_failures:
            await self._db(self.subscriptions.record_success, sub.id, now)
        report.sent.append(sub.id)

    # -- reconcile ---------------------------------------------------------------------------
    async def reconcile(self, session: date | None = None,
                        report: AlertReport | None = None) -> None:
        """Settle ``sending``/``unknown`` rows (an expired lease, a released one, or one of an
        earlier life of this instance): the marker in the channel → ``sent``; absent →
        ``failed`` (claimed again and re-sent with the same nonce); a deleted channel (404) →
        ``failed`` (the send then counts toward disabling, as the briefing's); unreadable or a
        timeout → stays ``unknown`` (never re-sent blind; checked again next time)."""
        now = self.clock()
        rows = await self._db(self.deliveries.take_unresolved, owner=self._owner(),
                              instance=f"alerts-{self.instance}", boot=self.boot, now=now,
                              lease_until=now + self.lease, session=session)
        subs = await self._db(self.subscriptions.many, [r.subscription_id for r in rows])
        for row in rows:
            sub = subs.get(row.subscription_id)
            if sub is None:
                continue
            try:
                found = await self.sender.find(sub.channel_id, row.nonce)
            except ChannelError as exc:
                if exc.status == 404:  # the channel is gone: no post there; the send path
                    await self._db(self.deliveries.mark_failed, sub.id, row.session,  # counts
                                   f"reconcile: {exc.reason}", self.clock())  # it to disabling
                else:  # cannot read the channel: never re-send blind
                    await self._db(self.deliveries.mark_unknown, sub.id, row.session,
                                   f"cannot check the channel for the post ({exc.reason}); "
                                   "not re-sent", self.clock())
                log.warning("alert reconcile for channel %s: %s", sub.channel_id, exc.reason)
                continue
            except Exception as exc:  # a timeout or a 5xx: try again at the next check
                log.warning("alert reconcile for channel %s failed: %s; will retry",
                            sub.channel_id, describe_error(exc))
                await self._db(self.deliveries.mark_unknown, sub.id, row.session,
                               f"reconcile failed: {describe_error(exc)}", self.clock())
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


def _owns_slot(sub: AlertSubscription, slot: Slot) -> bool:
    """A session is the subscription's own if it became due once it was (re-)enabled."""
    return sub.since is None or sub.since <= slot.fire_at


def _calc(snap: MarketSnapshot, session: date, params: AlertParams, inception: Any
          ) -> tuple[AlertBatch, Any, Any]:
    """The session's alerts and the two price series (pandas: run in the analysis lane)."""
    from analytics.series import to_price

    rut, spx = (to_price(snap.bars[s]) for s in SYMBOLS)
    return calc_alerts(rut, spx, session, params, inception=inception), rut, spx

