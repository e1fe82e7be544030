"""Leadership chart: RUT and SPX price change since the window's first session (top), and the
RUT/SPX ratio with its 50- and 200-day averages, the trend regime shaded (bottom).

Units a reader can use: every line is a % change since the window's base session (the ratio's
+2.0% = small caps beat large caps by 2% since then; its averages on the same scale), never
the raw ratio (0.37). Shading is the 200-day trend regime with hysteresis
(:func:`analytics.trend_shading.to_display_states`: a change needs 5 sessions more than 1%
beyond the average; the latest run is the verdict's raw 200-day side, so the right edge agrees
with the title), computed over the sessions before the window too, so it exists from the first
day shown and does not flicker. The key lists only what is drawn: a regime appears in it only
when some of the window is shaded that way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import LeadershipInput
from analytics.charts.theme import Theme
from analytics.formats import pct
from analytics.trend_shading import LARGE, SMALL, to_display_states

SHADE_ALPHA = 0.16
LEFT_PX = 118  # room for a "+100%" tick label at 20 pt


def _pct(value: float) -> str:
    """A change since the window's start (a fraction) to 0.1%: the one rule of
    :func:`analytics.formats.pct` (never ``-0.0%``)."""
    return pct(value, 1)


def _pct_tick(value: float, _pos: object = None) -> str:
    if abs(value) < 1e-12:
        return "0%"
    step = abs(value) * 100
    digits = 0 if abs(step - round(step)) < 1e-6 else 1
    return f"{value:+.{digits}%}"


def _moving_average(values: np.ndarray, n: int) -> np.ndarray:
    """Trailing mean of the last ``n`` values; NaN for the first ``n - 1`` positions."""
    out = np.full(len(values), np.nan)
    if len(values) >= n:
        csum = np.cumsum(np.insert(values, 0, 0.0))
        out[n - 1:] = (csum[n:] - csum[:-n]) / n
    return out


def leadership_figure(data: LeadershipInput, theme: Theme) -> Figure:
    """The two-panel leadership figure; ChartInputError if the window has < 2 common sessions."""
    rut = cv.clean_series(data.rut, "Russell 2000")
    spx = cv.clean_series(data.spx, "S&P 500")
    common = rut.index.intersection(spx.index)
    r_all = rut.reindex(common).to_numpy()
    s_all = spx.reindex(common).to_numpy()
    ratio_all = r_all / s_all
    first = int(common.searchsorted(pd.Timestamp(data.start)))
    if len(common) - first < 2:
        raise ChartInputError(f"not enough sessions in the {data.window_label} window "
                              f"({max(len(common) - first, 0)}) to draw the leadership chart")
    x = cv.to_days(common[first:])
    base = ratio_all[first]
    slow_all = _moving_average(ratio_all, 200)
    states = to_display_states(ratio_all, slow_all)[first:]
    ratio = ratio_all[first:] / base - 1.0
    fast = _moving_average(ratio_all, 50)[first:] / base - 1.0
    slow = slow_all[first:] / base - 1.0
    change_rut = r_all[first:] / r_all[first] - 1.0
    change_spx = s_all[first:] / s_all[first] - 1.0

    with cv.styled(theme):
        fig = cv.new_figure(theme)
        r_last, s_last = float(change_rut[-1]), float(change_spx[-1])
        # The figures the text shows for this window (the lines drawn agree; tested).
        r_text = pct(data.rut_change, 1) if math.isfinite(data.rut_change) else _pct(r_last)
        s_text = pct(data.spx_change, 1) if math.isfinite(data.spx_change) else _pct(s_last)
        cv.add_header(fig, theme, data.title or "Russell 2000 vs S&P 500")
        top, bottom = cv.grid_axes(fig, 2, 1, top_px=104, bottom_px=84, left_px=LEFT_PX,
                                   height_ratios=(3, 2), hspace=0.36)
        top.axhline(0.0, color=theme.muted, linewidth=1.0, linestyle=(0, (4, 4)))
        h_spx, = top.plot(x, change_spx, color=theme.large_caps)
        h_rut, = top.plot(x, change_rut, color=theme.small_caps)
        cv.header_legend(top, [h_rut, h_spx],
                         [f"Russell 2000  {r_text}", f"S&P 500  {s_text}"])
        top.text(1.0, 1.0, f"{data.window_label}, price",
                 transform=top.transAxes, ha="right", va="bottom", fontsize=cv.NOTE_PT,
                 color=theme.muted)
        cv.y_ticks(top, 4)
        top.yaxis.set_major_formatter(FuncFormatter(_pct_tick))
        top.tick_params(labelbottom=False)

        colours = {SMALL: theme.small_caps, LARGE: theme.large_caps}
        cv.shade_runs(bottom, x, states, colours, SHADE_ALPHA)
        bottom.axhline(0.0, color=theme.muted, linewidth=1.0, linestyle=(0, (4, 4)))
        h_ratio, = bottom.plot(x, ratio, color=theme.text, linewidth=2.0)
        h_fast, = bottom.plot(x, fast, color=theme.accent, linewidth=1.8)
        h_slow, = bottom.plot(x, slow, color=theme.muted, linewidth=1.8,
                              linestyle=(0, (5, 3)))
        handles: list[Any] = [h_ratio, h_fast, h_slow]
        labels = ["RUT/SPX", "50-day", "200-day"]
        for state, word in ((SMALL, "small-cap trend"), (LARGE, "large-cap trend")):
            if (states == state).any():  # the key lists only regimes that are shaded
                handles.append(Patch(color=colours[state], alpha=0.45))
                labels.append(word)
        cv.header_legend(bottom, handles, labels)
        cv.y_ticks(bottom, 3)
        bottom.yaxis.set_major_formatter(FuncFormatter(_pct_tick))
        bottom.set_xlim(x[0], x[-1])
        cv.date_axis(bottom)
        cv.add_footnote(fig, theme, data.footnote)
    return fig
