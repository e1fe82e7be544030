"""A service built off the loop after READY or on first use: one build shared by every caller,
a failure logged and told to the caller (and retried by the next), a command that comes first
deferred before it waits, nothing started once closing."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from bot.deferred_service import DeferredService, ServiceUnavailable


class Service:
    def __init__(self) -> None:
        self.started = 0
        self.thread = threading.get_ident()


def make(gate: threading.Event | None = None, *, fail: int = 0
         ) -> tuple[DeferredService[Service], dict[str, Any]]:
    seen: dict[str, Any] = {"built": 0, "failures": fail}

    def build() -> Service:
        if gate is not None:
            assert gate.wait(10)
        seen["built"] += 1
        if seen["failures"]:
            seen["failures"] -= 1
            raise OSError("unable to open database file")
        return Service()

    async def start(service: Service) -> None:
        service.started += 1

    return DeferredService("test", "The test service", build, start), seen


async def test_concurrent_callers_share_one_build_run_in_a_worker_thread() -> None:
    gate = threading.Event()
    deferred, seen = make(gate)
    deferred.begin()
    callers = [asyncio.ensure_future(deferred.get()) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert not deferred.started and not any(c.done() for c in callers)  # the loop is free
    gate.set()
    services = await asyncio.gather(*callers)
    assert all(s is services[0] for s in services)
    assert seen["built"] == 1 and services[0].started == 1
    assert services[0].thread != threading.get_ident()
    deferred.begin()  # idempotent once started
    assert await deferred.get() is services[0] and seen["built"] == 1


async def test_a_failed_start_is_logged_told_to_the_caller_and_retried(
        caplog: pytest.LogCaptureFixture) -> None:
    deferred, seen = make(fail=1)
    with caplog.at_level(logging.ERROR, logger="bot.deferred_service"):
        deferred.begin()
        with pytest.raises(ServiceUnavailable, match="The test service could not start"):
            await deferred.get()
    assert "test service failed to start" in caplog.text
    assert "unable to open database file" in caplog.text  # the traceback is in the log
    assert not deferred.started
    service = await deferred.get()  # the next use tries again
    assert service.started == 1 and seen["built"] == 2


class Response:
    def __init__(self) -> None:
        self.deferrals: list[dict[str, Any]] = []

    def is_done(self) -> bool:
        return bool(self.deferrals)

    async def defer(self, **kw: Any) -> None:
        self.deferrals.append(kw)


class FakeInteraction:
    def __init__(self) -> None:
        self.response = Response()


async def test_a_command_before_the_service_is_built_is_deferred_privately_first() -> None:
    gate = threading.Event()
    deferred, _ = make(gate)
    early = FakeInteraction()
    waiting = asyncio.ensure_future(deferred.for_interaction(early))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert early.response.deferrals == [{"ephemeral": True, "thinking": True}]
    assert not waiting.done()
    gate.set()
    service = await waiting
    late = FakeInteraction()
    assert await deferred.for_interaction(late) is service  # type: ignore[arg-type]
    assert late.response.deferrals == []  # running: the command answers as usual


async def test_closing_during_the_build_never_starts_the_service() -> None:
    gate = threading.Event()
    deferred, seen = make(gate)
    deferred.begin()
    waiting = asyncio.ensure_future(deferred.get())
    await asyncio.sleep(0.05)
    closing = asyncio.ensure_future(deferred.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # waits for the thread
    gate.set()
    await closing
    with pytest.raises(ServiceUnavailable, match="stopping"):
        await waiting
    assert seen["built"] == 1 and not deferred.started
    with pytest.raises(ServiceUnavailable, match="stopping"):
        await deferred.get()
