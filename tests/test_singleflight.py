"""The one single-flight helper and the caches built on it (render cache, analysis memo,
joined snapshots): one run per key at a time, shared by every caller, failures not kept, a
cancelled caller never cancels the others' work."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from bot.services import AsyncMemo
from bot.singleflight import SingleFlight


async def test_concurrent_callers_share_one_run_and_the_key_is_then_forgotten() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    gate = asyncio.Event()
    runs = 0

    async def work() -> int:
        nonlocal runs
        runs += 1
        await gate.wait()
        return 42

    callers = [asyncio.ensure_future(flights.run("k", work)) for _ in range(20)]
    await asyncio.sleep(0)
    assert "k" in flights and len(flights) == 1
    gate.set()
    assert await asyncio.gather(*callers) == [42] * 20
    assert runs == 1 and flights.started == 1 and len(flights) == 0
    assert await flights.run("k", work) == 42 and runs == 2  # nothing kept once finished


async def test_distinct_keys_run_separately() -> None:
    flights: SingleFlight[int, int] = SingleFlight()

    async def square(n: int) -> int:
        await asyncio.sleep(0)
        return n * n

    assert await asyncio.gather(*(flights.run(n, lambda n=n: square(n)) for n in range(5))) \
        == [0, 1, 4, 9, 16]
    assert flights.started == 5


async def test_a_failure_reaches_every_caller_and_is_not_kept() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def boom() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise ValueError("nope")

    results = await asyncio.gather(*(flights.run("k", boom) for _ in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results) and calls == 1
    with pytest.raises(ValueError):
        await flights.run("k", boom)
    assert calls == 2 and len(flights) == 0


async def test_a_cancelled_caller_does_not_cancel_the_shared_work() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    gate = asyncio.Event()

    async def work() -> str:
        await gate.wait()
        return "done"

    first = asyncio.ensure_future(flights.run("k", work))
    second = asyncio.ensure_future(flights.run("k", work))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gate.set()
    assert await second == "done" and first.cancelled()


async def test_cancel_all_cancels_the_work_for_every_caller() -> None:
    flights: SingleFlight[str, str] = SingleFlight()

    async def forever() -> str:
        await asyncio.Event().wait()
        return "never"

    caller = asyncio.ensure_future(flights.run("k", forever))
    await asyncio.sleep(0)
    flights.cancel_all()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0)
    assert len(flights) == 0


async def test_an_abandoned_failure_logs_no_never_retrieved_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    flights: SingleFlight[str, int] = SingleFlight()

    async def boom() -> int:
        await asyncio.sleep(0.01)
        raise ValueError("nobody is listening")

    caller = asyncio.ensure_future(flights.run("k", boom))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0.05)
    gc.collect()
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        await asyncio.sleep(0)
        gc.collect()
    assert "never retrieved" not in caplog.text and len(flights) == 0


async def test_memo_computes_once_per_key_keeps_recent_results_and_not_failures() -> None:
    memo = AsyncMemo(size=2)
    gate = asyncio.Event()
    seen: list[str] = []

    def compute(key: str) -> object:
        async def run() -> str:
            seen.append(key)
            await gate.wait()
            if key == "bad":
                raise RuntimeError("bad")
            return key.upper()
        return run

    joined = [asyncio.ensure_future(memo.get("a", compute("a"))) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*joined) == ["A"] * 10 and seen == ["a"]
    assert await memo.get("a", compute("a")) == "A" and seen == ["a"]  # kept
    with pytest.raises(RuntimeError):
        await memo.get("bad", compute("bad"))
    with pytest.raises(RuntimeError):
        await memo.get("bad", compute("bad"))
    assert seen.count("bad") == 2  # a failure is not kept
    await memo.get("b", compute("b"))
    await memo.get("c", compute("c"))  # size 2: "a" is evicted
    await memo.get("a", compute("a"))
    assert seen.count("a") == 2 and memo.computed == 4
