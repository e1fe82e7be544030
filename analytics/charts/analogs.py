"""Analogs chart ("days like today"): RUT/SPX around each past analog, rebased to 0 on the
analog's close, their median in bold, today's last months leading into 0, and the baseline
band: where the median of as many random days falls 90% of the time.

x is sessions from the day (negative = before), labelled in months (21 sessions ≈ 1 month).
The median is taken session by session over the paths that reach that session.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import AnalogsInput
from analytics.charts.theme import Theme
from analytics.formats import pct

SESSIONS_PER_MONTH = 21


def _month_ticks(before: int, horizon: int) -> list[int]:
    step = 1 if horizon <= 6 * SESSIONS_PER_MONTH else 3
    first = -(before // (step * SESSIONS_PER_MONTH))
    last = horizon // (step * SESSIONS_PER_MONTH)
    return [m * step * SESSIONS_PER_MONTH for m in range(first, last + 1)]


def _stack(data: AnalogsInput) -> np.ndarray:
    """paths × (before + horizon + 1), NaN where a path has no value."""
    width = data.before + data.horizon + 1
    out = np.full((len(data.paths), width), np.nan)
    for i, path in enumerate(data.paths):
        values = np.asarray(path, dtype="float64")
        # a path ends at +horizon; it may start after -before when history is short
        start = width - len(values)
        out[i, max(start, 0):] = values[max(-start, 0):]
    return out


def analogs_figure(data: AnalogsInput, theme: Theme) -> Figure:
    """The analogs figure; ChartInputError without any analog path."""
    if not data.paths:
        raise ChartInputError("no analogs to chart")
    if len(data.band_mid) != data.horizon + 1:
        raise ChartInputError("the baseline band must cover sessions 0 to the horizon")
    stack = _stack(data)
    x = np.arange(-data.before, data.horizon + 1)
    counts = np.sum(~np.isnan(stack), axis=0)
    median = np.full(len(x), np.nan)
    have = counts > 0
    median[have] = np.nanmedian(stack[:, have], axis=0)
    ahead = np.arange(data.horizon + 1)
    years = sorted(d.year for d in data.dates)
    months = round(data.horizon / SESSIONS_PER_MONTH)
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        cv.add_header(fig, theme, "Days like today: RUT/SPX after analogs",
                      f"as of {data.asof.isoformat()}")
        lines = _verdict_lines(data.verdict)
        for i, line in enumerate(lines):  # at 20 pt the verdict takes two lines
            fig.text(cv.px_x(20), 1 - cv.px_y(56 + 30 * i), line, ha="left", va="top",
                     fontsize=cv.NOTE_PT, color=theme.muted)
        (ax,) = cv.grid_axes(fig, 1, 1, top_px=170 + 30 * max(len(lines) - 1, 0),
                             bottom_px=112, right_px=56)
        ax.fill_between(ahead, data.band_low, data.band_high, color=theme.past_paths,
                        alpha=0.22, linewidth=0)
        ax.plot(ahead, data.band_mid, color=theme.past_paths, linewidth=1.6, linestyle="--")
        ax.axhline(0.0, color=theme.muted, linewidth=1.0)
        ax.axvline(0.0, color=theme.muted, linewidth=1.0)
        h_past = None
        for row in stack:
            h_past, = ax.plot(x, row, color=theme.past_paths, linewidth=1.1, alpha=0.65)
        h_med, = ax.plot(x, median, color=theme.small_caps, linewidth=4.0)
        tx = np.arange(-(len(data.today) - 1), 1)
        h_today, = ax.plot(tx, data.today, color=theme.accent, linewidth=3.2, marker="o",
                           markersize=9, markevery=[len(tx) - 1])
        last = median[-1]
        handles = [h_past, h_med, Patch(color=theme.past_paths, alpha=0.35), h_today]
        labels = [f"{len(data.paths)} analogs, {years[0]}–{years[-1]}",
                  f"their median: {pct(last)} at +{months}m",
                  f"median of {len(data.paths)} random days, 90% band",
                  f"today: last {len(tx) - 1} sessions"]
        ax.set_xlim(-data.before, data.horizon)
        ax.xaxis.set_major_locator(FixedLocator(_month_ticks(data.before, data.horizon)))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: "day" if v == 0 else f"{round(v / SESSIONS_PER_MONTH):+d}m"))
        ax.set_xlabel("Months from the day (21 sessions a month); RUT/SPX rebased to 0 on it",
                      fontsize=cv.NOTE_PT, color=theme.muted)
        cv.y_ticks(ax, 6)
        ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: pct(v, 0)))
        cv.header_legend(ax, handles, labels, ncol=2)
        cv.add_footnote(fig, theme, data.footnote)
    return fig


def _verdict_lines(verdict: str, room: int = 70) -> list[str]:
    """The verdict in one line, or two split after its figures (": ") when longer than
    ``room`` characters (legible at Discord's preview width, 20 pt)."""
    if not verdict:
        return []
    if len(verdict) <= room or ": " not in verdict:
        return [verdict]
    head, _, tail = verdict.rpartition(": ")
    return [head + ":", tail]


def analogs_chart(data: AnalogsInput, theme: Theme | str = "dark") -> bytes:
    """PNG bytes of :func:`analogs_figure`."""
    return cv.render(analogs_figure, data, theme)
