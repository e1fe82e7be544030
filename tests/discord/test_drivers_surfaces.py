"""/drivers on every surface (text, JSON, embed): each relation shows its r, 95% interval and n;
the wording is what moved with small caps; the composite's forecast record is one line."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analytics.drivers import calc_drivers
from analytics.studies.drivers_forward import calc_drivers_forward, describe_record
from bot.ui.study_embeds import drivers_embed
from bot.ui.study_text import drivers_json, render_drivers_text

DAYS = pd.bdate_range("2017-01-02", "2024-06-28")
ASOF = date(2024, 6, 28)


def _bars(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"open": values, "high": values, "low": values, "close": values,
                         "adj_close": values, "volume": np.nan}, index=DAYS.rename("date"))


def _world() -> dict[str, pd.DataFrame]:
    """Small caps lag when the 10y rises; the 10y fell 40 bp over the last month; KRE tracks
    the Russell (a small-cap basket)."""
    rng = np.random.default_rng(7)
    n = len(DAYS)
    dy = rng.normal(0, 5, n)
    dy[-21:] = -40 / 21
    spx = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n)))
    rut = spx * np.exp(np.cumsum(-0.0004 * dy + rng.normal(0, 0.002, n)))
    return {"^RUT": _bars(rut), "^GSPC": _bars(spx), "^TNX": _bars(3 + np.cumsum(dy) / 100),
            "^VIX": _bars(15 + np.abs(rng.normal(0, 3, n))), "SPY": _bars(spx),
            "KRE": _bars(rut / 40 * np.exp(rng.normal(0, 0.002, n)))}


def test_text_json_and_embed_carry_n_r_interval_and_the_record_line() -> None:
    bars = _world()
    panel = calc_drivers(bars, ASOF)
    forward = calc_drivers_forward(bars, ASOF, start=date(2018, 1, 1))
    record = describe_record(forward)
    ten = next(r for r in panel.readings if r.key == "ten_year")
    rel = ten.relation
    assert rel is not None and ten.call == "tailwind"
    ci = f"{rel.low:+.2f} to {rel.high:+.2f}"

    text = render_drivers_text(panel, record=record)
    assert text.startswith("What moved with small caps against large caps — as of 2024-06-28")
    assert f"{record}." in text and "95% CI" in text.splitlines()[4]
    row = next(line for line in text.splitlines() if line.startswith("10-year yield"))
    assert f"{rel.corr:+.2f}" in row and ci in row and f" {rel.periods} " in row
    body = text.split("\nr: ")[0].lower()  # the closing disclaimer alone says "drives"
    assert "drives" not in body and "push" not in body
    kre = next(line for line in text.splitlines() if line.startswith("Regional banks"))
    assert "descriptive" in kre

    doc = json.loads(json.dumps(drivers_json(panel, forward=forward)))
    ten_json = next(r for r in doc["readings"] if r["key"] == "ten_year")["relation"]
    assert ten_json["periods"] == rel.periods and ten_json["corr"] == rel.corr
    assert (ten_json["low"], ten_json["high"], ten_json["reliable"]) == (rel.low, rel.high, True)
    assert doc["score"] == panel.tailwinds - panel.headwinds
    assert doc["forecast_record"]["line"] == record
    horizons = [row["horizon"] for row in doc["forecast_record"]["composite"]]
    assert horizons == [21, 63, -21]
    assert "regional_banks" in doc["descriptive"]

    embed = drivers_embed(panel, source="csv", stale=False, stale_reason=None, record=record)
    assert embed.title is not None and embed.title.startswith("What moved with small caps · ")
    assert embed.description is not None and record in embed.description
    field = next(f for f in embed.fields if f.name == "10-year yield")
    assert field.value is not None
    assert f"n={rel.periods}" in field.value and ci.replace("-", "−") in field.value
    assert "Moved against small caps: this move went with small-cap outperformance" in field.value
    vix = next(f for f in embed.fields if f.name == "Volatility (VIX)")
    assert vix.value is not None and "no reliable relation" in vix.value


async def test_cog_computes_the_record_in_the_background_once_per_data_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first /drivers of a data version does not wait for the record (it says it is being
    computed); a later one reads it, scored as of its own session; unloading stops a run."""
    import cogs.drivers as cog_module
    from bot.market_data.fred import FredReadings
    from bot.market_data.snapshot import MarketSnapshot
    from bot.services import AsyncMemo

    monkeypatch.setattr(cog_module, "RECORD_WAIT", 0.0)
    bars = _world()
    bot = SimpleNamespace(services=SimpleNamespace(memo=AsyncMemo()))
    cog = cog_module.Drivers(bot)  # type: ignore[arg-type]
    snap = MarketSnapshot(bars=bars, asof=ASOF, source="csv", version="v1")
    fred = FredReadings(series={}, source="none")
    assert await cog.record_line(snap, fred, ASOF) == cog_module.RECORD_PENDING
    assert cog._signals is not None
    await asyncio.wait_for(cog._signals[1], timeout=120)
    line = await cog.record_line(snap, fred, ASOF)
    expected = calc_drivers_forward(bars, ASOF, start=date(1990, 1, 1))
    assert line == describe_record(expected) and bot.services.memo.computed == 2
    earlier = date(2023, 6, 30)
    again = await cog.record_line(snap, fred, earlier)
    assert again == describe_record(calc_drivers_forward(bars, earlier))
    assert bot.services.memo.computed == 3  # the signals were reused, only re-scored

    await cog.cog_unload()
    newer = MarketSnapshot(bars=bars, asof=ASOF, source="csv", version="v2")
    assert await cog.record_line(newer, fred, ASOF) == cog_module.RECORD_PENDING
    task = cog._signals[1]
    with pytest.raises(cog_module.RecordStopped):
        await asyncio.wait_for(task, timeout=60)
    assert await cog.record_line(newer, fred, ASOF) == cog_module.RECORD_FAILED
