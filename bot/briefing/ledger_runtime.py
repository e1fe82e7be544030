"""What the morning briefing's and the alerts' runtimes share on the delivery ledger.

- **One ledger thread.** Every repository call runs on one worker thread (:meth:`_db`): off
  the event loop, and never two at once (so an in-memory SQLite's single connection is safe).
- **Refused posts.** :meth:`_failed` records the row ``failed`` with the reason and counts one
  failure against the subscription; ``max_failures`` in a row disable it (the store's
  ``record_failure``), logged as a WARNING. A refusal (403/404, a 429 past the retries) is a
  WARNING; anything else an ERROR with its traceback.
- **Retention.** :meth:`purge` deletes the rows of sessions more than ``keep_days`` before today.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, ClassVar, Protocol, TypeVar

from bot.briefing.sender import ChannelError, Throttled
from bot.briefing.store import DeliveryRepository

T = TypeVar("T")


class Subscriber(Protocol):
    """What the failure rule reads of a subscription (briefing or alerts)."""

    @property
    def id(self) -> int: ...
    @property
    def channel_id(self) -> int: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def disabled_reason(self) -> str | None: ...


class Outcomes(Protocol):
    """The lists of a run's report that :meth:`LedgerRuntime._failed` appends to."""

    failed: list[int]
    disabled: list[int]


class LedgerRuntime:
    """Base of :class:`~bot.briefing.fanout.BriefingRuntime` and
    :class:`~bot.alerts.delivery.AlertRuntime` (see the module docstring)."""

    #: Names the runtime in its log lines ("briefing", "alert").
    kind: ClassVar[str] = "delivery"
    deliveries: DeliveryRepository
    #: A subscription repository with ``record_failure(id, reason, *, max_failures, now)``.
    subscriptions: Any
    clock: Callable[[], datetime]
    max_failures: int

    @property
    def _log(self) -> logging.Logger:
        """The subclass's module logger (``bot.briefing.fanout``, ``bot.alerts.delivery``)."""
        return logging.getLogger(type(self).__module__)

    def _start_ledger_thread(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"{self.kind}-db")

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a repository call on the ledger thread."""
        call = partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        """Release the ledger thread."""
        self._executor.shutdown(wait=False)

    async def _failed(self, sub: Subscriber, session: date, exc: Exception,
                      report: Outcomes) -> None:
        """Record a post Discord did not take, and apply the disabling rule."""
        reason = describe_error(exc)
        now = self.clock()
        await self._db(self.deliveries.mark_failed, sub.id, session, reason, now)
        report.failed.append(sub.id)
        after = await self._db(self.subscriptions.record_failure, sub.id, reason,
                               max_failures=self.max_failures, now=now)
        if isinstance(exc, ChannelError | Throttled):
            self._log.warning("%s to channel %s failed: %s", self.kind, sub.channel_id, reason)
        else:
            self._log.error("%s to channel %s failed", self.kind, sub.channel_id, exc_info=exc)
        if after is not None and not after.enabled and sub.enabled:
            self._log.warning("%s subscription %s (channel %s) disabled: %s", self.kind,
                              sub.id, sub.channel_id, after.disabled_reason)
            report.disabled.append(sub.id)

    async def purge(self, keep_days: int) -> int:
        """Delete ledger rows of sessions more than ``keep_days`` before today."""
        before = self.clock().date() - timedelta(days=keep_days)
        gone = await self._db(self.deliveries.purge, before)
        if gone:
            self._log.info("%s ledger (%s): %d row(s) before %s removed (retention %d days)",
                           self.kind, self.deliveries.table.name, gone, before, keep_days)
        return gone


def describe_error(exc: BaseException) -> str:
    """A refusal's reason as Discord gave it, else ``Type: message`` (at most 300 chars)."""
    if isinstance(exc, ChannelError):
        return exc.reason
    return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
