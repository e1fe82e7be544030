"""The long-lived services a running bot shares: one object, built from settings, closed once.

- ``market``: :class:`~bot.market_data.service.MarketData` (the one data path);
- ``renderer``: :class:`bot.render.Renderer` (warmed process pool + single-flight render cache);
- ``memo``: :class:`AsyncMemo`, single-flight cache of analysis results keyed by data version;
- :meth:`Services.analyse`: where /status and /chart run their analysis and chart input
  (pandas, CPU-bound): a render-pool worker (:meth:`bot.render.Renderer.analyse`), so it never
  holds the bot's GIL while the loop answers other interactions;
- :meth:`Services.compute`: the thread lane for analysis that still runs in the bot's process
  (the other commands): :data:`ANALYSIS_THREADS` threads, so a burst puts at most that many
  CPU-bound threads against the event loop for the GIL (``asyncio.to_thread`` would use up to
  six on two cores). I/O and long jobs (minutes) stay on ``asyncio.to_thread``;
- ``storage`` and ``scheduler``: slots for the briefing (filled by the briefing wiring; ``None``
  when unused). A scheduler is any object with ``start()`` and ``shutdown()``.

Life cycle (driven by :class:`bot.client.CapbriefBot`): :meth:`Services.build` (cheap, no I/O) →
``await start()`` in ``setup_hook`` (begins warming the render pool in the background, or
leaves that to :meth:`warm_renderer`) → the
cogs load and the commands sync → :meth:`start_background` (starts the scheduler: the loop is
running) → ``await close()`` in ``Bot.close()`` (scheduler first, then renderer, storage, market
data, in reverse order of start). Extra clean-ups can be registered with :meth:`on_close`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from bot.settings import Settings
from bot.singleflight import SingleFlight

if TYPE_CHECKING:
    import pandas as pd

    from bot.market_data.service import MarketData
    from bot.market_data.snapshot import MarketSnapshot

log = logging.getLogger(__name__)

#: Threads of the analysis lane (:meth:`Services.compute`).
ANALYSIS_THREADS = 2
P = ParamSpec("P")
R = TypeVar("R")


class AsyncMemo:
    """Single-flight memo for derived data: concurrent callers with one key share one
    computation (:class:`~bot.singleflight.SingleFlight`: a cancelled caller does not cancel it
    for the others); results are kept for the ``size`` most recent keys (keys should include the
    data ``version``, so new bars never hit old results). Failures are not cached."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.computed = 0
        self._done: OrderedDict[Hashable, Any] = OrderedDict()
        self._flights: SingleFlight[Hashable, Any] = SingleFlight()

    def clear(self) -> None:
        """Forget every kept result (work in flight is not affected)."""
        self._done.clear()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]

        async def compute_and_keep() -> Any:
            value = await compute()
            self.computed += 1
            self._done[key] = value
            while len(self._done) > self.size:
                self._done.popitem(last=False)
            return value

        return await self._flights.run(key, compute_and_keep)


