"""Cycles chart: the RUT/SPX ratio since 1979 on a log scale (equal heights = equal % moves),
with small-cap (out-performance) and large-cap (under-performance) regimes shaded. The ratio is
shown rebased to 100 at its first value ("1979 = 100"), a unit a reader can use: 150 = small
caps have beaten large caps by 50% since then; never the raw ratio (0.37).

Regimes of four years or more are labelled with the ratio's change over them; shorter ones are
only shaded, so labels never crowd.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from analytics.charts import canvas as cv
from analytics.charts.inputs import CyclesInput
from analytics.charts.theme import ANNOTATION_PT, Theme
from analytics.formats import pct

SHADE_ALPHA = 0.17
LABEL_MIN_YEARS = 4.0


def log_ticks(lo: float, hi: float) -> list[float]:
    """"Nice" log-axis ticks inside [lo, hi]: the first of the mantissa sets 1; 1-2-5; 1-2-3-5-7;
    1-1.5-2-2.5-3-4-5-6-8 (× 10^k) that gives at least 4 ticks (else the densest)."""
    ticks: list[float] = []
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 5, 7), (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)):
        ticks = [m * 10.0 ** k
                 for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
                 for m in mantissas if lo <= m * 10.0 ** k <= hi]
        if len(ticks) >= 4:
            break
    return ticks


def cycles_figure(data: CyclesInput, theme: Theme) -> Figure:
    """The cycles figure; ChartInputError for fewer than 2 ratio values."""
    ratio = cv.clean_series(data.ratio, "the RUT/SPX ratio")
    ratio = ratio[ratio > 0]
    x = cv.to_days(ratio.index)
    y = ratio.to_numpy() / float(ratio.iloc[0]) * 100.0  # % moves (labels, log scale) unchanged
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        first = ratio.index[0].year
        swing = f" · {data.swing:.0%} swings" if data.swing else ""
        cv.add_header(fig, theme, f"Small- vs large-cap cycles since {first}",
                      f"log scale{swing}")
        (ax,) = cv.grid_axes(fig, 1, 1, top_px=112, bottom_px=84)
        colours = {"small": theme.small_caps, "large": theme.large_caps}
        span = (float(y.min()), float(y.max()))
        bands = []
        for regime in data.regimes:
            a, b = cv.day_number(regime.start), cv.day_number(regime.end)
            bands.append((max(a, x[0]), min(b, x[-1]), colours[regime.side]))
            years = (regime.end - regime.start).days / 365.25
            if years >= LABEL_MIN_YEARS:
                i, j = np.clip(np.searchsorted(x, [a, b], side="right") - 1, 0, len(x) - 1)
                change = regime.change if regime.change is not None else float(y[j] / y[i] - 1)
                if regime.change is not None or j > i:
                    ax.text((a + b) / 2, 0.97, pct(change, 0), transform=ax.get_xaxis_transform(),
                            ha="center", va="top", fontsize=ANNOTATION_PT,
                            color=colours[regime.side], fontweight="bold")
        cv.spans(ax, bands, SHADE_ALPHA)
        h_ratio, = ax.plot(x, y, color=theme.text, linewidth=2.0)
        ax.set_yscale("log")
        ax.set_ylim(span[0] / 1.05, span[1] * 1.22)
        ax.yaxis.set_major_locator(FixedLocator(log_ticks(span[0] / 1.05, span[1] * 1.22)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlim(x[0], x[-1])
        cv.date_axis(ax, maxticks=10)
        cv.header_legend(ax, [h_ratio, Patch(color=theme.small_caps, alpha=0.5),
                              Patch(color=theme.large_caps, alpha=0.5)],
                         [f"RUT/SPX ({first} = 100)", "small caps lead",
                          "large caps lead"])
        cv.add_footnote(fig, theme, data.footnote)
    return fig
