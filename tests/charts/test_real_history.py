"""Every gallery chart (all families, every custom kind) from the real shared history, replayed
at a drought day (2024-12-02) and a breakout day (2025-09-18); skipped without the history."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from analytics.charts import render_png
from analytics.charts.registry import figure_for
from analytics.charts.theme import DARK, SIZE_PX
from bot.market_data.fred import read_fred_dir
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.subcommands.charts import gallery_charts
from tests.charts.conftest import png_size

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def market(market_dir: Path) -> MarketSnapshot:
    return asyncio.run(build_market_data(Settings(), market_dir).snapshot())


@pytest.fixture(scope="module")
def fred(market_dir: Path) -> object:
    return read_fred_dir(market_dir / "fred")


@pytest.mark.parametrize("asof", [date(2024, 12, 2), date(2025, 9, 18)])
def test_every_gallery_chart_renders_from_real_history(market: MarketSnapshot, fred: object,
                                                       asof: date) -> None:
    charts = gallery_charts(market, asof, Settings(), fred)  # type: ignore[arg-type]
    assert {c.kind for c in charts} == {"leadership", "records", "breakouts", "cycles",
                                        "analogs", "drivers", "custom", "track_record"}
    assert {c.params.get("kind") for c in charts if c.kind == "custom"} == {
        "price", "rebased", "ratio", "drawdown"}
    for chart in charts:
        png = render_png(chart.kind, chart.build())
        assert png_size(png) == SIZE_PX, chart.name


def test_real_records_and_breakouts_tell_the_story(market: MarketSnapshot, fred: object) -> None:
    """2024-12-02: RUT in a drought since its 2021-11-08 record; 2025-09-18: the first record
    since then, so the breakout chart has a live event on day 0."""
    by_name = {c.name: c for c in gallery_charts(market, date(2024, 12, 2), Settings(),
                                                 fred)}  # type: ignore[arg-type]
    records = by_name["records"].build()
    assert records.drought_start == date(2021, 11, 8) and records.days_since > 1000
    title = figure_for("records", records, DARK).texts[0].get_text()
    assert f"{records.days_since:,} days since its last record" in title
    later = {c.name: c for c in gallery_charts(market, date(2025, 9, 18), Settings(),
                                               fred)}  # type: ignore[arg-type]
    breakouts = later["breakouts"].build()
    live = [p for p in breakouts.paths if p.live]
    assert [p.event for p in live] == [date(2025, 9, 18)] and len(live[0].values) == 1
    cycles = later["cycles"].build()
    assert cycles.ratio.index[0].year == 1979
    ax = figure_for("cycles", cycles, DARK).axes[0]
    assert ax.get_yscale() == "log"
    long = [r for r in cycles.regimes if (r.end - r.start).days / 365.25 >= 4]
    assert long and long[0].start.year == 1979  # the first regime is labelled too
    assert [t.get_text() for t in ax.texts] == [f"{r.change:+.0%}" for r in long]
