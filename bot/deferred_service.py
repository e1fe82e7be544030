"""A service built once, off the event loop, after the bot is ready (or on first use).

The briefing and the alerts need the database (open + migrate), APScheduler and the analytics
stack: ~1-3 s of imports and I/O that would otherwise sit between process start and READY.
Their cogs declare the commands with light modules only and hold a :class:`DeferredService`;
the bot calls :meth:`DeferredService.begin` from its first ``on_ready``.

- ``build()`` runs in a worker thread (imports, engine, migrations); ``await start(service)``
  runs on the loop (APScheduler needs it) once built. Both happen once: concurrent callers share
  the work through :class:`~bot.singleflight.SingleFlight`; a built service whose start failed
  is not built again, only started again.
- A command that arrives first awaits the same build; :meth:`for_interaction` defers the
  interaction (ephemeral) before waiting, so Discord's 3-second deadline holds.
- A failure is logged with its traceback (ERROR) each time a build fails, and the waiting
  command gets a :class:`ServiceUnavailable` sentence. Nothing is cached: the next command tries
  again (a database that was down may be back).
- After :meth:`close`, nothing starts: a build still in its thread is awaited (bounded) and its
  service is left unstarted, for the owner's shutdown (``Services.stop_background``) to close.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from bot.errors import UserFacingError
from bot.singleflight import SingleFlight

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)
T = TypeVar("T")
#: How long ``close()`` waits for a build still running in its thread (a slow database).
CLOSE_WAIT_S = 30.0


class ServiceUnavailable(UserFacingError):
    """A deferred service failed to start (or the bot is shutting down)."""


class DeferredService(Generic[T]):
    """See the module docstring. ``name`` is for logs ("briefing"); ``what`` starts the user's
    sentence ("The briefing", "Alerts": "… could not start")."""

    def __init__(self, name: str, what: str, build: Callable[[], T],
                 start: Callable[[T], Awaitable[None]]) -> None:
        self.name = name
        self.what = what
        self._build = build
        self._start = start
        self._flight: SingleFlight[str, T] = SingleFlight()
        self._pending: asyncio.Task[T | None] | None = None
        self._built: T | None = None
        self._value: T | None = None
        self._closed = False

    @property
    def value(self) -> T | None:
        """The started service, or None while it is not (yet) running."""
        return self._value

    @property
    def started(self) -> bool:
        return self._value is not None

    def begin(self) -> None:
        """Start building in the background now, without waiting (idempotent; a failure is
        logged by the build and retried by the next command)."""
        if self._value is not None or self._closed or self.name in self._flight:
            return
        self._pending = asyncio.ensure_future(self._quietly())

    async def _quietly(self) -> T | None:
        try:
            return await self.get()
        except (ServiceUnavailable, asyncio.CancelledError):
            return None

    async def get(self) -> T:
        """The started service, built now if need be; :class:`ServiceUnavailable` if it
        cannot start."""
        if self._value is not None:
            return self._value
        if self._closed:
            raise ServiceUnavailable(f"{self.what} cannot start: the bot is stopping.")
        try:
            return await self._flight.run(self.name, self._build_and_start)
        except ServiceUnavailable:
            raise
        except Exception as exc:
            raise ServiceUnavailable(f"{self.what} could not start (the bot's log says why); "
                                     "try again later.") from exc

    async def for_interaction(self, interaction: discord.Interaction) -> T:
        """:meth:`get` for a command: while the service is not running yet, the interaction is
        deferred (ephemeral, "thinking…") first, so the answer may come after 3 seconds."""
        if self._value is None and not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        return await self.get()

    async def _build_and_start(self) -> T:
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            if self._built is None:
                self._built = await asyncio.to_thread(self._build)
            service = self._built
            if self._closed:
                raise ServiceUnavailable(f"{self.what} cannot start: the bot is stopping.")
            await self._start(service)
        except ServiceUnavailable:
            raise
        except Exception:
            log.exception("%s service failed to start; its commands say so and retry on the "
                          "next use", self.name)
            raise
        self._value = service
        log.info("%s service started in %.2f s", self.name, loop.time() - began)
        return service

    async def close(self) -> None:
        """Stop starting: a build in its thread is awaited (up to :data:`CLOSE_WAIT_S`) and
        never started; the waiting commands get :class:`ServiceUnavailable`."""
        self._closed = True
        if self.name in self._flight:
            try:
                await asyncio.wait_for(self._flight.run(self.name, self._build_and_start),
                                       CLOSE_WAIT_S)
            except Exception:  # closing anyway; a failure was logged by the build
                log.debug("%s build ended while closing", self.name, exc_info=True)
