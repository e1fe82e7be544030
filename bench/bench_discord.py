"""The bot against the loopback fake Discord: ack and reply latency, a 50-request burst, and the
same /status done naively, side by side.

Setup: the real CapbriefBot (discord.py 2.7), CSV replay of the shared history, the render pool
at its configured size (2), the fake Discord in its own thread and event loop (so the bot's loop
lag is the bot's own; the two still share the GIL and 2 cores). Timings are the fake's
``perf_counter`` stamps: interaction sent → request received.

- ack: interaction → deferral (type 5), 100 sequential /status (warm caches), p50/p99;
- reply cold: 5 /status on days never asked before (analysis + chart input + one render in the
  warmed pool), p50/max; reply warm: the same /status 30 times (render + analysis cached), p50/p99;
- burst: 50 concurrent /status on a new day: total time, renders performed, loop lag p99
  (a 5 ms sleeper's overshoot);
- naive: ``/naive-status`` (bench-only cog): yfinance download of the 4 symbols from the fake
  Yahoo, leadership snapshot, and a pyplot chart rendered inline, per request, on the loop.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import discord
import numpy as np
import pandas as pd
from discord import app_commands
from discord.ext import commands

from bot.client import CapbriefBot
from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.frames import normalize_bars
from bot.services import Services
from bot.settings import Settings
from bot.tree import send_reply
from bot.ui.embeds import status_embed
from tests.fakes import discord_payloads as P
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.yahoo_api import FakeYahoo, isolate_yfinance

SYMBOLS = ("^RUT", "^GSPC", "IWM", "SPY")
COLD_DAYS = ("2019-06-03", "2021-02-01", "2022-10-03", "2023-07-03", "2024-12-02")


def _ms(values: list[float]) -> dict[str, float]:
    arr = np.array(values) * 1000.0
    return {"p50": round(float(np.percentile(arr, 50)), 2),
            "p99": round(float(np.percentile(arr, 99)), 2), "max": round(float(arr.max()), 2)}


def naive_png(bars: dict[str, pd.DataFrame]) -> bytes:
    """What a first version would do: pyplot, on the event loop, every time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: TID251 - the naive baseline on purpose

    rut, spx = bars["^RUT"]["close"].dropna(), bars["^GSPC"]["close"].dropna()
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
    """The baseline: fetch from (fake) Yahoo and draw with pyplot inline, per request."""

    def __init__(self, bot: CapbriefBot, yahoo: FakeYahoo) -> None:
        self.bot = bot
        self.yahoo = yahoo

    @app_commands.command(name="naive-status", description="Baseline /status (bench only)")
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


