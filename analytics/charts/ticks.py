"""Axis ticks and labels that read well at Discord's preview size: concise dates from one month
to five decades, few y ticks on round steps, compact numbers, nothing sticking out of the axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter, FuncFormatter, Locator, MaxNLocator

from analytics.charts.theme import DPI, TICK_PT


class InView(Locator):
    """Wraps a locator and drops ticks outside the view: Matplotlib builds a full Tick (five
    artists) for every location a locator returns, and the usual locators add one beyond each
    end, which is a large share of render time on small multiples."""

    def __init__(self, inner: Locator) -> None:
        self.inner = inner

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self) -> Sequence[float]:
        ticks = self.inner()
        if self.axis is None:
            return ticks
        lo, hi = sorted(self.axis.get_view_interval())
        return in_view(ticks, lo, hi)

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        return self.inner.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:
        return self.inner.view_limits(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:
        return self.inner.nonsingular(v0, v1)


class EdgeSafeFormatter(Formatter):
    """Wraps an x-axis formatter and blanks a label that would stick out past the axes' left
    edge (where it collides with the lowest y tick label). Label width is estimated from its
    length at the tick font size (DejaVu Sans digits/letters average ~0.62 em)."""

    def __init__(self, inner: Formatter, slack_px: float = 6.0) -> None:
        self.inner = inner
        self.slack_px = slack_px

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return str(self.inner(x, pos))

    def format_ticks(self, values: Any) -> list[str]:
        labels = list(self.inner.format_ticks(values))
        if self.axis is None or not len(values):
            return labels
        lo, hi = self.axis.get_view_interval()
        axes = getattr(self.axis, "axes", None)
        if axes is None or hi <= lo:
            return labels
        return blank_edge_labels(values, labels, lo, hi, axes.bbox.width, self.slack_px)


def blank_edge_labels(values: Sequence[float], labels: Sequence[str], lo: float, hi: float,
                      width_px: float, slack_px: float = 6.0) -> list[str]:
    """``labels`` with "" for each one whose centre at ``values`` (view ``lo``..``hi`` over
    ``width_px``) is too close to the left edge for half its estimated width."""
    em = TICK_PT * DPI / 72.0

    def sticks_out(v: float, label: str) -> bool:
        return (v - lo) / (hi - lo) * width_px < 0.31 * em * len(label) - slack_px

    return ["" if sticks_out(v, label) else label
            for v, label in zip(values, labels, strict=True)]


def date_locator(maxticks: int = 7) -> tuple[mdates.AutoDateLocator, Formatter]:
    """The house date locator and its concise one-line formatter (see :func:`date_axis`)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=maxticks)
    formatter = mdates.ConciseDateFormatter(locator, show_offset=False)
    formatter.zero_formats = ["", "%Y", "%b", "%d %b", "%H:%M", "%H:%M"]
    formatter.formats = ["%Y", "%b", "%d", "%H:%M", "%H:%M", "%S.%f"]
    return locator, formatter


def date_axis(ax: Axes, *, maxticks: int = 7) -> None:
    """Concise auto date ticks that read well from one month to five decades (one line each;
    the year appears at each new year, never on a second line)."""
    locator, formatter = date_locator(maxticks)
    ax.xaxis.set_major_locator(InView(locator))
    ax.xaxis.set_major_formatter(EdgeSafeFormatter(formatter))


def in_view(ticks: Sequence[float], lo: float, hi: float) -> list[float]:
    """The ``ticks`` inside ``lo``..``hi`` (what :class:`InView` keeps)."""
    eps = (hi - lo) * 1e-9
    return [float(v) for v in ticks if lo - eps <= v <= hi + eps]


def y_ticks(ax: Axes, nbins: int = 5, fmt: str | None = None) -> None:
    """At most ``nbins`` y ticks with a compact label (``fmt`` is a format spec, e.g. "+.0%")."""
    ax.yaxis.set_major_locator(InView(MaxNLocator(nbins=nbins, min_n_ticks=3,
                                                  steps=[1, 2, 5, 10])))
    if fmt is not None:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format(v, fmt)))


def number_label(value: float) -> str:
    """A price-like label: thousands separated, decimals only for small values."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def compact_formatter() -> FuncFormatter:
    """Tick labels of at most ~5 characters: 4.1, 25, 1.2k, 3.4M; 3 significant digits."""

    def fmt(value: float, _pos: int | None = None) -> str:
        a = abs(value)
        if a >= 1e6:
            return f"{value / 1e6:.3g}M"
        if a >= 1e4:
            return f"{value / 1e3:.3g}k"
        if a >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"

    return FuncFormatter(fmt)
