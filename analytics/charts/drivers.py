"""Drivers chart: small multiples, one panel per driver (its last year), the line coloured by its
call: tailwind (green: its move went with small-cap outperformance over a reliable relation),
headwind (red: with underperformance) or neutral (grey: no reliable relation, a small move, or
descriptive). A call describes what moved together, not a cause or a forecast.

Grid: up to 3 panels in one row, up to 6 in two rows of 3, up to 8 in two rows of 4, up to 12
in three rows of 4. Each panel's title is the driver's name, its reading below it in the call's
colour; y ticks are few (2-3) so small panels stay readable at Discord's preview size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox, BboxTransform, TransformedBbox

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import DriversInput
from analytics.charts.legend import _text_width
from analytics.charts.theme import DPI, MIN_TEXT_PT, Theme

MAX_PANELS = 12
PANEL_TICK_PT = MIN_TEXT_PT
PANEL_NAME_PT = MIN_TEXT_PT
PANEL_LABEL_PT = MIN_TEXT_PT


def _fit(fig: Figure, text: str, width_px: float, *, bold: bool = False) -> str:
    """``text`` shortened with an ellipsis until it is at most ``width_px`` wide at the panel
    font (measured with the renderer's cached metrics, not counted in characters)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    prop = FontProperties(family="DejaVu Sans", size=PANEL_LABEL_PT,
                          weight="bold" if bold else "normal")
    if _text_width(renderer, text, prop) <= width_px:
        return text
    cut = len(text)
    while cut > 1:
        cut -= 1
        short = text[:cut].rstrip() + "…"
        if _text_width(renderer, short, prop) <= width_px:
            return short
    return "…"


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) for ``n`` panels."""
    if n <= 3:
        return 1, n
    if n <= 6:
        return 2, 3
    if n <= 8:
        return 2, 4
    return math.ceil(n / 4), 4


PT_PX = DPI / 72.0  # pixels per point
X_TICK_PX = 5.0 * PT_PX  # tick mark length (rc xtick.major.size)
X_LABEL_PX = (5.0 + 3.5) * PT_PX  # x tick label below the axes: tick size + pad
Y_LABEL_PX = 8.0 * PT_PX  # y tick label left of the axes: pad (rc ytick.major.pad)
TITLE_PAD_PX = 30.0 * PT_PX
# The reading sits this far above the panel, under the title. A fixed gap (what 3% of a panel's
# height gives in the default two-row grid): 3% of a one-row panel pushed it into the title.
GRID_TOP_PX, GRID_BOTTOM_PX, GRID_HSPACE = 178, 90, 0.62  # up to two rows (three: 170, 90, 0.8)
GRID_LEFT_PX = 96  # a 5-character y tick label ("0.225") at 20 pt and its pad
READING_PX = 0.03 * (cv.H_PX - GRID_TOP_PX - GRID_BOTTOM_PX) / (2 + GRID_HSPACE)  # 4.75 px


@dataclass(frozen=True)
class _Panel:
    """One panel's box in figure fractions, its y view and its y ticks."""

    left: float
    bottom: float
    right: float
    top: float
    y_lo: float
    y_hi: float
    y_ticks: list[float]

    def y(self, value: float) -> float:
        return self.bottom + (value - self.y_lo) / (self.y_hi - self.y_lo) * (self.top
                                                                               - self.bottom)


def _widen_flat(lo: float, hi: float, expander: float = 0.05) -> tuple[float, float]:
    """``(lo, hi)`` as matplotlib's autoscale widens a flat range: by ``expander`` × |value|
    each side (± ``expander`` around zero); non-finite limits give ``(-expander, expander)``."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return -expander, expander
    if hi - lo <= max(abs(lo), abs(hi)) * 1e-15:
        if lo == 0 and hi == 0:
            return -expander, expander
        return lo - expander * abs(lo), hi + expander * abs(hi)
    return lo, hi


def _y_view(values: np.ndarray) -> tuple[float, float]:
    """Matplotlib's autoscaled view of ``values``: a 5% margin each side (flat data widened)."""
    lo, hi = _widen_flat(float(values.min()), float(values.max()))
    margin = (hi - lo) * 0.05
    return lo - margin, hi + margin


