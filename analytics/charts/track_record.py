"""Track-record chart: does capbrief's call forecast RUT/SPX? For each horizon (21 and 63
sessions ahead), the mean RUT/SPX relative price return after "small caps lead" calls, after
"large caps lead" calls and on every day since 1990, each with its 95% interval (Newey–West, the
text's figures). A call with forecast value puts the small bar above the large one with
intervals apart; overlapping whiskers around the every-day bar say it has none. The finding per
horizon (hit rate vs chance) is written under the title.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import TrackRecordInput
from analytics.charts.theme import ANNOTATION_PT, Theme
from analytics.formats import pct

GROUPS = ("small", "large", "all")
LABELS = {"small": "mean after small-cap calls", "large": "after large-cap calls",
          "all": "any day"}
WIDTH = 0.26


def track_record_figure(data: TrackRecordInput, theme: Theme) -> Figure:
    """The track-record figure; ChartInputError without a bar to draw."""
    horizons = sorted({b.horizon for b in data.bars})
    finite = [b for b in data.bars if math.isfinite(b.mean)]
    if not horizons or not finite:
        raise ChartInputError("no scored session to chart the track record")
    colours = {"small": theme.small_caps, "large": theme.large_caps, "all": theme.muted}
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        cv.add_header(fig, theme, "Does capbrief's call forecast RUT/SPX?",
                      f"{data.period} · today: {data.today}")
        for i, line in enumerate(data.findings):
            fig.text(cv.px_x(20), 1 - cv.px_y(62 + 30 * i), line, ha="left", va="top",
                     fontsize=cv.NOTE_PT, color=theme.text)
        top = 130 + 30 * len(data.findings)
        (ax,) = cv.grid_axes(fig, 1, 1, top_px=top, bottom_px=78, left_px=124)
        ends: list[float] = [0.0]
        for b in data.bars:
            if not math.isfinite(b.mean):
                continue
            x = horizons.index(b.horizon) + (GROUPS.index(b.group) - 1) * WIDTH * 1.15
            ax.bar(x, b.mean, width=WIDTH, color=colours[b.group], alpha=0.9)
            if math.isfinite(b.low):
                ax.errorbar(x, b.mean, yerr=[[b.mean - b.low], [b.high - b.mean]],
                            color=theme.text, capsize=7, linewidth=1.8)
                ends += [b.low, b.high]
            top_y = b.high if math.isfinite(b.high) else b.mean
            ax.annotate(pct(b.mean, 2), (x, top_y), xytext=(0, 5), textcoords="offset points",
                        ha="center", va="bottom", fontsize=ANNOTATION_PT,
                        color=colours[b.group], fontweight="bold")
        ax.axhline(0.0, color=theme.muted, linewidth=1.0)
        lo, hi = min(ends), max(ends)
        pad = (hi - lo) * 0.15 or 0.01
        ax.set_ylim(lo - pad, hi + pad * 2.6)
        ax.set_xlim(-0.6, len(horizons) - 0.4)
        ax.xaxis.set_major_locator(FixedLocator(list(range(len(horizons)))))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: f"next {horizons[round(v)]} sessions"
            if 0 <= round(v) < len(horizons) else ""))
        cv.y_ticks(ax, 5)
        digits = 1 if hi - lo < 0.03 else 0
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: pct(v, digits)))
        ax.grid(axis="x", visible=False)
        present = [g for g in GROUPS if any(b.group == g and math.isfinite(b.mean)
                                            for b in data.bars)]
        cv.header_legend(ax, [Patch(color=colours[g]) for g in present],
                         [LABELS[g] for g in present], ncol=3)
        ax.text(0.5, 0.98, "whiskers: 95% intervals (Newey–West)", transform=ax.transAxes,
                ha="center", va="top", fontsize=cv.NOTE_PT, color=theme.muted)
        cv.add_footnote(fig, theme, data.footnote)
    return fig


def track_record_chart(data: TrackRecordInput, theme: Theme | str = "dark") -> bytes:
    """PNG bytes of :func:`track_record_figure`."""
    return cv.render(track_record_figure, data, theme)
