"""Single-flight: concurrent callers asking for the same key share one piece of async work.

The one helper behind the render cache (:class:`bot.render.Renderer`), the analysis memo
(:class:`bot.services.AsyncMemo`), the joined market snapshots
(:meth:`bot.services.Services.snapshot`), the bar cache's refresh
(:meth:`bot.market_data.cache.BarCache.refresh`) and the briefing's compositions
(:class:`bot.briefing.compose.ComposeCache`). It only joins work in flight; keeping results
after they finish (an LRU, say) is up to the caller.

- The work runs in its own task, started by the first caller. Every caller awaits it through
  :func:`asyncio.shield`, so a cancelled caller never cancels the shared work for the others.
- The key is forgotten as soon as the task finishes, so a failure is never cached: the next
  caller starts afresh. Its exception is marked retrieved, so no "never retrieved" warning is
  logged when every caller has gone away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """``await flights.run(key, make)``: ``make()`` runs once per key at a time."""

    def __init__(self) -> None:
        self._tasks: dict[K, asyncio.Task[V]] = {}
        #: How many times the work was started (joined callers are not counted).
        self.started = 0

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, key: object) -> bool:
        return key in self._tasks

    async def run(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        """The result of the work in flight for ``key``; ``make()`` starts it if there is none."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._tasks[key] = task
            self.started += 1
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    def cancel_all(self) -> None:
        """Cancel the work in flight; its callers get :class:`asyncio.CancelledError`."""
        for task in list(self._tasks.values()):
            task.cancel()

    def _forget(self, key: K, done: asyncio.Task[V]) -> None:
        if self._tasks.get(key) is done:
            del self._tasks[key]
        if not done.cancelled():
            done.exception()  # retrieved here: callers may all have gone away
