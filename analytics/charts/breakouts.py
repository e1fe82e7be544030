"""Breakouts chart: the forward path (rebased, as % change) of the S&P 500 after each past
breakout event, their median in bold, and the live event highlighted.

The median is taken, session by session, over the completed paths only (those with the full
horizon), so it never mixes in a partial path. x is sessions after the event, labelled in months
(21 sessions ≈ 1 month).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import BreakoutsInput
from analytics.charts.theme import Theme
from analytics.formats import pct

SESSIONS_PER_MONTH = 21


def _month_ticks(horizon: int) -> list[int]:
    months = horizon / SESSIONS_PER_MONTH
    step = 1 if months <= 6 else 3 if months <= 24 else 6
    return [m * SESSIONS_PER_MONTH for m in range(0, int(months) + 1, step)]


def breakouts_figure(data: BreakoutsInput, theme: Theme) -> Figure:
    """The breakouts figure; ChartInputError without any completed past event."""
    done = [p for p in data.paths if not p.live and len(p.values) == data.horizon + 1]
    live = [p for p in data.paths if p.live]
    if not done:
        raise ChartInputError("no completed breakout event to compare with")
    stack = np.vstack([p.values for p in done]) / 100.0 - 1.0
    median = np.median(stack, axis=0)
    x = np.arange(data.horizon + 1)
    finals = stack[:, -1]
    ups = int((finals > 0).sum())
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        cv.add_header(fig, theme, f"{data.symbol_name} after a breakout")
        fig.text(cv.px_x(20), 1 - cv.px_y(56), f"Breakout = {data.event_label}",
                 ha="left", va="top", fontsize=cv.NOTE_PT + 1, color=theme.muted)
        top_px = 180 if live else 140
        (ax,) = cv.grid_axes(fig, 1, 1, top_px=top_px, bottom_px=112, right_px=56)
        ax.axhline(0.0, color=theme.muted, linewidth=1.2)
        h_past = None
        for row in stack:
            h_past, = ax.plot(x, row, color=theme.past_paths, linewidth=1.3, alpha=0.7)
        h_med, = ax.plot(x, median, color=theme.large_caps, linewidth=4.0)
        handles = [h_past, h_med]
        first, last = done[0].event.year, done[-1].event.year
        months = round(data.horizon / SESSIONS_PER_MONTH)
        labels = [f"past events {first}–{last}: {ups} of {len(done)} up after {months}m",
                  f"median {median[-1]:+.1%}"]
        for path in live:
            y = path.values / 100.0 - 1.0
            lx = np.arange(len(y))
            h_live, = ax.plot(lx, y, color=theme.accent, linewidth=3.2, marker="o",
                              markersize=9, markevery=[len(y) - 1])
            handles.append(h_live)
            labels.append(f"live event {path.event.isoformat()}: day {len(y) - 1}, "
                          f"{y[-1]:+.1%} so far")
        ax.set_xlim(0, data.horizon)
        ax.xaxis.set_major_locator(FixedLocator(_month_ticks(data.horizon)))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: "0" if v == 0 else f"+{round(v / SESSIONS_PER_MONTH)}m"))
        ax.set_xlabel("Months after the event (21 sessions a month)", fontsize=cv.NOTE_PT + 1,
                      color=theme.muted)
        cv.y_ticks(ax, 6)
        ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: pct(v, 0)))
        cv.header_legend(ax, handles, labels, ncol=2 if live else None)
        cv.add_footnote(fig, theme, data.footnote)
    return fig
