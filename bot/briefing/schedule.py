"""When briefings fire: pure slot arithmetic (DST- and NYSE-aware) plus the APScheduler wiring.

A *slot* is a (local time, IANA zone) pair; every subscription with that slot is served by one
cron job (id ``briefing:08:30:America/New_York``), so 1,000 subscribers at 08:30 New York are one
job and one fan-out. The post on local date ``D`` is for NYSE session ``D``: it goes out only if
NYSE trades on ``D`` (weekends and holidays are skipped; early closes are noted by the post) and
it reports data as of the last session completed at the fire instant.

Jobs are the module-level coroutine :func:`run_slot_job` with primitive arguments (a runtime key,
``"HH:MM"`` and the zone name); the live runtime is looked up in a module registry, so nothing
bound to the bot is pickled. Every :class:`CronTrigger` is built with an explicit ``timezone=``
(APScheduler would otherwise use the machine's zone), ``coalesce`` is on and
``misfire_grace_time`` comes from ``settings.briefing.misfire_grace_minutes``.

DST: the wall-clock time is kept, so 08:30 New York is 13:30 UTC in winter and 12:30 UTC in
summer. A wall time that does not exist (in the spring gap) fires once, shifted by the gap; one
that happens twice (autumn) may fire twice, and the per-session delivery record keeps it to one
post. Catch-up on start: a slot that passed within the grace window and was not delivered is
delivered once; an older one is recorded as missed and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.briefing.models import format_time, parse_local_time
from bot.market_data import calendar

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
JOB_PREFIX = "briefing:"


@dataclass(frozen=True)
class Slot:
    """One firing: the NYSE session it is for and the UTC instant it fires at."""

    session: date
    fire_at: datetime

    @property
    def early_close(self) -> bool:
        return calendar.is_early_close(self.session)


def fire_instant(day: date, at: time, tz: str) -> datetime:
    """The UTC instant of wall time ``at`` on local date ``day`` in ``tz``.

    A wall time in the spring-forward gap is read with the pre-transition offset (02:30 New York
    on the change day → 07:30 UTC = 03:30 EDT), which is where APScheduler fires it too.
    """
    local = datetime.combine(day, at).replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def local_date(now: datetime, tz: str) -> date:
    """The calendar date in ``tz`` at instant ``now`` (tz-aware)."""
    return now.astimezone(ZoneInfo(tz)).date()


def slot_on(day: date, at: time, tz: str) -> Slot | None:
    """The slot on local date ``day``, or None when NYSE does not trade on ``day``."""
    if not calendar.is_session(day):
        return None
    return Slot(session=day, fire_at=fire_instant(day, at, tz))


def data_asof(slot: Slot) -> date:
    """The session whose close the post reports: the last one completed when the slot fires."""
    return calendar.last_completed_session(slot.fire_at)


def next_slot(now: datetime, at: time, tz: str) -> Slot:
    """The first slot firing strictly after ``now`` (for ``/briefing settings``)."""
    day = local_date(now, tz)
    for _ in range(30):
        slot = slot_on(day, at, tz)
        if slot is not None and slot.fire_at > now:
            return slot
        day += timedelta(days=1)
    raise RuntimeError("no NYSE session in the next 30 days")  # pragma: no cover


def recent_slots(now: datetime, at: time, tz: str,
                 lookback: timedelta = timedelta(hours=24)) -> list[Slot]:
    """Slots that fired in ``(now - lookback, now]``, oldest first (yesterday's and today's)."""
    today = local_date(now, tz)
    out = []
    for day in (today - timedelta(days=1), today):
        slot = slot_on(day, at, tz)
        if slot is not None and now - lookback < slot.fire_at <= now:
            out.append(slot)
    return out


CatchUp = Literal["due", "missed", "future"]


def classify(now: datetime, slot: Slot, grace: timedelta) -> CatchUp:
    """``due`` if the slot fired at most ``grace`` ago, ``missed`` if earlier, else ``future``."""
    if slot.fire_at > now:
        return "future"
    return "due" if now - slot.fire_at <= grace else "missed"


def missed_reason(fire_at: datetime, now: datetime, grace: timedelta) -> str:
    """Why a firing is recorded missed: when it was due, how late the bot came back, and the
    grace window it came back beyond."""
    late = int((now - fire_at).total_seconds() // 60)
    return (f"the bot was down at {fire_at:%Y-%m-%d %H:%M} UTC and came back {late} min later, "
            f"beyond the {int(grace.total_seconds() // 60)}-min grace window")


def build_trigger(at: time, tz: str) -> CronTrigger:
    """Weekdays at ``at`` wall time in ``tz`` (explicit zone; the job checks NYSE sessions)."""
    return CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute,
                       timezone=ZoneInfo(tz))


def job_id(at: time, tz: str) -> str:
    return f"{JOB_PREFIX}{format_time(at)}:{tz}"


class SlotRunner(Protocol):
    """What a job calls: deliver every due subscription of a slot (``bot.briefing.fanout``)."""

    async def run_slot(self, at: time, tz: str) -> object: ...


_RUNTIMES: dict[str, SlotRunner] = {}


async def run_slot_job(runtime_key: str, at_text: str, tz: str) -> None:
    """The APScheduler job: primitive arguments only, resolved to the live runtime here."""
    runner = _RUNTIMES.get(runtime_key)
    if runner is None:
        log.warning("briefing job %s %s fired with no runtime %r; skipped", at_text, tz,
                    runtime_key)
        return
    try:
        await runner.run_slot(parse_local_time(at_text), tz)
    except Exception:
        log.exception("briefing slot %s %s failed", at_text, tz)


class BriefingScheduler:
    """Owns the AsyncIOScheduler: one job per slot in use. Start in ``setup_hook``."""

    def __init__(self, runner: SlotRunner, *, grace_minutes: int = 60,
                 runtime_key: str = "default") -> None:
        self.grace = timedelta(minutes=grace_minutes)
        self.runtime_key = runtime_key
        self._runner = runner
        self._pending: set[asyncio.Future[None]] = set()
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(self.grace.total_seconds())},
        )

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Start the scheduler (needs the running event loop)."""
        _RUNTIMES[self.runtime_key] = self._runner
        if not self.scheduler.running:
            self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
            self.scheduler.start()

    def _on_missed(self, event: JobExecutionEvent) -> None:
        """APScheduler skipped a run (later than the grace window, e.g. the host slept): run
        the job anyway so the runtime records the miss and logs it, instead of silence."""
        job = self.scheduler.get_job(event.job_id)
        if job is None or not event.job_id.startswith(JOB_PREFIX):
            return
        log.warning("briefing job %s missed its run time %s", event.job_id,
                    event.scheduled_run_time)
        task = asyncio.ensure_future(run_slot_job(*job.args))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if _RUNTIMES.get(self.runtime_key) is self._runner:
            del _RUNTIMES[self.runtime_key]

    def ensure_slot(self, at: time, tz: str) -> str:
        """Add (or replace) the job for a slot; returns its stable id."""
        jid = job_id(at, tz)
        self.scheduler.add_job(
            run_slot_job, trigger=build_trigger(at, tz), id=jid, name=f"briefing {jid}",
            args=[self.runtime_key, format_time(at), tz], replace_existing=True,
            coalesce=True, misfire_grace_time=int(self.grace.total_seconds()),
        )
        return jid

    def sync(self, slots: Iterable[tuple[time, str]]) -> list[str]:
        """Make the jobs exactly the given slots: add missing ones, remove unused ones."""
        wanted = {job_id(at, tz): (at, tz) for at, tz in slots}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        for at, tz in wanted.values():
            self.ensure_slot(at, tz)
        return sorted(wanted)

    def job_ids(self) -> list[str]:
        return sorted(j.id for j in self.scheduler.get_jobs() if j.id.startswith(JOB_PREFIX))