@dataclass
class Services:
    """See the module docstring."""

    settings: Settings
    market: MarketData
    renderer: Any = None
    storage: Any = None
    scheduler: Any = None
    #: Further background services (``start()``/``shutdown()``), e.g. the alerts' scheduler.
    background: list[Any] = field(default_factory=list)
    memo: AsyncMemo = field(default_factory=AsyncMemo)
    _snapshots: SingleFlight[tuple[str, ...], MarketSnapshot] = field(
        default_factory=SingleFlight)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _lane: ThreadPoolExecutor | None = None
    _checks: asyncio.Future[Any] | None = None
    _started: bool = False

    @classmethod
    def build(cls, settings: Settings, data_dir: Path | None = None, *,
              pool_size: int | None = None) -> Services:
        """Services for ``settings``; ``data_dir`` forces CSV replay; ``pool_size`` overrides
        ``settings.render.pool_size`` (tests use 1). Imports no pandas: the bot starts
        without it."""
        from bot.market_data.service import build_market_data

        return cls(settings=settings, market=build_market_data(settings, data_dir),
                   renderer=_build_renderer(settings, pool_size))

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        """``market.snapshot(symbols)`` with concurrent identical requests joined: a burst of
        the same command shares one read (nothing is kept once it completes)."""
        return await self._snapshots.run(tuple(symbols),
                                         lambda: self.market.snapshot(list(symbols)))

    async def compute(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args, **kwargs)`` in the analysis lane (see the module docstring), off the
        loop; its exception propagates. For CPU work of up to a few seconds."""
        if self._lane is None:
            self._lane = ThreadPoolExecutor(ANALYSIS_THREADS, thread_name_prefix="analysis")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._lane, functools.partial(fn, *args, **kwargs))

    async def analyse(self, fn: Callable[..., R], bars: Mapping[str, pd.DataFrame],
                      *args: Any, **kwargs: Any) -> R:
        """``fn(bars, *args, **kwargs)`` in a render-pool worker (:meth:`Renderer.analyse`:
        ``fn`` module-level, arguments and result picklable); in the analysis lane when there is
        no render pool. Its exception propagates."""
        if self.renderer is not None and hasattr(self.renderer, "analyse"):
            return cast(R, await self.renderer.analyse(fn, bars, *args, **kwargs))
        return await self.compute(fn, bars, *args, **kwargs)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` during :meth:`close` (last registered, first run)."""
        self._closers.append(closer)

    async def start(self, *, warm_later: bool = False) -> None:
        """Start warming the render pool in the background (~1-4 s off the loop) and return:
        commands answer meanwhile, and the first render waits for the warm-up. A renderer
        without ``start_background`` is started and awaited. ``warm_later``: leave the warm-up
        to :meth:`warm_renderer` (the bot calls it once the gateway is live, so the workers'
        imports do not compete with its own start on a small machine)."""
        if self._started:
            return
        if self.renderer is not None and hasattr(self.renderer, "start_background"):
            if not warm_later:
                self.renderer.start_background()
        elif self.renderer is not None and hasattr(self.renderer, "start"):
            await self.renderer.start()
        self._started = True

    def warm_renderer(self) -> None:
        """Begin warming the render pool in the background now (idempotent; a render that
        comes first starts the pool itself)."""
        if self.renderer is not None and hasattr(self.renderer, "start_background"):
            self.renderer.start_background()

    def start_background(self) -> None:
        """Start the scheduler (needs the running loop; called at the end of ``setup_hook``) and
        the one-off live check of the bundled ^RUT history against FRED (logged, never fatal)."""
        if self.scheduler is not None:
            self.scheduler.start()
        for extra in self.background:
            extra.start()
        if self._checks is None:
            check = asyncio.ensure_future(self.market.verify_bundled_history())
            check.add_done_callback(_log_failure)
            self._checks = check

    def stop_background(self) -> None:
        if self._checks is not None and not self._checks.done():
            self._checks.cancel()
        for extra in reversed(self.background):
            try:
                extra.shutdown()
            except Exception:  # already stopped, or never started
                log.debug("background shutdown", exc_info=True)
        if self.scheduler is not None:
            try:
                self.scheduler.shutdown()
            except Exception:  # already stopped, or never started
                log.debug("scheduler shutdown", exc_info=True)

    async def close(self) -> None:
        """Stop everything, in reverse order of start; safe to call twice."""
        self.stop_background()
        for closer in reversed(self._closers):
            await _quietly(closer, "close hook")
        self._closers.clear()
        if self.renderer is not None and hasattr(self.renderer, "close"):
            await _quietly(self.renderer.close, "renderer")
        if self.storage is not None and hasattr(self.storage, "dispose"):
            self.storage.dispose()
        await _quietly(self.market.close, "market data")
        if self._lane is not None:
            self._lane.shutdown(wait=False, cancel_futures=True)
            self._lane = None
        self._started = False


def _build_renderer(settings: Settings, pool_size: int | None) -> Any:
    try:
        from bot.render import Renderer  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        log.warning("bot.render is not available: chart commands will fail")
        return None
    return Renderer.from_settings(settings, pool_size=pool_size)


async def _quietly(fn: Callable[[], Awaitable[None]], what: str) -> None:
    try:
        await fn()
    except Exception:
        log.exception("closing %s failed", what)


def _log_failure(task: asyncio.Future[Any]) -> None:
    """Done-callback of a background check: an unexpected error is logged, not lost."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("background check failed", exc_info=task.exception())
