"""Studies and drivers timings on the real history (``make bench``; skipped without data).

- breakouts over 47 years (^RUT from 1979, ^GSPC): target < 10 ms at p50 (p95 reported);
- the drivers panel (13 readings, weekly relations over 156 weeks, FRED economy when present);
- droughts, cycles and rate days, for information.
Inputs are loaded once through ``build_market_data``; only the pure analytics are timed.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from analytics.drivers import calc_drivers
from analytics.series import to_price
from analytics.studies.breakouts import calc_breakout_study
from analytics.studies.cycles import calc_cycles
from analytics.studies.droughts import calc_droughts
from analytics.studies.rates import calc_rate_study
from bench.timing import times_ms
from bot.market_data.fred import read_fred_dir
from bot.market_data.service import build_market_data
from bot.settings import Settings

ASOF = date(2026, 8, 20)


def run(ctx: Any) -> dict[str, Any]:
    if ctx.data_dir is None:
        return {"skipped": "no market data directory (set CAPBRIEF_MARKET_DATA)"}
    md = build_market_data(Settings(), ctx.data_dir)
    snap = asyncio.run(md.snapshot())
    rut, spx, tnx = (to_price(snap.frame(s)) for s in ("^RUT", "^GSPC", "^TNX"))
    fred_root = ctx.data_dir / "fred"
    fred = read_fred_dir(fred_root) if fred_root.is_dir() else None
    years = round((rut.index[-1] - rut.index[0]).days / 365.25, 1)

    breakouts = times_ms(lambda: calc_breakout_study(rut, spx, ASOF), 200)
    drivers = times_ms(lambda: calc_drivers(snap.bars, ASOF, fred=fred), 20)
    droughts = times_ms(lambda: calc_droughts(rut, ASOF), 20)
    cycles = times_ms(lambda: calc_cycles(rut, spx, ASOF), 20)
    rates = times_ms(lambda: calc_rate_study(rut, spx, tnx, ASOF), 50)
    return {
        "history_years": years, "rut_rows": len(rut),
        "breakouts_ms": breakouts, "drivers_panel_ms": drivers, "droughts_ms": droughts,
        "cycles_ms": cycles, "rates_ms": rates, "fred": fred is not None,
        "targets": {
            "breakouts_47y_p50": {"value": breakouts["p50"], "target": "< 10 ms",
                                  "ok": breakouts["p50"] < 10},
            "drivers_panel_p50": {"value": drivers["p50"], "target": "< 300 ms",
                                  "ok": drivers["p50"] < 300},
        },
    }
