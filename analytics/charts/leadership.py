"""Leadership chart: RUT and SPX rebased to 100 over the window (top), and the RUT/SPX ratio
with its 50- and 200-day averages, the leadership regime shaded (bottom).

Shading is the trend regime of ``analytics.leadership``: the ratio above its 200-day average is a
small-cap trend, below it a large-cap trend (the averages use the sessions before the window
too, so they exist from the first day shown).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import LeadershipInput
from analytics.charts.theme import Theme
from analytics.formats import pct

SHADE_ALPHA = 0.16


def _pct(value: float) -> str:
    """A rebased level (100 = the window's start) as a change: the one rule of
    :func:`analytics.formats.pct` (never ``-0.0%``)."""
    return pct(value / 100.0 - 1.0, 1)


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
    ratio = ratio_all[first:]
    fast = _moving_average(ratio_all, 50)[first:]
    slow = _moving_average(ratio_all, 200)[first:]
    rebased_rut = r_all[first:] / r_all[first] * 100.0
    rebased_spx = s_all[first:] / s_all[first] * 100.0

    with cv.styled(theme):
        fig = cv.new_figure(theme)
        r_last, s_last = float(rebased_rut[-1]), float(rebased_spx[-1])
        # The figures the text shows for this window (the lines drawn agree; tested).
        r_text = pct(data.rut_change, 1) if math.isfinite(data.rut_change) else _pct(r_last)
        s_text = pct(data.spx_change, 1) if math.isfinite(data.spx_change) else _pct(s_last)
        cv.add_header(fig, theme, data.title or "Russell 2000 vs S&P 500")
        top, bottom = cv.grid_axes(fig, 2, 1, top_px=104, bottom_px=70,
                                   height_ratios=(3, 2), hspace=0.30)
        top.axhline(100.0, color=theme.muted, linewidth=1.0, linestyle=(0, (4, 4)))
        h_spx, = top.plot(x, rebased_spx, color=theme.large_caps)
        h_rut, = top.plot(x, rebased_rut, color=theme.small_caps)
        cv.header_legend(top, [h_rut, h_spx],
                         [f"Russell 2000  {r_text}", f"S&P 500  {s_text}"])
        top.text(1.0, 1.0, f"{data.window_label}, price",
                 transform=top.transAxes, ha="right", va="bottom", fontsize=cv.NOTE_PT + 2,
                 color=theme.muted)
        cv.y_ticks(top, 4)
        top.yaxis.set_major_formatter(cv.compact_formatter())
        top.tick_params(labelbottom=False)

        known = ~np.isnan(slow)
        states = np.where(known, np.where(ratio > slow, 1, -1), 0)
        cv.shade_runs(bottom, x, states, {1: theme.small_caps, -1: theme.large_caps},
                      SHADE_ALPHA)
        h_ratio, = bottom.plot(x, ratio, color=theme.text, linewidth=2.0)
        h_fast, = bottom.plot(x, fast, color=theme.accent, linewidth=1.8)
        h_slow, = bottom.plot(x, slow, color=theme.muted, linewidth=1.8,
                              linestyle=(0, (5, 3)))
        handles = [h_ratio, h_fast, h_slow,
                                 Patch(color=theme.small_caps, alpha=0.45),
                                 Patch(color=theme.large_caps, alpha=0.45)]
        labels = ["RUT/SPX", "50d avg", "200d avg", "above 200d", "below 200d"]
        cv.header_legend(bottom, handles, labels)
        cv.y_ticks(bottom, 3, ".3f")
        bottom.set_xlim(x[0], x[-1])
        cv.date_axis(bottom)
        cv.add_footnote(fig, theme, data.footnote)
    return fig
