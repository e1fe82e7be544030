"""The bot against the loopback fake Discord: ack and reply latency, bursts, and the same /status
done naively with the same data in memory, side by side.

Setup: the real CapbriefBot (discord.py 2.7), CSV replay of the shared history, the render pool
at its configured size (2), and the fake Discord in an OS process of its own
(:mod:`bench.discord_proc`), so its work (gateway frames, parsing 200 multipart uploads) does not
hold the bot's GIL; the two still share the 2 cores. Timings are the fake's ``perf_counter``
stamps: interaction dispatched → request received.

- ack: interaction → deferral (type 5), 100 sequential /status (warm caches), p50/p99;
- cold vs naive (same work): /status on a day never asked before (analysis + chart input + one
  render in the warmed pool) paired with ``/naive-status`` on another fresh day (bench-only cog:
  the same bars already in memory, leadership snapshot, a pyplot chart inline on the loop); the
  pairs alternate which goes first; median ratio naive / bot with min-max;
- warm: the same /status 30 times (analysis and PNG cached) vs the naive doing that request
  again (it has no cache): the gain from caching, labelled as such;
- burst distinct: 50 concurrent /status on 50 different days (50 analyses, 50 renders): total
  time, renders, loop lag p99 (a 5 ms sleeper's overshoot); burst dedup: 50 identical concurrent
  /status on one new day, about single-flight (renders == 1);
- concurrent 200 distinct (issue 12 item 4), in rounds (:func:`bench.discord_bursts.concurrent200`):
  100 /status on distinct days and 100 /chart with distinct symbols and kinds, all at once:
  requests/s against the pool's capacity measured around each round (the same 200 charts from
  prebuilt inputs), ack p50/p99, loop lag p99, the CPU each process used;
- ack floors, from the same run: 200 interactions at once of a trivial command (``/ack-floor``:
  defer, then a one-line embed; no data, analysis or chart) right before each round, and 200
  /status at once on a day already answered (memo and render-cache hits, no pool job);
- naive with download: the first baseline (yfinance download of the 4 symbols from the fake
  Yahoo on every request), kept for reference only: it does more work than the bot.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

import discord
import numpy as np
import pandas as pd
from discord import app_commands
from discord.ext import commands

from bench.discord_bursts import burst, concurrent200, load_average, session_days
from bench.discord_proc import FakeProcess
from bot.client import CapbriefBot
from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.frames import normalize_bars
from bot.services import Services
from bot.settings import Settings
from bot.tree import send_reply
from bot.ui.embeds import status_embed
from tests.fakes.yahoo_api import FakeYahoo, isolate_yfinance

SYMBOLS = ("^RUT", "^GSPC", "IWM", "SPY")
PAIRS = 6


def _ms(values: list[float]) -> dict[str, float]:
    arr = np.array(values) * 1000.0
    return {"p50": round(float(np.percentile(arr, 50)), 2),
            "p99": round(float(np.percentile(arr, 99)), 2), "max": round(float(arr.max()), 2)}


def naive_png(bars: dict[str, pd.DataFrame], asof: Any = None) -> bytes:
    """What a first version would do: pyplot, on the event loop, every time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: TID251 - the naive baseline on purpose

    rut, spx = bars["^RUT"]["close"].dropna(), bars["^GSPC"]["close"].dropna()
    if asof is not None:
        rut, spx = rut.loc[:asof], spx.loc[:asof]
    rut, spx = rut.iloc[-252:], spx.iloc[-252:]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6.75), dpi=100)
    top.plot(rut.index, rut / rut.iloc[0] * 100, label="Russell 2000")
    top.plot(spx.index, spx / spx.iloc[0] * 100, label="S&P 500")
    top.legend()
    ratio = (rut / spx).dropna()
    bottom.plot(ratio.index, ratio, label="RUT/SPX")
    bottom.plot(ratio.index, ratio.rolling(50).mean(), label="50d")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


