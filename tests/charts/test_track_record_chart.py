"""The track-record chart: it quotes the text's figures (the same means and intervals, the same
finding per horizon), renders at 1200×675 in both themes, and refuses an input with no bar."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from analytics.charts import ChartInputError, render_png
from analytics.charts.build import from_track_record
from analytics.charts.inputs import TrackRecordInput
from analytics.formats import pct
from analytics.leadership import to_ratio
from analytics.studies.track_record import calc_track_record
from bot.market_data.service import build_market_data
from bot.settings import load_settings
from bot.ui.study_text import render_track_record_text
from tests.charts.conftest import FOOT, png_size


def test_a_chart_without_bars_is_refused() -> None:
    empty = TrackRecordInput(bars=(), findings=(), period="", today="unknown", footnote=FOOT)
    with pytest.raises(ChartInputError, match="no scored session"):
        render_png("track_record", empty)


@pytest.mark.shared_data
def test_real_chart_quotes_the_text(market_dir: Path) -> None:
    market = build_market_data(load_settings(), market_dir)
    bars = asyncio.run(market.snapshot(("^RUT", "^GSPC"))).bars
    asof = to_ratio(bars).index[-1].date()
    record = calc_track_record(bars, asof)
    chart = from_track_record(record, FOOT)
    text = render_track_record_text(record)
    assert chart.period == f"1990–{asof.year}" and chart.today == record.today
    for s in record.scores:
        shown = {b.group: b for b in chart.bars if b.horizon == s.horizon}
        assert shown["small"].mean == s.mean_small.value
        assert (shown["large"].low, shown["large"].high) == (s.mean_large.low, s.mean_large.high)
        assert shown["all"].mean == s.mean_all.value
        # the figure printed on the bar is the text's figure
        assert pct(shown["small"].mean, 2) in text
    for s, line in zip(record.scores, chart.findings, strict=True):
        assert pct(s.hit_rate.value, signed=False) in line and pct(s.no_skill, signed=False) in line
        assert ("no forecast value" in line) is (not s.forecast_value)
        assert not math.isnan(s.hit_rate.value)
    for theme in ("dark", "light"):
        assert png_size(render_png("track_record", chart, theme)) == (1200, 675)
