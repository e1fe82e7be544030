"""Drivers chart: small multiples, one panel per driver (its last year), the line coloured by its
call for small caps: tailwind (green), headwind (red) or neutral (grey).

Grid: up to 3 panels in one row, up to 6 in two rows of 3, up to 8 in two rows of 4, up to 12
in three rows of 4. Each panel's title is the driver's name, its reading below it in the call's
colour; y ticks are few (3) so small panels stay readable.
"""

from __future__ import annotations

import math

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import DriversInput
from analytics.charts.theme import Theme

MAX_PANELS = 12
PANEL_TICK_PT = 17.0
PANEL_NAME_PT = 19.0
PANEL_LABEL_PT = 17.0


def _fit(text: str, cols: int) -> str:
    """``text`` shortened with an ellipsis to what a panel of a ``cols``-wide grid can hold."""
    room = {1: 60, 2: 44, 3: 24, 4: 17}.get(cols, 17)
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) for ``n`` panels."""
    if n <= 3:
        return 1, n
    if n <= 6:
        return 2, 3
    if n <= 8:
        return 2, 4
    return math.ceil(n / 4), 4


def drivers_figure(data: DriversInput, theme: Theme) -> Figure:
    """The drivers figure; ChartInputError for no panels, too many, or a panel without data."""
    if not data.panels:
        raise ChartInputError("no drivers to chart")
    if len(data.panels) > MAX_PANELS:
        raise ChartInputError(f"at most {MAX_PANELS} drivers fit one chart")
    series = [cv.clean_series(p.values, p.name) for p in data.panels]
    rows, cols = grid_shape(len(data.panels))
    panel_rc = {"xtick.labelsize": PANEL_TICK_PT, "ytick.labelsize": PANEL_TICK_PT}
    with cv.styled(theme), mpl.rc_context(panel_rc):  # type: ignore[arg-type]
        fig = cv.new_figure(theme)
        calls = [p.call for p in data.panels]
        tail, head = calls.count("tailwind"), calls.count("headwind")
        tally = (f"{tail} tailwind{'s' if tail != 1 else ''} · "
                 f"{head} headwind{'s' if head != 1 else ''}")
        cv.add_header(fig, theme, "What drives small caps now", data.summary or tally)
        axes = cv.grid_axes(fig, rows, cols, top_px=178 if rows < 3 else 170, bottom_px=82,
                            left_px=78, right_px=24, hspace=0.62 if rows < 3 else 0.8,
                            wspace=0.32, sharex=True)
        n = len(data.panels)
        for i, (ax, panel, values) in enumerate(zip(axes, data.panels, series, strict=False)):
            colour = theme.call_colour(panel.call)
            x = cv.to_days(values.index)
            # Sparse (monthly/quarterly) data holds its value until the next release: steps.
            ax.plot(x, values.to_numpy(), color=colour, linewidth=2.2,
                    drawstyle="steps-post" if len(values) < 60 else "default")
            # y given: a fixed title position (auto placement re-measures all tick labels)
            ax.set_title(_fit(panel.name, cols), fontsize=PANEL_NAME_PT, fontweight="bold",
                         pad=30, loc="left", color=theme.text, y=1.0)
            ax.text(0.0, 1.03, _fit(panel.label, cols), transform=ax.transAxes, ha="left",
                    va="bottom", fontsize=PANEL_LABEL_PT, color=colour)
            cv.y_ticks(ax, 3)
            ax.yaxis.set_major_formatter(cv.compact_formatter())
            if i + cols < n:  # a panel below shows the (shared) dates
                ax.tick_params(labelbottom=False)
        first = min(float(cv.to_days(v.index)[0]) for v in series)
        last = max(float(cv.to_days(v.index)[-1]) for v in series)
        axes[0].set_xlim(first, last)
        cv.date_axis(axes[0], maxticks=4)
        for ax in axes[n:]:
            ax.set_visible(False)
        cv.key_row(fig, 14, cv.H_PX - 98, [Patch(color=theme.tailwind),
                                             Patch(color=theme.headwind),
                                             Patch(color=theme.neutral)],
                   ["tailwind for small caps", "headwind", "neutral"], fontsize=cv.NOTE_PT + 1)
        cv.add_footnote(fig, theme, data.footnote)
    return fig


def drivers_chart(data: DriversInput, theme: Theme | str = "dark") -> bytes:
    """PNG bytes of :func:`drivers_figure`."""
    return cv.render(drivers_figure, data, theme)
