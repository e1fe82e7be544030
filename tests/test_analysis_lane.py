"""The analysis lane (:meth:`bot.services.Services.compute`): work runs off the event loop's
thread, never more than ``ANALYSIS_THREADS`` at once however many commands ask, its result or
exception reaches the caller, and closing the services stops the lane."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from bot.services import ANALYSIS_THREADS, Services
from bot.settings import Settings


def services(tmp_path: Path) -> Services:
    return Services.build(Settings(data={"provider": "csv", "csv_dir": tmp_path}),  # type: ignore[arg-type]
                          tmp_path, pool_size=1)


async def test_the_lane_runs_off_the_loop_and_caps_concurrency(tmp_path: Path) -> None:
    lane = services(tmp_path)
    loop_thread = threading.get_ident()
    lock = threading.Lock()
    running, peak, threads = 0, 0, set()

    def work(i: int, *, scale: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        time.sleep(0.02)
        with lock:
            running -= 1
        return i * scale

    try:
        results = await asyncio.gather(*(lane.compute(work, i, scale=3) for i in range(12)))
    finally:
        await lane.close()
    assert results == [i * 3 for i in range(12)]
    assert peak == ANALYSIS_THREADS
    assert loop_thread not in threads


async def test_an_exception_reaches_the_caller_and_close_stops_the_lane(tmp_path: Path) -> None:
    lane = services(tmp_path)

    def boom() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        await lane.compute(boom)
    assert await lane.compute(sum, [1, 2]) == 3  # the lane survives a failure
    await lane.close()
    assert lane._lane is None
