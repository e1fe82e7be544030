"""The breakouts chart quotes the study's statistics (mean, median, hit rate, as the text does),
labels every past path with its year, and can draw the Russell 2000's own paths."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from analytics.charts import build as cb
from analytics.charts import canvas
from analytics.charts.breakouts import breakouts_figure, calc_path_stats, spread_labels
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import BreakoutPath, BreakoutsInput
from analytics.charts.theme import DARK, LIGHT
from analytics.series import to_price
from analytics.studies.breakouts import calc_breakout_study
from bot.market_data.inception import inception_of
from bot.market_data.service import build_market_data
from bot.settings import Settings
from bot.ui.study_text import render_breakouts_text
from tests.charts.conftest import FOOT, walk

ASOF = date(2024, 6, 28)


def _texts(fig: Figure) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in fig.texts]


def _tiny(index: str = "spx") -> BreakoutsInput:
    spx, rut = walk(1500, 4000.0, seed=4), walk(1500, 1800.0, seed=5)
    events = [spx.index[i].date() for i in (100, 400, 700, 1000, 1490)]
    return cb.breakouts_input(spx, events, ASOF, FOOT, horizon=63, rut=rut, index=index)


def test_path_stats_are_the_final_returns() -> None:
    paths = [BreakoutPath(date(2000 + i, 1, 3), np.array([100.0, 90.0, 100.0 + v]))
             for i, v in enumerate((10.0, -5.0, 20.0, 2.0))]
    stats = calc_path_stats([*paths, BreakoutPath(date(2024, 1, 2), np.array([100.0]), live=True)],
                            horizon=2)
    assert stats is not None
    assert (stats.count, stats.hits) == (4, 3)
    assert stats.mean == pytest.approx(0.0675) and stats.median == pytest.approx(0.06)
    assert (stats.first_year, stats.last_year) == (2000, 2003)


def test_every_completed_path_is_labelled_with_its_year() -> None:
    data = _tiny()
    with canvas.styled(LIGHT):
        texts = _texts(breakouts_figure(data, LIGHT))
    done = [p for p in data.paths if not p.live]
    assert len(done) == 4
    for path in done:
        assert str(path.event.year) in texts
    key = next(t for t in texts if "past events" in t)
    stats = calc_path_stats(data.paths, data.horizon)
    assert stats is not None
    assert f"{stats.hits} of {stats.count} higher" in key
    assert f"median {stats.median:+.1%}" in texts and f"mean {stats.mean:+.1%}" in texts


def test_both_panels_and_the_russell_alone() -> None:
    both = _tiny("both")
    with canvas.styled(DARK):
        fig = breakouts_figure(both, DARK)
        texts = _texts(fig)
    assert len(fig.axes) == 2
    rut = calc_path_stats(both.rut_paths, both.horizon)
    assert rut is not None
    assert f"Russell 2000: {rut.hits} of {rut.count} higher" in texts
    assert f"median {rut.median:+.1%}" in texts
    with canvas.styled(DARK):
        alone = _texts(breakouts_figure(_tiny("rut"), DARK))
    assert any(t.startswith("Russell 2000 after") for t in alone)
    with pytest.raises(ChartInputError, match="need its prices"):
        cb.breakouts_input(walk(300), [walk(300).index[10].date()], ASOF, FOOT, horizon=20,
                           index="both")
    with pytest.raises(ChartInputError, match="unknown breakouts index"):
        cb.breakouts_input(walk(300), [walk(300).index[10].date()], ASOF, FOOT, index="ndx")


def test_labels_are_spread_apart_inside_the_bounds() -> None:
    wishes = [100.0, 101.0, 102.0, 300.0, 299.0]
    placed = spread_labels(wishes, 30.0, 90.0, 310.0)
    ordered = sorted(placed)
    assert all(b - a >= 30.0 - 1e-9 for a, b in pairwise(ordered))
    assert min(placed) >= 90.0 and max(placed) <= 310.0
    assert placed[0] < placed[1] < placed[2] and placed[4] < placed[3]  # order kept


@pytest.mark.shared_data
def test_chart_and_text_quote_the_same_statistics(market_dir: Path) -> None:
    """2025-09-18 and 2026-08-20: the text's 1Y Higher/Mean/Median rows for both indices are
    the figures in the chart's key (the issue: chart median +16.2%, text mean +12.8%)."""
    market = asyncio.run(build_market_data(Settings(), market_dir).snapshot(["^RUT", "^GSPC"]))
    rut, spx = to_price(market.bars["^RUT"]), to_price(market.bars["^GSPC"])
    for asof in (date(2025, 9, 18), date(2026, 8, 20)):
        study = calc_breakout_study(rut, spx, asof, inception=inception_of("^RUT"))
        text = render_breakouts_text(study)
        data = cb.from_breakout_study(study, spx, FOOT, rut=rut, index="both")
        with canvas.styled(DARK):
            chart = " | ".join(_texts(breakouts_figure(data, DARK)))
        blocks = text.split("Russell 2000 price return after the same events")
        for name, block in (("S&P 500", blocks[0]), ("Russell 2000", blocks[1])):
            higher = re.search(r"Higher .* (\d+)/(\d+)\n", block)
            mean = re.search(r"Mean .* ([+-]\d+\.\d%)\n", block)
            median = re.search(r"Median .* ([+-]\d+\.\d%)\n", block)
            assert higher and mean and median
            assert f"{name}: {higher[1]} of {higher[2]} higher" in chart
            panel = chart.split(f"{name}: ")[1]
            assert f"median {median[1]}" in panel and f"mean {mean[1]}" in panel
        if asof == date(2025, 9, 18):
            assert "median +16.2%" in chart and "mean +12.8%" in chart
        for event in study.complete_events:
            assert str(event.date.year) in chart
