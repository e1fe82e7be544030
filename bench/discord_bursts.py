"""The concurrent bursts of :mod:`bench.bench_discord`: many interactions at once against the bot,
with the loop-lag sampler, the pool-capacity measurement and the issue 12 item 4 rounds.

Every burst starts once the bot is idle (:func:`_idle`) and is timed by the fake Discord's own
clock in its own process (:mod:`bench.discord_proc`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.discord_proc import FakeProcess
from bot.client import CapbriefBot
from bot.services import Services


def session_days(bars: dict[str, pd.DataFrame], n: int, start: str, end: str) -> list[str]:
    """``n`` distinct sessions of ^GSPC spread evenly over [start, end] (ISO dates)."""
    index = bars["^GSPC"].loc[start:end].index
    picks = np.linspace(0, len(index) - 1, n).round().astype(int)
    return [index[i].date().isoformat() for i in picks]


async def _lag_monitor(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.005)
        samples.append(max(0.0, time.perf_counter() - t0 - 0.005))


async def burst(bot: CapbriefBot, fake: FakeProcess, name: str,
                 options: list[dict[str, Any] | None]) -> tuple[float, float]:
    """All ``options`` sent at once, one interaction each: (total seconds, loop lag p99)."""
    out = await _mixed_burst(bot, fake, [(name, o) for o in options])
    return out["total_s"], out["loop_lag_p99_s"]


async def _mixed_burst(bot: CapbriefBot, fake: FakeProcess,
                       requests: list[tuple[str, dict[str, Any] | None]]) -> dict[str, Any]:
    """All ``requests`` (command, options) sent at once, each from its own user, once the bot
    is idle: total time (first dispatch to last follow-up), loop lag p99, ack (deferral)
    p50/p99, and how many follow-ups carried a chart. ``uptime``'s load averages are read
    when it ends."""
    await _idle(bot)
    lags: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(_lag_monitor(lags, stop))
    pids = {"bot": os.getpid(), "fake": fake.pid,
            "workers": bot.services.renderer.worker_pids()}
    cpu0 = {k: cpu_seconds(v) for k, v in pids.items()}
    replies = await fake.run(requests)
    cpu = {f"{k}_cpu_s": round(cpu_seconds(v) - cpu0[k], 2) for k, v in pids.items()}
    stop.set()
    await monitor
    acks = np.array([r.ack_s for r in replies])
    return {"cpu": cpu,
            "total_s": max(r.followup or 0.0 for r in replies) - min(r.sent for r in replies),
            "loop_lag_p99_s": float(np.percentile(np.array(lags), 99)) if lags else 0.0,
            "ack_p50_s": float(np.percentile(acks, 50)),
            "ack_p99_s": float(np.percentile(acks, 99)),
            "with_chart": sum(1 for r in replies if r.files), "load": load_average()}


def cpu_seconds(pids: int | list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (Linux ``/proc``; 0 elsewhere)."""
    total = 0.0
    for pid in [pids] if isinstance(pids, int) else pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (what ``uptime`` prints)."""
    return [round(x, 2) for x in os.getloadavg()]


CHART_SYMBOLS = ("IWM", "SPY", "QQQ", "XLF", "XLK", "XLE", "XLV", "XLI", "XLY", "XLP")


def chart_requests(n: int) -> list[dict[str, Any]]:
    """``n`` distinct /chart option sets (pairs of symbols × kinds)."""
    out = []
    for kind in ("rebased", "price", "ratio", "drawdown"):
        for i, a in enumerate(CHART_SYMBOLS):
            for b in CHART_SYMBOLS[i + 1:]:
                out.append({"symbols": f"{a} {b}", "kind": kind})
    return out[:n]


async def capacity_inputs(services: Services, bars: dict[str, pd.DataFrame], days: list[str],
                          charts: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Prebuilt chart inputs in the concurrent burst's mix: leadership charts (/status, 1y) on
    ``days`` and custom charts (/chart) for ``charts``, alternating."""
    from analytics.charts import Footnote
    from analytics.charts.build import leadership_input
    from analytics.series import to_price
    from bot.chart_request import build_chart_input, parse_chart_request

    out: list[tuple[str, Any]] = []
    for day, options in zip(days, charts, strict=True):
        when = date.fromisoformat(day)
        out.append(("leadership", leadership_input(to_price(bars["^RUT"]),
                                                   to_price(bars["^GSPC"]), "1y", when,
                                                   Footnote(asof=when))))
        request = parse_chart_request(options["symbols"], "1y", options["kind"])
        snap = await services.snapshot(request.symbols)
        out.append(("custom", build_chart_input(request, snap)))
    return out


async def _pool_capacity(renderer: Any, inputs: list[tuple[str, Any]], tag: str) -> float:
    """Renders per second the pool sustains: every input rendered at once (built beforehand,
    so this is rendering and IPC only; distinct cache keys, so every one is a render)."""
    t0 = time.perf_counter()
    await asyncio.gather(*(renderer.render(kind, {"cap": i, "tag": tag}, data,
                                           version=f"cap-{tag}")
                           for i, (kind, data) in enumerate(inputs)))
    return len(inputs) / (time.perf_counter() - t0)


