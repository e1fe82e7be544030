"""Charts: per-family render time in the warmed pool vs a naive inline pyplot render of the same
chart; a cache hit; event-loop lag while 50 concurrent mixed requests render.

- pool: ``await renderer.render(...)`` with a fresh data version each time (a real render, IPC
  included), one request at a time, 2 workers.
- naive: the same chart built on a fresh ``pyplot.figure()`` (pyplot lives only here, in the
  bench), then ``tight_layout()`` and ``savefig`` with default options, inline, ``plt.close``.
  Pool and naive renders alternate, so both see the same load on a shared machine. The naive
  render runs our chart code, so it shares every chart-level saving; the ratio measures the
  renderer (Agg reuse, glyph caches, no tight_layout, fast PNG) and the pool overhead.
- cache hit: the same request again (no render).
- loop lag: a 1 ms ticker's extra delay while 50 requests (the six families, several versions,
  some identical) are awaited together; p99 of the gaps.
Inputs come from the real history (``ctx.data_dir``) at its last session, else synthetic walks.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt  # noqa: TID251  (the naive baseline only; Agg without a display)
import numpy as np
import pandas as pd

from analytics.charts import canvas as cv
from analytics.charts import render_png
from analytics.charts.registry import figure_for
from analytics.charts.theme import HEIGHT_IN, WIDTH_IN, get_theme
from bot.render import Renderer
from bot.settings import Settings

FAMILIES = ("leadership-1y", "records", "breakouts", "cycles", "drivers", "custom-rebased")
RUNS = 11


def _inputs(ctx: Any) -> dict[str, tuple[str, Any]]:
    """{gallery name: (kind, input)} for the benchmarked charts."""
    from bot.market_data.fred import read_fred_dir
    from bot.market_data.service import build_market_data
    from bot.subcommands.charts import gallery_charts

    settings = Settings()
    if ctx.data_dir is not None:
        market = asyncio.run(build_market_data(settings, ctx.data_dir).snapshot())
        asof = market.asof
        fred = read_fred_dir(ctx.data_dir / "fred")
    else:  # synthetic: enough for every family
        from bot.market_data.snapshot import MarketSnapshot

        index = pd.bdate_range("1979-01-02", "2025-09-18")
        rng = np.random.default_rng(0)
        bars = {}
        for i, sym in enumerate(("^RUT", "^GSPC", "IWM", "SPY", "QQQ", "^TNX", "^IRX", "^VIX",
                                 "HYG", "LQD", "UUP", "KRE", "XLI", "IWN", "IWO", "XLY", "XLP")):
            close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(index)))) * (1 + i)
            bars[sym] = pd.DataFrame({"open": close, "high": close, "low": close,
                                      "close": close, "adj_close": close,
                                      "volume": np.nan}, index=index.rename("date"))
        market = MarketSnapshot(bars=bars, asof=index[-1].date(), source="csv", version="syn")
        asof, fred = market.asof, None
    assert asof is not None
    charts = {c.name: c for c in gallery_charts(market, asof, settings, fred)}
    return {name: (charts[name].kind, charts[name].build()) for name in FAMILIES}


@contextmanager
def _naive_figures() -> Iterator[None]:
    """Make the chart code build on fresh pyplot figures, as a naive implementation would."""
    original = cv.new_figure

    def pyplot_figure(theme: Any) -> Any:
        return plt.figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=100, facecolor=theme.background)

    cv.new_figure = pyplot_figure  # type: ignore[assignment]
    try:
        yield
    finally:
        cv.new_figure = original  # type: ignore[assignment]


def naive_render(kind: str, data: Any) -> bytes:
    theme = get_theme("dark")
    with cv.styled(theme), _naive_figures(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tight_layout warns about the header legends
        fig = figure_for(kind, data, theme)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
    return buf.getvalue()


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered) * 1e3, 1), "p95": round(p95 * 1e3, 1)}


async def _side_by_side(renderer: Renderer, inputs: dict[str, tuple[str, Any]]
                        ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(pool times, naive times) per family, interleaved render by render so both see the same
    machine load (the naive one blocks the loop, which is fine here: nothing else runs)."""
    pool: dict[str, list[float]] = {}
    naive: dict[str, list[float]] = {}
    for name, (kind, data) in inputs.items():
        pool[name], naive[name] = [], []
        for i in range(RUNS):
            started = time.perf_counter()
            await renderer.render(kind, {"name": name}, data, version=f"bench-{i}")
            pool[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            naive_render(kind, data)
            naive[name].append(time.perf_counter() - started)
    return pool, naive


async def _cache_hits(renderer: Renderer, inputs: dict[str, tuple[str, Any]]) -> list[float]:
    kind, data = inputs["leadership-1y"]
    await renderer.render(kind, {"name": "hit"}, data, version="hit")
    out = []
    for _ in range(200):
        started = time.perf_counter()
        await renderer.render(kind, {"name": "hit"}, data, version="hit")
        out.append(time.perf_counter() - started)
    return out


async def _loop_lag(renderer: Renderer, inputs: dict[str, tuple[str, Any]]) -> list[float]:
    names = list(inputs)
    requests = [(names[i % len(names)], f"lag-{i % 9}") for i in range(50)]
    work = asyncio.ensure_future(asyncio.gather(*(
        renderer.render(inputs[n][0], {"name": n}, inputs[n][1], version=v)
        for n, v in requests)))
    lags = []
    tick = 0.001
    last = time.perf_counter()
    while not work.done():
        await asyncio.sleep(tick)
        now = time.perf_counter()
        lags.append(max(0.0, now - last - tick))
        last = now
    await work
    return lags


def _target(value: float, target: str, ok: bool) -> dict[str, Any]:
    return {"value": value, "target": target, "ok": ok}


def run(ctx: Any) -> dict[str, Any]:
    inputs = _inputs(ctx)
    for kind, data in inputs.values():  # warm this process for the naive baseline
        render_png(kind, data)
        naive_render(kind, data)

    async def pooled() -> tuple[dict[str, list[float]], dict[str, list[float]], list[float],
                                list[float], int]:
        renderer = Renderer(pool_size=2, cache_entries=256)
        await renderer.start()
        try:
            pool, naive = await _side_by_side(renderer, inputs)
            hits = await _cache_hits(renderer, inputs)
            before = renderer.renders
            lags = await _loop_lag(renderer, inputs)
            return pool, naive, hits, lags, renderer.renders - before
        finally:
            await renderer.close()

    pool_times, naive_times, hits, lags, lag_renders = asyncio.run(pooled())
    pool = {name: _ms(values) for name, values in pool_times.items()}
    naive = {name: _ms(values) for name, values in naive_times.items()}
    p50_all = statistics.median([v for values in pool_times.values() for v in values]) * 1e3
    hit_ms = statistics.median(hits) * 1e3
    lag_p99 = float(np.percentile(np.array(lags) * 1e3, 99)) if lags else 0.0
    speedups = {name: round(naive[name]["p50"] / pool[name]["p50"], 2) for name in pool}
    figures: dict[str, Any] = {
        "pool_ms": pool, "naive_ms": naive, "speedup_p50": speedups,
        "pool_p50_all_ms": round(p50_all, 1), "cache_hit_ms": round(hit_ms, 3),
        "loop_lag_p99_ms": round(lag_p99, 2), "loop_lag_max_ms": round(max(lags) * 1e3, 2),
        "loop_lag_renders": lag_renders,
    }
    worst_p50 = max(v["p50"] for v in pool.values())
    naive_all = statistics.median([v for values in naive_times.values() for v in values]) * 1e3
    figures["naive_p50_all_ms"] = round(naive_all, 1)
    figures["targets"] = {
        "render_p50_ms": _target(round(p50_all, 1), "<= 80 ms (all renders)", p50_all <= 80),
        "render_p50_worst_family_ms": _target(worst_p50, "<= 80 ms", worst_p50 <= 80),
        "speedup_vs_naive": _target(round(naive_all / p50_all, 2), ">= 2x (all renders)",
                                    naive_all / p50_all >= 2),
        "speedup_worst_family": _target(min(speedups.values()), ">= 2x",
                                        min(speedups.values()) >= 2),
        "cache_hit_ms": _target(round(hit_ms, 3), "< 2 ms", hit_ms < 2),
        "loop_lag_p99_ms": _target(round(lag_p99, 2), "< 10 ms", lag_p99 < 10),
    }
    return figures