def _lines(fig: Figure, segments: list[tuple[float, float, float, float]], **style: Any
           ) -> None:
    """Straight segments (figure fractions) as ONE line broken by NaNs (snapped to pixels)."""
    xs: list[float] = []
    ys: list[float] = []
    for x0, y0, x1, y1 in segments:
        xs += [x0, x1, math.nan]
        ys += [y0, y1, math.nan]
    fig.add_artist(Line2D(xs, ys, transform=fig.transFigure, **style))


def drivers_figure(data: DriversInput, theme: Theme) -> Figure:
    """The drivers figure; ChartInputError for no panels, too many, or a panel without data.

    The panels are drawn as plain figure artists (line, grid, spines, tick marks and labels at
    computed positions) rather than six Axes: an Axes with its two Axis objects and their
    Tick artists costs ~15 ms to build and draw, the rest of the chart a few ms. Ticks are the
    ones the house Axes would choose: the date locator/formatter of :func:`cv.date_axis`
    (shared dates, in-view ticks, edge-safe labels), 2-3 round y ticks of the autoscaled view.
    """
    if not data.panels:
        raise ChartInputError("no drivers to chart")
    if len(data.panels) > MAX_PANELS:
        raise ChartInputError(f"at most {MAX_PANELS} drivers fit one chart")
    series = [cv.clean_series(p.values, p.name) for p in data.panels]
    rows, cols = grid_shape(len(data.panels))
    n = len(data.panels)
    fig = cv.new_figure(theme)
    calls = [p.call for p in data.panels]
    tail, head = calls.count("tailwind"), calls.count("headwind")
    tally = (f"{tail} tailwind{'s' if tail != 1 else ''} · "
             f"{head} headwind{'s' if head != 1 else ''}")
    cv.add_header(fig, theme, "What moved with small caps", data.summary or tally)
    grid = GridSpec(rows, cols, left=cv.px_x(GRID_LEFT_PX), right=1 - cv.px_x(24),
                    top=1 - cv.px_y(GRID_TOP_PX if rows < 3 else 170),
                    bottom=cv.px_y(GRID_BOTTOM_PX), hspace=GRID_HSPACE if rows < 3 else 0.8,
                    wspace=0.32)
    bottoms, tops, lefts, rights = grid.get_grid_positions(fig)
    days = [cv.to_days(v.index) for v in series]
    first = min(float(d[0]) for d in days)
    last = max(float(d[-1]) for d in days)
    width_px = (rights[0] - lefts[0]) * cv.W_PX
    # A panel's name and reading may run into the gap before the next panel's y labels.
    room = width_px + (lefts[1] - rights[0]) * cv.W_PX * 0.5 if cols > 1 else width_px
    room = min(room, cv.W_PX - 8 - lefts[-1] * cv.W_PX)  # the last column ends at the edge
    locator, formatter = cv.date_locator(maxticks=4)
    locator.create_dummy_axis()  # the locator reads its view from an axis
    assert locator.axis is not None
    locator.axis.set_view_interval(first, last)
    x_ticks = cv.in_view(locator(), first, last)
    x_labels = cv.blank_edge_labels(x_ticks, list(formatter.format_ticks(x_ticks)), first,
                                    last, width_px)
    y_locator = MaxNLocator(nbins=2, min_n_ticks=2, steps=[1, 2, 2.5, 5, 10])
    y_format = cv.compact_formatter()
    grid_lines: list[tuple[float, float, float, float]] = []
    spines: list[tuple[float, float, float, float]] = []
    marks: list[tuple[float, float, float, float]] = []
    tick_down = cv.px_y(X_TICK_PX)
    for i, (panel, values, x) in enumerate(zip(data.panels, series, days, strict=True)):
        r, c = divmod(i, cols)
        y = values.to_numpy()
        y_lo, y_hi = _y_view(y)
        box = _Panel(lefts[c], bottoms[r], rights[c], tops[r], y_lo, y_hi,
                     cv.in_view(y_locator.tick_values(y_lo, y_hi), y_lo, y_hi))
        colour = theme.call_colour(panel.call)
        if theme.panel != theme.background:  # the Axes' face (both house themes: none)
            fig.add_artist(Rectangle((box.left, box.bottom), box.right - box.left,
                                     box.top - box.bottom, facecolor=theme.panel,
                                     linewidth=0, zorder=0.1, transform=fig.transFigure))
        xs = [box.left + (t - first) / (last - first) * (box.right - box.left)
              for t in x_ticks]
        grid_lines += [(v, box.bottom, v, box.top) for v in xs]
        grid_lines += [(box.left, box.y(t), box.right, box.y(t)) for t in box.y_ticks]
        marks += [(v, box.bottom, v, box.bottom - tick_down) for v in xs]
        spines += [(box.left, box.bottom, box.left, box.top),
                   (box.left, box.bottom, box.right, box.bottom)]
        # Sparse (monthly/quarterly) data holds its value until the next release: steps.
        line = Line2D(x, y, color=colour, linewidth=2.2, zorder=2,
                      drawstyle="steps-post" if len(values) < 60 else "default",
                      transform=BboxTransform(Bbox.from_extents(first, y_lo, last, y_hi),
                                              Bbox.from_extents(box.left, box.bottom,
                                                                box.right, box.top))
                      + fig.transFigure)
        line.set_clip_box(TransformedBbox(Bbox.from_extents(box.left, box.bottom, box.right,
                                                            box.top), fig.transFigure))
        fig.add_artist(line)
        fig.text(box.left, box.top + cv.px_y(TITLE_PAD_PX), _fit(fig, panel.name, room, bold=True),
                 fontsize=PANEL_NAME_PT, fontweight="bold", color=theme.text, ha="left",
                 va="baseline")
        fig.text(box.left, box.top + cv.px_y(READING_PX), _fit(fig, panel.label, room),
                 ha="left", va="bottom", fontsize=PANEL_LABEL_PT, color=colour)
        for t in box.y_ticks:
            fig.text(box.left - cv.px_x(Y_LABEL_PX), box.y(t), y_format(t), ha="right",
                     va="center_baseline", fontsize=PANEL_TICK_PT, color=theme.text)
        if i + cols >= n:  # no panel below: this one shows the (shared) dates
            for v, label in zip(xs, x_labels, strict=True):
                if label:
                    fig.text(v, box.bottom - cv.px_y(X_LABEL_PX), label, ha="center",
                             va="top", fontsize=PANEL_TICK_PT, color=theme.text)
    # Below the lines (rc axes.axisbelow): grid and tick marks; above them: the spines.
    _lines(fig, grid_lines, color=theme.grid, linewidth=0.8, zorder=0.5)
    _lines(fig, marks, color=theme.muted, linewidth=0.8, zorder=0.5, solid_capstyle="butt")
    _lines(fig, spines, color=theme.grid, linewidth=1.0, zorder=2.5,
           solid_capstyle="projecting")
    key = [(call, label) for call, label in (("tailwind", "tailwind for small caps"),
                                             ("headwind", "headwind"), ("neutral", "neutral"))
           if call in calls]  # the key lists only the calls some panel is drawn with
    cv.key_row(fig, 14, cv.H_PX - 98, [Patch(color=theme.call_colour(c)) for c, _ in key],
               [label for _, label in key], fontsize=cv.NOTE_PT + 1)
    cv.add_footnote(fig, theme, data.footnote)
    return fig
