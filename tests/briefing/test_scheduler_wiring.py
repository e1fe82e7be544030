"""The real AsyncIOScheduler: one job per slot, explicit zones, grace, coalesce; jobs fire the
module-level function with primitive arguments, which reaches the live runtime."""

from __future__ import annotations

import asyncio
import logging
import pickle
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.briefing.schedule import BriefingScheduler, run_slot_job


class Runner:
    def __init__(self) -> None:
        self.calls: list[tuple[time, str]] = []
        self.fired = asyncio.Event()

    async def run_slot(self, at: time, tz: str) -> None:
        self.calls.append((at, tz))
        self.fired.set()


async def test_jobs_have_stable_ids_zones_grace_and_fire_the_runtime() -> None:
    runner = Runner()
    sched = BriefingScheduler(runner, grace_minutes=45, runtime_key="wiring-test")
    sched.start()
    try:
        ids = sched.sync([(time(8, 30), "America/New_York"), (time(7, 0), "Europe/London")])
        assert ids == ["briefing:07:00:Europe/London", "briefing:08:30:America/New_York"]
        sched.ensure_slot(time(8, 30), "America/New_York")  # replace_existing: no duplicate
        assert sched.job_ids() == ids
        job = sched.scheduler.get_job("briefing:08:30:America/New_York")
        assert job is not None
        assert job.func is run_slot_job and job.args == ("wiring-test", "08:30",
                                                          "America/New_York")
        pickle.dumps((job.func, job.args))  # primitive, picklable: safe for a persistent store
        assert str(job.trigger.timezone) == "America/New_York"
        assert job.misfire_grace_time == 45 * 60 and job.coalesce
        assert job.next_run_time.utcoffset() is not None
        # Dropping a slot removes its job.
        sched.sync([(time(8, 30), "America/New_York")])
        assert sched.job_ids() == ["briefing:08:30:America/New_York"]
        # Fire it now through APScheduler itself.
        job.modify(next_run_time=datetime.now(UTC))
        await asyncio.wait_for(runner.fired.wait(), 10)
        assert runner.calls == [(time(8, 30), "America/New_York")]
    finally:
        sched.shutdown()
    await asyncio.sleep(0)
    assert not sched.running


async def test_job_for_an_unknown_runtime_is_a_logged_no_op(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.briefing.schedule"):
        await run_slot_job("nobody-home", "08:30", "America/New_York")
    assert "no runtime 'nobody-home'" in caplog.text


async def test_a_run_apscheduler_skips_as_too_late_is_still_handed_to_the_runtime() -> None:
    runner = Runner()
    sched = BriefingScheduler(runner, grace_minutes=1, runtime_key="missed-test")
    sched.start()
    try:
        sched.ensure_slot(time(8, 30), "America/New_York")
        job = sched.scheduler.get_job("briefing:08:30:America/New_York")
        assert job is not None
        # As if the host slept through the slot: 10 min late with a 1-min grace.
        job.modify(next_run_time=datetime.now(UTC) - timedelta(minutes=10))
        sched.scheduler.wakeup()
        await asyncio.wait_for(runner.fired.wait(), 10)
        assert runner.calls == [(time(8, 30), "America/New_York")]  # it records the miss
    finally:
        sched.shutdown()
