"""No overlapping labels: every text and legend of every gallery chart (real history, both
replay days) and of the tiny inputs lies inside the canvas and overlaps no other text/legend;
and every text stays legible at Discord's preview width (font size ≥ 11 px at 500 px wide)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from analytics.charts import KINDS, canvas
from analytics.charts.registry import figure_for
from analytics.charts.theme import DARK, LIGHT, MIN_PREVIEW_PX, PREVIEW_WIDTH_PX
from bot.market_data.fred import read_fred_dir
from bot.market_data.service import build_market_data
from bot.settings import Settings
from bot.subcommands.charts import gallery_charts
from tests.charts.test_families import tiny_inputs


def label_boxes(fig: Figure) -> list[tuple[str, Bbox]]:
    """Window extents of the figure texts, axes titles/texts, tick labels and legends."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes: list[tuple[str, Bbox]] = []
    for text in fig.texts:
        if text.get_text():
            boxes.append((text.get_text(), text.get_window_extent(renderer)))
    for legend in fig.legends:
        boxes.append(("figure legend", legend.get_window_extent(renderer)))
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for title in (ax.title, ax._left_title, ax._right_title):  # type: ignore[attr-defined]
            if title.get_text():
                boxes.append((title.get_text(), title.get_window_extent(renderer)))
        for text in ax.texts:
            boxes.append((text.get_text(), text.get_window_extent(renderer)))
        for label in (ax.xaxis.label, ax.yaxis.label):
            if label.get_text():
                boxes.append((label.get_text(), label.get_window_extent(renderer)))
        drawn = ax.xaxis._update_ticks() + ax.yaxis._update_ticks()  # ticks inside the view
        for tick in drawn:
            if tick.get_visible() and tick.label1.get_visible() and tick.label1.get_text():
                boxes.append((f"tick {tick.label1.get_text()}",
                              tick.label1.get_window_extent(renderer)))
        if ax.get_legend() is not None:
            boxes.append(("legend", ax.get_legend().get_window_extent(renderer)))
    return boxes


def drawn_texts(fig: Figure) -> list[Text]:
    """Every visible, non-empty Text artist of the figure (figure texts, axes titles and texts,
    axis and tick labels, legend texts), after a draw (so tick labels exist)."""
    fig.canvas.draw()
    return [t for t in fig.findobj(Text)
            if isinstance(t, Text) and t.get_visible() and t.get_text().strip()]


def smallest_preview_px(fig: Figure) -> tuple[float, str]:
    """(font size in px of the smallest drawn text at Discord's preview width, that text)."""
    width = fig.canvas.get_width_height()[0]
    scale = PREVIEW_WIDTH_PX / width
    sizes = [(t.get_fontsize() * fig.dpi / 72.0 * scale, t.get_text()) for t in drawn_texts(fig)]
    assert sizes, "a chart without text"
    return min(sizes)


def assert_legible(fig: Figure, name: str) -> None:
    px, text = smallest_preview_px(fig)
    assert px >= MIN_PREVIEW_PX, (
        f"{name}: {text!r} is {px:.1f} px at {PREVIEW_WIDTH_PX} px wide "
        f"(< {MIN_PREVIEW_PX} px)")


def assert_clean(fig: Figure, name: str) -> None:
    assert_legible(fig, name)
    width, height = fig.canvas.get_width_height()
    boxes = label_boxes(fig)
    for label, box in boxes:
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, (
            f"{name}: {label!r} leaves the canvas ({box.bounds})")
    for i, (a_label, a) in enumerate(boxes):
        for b_label, b in boxes[i + 1:]:
            assert not a.overlaps(b), f"{name}: {a_label!r} overlaps {b_label!r}"


@pytest.mark.parametrize("kind", KINDS)
def test_tiny_charts_have_no_overlapping_labels(kind: str) -> None:
    with canvas.styled(LIGHT):
        assert_clean(figure_for(kind, tiny_inputs()[kind], LIGHT), kind)


@pytest.mark.shared_data
@pytest.mark.parametrize("asof", [date(2024, 12, 2), date(2025, 9, 18), date(2026, 8, 20)])
def test_gallery_charts_have_no_overlapping_labels(market_dir: Path, asof: date) -> None:
    market = asyncio.run(build_market_data(Settings(), market_dir).snapshot())
    fred: Any = read_fred_dir(market_dir / "fred")
    for chart in gallery_charts(market, asof, Settings(), fred):
        with canvas.styled(DARK):
            assert_clean(figure_for(chart.kind, chart.build(), DARK), chart.name)


def test_the_legibility_check_catches_small_text() -> None:
    """The floor check is live: a 14 pt footnote (≈ 8 px at 500 px wide) fails it."""
    with canvas.styled(LIGHT):
        fig = figure_for("custom", tiny_inputs()["custom"], LIGHT)
        assert smallest_preview_px(fig)[0] >= MIN_PREVIEW_PX
        fig.text(0.5, 0.02, "tiny footnote", fontsize=14)
        px, text = smallest_preview_px(fig)
    assert text == "tiny footnote" and px == pytest.approx(14 * 100 / 72 * 500 / 1200)
    with pytest.raises(AssertionError, match="tiny footnote"):
        assert_legible(fig, "custom")


@pytest.mark.parametrize("kind", KINDS)
def test_tiny_charts_are_legible_in_both_themes(kind: str) -> None:
    for theme in (DARK, LIGHT):
        with canvas.styled(theme):
            assert_legible(figure_for(kind, tiny_inputs()[kind], theme), f"{kind}/{theme.name}")
