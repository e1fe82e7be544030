"""The leadership chart's bottom panel: the key lists only what is drawn, the ratio is a % change
since the window's start, and the regime shading does not flicker on a 1-month window."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from analytics.charts import build as cb
from analytics.charts import canvas
from analytics.charts.leadership import leadership_figure
from analytics.charts.theme import DARK, LIGHT
from analytics.series import to_price
from bot.market_data.service import build_market_data
from bot.settings import Settings
from tests.charts.conftest import FOOT, walk

ASOF = date(2024, 6, 28)


def _figure(rut: pd.Series, spx: pd.Series, window: str, asof: date = ASOF) -> Figure:
    with canvas.styled(LIGHT):
        fig = leadership_figure(cb.leadership_input(rut, spx, window, asof, FOOT), LIGHT)
        fig.canvas.draw()
    return fig


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.texts]


def _bands(fig: Figure) -> list[tuple[float, float, float]]:
    """Colours (rgb) of the shaded bands of the bottom panel, left to right."""
    bottom = fig.axes[1]
    polys = [c for c in bottom.collections if isinstance(c, PolyCollection)]
    if not polys:
        return []
    return [tuple(round(v, 3) for v in rgba[:3]) for rgba in polys[0].get_facecolors()]


def test_key_lists_only_the_regimes_drawn() -> None:
    spx = walk(400, 5000.0, seed=2)
    steady = pd.Series(np.linspace(0.0, 0.6, 400), index=spx.index)  # RUT/SPX rising all along
    rut = spx * 0.4 * np.exp(steady)
    fig = _figure(rut, spx, "6m")
    small = tuple(round(v, 3) for v in to_rgb(LIGHT.small_caps))
    assert _bands(fig) and set(_bands(fig)) == {small}
    assert "small-cap trend" in _texts(fig) and "large-cap trend" not in _texts(fig)
    falling = spx * 0.4 * np.exp(-steady)
    fig = _figure(falling, spx, "6m")
    assert "large-cap trend" in _texts(fig) and "small-cap trend" not in _texts(fig)


def test_key_entries_are_drawn_artists() -> None:
    fig = _figure(walk(400, 2000.0, seed=1), walk(400, 5000.0, seed=2), "1y")
    drawn = set(_bands(fig))
    colours = {"small-cap trend": LIGHT.small_caps, "large-cap trend": LIGHT.large_caps}
    for label, colour in colours.items():
        shown = tuple(round(v, 3) for v in to_rgb(colour)) in drawn
        assert (label in _texts(fig)) == shown, label


def test_ratio_is_a_percent_change_since_the_window_start() -> None:
    rut, spx = walk(400, 2000.0, seed=1), walk(400, 5000.0, seed=2)
    data = cb.leadership_input(rut, spx, "6m", ASOF, FOOT)
    fig = _figure(rut, spx, "6m")
    ratio_line = fig.axes[1].lines[1]  # after the zero line
    y = np.asarray(ratio_line.get_ydata(), dtype=float)
    start = pd.Timestamp(data.start)
    expected = (rut / spx).loc[start:]
    expected = expected / expected.iloc[0] - 1.0
    assert y[0] == 0.0 and y[-1] == pytest.approx(expected.iloc[-1])
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels() if t.get_text()]
    assert labels and all(label.endswith("%") for label in labels)


@pytest.mark.shared_data
def test_one_month_chart_of_2025_09_18_does_not_flicker(market_dir: Path) -> None:
    """Raw above/below-200d shading flips 7 times in the 21 sessions to 2025-09-18."""
    market = asyncio.run(build_market_data(Settings(), market_dir).snapshot(["^RUT", "^GSPC"]))
    rut, spx = to_price(market.bars["^RUT"]), to_price(market.bars["^GSPC"])
    for theme in (DARK, LIGHT):
        with canvas.styled(theme):
            fig = leadership_figure(cb.leadership_input(rut, spx, "1m", date(2025, 9, 18),
                                                        FOOT), theme)
        bands = _bands(fig)
        assert 1 <= len(bands) <= 3  # at most 2 changes of regime in the window

