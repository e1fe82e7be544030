"""Chart kinds by name: what the render service and the gallery call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from analytics.charts import canvas as cv
from analytics.charts.alerts import alerts_figure
from analytics.charts.analogs import analogs_figure
from analytics.charts.breakouts import breakouts_figure
from analytics.charts.custom import custom_figure
from analytics.charts.cycles import cycles_figure
from analytics.charts.drivers import drivers_figure
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import (
    AlertsInput,
    AnalogsInput,
    BreakoutsInput,
    CustomInput,
    CyclesInput,
    DriversInput,
    LeadershipInput,
    RecordsInput,
    TrackRecordInput,
)
from analytics.charts.leadership import leadership_figure
from analytics.charts.records import records_figure
from analytics.charts.theme import Theme
from analytics.charts.track_record import track_record_figure

FIGURES: dict[str, tuple[type, Callable[[Any, Theme], Figure]]] = {
    "leadership": (LeadershipInput, leadership_figure),
    "records": (RecordsInput, records_figure),
    "breakouts": (BreakoutsInput, breakouts_figure),
    "cycles": (CyclesInput, cycles_figure),
    "analogs": (AnalogsInput, analogs_figure),
    "drivers": (DriversInput, drivers_figure),
    "custom": (CustomInput, custom_figure),
    "alerts": (AlertsInput, alerts_figure),
    "track_record": (TrackRecordInput, track_record_figure),
}


def figure_for(kind: str, data: Any, theme: Theme) -> Figure:
    """The Figure of chart ``kind``; ChartInputError for an unknown kind or a wrong input type."""
    try:
        expected, fn = FIGURES[kind]
    except KeyError:
        raise ChartInputError(f"unknown chart kind {kind!r}") from None
    if not isinstance(data, expected):
        raise ChartInputError(f"chart {kind!r} needs a {expected.__name__}, "
                              f"not {type(data).__name__}")
    return fn(data, theme)


def render_png(kind: str, data: Any, theme: Theme | str = "dark") -> bytes:
    """PNG bytes of chart ``kind`` drawn from ``data`` in ``theme``."""
    return cv.render(lambda d, t: figure_for(kind, d, t), data, theme)