async def _idle(bot: CapbriefBot, within: float = 60.0) -> None:
    """Until the bot has finished every command in flight (the fake has recorded the last
    follow-up before the bot has read its answer), then a short pause: each burst starts
    with the bot idle, not finishing the previous one."""
    busy = [t for t in asyncio.all_tasks()
            if t.get_name() == "CommandTree-invoker" and not t.done()]  # discord.py's name
    if busy:
        await asyncio.wait(busy, timeout=within)
    await asyncio.sleep(0.3)


ROUNDS = 3


def _rounds(values: list[float], digits: int = 2) -> dict[str, Any]:
    """Median, min and max over the rounds, and each round's value."""
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "rounds": [round(v, digits) for v in values]}


async def concurrent200(bot: CapbriefBot, fake: FakeProcess, services: Services,
                         bars: dict[str, pd.DataFrame], used: set[str], cached_day: str
                         ) -> dict[str, Any]:
    """Issue 12 item 4, in :data:`ROUNDS` rounds, each with the same cache state:

    the pool's capacity (the burst's own 200 charts, inputs prebuilt, rendered at once), the trivial
    ack floor (200 ``/ack-floor`` at once), the 200 distinct requests at once, then the capacity
    again. Each round's share is its throughput over the mean of the capacities measured just
    before and just after it, so both see the same machine load. The render cache and the
    analysis memo are cleared before each round, so every round does the same work: 300 new
    analyses (chart inputs included) and 200 renders. A first 200-interaction burst (not a
    figure) opens the HTTP connections. Last, 200 /status on a day already answered (memo and
    render-cache hits, no pool job, but 200 PNG uploads at once): the cached floor."""
    renderer = services.renderer
    days = [d for d in session_days(bars, 160, "1996-01-01", "2024-12-31") if d not in used]
    mixed = ([("status", {"asof": d}) for d in days[:100]]
             + [("chart", o) for o in chart_requests(100)])
    mixed = [r for pair in zip(mixed[:100], mixed[100:], strict=True) for r in pair]
    inputs = await capacity_inputs(services, bars, days[:100], chart_requests(100))
    trivial = [("ack-floor", {"asof": str(i)}) for i in range(200)]
    await _mixed_burst(bot, fake, trivial)  # warm-up: connections, not a figure
    await _idle(bot)
    capacities = [await _pool_capacity(renderer, inputs, "r0")]
    floors, bursts, shares, throughputs, jobs = [], [], [], [], []
    for r in range(1, ROUNDS + 1):
        renderer.clear_cache()
        services.memo.clear()
        floors.append(await _mixed_burst(bot, fake, trivial))
        before = renderer.jobs
        result = await _mixed_burst(bot, fake, mixed)
        jobs.append(renderer.jobs - before)
        bursts.append(result)
        await _idle(bot)
        capacities.append(await _pool_capacity(renderer, inputs, f"r{r}"))
        throughputs.append(len(mixed) / result["total_s"])
        shares.append(throughputs[-1] / ((capacities[-2] + capacities[-1]) / 2))
    cached = await _mixed_burst(bot, fake, [("status", {"asof": cached_day})] * 200)

    def ms(results: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return _rounds([x[key] * 1000 for x in results], 1)

    out: dict[str, Any] = {"concurrent200_distinct": {
        "share_of_capacity": _rounds(shares),
        "requests_per_s": _rounds(throughputs),
        "pool_capacity_renders_per_s": [round(c, 2) for c in capacities],
        "total_s": _rounds([b["total_s"] for b in bursts]),
        "ack_p50_ms": ms(bursts, "ack_p50_s"), "ack_p99_ms": ms(bursts, "ack_p99_s"),
        "loop_lag_p99_ms": ms(bursts, "loop_lag_p99_s"),
        "with_chart": [b["with_chart"] for b in bursts], "pool_jobs": jobs,
        "cpu_s_during_burst": [b["cpu"] for b in bursts],
        "load_at_end": [b["load"] for b in bursts]}}
    out["concurrent200_trivial_ack_floor"] = {
        "ack_p50_ms": ms(floors, "ack_p50_s"), "ack_p99_ms": ms(floors, "ack_p99_s"),
        "loop_lag_p99_ms": ms(floors, "loop_lag_p99_s")}
    out["concurrent200_cached_ack_floor"] = {
        "ack_p50_ms": round(cached["ack_p50_s"] * 1000, 1),
        "ack_p99_ms": round(cached["ack_p99_s"] * 1000, 1),
        "loop_lag_p99_ms": round(cached["loop_lag_p99_s"] * 1000, 2),
        "total_s": round(cached["total_s"], 2), "load_at_end": cached["load"]}
    out["concurrent200_ack_p99_over_trivial_floor"] = _rounds(
        [b["ack_p99_s"] / f["ack_p99_s"] for b, f in zip(bursts, floors, strict=True)])
    return out
