"""Charts: every render figure beside its baseline doing the same work (same input, same number
of distinct renders, same cache state), both render paths, cold and warm separately.

- fast / fallback: ``await renderer.render(...)`` in a warmed pool of 2 workers drawing with the
  glyph-caching renderer (``fast``, where supported) or the public Agg canvas (``fallback``,
  ``CAPBRIEF_RENDER_FALLBACK=1``); a fresh data version each time, so every call is a render.
- naive: the same chart built on a fresh ``pyplot.figure()`` (pyplot lives only here), then
  ``tight_layout()`` and a default ``savefig``, inline, ``plt.close``. It runs our chart code, so
  the ratio measures the renderer (Agg reuse, glyph caches, no tight_layout, PNG encoder) net of
  the pool's IPC overhead.
- cold: the first render of each family in a just-warmed pool vs the first naive render of that
  family in this process (imports done on both sides). warm: ``RUNS`` rounds per family, the
  three in an order that rotates each round; per round the ratio naive / pool, then the median
  ratio with its min-max.
- cache hit: the same request again (no render).
- loop lag (distinct): a 1 ms ticker's extra delay while 50 requests with 50 distinct
  (family, version) keys render (50 renders); p99 of the gaps. dedup: 50 identical concurrent
  requests, and how many renders they cost (the figure is about single-flight).
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
from analytics.charts.registry import figure_for
from analytics.charts.theme import HEIGHT_IN, WIDTH_IN, get_theme
from bot.render import Renderer
from bot.settings import Settings

FAMILIES = ("leadership-1y", "records", "breakouts", "cycles", "drivers", "custom-rebased")
RUNS = 7


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


def _spread(ratios: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(ratios), 2), "min": round(min(ratios), 2),
            "max": round(max(ratios), 2), "n": len(ratios)}


class _Versions:
    """Fresh data versions, so every pool call is a real render (never a cache hit)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"bench-{self.n}"


async def _timed_pool(renderer: Renderer, kind: str, name: str, data: Any,
                      version: str) -> float:
    started = time.perf_counter()
    await renderer.render(kind, {"name": name}, data, version=version)
    return time.perf_counter() - started


def _timed_naive(kind: str, data: Any) -> float:
    started = time.perf_counter()
    naive_render(kind, data)
    return time.perf_counter() - started


async def _paired(pools: dict[str, Renderer], inputs: dict[str, tuple[str, Any]], rounds: int,
                  fresh: _Versions) -> dict[str, dict[str, list[float]]]:
    """{contender: {family: [seconds per round]}} with contenders ``pools`` + ``naive``; in each
    round of each family the order rotates, so all see the same machine load."""
    contenders = [*pools, "naive"]
    times: dict[str, dict[str, list[float]]] = {c: {n: [] for n in inputs} for c in contenders}
    for name, (kind, data) in inputs.items():
        for r in range(rounds):
            for c in contenders[r % len(contenders):] + contenders[:r % len(contenders)]:
                took = (_timed_naive(kind, data) if c == "naive"
                        else await _timed_pool(pools[c], kind, name, data, fresh()))
                times[c][name].append(took)
    return times


async def _cache_hits(renderer: Renderer, inputs: dict[str, tuple[str, Any]]) -> list[float]:
    kind, data = inputs["leadership-1y"]
    await renderer.render(kind, {"name": "hit"}, data, version="hit")
    out = []
    for _ in range(200):
        started = time.perf_counter()
        await renderer.render(kind, {"name": "hit"}, data, version="hit")
        out.append(time.perf_counter() - started)
    return out


async def _loop_lag(renderer: Renderer, requests: list[tuple[str, Any, str, str]]
                    ) -> tuple[list[float], int]:
    """Ticker overshoots while ``requests`` (kind, data, name, version) are awaited together;
    and the renders they cost."""
    before = renderer.renders
    work = asyncio.ensure_future(asyncio.gather(*(
        renderer.render(kind, {"name": name}, data, version=version)
        for kind, data, name, version in requests)))
    lags = []
    tick = 0.001
    last = time.perf_counter()
    while not work.done():
        await asyncio.sleep(tick)
        now = time.perf_counter()
        lags.append(max(0.0, now - last - tick))
        last = now
    await work
    return lags, renderer.renders - before


def _naive_warm_up() -> None:
    """The naive side's equivalent of the workers' warm-up (:func:`bot.render.warm_job`): the
    same tiny chart once, so fonts and caches are loaded on both sides before anything is timed."""
    from analytics.charts.inputs import CustomInput, Footnote

    index = pd.date_range("2024-01-01", periods=40, freq="B")
    values = pd.Series([100.0 + i for i in range(40)], index=index)
    naive_render("custom", CustomInput(series=(("^RUT", values), ("^GSPC", values * 1.01)),
                                       kind="rebased", period_label="warm-up",
                                       footnote=Footnote(asof=index[-1].date())))


