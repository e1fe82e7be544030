"""Custom chart: one to four symbols over a period, as one of four kinds.

- ``price``: each symbol's own price; several symbols get one panel each (their scales differ,
  so one shared axis would mislead).
- ``rebased``: all rebased to 100 at the period's first session on one axis; a log scale (and
  the label says so) when the period is 10 years or more or the values span more than 4×.
- ``ratio``: first symbol / second symbol, with its 200-session average when there is room.
- ``drawdown``: % below each symbol's running peak within the period (0 at a new high).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from analytics.charts import canvas as cv
from analytics.charts.cycles import log_ticks
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import CUSTOM_KINDS, CustomInput
from analytics.charts.theme import Theme
from analytics.formats import pct

NAMES = {"^RUT": "Russell 2000", "^GSPC": "S&P 500", "^VIX": "VIX", "^TNX": "10y yield",
         "^IRX": "3m bill", "^IXIC": "Nasdaq"}
YIELDS = frozenset({"^TNX", "^IRX", "^FVX", "^TYX"})  # quoted in percent: change in points
LOG_SPAN_DAYS = 3650
LOG_RANGE = 4.0


def display_name(symbol: str) -> str:
    return NAMES.get(symbol, symbol)


def uses_log_scale(series: list[tuple[str, pd.Series]]) -> bool:
    """Log scale for rebased charts spanning 10+ years or values moving more than 4×."""
    rebased = [s / s.iloc[0] for _, s in series]
    lo = min(float(r.min()) for r in rebased)
    hi = max(float(r.max()) for r in rebased)
    days = (max(s.index[-1] for _, s in series) - min(s.index[0] for _, s in series)).days
    return days >= LOG_SPAN_DAYS or hi / lo > LOG_RANGE


def pct_label(change: float) -> str:
    """``+12.3%``, or ``+5,977%`` once the change passes 100%."""
    return f"{change:+,.0%}" if abs(change) >= 1 else pct(change)


def _colours(theme: Theme, series: list[tuple[str, pd.Series]]) -> list[str]:
    """Small/large-cap colours for the first symbol of each class; every other symbol (including
    a second small- or large-cap one, e.g. ^RUT with IWM) takes the next series colour, so no two
    lines share a colour."""
    out: list[str] = []
    other = 0
    for sym, _ in series:
        colour = theme.symbol_colour(sym, other)
        if colour in out or colour not in (theme.small_caps, theme.large_caps):
            colour = theme.series[other % len(theme.series)]
            other += 1
        out.append(colour)
    return out


def _log_axis(ax: Axes, lo: float, hi: float) -> None:
    ax.set_yscale("log")
    ax.set_ylim(lo / 1.04, hi * 1.04)
    ax.yaxis.set_major_locator(FixedLocator(log_ticks(lo / 1.04, hi * 1.04)))
    ax.yaxis.set_major_formatter(cv.compact_formatter())
    ax.yaxis.set_minor_locator(NullLocator())


def custom_figure(data: CustomInput, theme: Theme) -> Figure:
    """The custom figure; ChartInputError for a bad kind, symbol count, or too little data."""
    if data.kind not in CUSTOM_KINDS:
        raise ChartInputError(f"unknown chart kind {data.kind!r}")
    if not 1 <= len(data.series) <= 4:
        raise ChartInputError("chart one to four symbols")
    if data.kind == "ratio" and len(data.series) != 2:
        raise ChartInputError("a ratio chart needs exactly two symbols (first / second)")
    series = [(sym, cv.clean_series(s, sym)) for sym, s in data.series]
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        names = ", ".join(display_name(sym) for sym, _ in series)
        if data.kind == "ratio":
            names = f"{display_name(series[0][0])} / {display_name(series[1][0])}"
        kind_label = {"price": "price", "rebased": "rebased to 100", "ratio": "ratio",
                      "drawdown": "% below the period's high"}[data.kind]
        if data.kind == "rebased" and uses_log_scale(series):
            kind_label = "rebased to 100, log scale"
        cv.add_header(fig, theme, f"{names} · {data.period_label}", kind_label)
        {"price": _price, "rebased": _rebased, "ratio": _ratio,
         "drawdown": _drawdown}[data.kind](fig, theme, series)
        cv.add_footnote(fig, theme, data.footnote)
    return fig


def _price(fig: Figure, theme: Theme, series: list[tuple[str, pd.Series]]) -> None:
    n = len(series)
    rows, cols = (n, 1) if n <= 2 else (2, 2)
    axes = cv.grid_axes(fig, rows, cols, top_px=104, bottom_px=84,
                        hspace=0.45 if rows == 2 else 0.3, wspace=0.22, sharex=False)
    for ax, (sym, s), colour in zip(axes, series, _colours(theme, series), strict=False):
        x = cv.to_days(s.index)
        last = float(s.iloc[-1])
        if sym in YIELDS:
            label = f"{display_name(sym)}  {last:.2f}%  ({last - float(s.iloc[0]):+.2f} pp)"
        else:
            label = (f"{display_name(sym)}  {cv.number_label(last)}"
                     f"  ({pct_label(last / float(s.iloc[0]) - 1)})")
        h, = ax.plot(x, s.to_numpy(), color=colour)
        cv.header_legend(ax, [h], [label])
        ax.set_xlim(x[0], x[-1])
        cv.y_ticks(ax, 4 if rows == 1 else 3)
        ax.yaxis.set_major_formatter(cv.compact_formatter())
        cv.date_axis(ax, maxticks=7 if cols == 1 else 4)
    for ax in axes[n:]:
        ax.set_visible(False)


def _rebased(fig: Figure, theme: Theme, series: list[tuple[str, pd.Series]]) -> None:
    (ax,) = cv.grid_axes(fig, 1, 1, top_px=112, bottom_px=84)
    handles, labels = [], []
    lo, hi, first, last = np.inf, -np.inf, np.inf, -np.inf
    for (sym, s), colour in zip(series, _colours(theme, series), strict=True):
        r = s / s.iloc[0] * 100.0
        x = cv.to_days(r.index)
        h, = ax.plot(x, r.to_numpy(), color=colour)
        handles.append(h)
        labels.append(f"{display_name(sym)}  {pct_label(float(r.iloc[-1]) / 100 - 1)}")
        lo, hi = min(lo, float(r.min())), max(hi, float(r.max()))
        first, last = min(first, x[0]), max(last, x[-1])
    ax.axhline(100.0, color=theme.muted, linewidth=1.0, linestyle=(0, (4, 4)))
    if uses_log_scale(series):
        _log_axis(ax, lo, hi)
    else:
        cv.y_ticks(ax, 5)
        ax.yaxis.set_major_formatter(cv.compact_formatter())
    ax.set_xlim(first, last)
    cv.date_axis(ax)
    cv.header_legend(ax, handles, labels)


def _ratio(fig: Figure, theme: Theme, series: list[tuple[str, pd.Series]]) -> None:
    (a_sym, a), (b_sym, b) = series
    ratio = (a / b).dropna()
    ratio = ratio[np.isfinite(ratio.to_numpy())]
    if len(ratio) < 2:
        raise ChartInputError(f"{a_sym} and {b_sym} share fewer than 2 sessions")
    (ax,) = cv.grid_axes(fig, 1, 1, top_px=112, bottom_px=84)
    x = cv.to_days(ratio.index)
    colour = theme.small_caps if a_sym in ("^RUT", "IWM") else theme.series[0]
    change = float(ratio.iloc[-1] / ratio.iloc[0] - 1)
    h, = ax.plot(x, ratio.to_numpy(), color=colour)
    handles, labels = [h], [f"{a_sym}/{b_sym}  {ratio.iloc[-1]:.4g} ({pct_label(change)})"]
    if len(ratio) > 250:
        avg = ratio.rolling(200, min_periods=200).mean()
        h2, = ax.plot(x, avg.to_numpy(), color=theme.muted, linewidth=1.8,
                      linestyle=(0, (5, 3)))
        handles.append(h2)
        labels.append("200-session average")
    ax.set_xlim(x[0], x[-1])
    cv.y_ticks(ax, 5)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.3g}"))
    cv.date_axis(ax)
    cv.header_legend(ax, handles, labels)


def _drawdown(fig: Figure, theme: Theme, series: list[tuple[str, pd.Series]]) -> None:
    (ax,) = cv.grid_axes(fig, 1, 1, top_px=112, bottom_px=84)
    handles, labels = [], []
    first, last = np.inf, -np.inf
    for (sym, s), colour in zip(series, _colours(theme, series), strict=True):
        dd = s / s.cummax() - 1.0
        x = cv.to_days(dd.index)
        if len(series) == 1:
            ax.fill_between(x, dd.to_numpy(), 0.0, color=colour, alpha=0.25, linewidth=0)
        h, = ax.plot(x, dd.to_numpy(), color=colour, linewidth=2.2)
        handles.append(h)
        now, worst = float(dd.iloc[-1]), float(dd.min())
        labels.append(f"{display_name(sym)}  {pct(now, signed=False)} "
                      f"(worst {pct(worst, signed=False)})")
        first, last = min(first, x[0]), max(last, x[-1])
    ax.axhline(0.0, color=theme.muted, linewidth=1.0)
    ax.set_xlim(first, last)
    cv.y_ticks(ax, 5)
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _p: pct(v, 0, signed=False).replace("-", "−")))
    cv.date_axis(ax)
    cv.header_legend(ax, handles, labels, ncol=2 if len(series) > 2 else None)
