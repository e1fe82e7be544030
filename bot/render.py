"""Chart rendering off the event loop: a warmed process pool plus a single-flight render cache.

- **Pool.** A :class:`~concurrent.futures.ProcessPoolExecutor` with the ``forkserver`` start
  method (``spawn`` where unavailable; never ``fork``, which would copy the bot's threads and
  sockets). The fork server preloads Matplotlib and the chart modules, and :meth:`Renderer.start`
  renders one tiny chart in every worker, so the first real request pays no import or font cost.
- **Cache.** Key = (chart kind, params, data version, theme). 50 identical concurrent requests
  share one render (single-flight, one task per key that callers await through
  :func:`asyncio.shield`, so a cancelled caller never cancels the shared render); finished PNGs
  live in a bounded LRU (``settings.render.cache_entries``). Failures are not cached.
- **Failure.** If a worker dies (``BrokenProcessPool``), the pool is replaced once (other
  requests that saw the same broken pool wait for that replacement) and the request is retried
  once. A :class:`~analytics.charts.ChartInputError` from a chart becomes :class:`ChartUnavailable`
  (a :class:`~bot.errors.UserFacingError` whose text is safe to show).

- **Render path.** Workers draw with the fast glyph-caching renderer where
  :func:`analytics.charts.raster.fast_path_supported` allows, else the public Agg canvas;
  ``CAPBRIEF_RENDER_FALLBACK=1`` forces the public canvas (:func:`render_path_choice`; the choice
  is passed to each worker by the pool initializer, analytics reads no environment).

``data`` is the chart's input dataclass (see :mod:`analytics.charts.inputs`), or a zero-argument
callable returning it: the callable runs (in a thread) only on a cache miss. The cogs build
their inputs in the pool instead (:meth:`Renderer.analyse`) and pass the dataclass.

- **Analysis in the pool.** :meth:`Renderer.analyse` runs ``fn(bars, ...)`` (a command's analysis
  or chart input: pandas, CPU-bound) in a worker too, so the bot's own process does no heavy
  pandas work under its GIL while it answers other interactions. The bars reach the workers by
  file, once per frame (:mod:`bot.render_frames`); the job carries only their paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, cast

from analytics.charts import KINDS, ChartInputError
from bot.errors import DataUnavailable
from bot.render_frames import FrameShelf
from bot.settings import Settings
from bot.singleflight import SingleFlight

if TYPE_CHECKING:  # pandas-backed; imported where used, so the bot starts without pandas
    import pandas as pd

    from analytics.charts.inputs import Footnote
    from bot.market_data.snapshot import MarketSnapshot

log = logging.getLogger(__name__)

PRELOAD = ["analytics.charts.registry", "analytics.leadership", "analytics.charts.build",
           "bot.render_jobs"]
R = TypeVar("R")
CacheKey = tuple[str, Hashable, str, str]
#: Set to 1 (or true/yes/on) to force the public Agg canvas instead of the fast renderer.
FALLBACK_ENV = "CAPBRIEF_RENDER_FALLBACK"


class ChartUnavailable(DataUnavailable):
    """The chart cannot be drawn from this data (too little of it, or none); safe to show."""


def footnote_for(snapshot: MarketSnapshot, asof: date | None = None) -> Footnote:
    """The chart footnote of ``snapshot`` (as-of session, stale flag, source)."""
    from analytics.charts.inputs import Footnote

    return Footnote(asof=asof or snapshot.asof, stale=snapshot.stale, source=snapshot.source)


def render_path_choice(environ: Mapping[str, str] | None = None) -> str:
    """``"fallback"`` when :data:`FALLBACK_ENV` is set to a true value, else ``"auto"`` (fast
    where supported); see :func:`analytics.charts.raster.select_render_path`."""
    value = (os.environ if environ is None else environ).get(FALLBACK_ENV, "")
    return "fallback" if value.strip().lower() in ("1", "true", "yes", "on") else "auto"


def use_render_path(choice: str | None = None) -> str:
    """Apply ``choice`` (default: from the environment) to this process; the path in effect.

    Imports Matplotlib: call it where charts are drawn (workers, inline renders), not at start.
    """
    from analytics.charts.raster import select_render_path

    return select_render_path(render_path_choice() if choice is None else choice)


_WARM_BARRIER: Any = None
WARM_BARRIER_TIMEOUT_S = 30.0


#: How much lower the workers' CPU priority is than the bot's (``nice`` increment). On a small
#: machine a burst keeps every worker busy; the event loop, which acknowledges interactions
#: within Discord's 3 s and does little CPU work itself, then still gets a core when it needs
#: one. Renders lose nothing when a core is free.
WORKER_NICE = 5


def init_worker(choice: str, barrier: Any = None) -> None:
    """Pool initializer: lower priority (:data:`WORKER_NICE`), the render path
    (:func:`use_render_path`) and the warm-up barrier."""
    global _WARM_BARRIER
    _WARM_BARRIER = barrier
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICE)
    use_render_path(choice)


def render_job(kind: str, data: Any, theme: str) -> bytes:
    """Worker side: PNG bytes of one chart (module-level so it pickles by reference)."""
    from analytics.charts import render_png

    return render_png(kind, data, theme)


def warm_job(theme: str) -> tuple[int, str]:
    """Worker side: render a tiny chart (imports, fonts and caches get loaded); the worker's pid
    and the render path it uses."""
    import pandas as pd

    from analytics.charts import render_png
    from analytics.charts.inputs import CustomInput, Footnote
    from analytics.charts.raster import render_path

    index = pd.date_range("2024-01-01", periods=40, freq="B")
    values = pd.Series([100.0 + i for i in range(40)], index=index)
    tiny = CustomInput(series=(("^RUT", values), ("^GSPC", values * 1.01)), kind="rebased",
                       period_label="warm-up", footnote=Footnote(asof=index[-1].date()))
    render_png("custom", tiny, theme)
    if _WARM_BARRIER is not None:  # hold this worker until every worker has its own warm-up job
        with contextlib.suppress(threading.BrokenBarrierError):
            _WARM_BARRIER.wait(WARM_BARRIER_TIMEOUT_S)
    return os.getpid(), render_path()


def freeze(params: Any) -> Hashable:
    """A hashable, order-independent form of ``params`` (dicts, lists, sets, scalars)."""
    if isinstance(params, Mapping):
        return tuple(sorted((str(k), freeze(v)) for k, v in params.items()))
    if isinstance(params, list | tuple):
        return tuple(freeze(v) for v in params)
    if isinstance(params, set | frozenset):
        return tuple(sorted(repr(freeze(v)) for v in params))
    if isinstance(params, Hashable):
        return params
    return repr(params)


def _log_warm_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("render pool warm-up failed; the first render will retry",
                  exc_info=task.exception())


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


class Renderer:
    """Async chart rendering: ``await renderer.render(kind, params, data, version=...)``."""

    def __init__(self, pool_size: int = 2, cache_entries: int = 256, theme: str = "dark",
                 render_path: str | None = None) -> None:
        if pool_size < 1 or cache_entries < 1:
            raise ValueError("pool_size and cache_entries must be at least 1")
        #: ``auto``/``fast``/``fallback`` for the workers (default: :func:`render_path_choice`).
        self.render_path = render_path_choice() if render_path is None else render_path
        #: The path the workers report after warm-up ("fast" or "fallback"; "" before).
        self.active_path = ""
        #: The distinct workers that ran a warm-up job (all of them, thanks to the barrier).
        self.warmed_pids: list[int] = []
        self.pool_size = pool_size
        self.cache_entries = cache_entries
        self.theme = theme
        #: Renders performed by workers (cache hits and joined requests are not counted).
        self.renders = 0
        #: Pool jobs completed: renders plus :meth:`analyse` calls (warm-ups not counted).
        self.jobs = 0
        #: :meth:`analyse` calls completed, and the worker pids they ran in.
        self.analyses = 0
        self.analysis_pids: set[int] = set()
        #: The bars handed to workers by file (:mod:`bot.render_frames`).
        self.frames = FrameShelf()
        self.cache_hits = 0
        self.pool_restarts = 0
        self._pool: ProcessPoolExecutor | None = None
        self._cache: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._inflight: SingleFlight[CacheKey, bytes] = SingleFlight()
        self._pool_lock = asyncio.Lock()
        self._warming: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, *, pool_size: int | None = None) -> Renderer:
        """A renderer sized by ``settings.render`` and themed by ``settings.charts.theme``."""
        return cls(pool_size=pool_size or settings.render.pool_size,
                   cache_entries=settings.render.cache_entries, theme=settings.charts.theme)

    @property
    def started(self) -> bool:
        return self._pool is not None

    async def start(self) -> None:
        """Create the pool and warm every worker (about a second, spent off the event loop).
        Idempotent; concurrent calls create one pool."""
        async with self._pool_lock:
            if self._closed:
                raise RuntimeError("the renderer is closed")
            if self._pool is None:
                self._pool = await self._new_pool()

    def start_background(self) -> asyncio.Task[None]:
        """Start and warm the pool in a task and return at once, so the bot answers commands
        while the workers warm up; a render arriving meanwhile waits for the warm-up (it takes
        the same lock). Idempotent."""
        if self._warming is None:
            self._warming = asyncio.ensure_future(self.start())
            self._warming.add_done_callback(_log_warm_failure)
        return self._warming

    async def close(self) -> None:
        """Stop the workers; pending renders fail, later ones raise. Safe to call twice."""
        self._closed = True
        warming = self._warming
        if warming is not None and not warming.done():
            with contextlib.suppress(Exception):
                await warming  # let a half-built pool finish, then shut it down below
        pool, self._pool = self._pool, None
        self._inflight.cancel_all()
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
        self.frames.close()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for health checks and tests)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def clear_cache(self) -> None:
        """Forget every finished PNG (renders in flight are not affected); for benchmarks that
        repeat the same cold requests."""
        self._cache.clear()

    def cache_info(self) -> dict[str, int]:
        return {"entries": len(self._cache), "max_entries": self.cache_entries,
                "hits": self.cache_hits, "renders": self.renders, "inflight": len(self._inflight)}

    async def render(self, kind: str, params: Any, data: Any, *, version: str = "") -> bytes:
        """PNG bytes of chart ``kind`` (one of :data:`analytics.charts.KINDS`).

        ``params`` identify the request (window, symbols, ...; ``"theme"`` overrides the default
        theme) and with ``version`` (the market snapshot's version) form the cache key, so they
        must determine ``data``. Raises :class:`ChartUnavailable` when the chart cannot be drawn.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown chart kind {kind!r}")
        theme = self.theme
        if isinstance(params, Mapping) and "theme" in params:
            theme = str(params["theme"])
        key: CacheKey = (kind, freeze(params), version, theme)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return cached
        return await self._inflight.run(key, lambda: self._produce(key, kind, data, theme))

    async def analyse(self, fn: Callable[..., R], bars: Mapping[str, pd.DataFrame],
                      *args: Any, **kwargs: Any) -> R:
        """``fn(bars, *args, **kwargs)`` in a pool worker (``fn`` module-level, its arguments
        and result picklable); its exception propagates. ``bars`` go by file, written the first
        time a frame is needed (in a thread), then known by identity (no I/O)."""
        from bot.render_jobs import with_bars

        refs = self.frames.known(bars)
        if refs is None:
            refs = await asyncio.to_thread(self.frames.put, bars)
        pid, result = await self._submit(with_bars, fn, refs, args, kwargs)
        self.analyses += 1
        self.analysis_pids.add(pid)
        return cast(R, result)

    async def _produce(self, key: CacheKey, kind: str, data: Any, theme: str) -> bytes:
        try:
            payload = await asyncio.to_thread(data) if callable(data) else data
            png = await self._submit(render_job, kind, payload, theme)
            self.renders += 1
        except ChartInputError as exc:
            raise ChartUnavailable(f"can't draw that chart: {exc}") from exc
        self._cache[key] = png
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_entries:
            self._cache.popitem(last=False)
        return png

    async def _submit(self, fn: Callable[..., R], *args: Any) -> R:
        """``fn(*args)`` in the pool (started if need be); a dead worker's pool is replaced
        and the job retried once."""
        if self._pool is None:
            await self.start()
        for attempt in (1, 2):
            pool = self._pool
            assert pool is not None
            try:
                result: R = await asyncio.wrap_future(pool.submit(fn, *args))
            except BrokenProcessPool:
                if attempt == 2:
                    raise
                log.warning("render worker died (%s); restarting the pool and retrying",
                            getattr(fn, "__name__", "job"))
                await self._replace(pool)
                continue
            self.jobs += 1
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Replace ``broken`` with a fresh warmed pool, once, however many requests saw it."""
        async with self._pool_lock:
            if self._pool is not broken:
                return
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = await self._new_pool()
            self.pool_restarts += 1

    def _spawn(self) -> tuple[ProcessPoolExecutor, list[Future[tuple[int, str]]]]:
        """A new pool with one warm-up job per worker submitted; a barrier holds each job until
        all have started, so every worker warms (not one worker twice). Runs in a thread: the
        first submit starts the fork server and waits for its preload (imports, ~1 s)."""
        ctx = _context()
        barrier = ctx.Barrier(self.pool_size) if self.pool_size > 1 else None
        pool = ProcessPoolExecutor(max_workers=self.pool_size, mp_context=ctx,
                                   initializer=init_worker,
                                   initargs=(self.render_path, barrier))
        return pool, [pool.submit(warm_job, self.theme) for _ in range(self.pool_size)]

    async def _new_pool(self) -> ProcessPoolExecutor:
        pool, warm = await asyncio.to_thread(self._spawn)
        results = await asyncio.gather(*(asyncio.wrap_future(f) for f in warm))
        self.active_path = ",".join(sorted({path for _, path in results}))
        self.warmed_pids = sorted({pid for pid, _ in results})
        log.info("render pool ready: %d worker(s) warmed (%s), %s render path", self.pool_size,
                 ", ".join(str(p) for p in sorted({pid for pid, _ in results})),
                 self.active_path)
        return pool