def _target(value: float, target: str, ok: bool) -> dict[str, Any]:
    return {"value": value, "target": target, "ok": ok}


def _p99(lags: list[float]) -> float:
    return round(float(np.percentile(np.array(lags) * 1e3, 99)), 2) if lags else 0.0


def run(ctx: Any) -> dict[str, Any]:
    from analytics.charts.raster import fast_path_supported

    inputs = _inputs(ctx)
    _naive_warm_up()
    paths = ["fast", "fallback"] if fast_path_supported() else ["fallback"]
    fresh = _Versions()

    async def measure() -> dict[str, Any]:
        pools = {p: Renderer(pool_size=2, cache_entries=256,
                             render_path="auto" if p == "fast" else "fallback") for p in paths}
        for renderer in pools.values():
            await renderer.start()
        try:
            cold: dict[str, dict[str, float]] = {c: {} for c in [*paths, "naive"]}
            for name, (kind, data) in inputs.items():  # first render of each family
                for p, renderer in pools.items():
                    cold[p][name] = await _timed_pool(renderer, kind, name, data, fresh())
                cold["naive"][name] = _timed_naive(kind, data)
            warm = await _paired(pools, inputs, RUNS, fresh)
            main = pools[paths[0]]
            hits = await _cache_hits(main, inputs)
            names = list(inputs)
            distinct = [(inputs[n][0], inputs[n][1], n, fresh())
                        for n in (names[i % len(names)] for i in range(50))]
            lags, distinct_renders = await _loop_lag(main, distinct)
            kind, data = inputs["records"]
            same = [(kind, data, "records", "dedup")] * 50
            dedup_lags, dedup_renders = await _loop_lag(main, same)
            return {"cold": cold, "warm": warm, "hits": hits, "lags": lags,
                    "distinct_renders": distinct_renders, "dedup_lags": dedup_lags,
                    "dedup_renders": dedup_renders, "active": {p: r.active_path
                                                               for p, r in pools.items()}}
        finally:
            for renderer in pools.values():
                await renderer.close()

    m = asyncio.run(measure())
    warm, cold = m["warm"], m["cold"]
    figures: dict[str, Any] = {"paths": m["active"], "rounds": RUNS}
    for c in [*paths, "naive"]:
        figures[f"warm_{c}_ms"] = {n: _ms(v) for n, v in warm[c].items()}
        every = [v for values in warm[c].values() for v in values]
        figures[f"warm_{c}_p50_all_ms"] = round(statistics.median(every) * 1e3, 1)
        figures[f"cold_{c}_ms"] = {n: round(v * 1e3, 1) for n, v in cold[c].items()}
    targets: dict[str, Any] = {}
    for p in paths:
        per_family = {n: _spread([nv / pv for nv, pv in zip(warm["naive"][n], warm[p][n],
                                                            strict=True)]) for n in inputs}
        overall = _spread([nv / pv for n in inputs
                           for nv, pv in zip(warm["naive"][n], warm[p][n], strict=True)])
        cold_ratio = _spread([cold["naive"][n] / cold[p][n] for n in inputs])
        figures[f"warm_speedup_{p}_vs_naive"] = {"all": overall, **per_family}
        figures[f"cold_speedup_{p}_vs_naive"] = cold_ratio
        worst = min(v["median"] for v in per_family.values())
        p50 = figures[f"warm_{p}_p50_all_ms"]
        if p == "fast":
            targets["fast_warm_p50_ms"] = _target(p50, "<= 80 ms (all renders)", p50 <= 80)
            targets["fast_speedup_vs_naive_worst_family"] = _target(
                worst, ">= 2x (median of paired rounds)", worst >= 2)
        else:  # the safety net: public API only, so no glyph caches; never slower than naive
            targets["fallback_speedup_vs_naive_worst_family"] = _target(
                worst, ">= 1x (median of paired rounds)", worst >= 1)
    hit_ms = statistics.median(m["hits"]) * 1e3
    figures["cache_hit_ms"] = round(hit_ms, 3)
    figures["loop_lag_distinct"] = {"requests": 50, "renders": m["distinct_renders"],
                                    "p99_ms": _p99(m["lags"]),
                                    "max_ms": round(max(m["lags"]) * 1e3, 2)}
    figures["loop_lag_dedup"] = {"requests": 50, "renders": m["dedup_renders"],
                                 "p99_ms": _p99(m["dedup_lags"])}
    lag = figures["loop_lag_distinct"]["p99_ms"]
    targets["cache_hit_ms"] = _target(round(hit_ms, 3), "< 2 ms", hit_ms < 2)
    targets["loop_lag_p99_ms_50_distinct"] = _target(lag, "< 10 ms", lag < 10)
    targets["dedup_renders"] = _target(m["dedup_renders"], "== 1 for 50 identical",
                                       m["dedup_renders"] == 1)
    figures["targets"] = targets
    return figures