class NaiveStatus(commands.Cog):
    """The baselines: ``/naive-status asof`` (bars in memory, analysis and a pyplot chart inline,
    per request) and ``/naive-download`` (fetch from the fake Yahoo first, every time)."""

    def __init__(self, bot: CapbriefBot, yahoo: FakeYahoo,
                 bars: dict[str, pd.DataFrame]) -> None:
        self.bot = bot
        self.yahoo = yahoo
        self.bars = bars

    @app_commands.command(name="naive-status", description="Baseline /status (bench only)")
    async def naive_status(self, interaction: discord.Interaction, asof: str) -> None:
        from analytics.leadership import calc_leadership_snapshot

        await interaction.response.defer(thinking=True)
        day = date.fromisoformat(asof)
        lead = calc_leadership_snapshot(self.bars, day)
        png = naive_png(self.bars, pd.Timestamp(day))
        await send_reply(interaction, embed=status_embed(lead, source="csv", stale=False,
                                                         stale_reason=None), png=png)

    @app_commands.command(name="naive-download", description="Baseline with download")
    async def naive(self, interaction: discord.Interaction) -> None:
        import yfinance as yf

        from analytics.leadership import calc_leadership_snapshot

        await interaction.response.defer(thinking=True)
        raw = yf.download(list(SYMBOLS), start="1979-01-01", session=self.yahoo.session(),
                          auto_adjust=False, progress=False, group_by="ticker", threads=False)
        bars = {s: normalize_bars(raw[s]) for s in SYMBOLS}
        asof = bars["^GSPC"].index[-1].date()
        lead = calc_leadership_snapshot(bars, asof)
        png = naive_png(bars)
        await send_reply(interaction, embed=status_embed(lead, source="yahoo", stale=False,
                                                         stale_reason=None), png=png)

    @app_commands.command(name="ack-floor", description="Defer, then a one-line embed")
    async def ack_floor(self, interaction: discord.Interaction, asof: str = "") -> None:
        """The trivial command of the ack floor: the same interaction handling as /status
        (tree, cooldown check, deferral, one follow-up) with no data, analysis or chart."""
        await interaction.response.defer(thinking=True)
        await send_reply(interaction, embed=discord.Embed(title=f"floor {asof}"))


async def _reply(fake: FakeProcess, name: str, options: dict[str, Any] | None = None
                 ) -> tuple[float, float]:
    (reply,) = await fake.run([(name, options)])
    assert reply.files, reply
    return reply.ack_s, reply.reply_s


def _spread(ratios: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(ratios), 2), "min": round(min(ratios), 2),
            "max": round(max(ratios), 2), "pairs": len(ratios)}


