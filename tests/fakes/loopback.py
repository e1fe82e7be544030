"""One way to run a fake HTTP service on 127.0.0.1: an aiohttp app on its own event loop in a
daemon thread, on a free port, started and stopped from synchronous test code.

A fake subclasses :class:`LoopbackServer` and adds its routes in :meth:`routes`; ``start()``
returns once the port is bound, ``stop()`` (or leaving the ``with`` block) cleans up the runner,
stops the loop and joins the thread. The port comes from aiohttp's public ``AppRunner.addresses``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from aiohttp import web


class LoopbackServer:
    """Base class of the loopback fakes (Yahoo, FRED)."""

    name = "fake"

    def __init__(self) -> None:
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        """Add the fake's routes to ``app``."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._serve())
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None,
                                     shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = self._runner = None
        self.port = 0

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
