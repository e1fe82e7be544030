"""The drivers chart's key lists only the calls some panel is drawn with."""

from __future__ import annotations

from analytics.charts import canvas
from analytics.charts.drivers import drivers_figure
from analytics.charts.inputs import Call, DriverPanel, DriversInput
from analytics.charts.theme import DARK
from tests.charts.conftest import FOOT, walk


def test_drivers_key_lists_only_the_calls_drawn() -> None:
    calls: tuple[Call, ...] = ("tailwind", "headwind", "tailwind")
    panels = tuple(DriverPanel(name=f"d{i}", values=walk(250, 4.0, seed=10 + i), call=call,
                               label="x") for i, call in enumerate(calls))
    with canvas.styled(DARK):
        fig = drivers_figure(DriversInput(panels=panels, footnote=FOOT), DARK)
        fig.canvas.draw()
    texts = [t.get_text() for t in fig.texts]
    assert "tailwind for small caps" in texts and "headwind" in texts
    assert "neutral" not in texts
    with canvas.styled(DARK):
        only = drivers_figure(DriversInput(panels=panels[1:2], footnote=FOOT), DARK)
    assert [t.get_text() for t in only.texts].count("tailwind for small caps") == 0