async def _bench(data_dir: Path, workdir: Path) -> dict[str, Any]:
    settings = Settings(data={"provider": "csv", "csv_dir": data_dir},  # type: ignore[arg-type]
                        storage={"url": f"sqlite:///{workdir / 'bench_discord.sqlite3'}"})  # type: ignore[arg-type]
    csv = CsvDirProvider(data_dir)
    yahoo = FakeYahoo({s: csv.load(s) for s in SYMBOLS}).start()
    isolate_yfinance(workdir / "yfinance")
    fake = await FakeProcess().start()
    fake.install()
    services = Services.build(settings, data_dir)
    bot = CapbriefBot(settings, data_dir=data_dir, services=services, guild_ready_timeout=0.05)
    out: dict[str, Any] = {"uptime_load_at_start": load_average()}
    try:
        t0 = time.perf_counter()
        await bot.login("bench-token")
        out["startup_s"] = round(time.perf_counter() - t0, 3)
        # The naive baseline gets the very bars the bot reads (history extensions applied).
        bars = dict((await services.market.snapshot(list(SYMBOLS))).bars)
        await bot.add_cog(NaiveStatus(bot, yahoo, bars))
        task = asyncio.create_task(bot.connect())
        await fake.wait_ready()
        renderer = services.renderer
        await renderer.start()  # the warm-up begun at READY (not part of any figure)

        await _reply(fake, "status")  # first use of this data version (loads the CSVs)
        acks = []
        for _ in range(100):
            ack, _ = await _reply(fake, "status")
            acks.append(ack)
        out["ack_ms"] = _ms(acks)

        days = session_days(bars, 2 * PAIRS + 53, "1995-01-01", "2025-06-30")
        cold_days, naive_days = days[:PAIRS], days[PAIRS:2 * PAIRS]
        burst_days, dedup_day = days[2 * PAIRS:2 * PAIRS + 50], days[-1]
        await _reply(fake, "naive-status", {"asof": days[-2]})  # warm pyplot, as the pool is
        cold: list[float] = []
        naive: list[float] = []
        for i in range(PAIRS):
            bot_first = i % 2 == 0
            for is_bot in (bot_first, not bot_first):
                if is_bot:
                    cold.append((await _reply(fake, "status", {"asof": cold_days[i]}))[1])
                else:
                    naive.append((await _reply(fake, "naive-status", {"asof": naive_days[i]}))[1])
        out["reply_cold_ms"] = _ms(cold)
        out["naive_reply_ms"] = _ms(naive)
        out["cold_vs_naive"] = _spread([n / c for n, c in zip(naive, cold, strict=True)])

        warm = [(await _reply(fake, "status", {"window": "6m"}))[1] for _ in range(31)][1:]
        out["reply_warm_ms"] = _ms(warm)
        again = [(await _reply(fake, "naive-status", {"asof": naive_days[0]}))[1]
                 for _ in range(5)]
        out["warm_cache_gain_vs_naive_repeat"] = round(
            statistics.median(again) / statistics.median(warm), 1)

        before = renderer.renders
        total, lag = await burst(bot, fake, "status", [{"asof": d} for d in burst_days])
        out["burst50_distinct"] = {"total_ms": round(total * 1000, 1),
                                   "renders": renderer.renders - before,
                                   "loop_lag_p99_ms": round(lag * 1000, 2)}
        before = renderer.renders
        total, lag = await burst(bot, fake, "status", [{"asof": dedup_day}] * 50)
        out["burst50_dedup"] = {"total_ms": round(total * 1000, 1),
                                "renders": renderer.renders - before,
                                "loop_lag_p99_ms": round(lag * 1000, 2)}

        # Issue 12 item 4: 200 concurrent distinct requests (100 /status on distinct days, 100
        # /chart with distinct symbols and kinds) against the pool's measured capacity, with the
        # ack floor measured in the same run. See _concurrent200.
        out.update(await concurrent200(bot, fake, services, bars, set(days), dedup_day))
        ratio = out["cold_vs_naive"]["median"]
        share = out["concurrent200_distinct"]["share_of_capacity"]["median"]
        ack_p99 = out["concurrent200_distinct"]["ack_p99_ms"]["median"]
        lag_p99 = out["concurrent200_distinct"]["loop_lag_p99_ms"]["median"]

        download = [(await _reply(fake, "naive-download"))[1] for _ in range(3)]
        out["naive_with_download_reply_ms"] = _ms(download)
        out["targets"] = {
            "ack_p99": {"value": out["ack_ms"]["p99"], "target": "< 50 ms",
                        "ok": out["ack_ms"]["p99"] < 50},
            "reply_warm_p50": {"value": out["reply_warm_ms"]["p50"], "target": "<= 150 ms",
                               "ok": out["reply_warm_ms"]["p50"] <= 150},
            "cold_vs_naive_same_data": {"value": ratio, "target": ">= 1x (median of pairs)",
                                        "ok": ratio >= 1},
            "reply_cold_max": {"value": out["reply_cold_ms"]["max"], "target": "< 1000 ms",
                               "ok": out["reply_cold_ms"]["max"] < 1000},
            "burst50_distinct_renders": {"value": out["burst50_distinct"]["renders"],
                                         "target": "== 50", "ok":
                                         out["burst50_distinct"]["renders"] == 50},
            "burst50_dedup_renders": {"value": out["burst50_dedup"]["renders"],
                                      "target": "== 1",
                                      "ok": out["burst50_dedup"]["renders"] == 1},
            "concurrent200_share_of_pool_capacity": {
                "value": share, "target": ">= 0.8 (median of rounds)", "ok": share >= 0.8},
            "concurrent200_ack_p99_ms": {
                "value": ack_p99, "target": "< 500 ms (median of rounds)", "ok": ack_p99 < 500},
            "concurrent200_loop_lag_p99_ms": {
                "value": lag_p99, "target": "< 50 ms (median of rounds)", "ok": lag_p99 < 50},
        }
        await bot.close()
        await task
    finally:
        if not bot.is_closed():
            await bot.close()
        await fake.stop()
        yahoo.stop()
    return out


def run(ctx: Any) -> dict[str, Any]:
    if ctx.data_dir is None:
        return {"skipped": "no market data (../shared/data/market or CAPBRIEF_MARKET_DATA)"}
    return asyncio.run(_bench(Path(ctx.data_dir), Path(ctx.workdir)))
