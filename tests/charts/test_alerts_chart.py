"""The alerts chart family: built from a real batch (records, level, ratio), through the
registry, no look-ahead in its input, and a clear error for an empty batch."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.alerts import AlertBatch, calc_alerts
from analytics.charts import KINDS, ChartInputError, Footnote, render_png
from analytics.charts.build import alerts_input
from analytics.charts.registry import figure_for
from analytics.charts.theme import get_theme
from analytics.series import to_price
from bot.market_data.csvdir import read_bar_csv


@pytest.fixture(scope="module")
def prices(market_dir: Path) -> tuple[pd.Series, pd.Series]:
    return (to_price(read_bar_csv(market_dir / "RUT_since1979.csv")),
            to_price(read_bar_csv(market_dir / "GSPC.csv")))


def test_a_breakout_batch_draws_the_level_the_record_and_the_mark(
        prices: tuple[pd.Series, pd.Series]) -> None:
    rut, spx = prices
    day = date(2025, 9, 18)
    batch = calc_alerts(rut, spx, day, inception=rut.index[0].date())
    data = alerts_input(batch, rut, spx, Footnote(day, source="csv"))
    assert "alerts" in KINDS
    assert data.levels == (2400.0,) and data.record_close == pytest.approx(2467.70, abs=0.01)
    assert data.prices.index[-1].date() == day and data.ratio.index[-1].date() == day
    assert len(data.ratio) > len(data.prices)          # warm-up for the 200-day average
    fig = figure_for("alerts", data, get_theme("dark"))
    texts = [t.get_text() for t in fig.texts]
    assert "3 alerts at the close of 2025-09-18" in texts
    assert render_png("alerts", data)[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_input_reads_nothing_after_the_session(prices: tuple[pd.Series, pd.Series]) -> None:
    rut, spx = prices
    day = date(2025, 9, 16)
    batch = calc_alerts(rut, spx, day, inception=rut.index[0].date())
    full = alerts_input(batch, rut, spx, Footnote(day))
    cut = alerts_input(batch, rut.loc[:pd.Timestamp(day)], spx.loc[:pd.Timestamp(day)],
                       Footnote(day))
    assert full.prices.equals(cut.prices) and full.ratio.equals(cut.ratio)
    assert [m.panel for m in full.marks] == ["ratio"]


def test_an_empty_batch_is_a_chart_input_error(prices: tuple[pd.Series, pd.Series]) -> None:
    rut, spx = prices
    with pytest.raises(ChartInputError, match="no alert fired"):
        alerts_input(AlertBatch(date(2025, 9, 17), ()), rut, spx, Footnote(None))