class FakeThread:
    """The fake Discord on its own loop in a thread; :meth:`call` runs one of its coroutines
    there and awaits the result from the bot's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeDiscord = self.run(FakeDiscord().start())

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def call(self, coro: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self) -> None:
        self.run(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def _lag_monitor(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.005)
        samples.append(max(0.0, time.perf_counter() - t0 - 0.005))


async def _reply(ft: FakeThread, name: str, options: dict[str, Any] | None = None
                 ) -> tuple[float, float]:
    ix = await ft.call(ft.fake.interact(name, options, user_id=P.snowflake()))
    callback = await ft.call(ix.callback(within=30))
    followup = await ft.call(ix.followup(within=120))
    assert followup.files, followup.json
    return callback.at - ix.sent_at, followup.at - ix.sent_at


async def _burst(ft: FakeThread, name: str, options: dict[str, Any] | None, n: int
                 ) -> tuple[float, float]:
    lags: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(_lag_monitor(lags, stop))
    t0 = time.perf_counter()
    handles = await asyncio.gather(*(ft.call(ft.fake.interact(name, options,
                                                               user_id=P.snowflake()))
                                     for _ in range(n)))
    followups = await asyncio.gather(*(ft.call(ix.followup(within=300)) for ix in handles))
    total = max(f.at for f in followups) - t0
    stop.set()
    await monitor
    return total, float(np.percentile(np.array(lags), 99)) if lags else 0.0


async def _bench(data_dir: Path, workdir: Path) -> dict[str, Any]:
    settings = Settings(data={"provider": "csv", "csv_dir": data_dir},  # type: ignore[arg-type]
                        storage={"url": f"sqlite:///{workdir / 'bench_discord.sqlite3'}"})  # type: ignore[arg-type]
    csv = CsvDirProvider(data_dir)
    yahoo = FakeYahoo({s: csv.load(s) for s in SYMBOLS}).start()
    isolate_yfinance(workdir / "yfinance")
    ft = FakeThread()
    ft.fake.install()
    services = Services.build(settings, data_dir)
    bot = CapbriefBot(settings, data_dir=data_dir, services=services, guild_ready_timeout=0.05)
    out: dict[str, Any] = {}
    try:
        t0 = time.perf_counter()
        await bot.login("bench-token")
        out["startup_s"] = round(time.perf_counter() - t0, 3)
        await bot.add_cog(NaiveStatus(bot, yahoo))
        task = asyncio.create_task(bot.connect())
        await ft.call(ft.fake.wait_ready(60))
        renderer = services.renderer

        await _reply(ft, "status")  # first use of this data version (warms caches)
        acks = []
        for _ in range(100):
            ack, _ = await _reply(ft, "status")
            acks.append(ack)
        out["ack_ms"] = _ms(acks)

        cold = [(await _reply(ft, "status", {"asof": day}))[1] for day in COLD_DAYS]
        out["reply_cold_ms"] = _ms(cold)
        warm = [(await _reply(ft, "status", {"window": "6m"}))[1] for _ in range(31)][1:]
        out["reply_warm_ms"] = _ms(warm)

        before = renderer.renders
        total, lag = await _burst(ft, "status", {"asof": "2018-03-01"}, 50)
        out["burst50"] = {"total_ms": round(total * 1000, 1), "renders": renderer.renders - before,
                          "loop_lag_p99_ms": round(lag * 1000, 2)}

        naive = [(await _reply(ft, "naive-status"))[1] for _ in range(4)]
        out["naive_reply_ms"] = _ms(naive)
        n_total, n_lag = await _burst(ft, "naive-status", None, 5)
        out["naive_burst5"] = {"total_ms": round(n_total * 1000, 1),
                               "loop_lag_p99_ms": round(n_lag * 1000, 2)}
        speedup = statistics.median(naive) / statistics.median(warm)
        out["warm_vs_naive_speedup"] = round(speedup, 1)
        out["targets"] = {
            "ack_p99": {"value": out["ack_ms"]["p99"], "target": "< 50 ms",
                        "ok": out["ack_ms"]["p99"] < 50},
            "reply_warm_p50": {"value": out["reply_warm_ms"]["p50"], "target": "<= 150 ms",
                               "ok": out["reply_warm_ms"]["p50"] <= 150},
            "warm_vs_naive": {"value": out["warm_vs_naive_speedup"], "target": ">= 10x",
                              "ok": speedup >= 10},
            "reply_cold_max": {"value": out["reply_cold_ms"]["max"], "target": "< 1000 ms",
                               "ok": out["reply_cold_ms"]["max"] < 1000},
            "burst50_renders": {"value": out["burst50"]["renders"], "target": "== 1",
                                "ok": out["burst50"]["renders"] == 1},
        }
        await bot.close()
        await task
    finally:
        if not bot.is_closed():
            await bot.close()
        ft.fake.uninstall()
        ft.stop()
        yahoo.stop()
    return out


def run(ctx: Any) -> dict[str, Any]:
    if ctx.data_dir is None:
        return {"skipped": "no market data (../shared/data/market or CAPBRIEF_MARKET_DATA)"}
    return asyncio.run(_bench(Path(ctx.data_dir), Path(ctx.workdir)))
