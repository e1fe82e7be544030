"""Leadership and briefing timings on the real history (``make bench``; skipped without data).

- ``briefing_ms``: a full :class:`~analytics.briefing.Briefing` (leadership snapshot, records
  of both indices, breakouts analog) as of :data:`ASOF` over the whole history (^RUT from 1979,
  ^GSPC from 1927): target < 50 ms at p50 (p95 reported);
- ``briefing_with_drivers_ms``: the same plus computing the drivers panel it embeds (the bot
  computes the panel once per data version; reported for information);
- ``status_ms``: the /status leadership snapshot alone.
Bars are loaded once through ``build_market_data`` outside the timing; only pure analytics run.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from analytics.briefing import compose_briefing
from analytics.drivers import calc_drivers
from analytics.leadership import calc_leadership_snapshot
from bench.timing import times_ms
from bot.market_data.fred import read_fred_dir
from bot.market_data.service import build_market_data
from bot.settings import Settings

ASOF = date(2026, 8, 20)
TARGET_MS = 50.0


def run(ctx: Any) -> dict[str, Any]:
    if ctx.data_dir is None:
        return {"skipped": "no market data directory (set CAPBRIEF_MARKET_DATA)"}
    market = build_market_data(Settings(), ctx.data_dir)
    snap = asyncio.run(market.snapshot())
    bars = snap.bars
    fred_root = ctx.data_dir / "fred"
    fred = read_fred_dir(fred_root) if fred_root.is_dir() else None

    def with_drivers() -> object:
        return compose_briefing(bars, ASOF, drivers=calc_drivers(bars, ASOF, fred=fred))

    briefing = times_ms(lambda: compose_briefing(bars, ASOF), 100)
    status = times_ms(lambda: calc_leadership_snapshot(bars, ASOF), 100)
    full = times_ms(with_drivers, 10)
    return {
        "asof": ASOF.isoformat(),
        "rut_rows": len(bars["^RUT"]), "spx_rows": len(bars["^GSPC"]),
        "briefing_ms": briefing, "status_ms": status, "briefing_with_drivers_ms": full,
        "targets": {
            "briefing_p50_ms": {"value": briefing["p50"], "target": "< 50 ms",
                                "ok": briefing["p50"] < TARGET_MS},
        },
    }
