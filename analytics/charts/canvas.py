"""Figure building blocks shared by every chart family: theme context, header, footnote, axes
grid, shaded bands, input checks, and the one render entry point.

Speed notes (see HARNESS-NOTES): no pyplot, no ``tight_layout`` (margins are fixed, in pixels),
dates go to Matplotlib as plain float day numbers (no tz-aware conversion); rasterising and PNG
encoding live in :mod:`.raster`, ticks in :mod:`.ticks`, legends in :mod:`.legend` (re-exported
here so the families use one namespace).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import Footnote
from analytics.charts.legend import header_legend as header_legend
from analytics.charts.legend import key_row as key_row
from analytics.charts.raster import encode_png as encode_png
from analytics.charts.raster import new_figure as new_figure
from analytics.charts.raster import to_png as to_png
from analytics.charts.theme import (
    NOTE_PT,
    SIZE_PX,
    TITLE_PT,
    Theme,
    get_theme,
)
from analytics.charts.ticks import blank_edge_labels as blank_edge_labels
from analytics.charts.ticks import compact_formatter as compact_formatter
from analytics.charts.ticks import date_axis as date_axis
from analytics.charts.ticks import date_locator as date_locator
from analytics.charts.ticks import in_view as in_view
from analytics.charts.ticks import number_label as number_label
from analytics.charts.ticks import y_ticks as y_ticks

W_PX, H_PX = SIZE_PX
LEFT_PX, RIGHT_PX = 100, 28
TITLE_TOP_PX = 14
FOOT_PX = 8
PNG_LEVEL = 1


@contextmanager
def styled(theme: Theme) -> Iterator[None]:
    """Apply the theme's rcParams while a figure is built and drawn (restored afterwards)."""
    with mpl.rc_context(theme.rc()):  # type: ignore[arg-type]
        yield


def shade_runs(ax: Axes, x: np.ndarray, states: np.ndarray, colours: dict[int, str],
               alpha: float) -> None:
    """Shade consecutive runs of equal ``states`` (ints; keys of ``colours``, others unshaded)
    as full-height vertical bands; each band reaches the start of the next, so no gaps."""
    if len(x) == 0:
        return
    change = np.flatnonzero(np.diff(states)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(x) - 1]))
    bands = [(float(x[a]), float(x[b]), colours[int(states[a])])
             for a, b in zip(starts, ends, strict=True) if int(states[a]) in colours]
    spans(ax, bands, alpha)


def px_x(px: float) -> float:
    return px / W_PX


def px_y(px: float) -> float:
    """Figure fraction ``px`` pixels up from the bottom edge."""
    return px / H_PX


def add_header(fig: Figure, theme: Theme, title: str, subtitle: str | None = None) -> None:
    """Bold title at the top left; an optional muted subtitle at the top right."""
    fig.text(px_x(LEFT_PX - 80), 1 - px_y(TITLE_TOP_PX), title, ha="left", va="top",
             fontsize=TITLE_PT, fontweight="bold", color=theme.text)
    if subtitle:
        fig.text(1 - px_x(RIGHT_PX), 1 - px_y(TITLE_TOP_PX + 4), subtitle, ha="right", va="top",
                 fontsize=NOTE_PT + 2, color=theme.muted)


def add_footnote(fig: Figure, theme: Theme, note: Footnote) -> None:
    """Bottom right: "Data as of <session> · Source: <source>"; bottom left: a red STALE mark."""
    fig.text(1 - px_x(RIGHT_PX), px_y(FOOT_PX), note.text(), ha="right", va="bottom",
             fontsize=NOTE_PT, color=theme.muted)
    if note.stale:
        fig.text(px_x(LEFT_PX - 80), px_y(FOOT_PX), "⚠ STALE: latest refresh failed",
                 ha="left", va="bottom", fontsize=NOTE_PT, fontweight="bold",
                 color=theme.headwind)


def grid_axes(fig: Figure, rows: int = 1, cols: int = 1, *, top_px: float = 120,
              bottom_px: float = 78, left_px: float = LEFT_PX, right_px: float = RIGHT_PX,
              height_ratios: Sequence[float] | None = None, hspace: float = 0.35,
              wspace: float = 0.2, sharex: bool = True) -> list[Axes]:
    """Axes on a grid with fixed pixel margins, row by row (no layout engine, so it is fast)."""
    gs = fig.add_gridspec(rows, cols, left=px_x(left_px), right=1 - px_x(right_px),
                          top=1 - px_y(top_px), bottom=px_y(bottom_px),
                          height_ratios=height_ratios, hspace=hspace, wspace=wspace)
    axes: list[Axes] = []
    for r in range(rows):
        for c in range(cols):
            share = axes[0] if sharex and axes else None
            ax = fig.add_subplot(gs[r, c], sharex=share)
            # Fixed axis-label positions: Matplotlib otherwise measures every tick label of
            # every sibling axes on each draw to place them (a large share of draw time).
            box = ax.get_position()
            ax.xaxis.set_label_coords(0.5, -42.0 / (box.height * H_PX))
            ax.yaxis.set_label_coords(-(left_px - 30.0) / (box.width * W_PX), 0.5)
            axes.append(ax)
    return axes


def to_days(index: pd.Index) -> np.ndarray:
    """Matplotlib date numbers (days since 1970-01-01) from a tz-naive DatetimeIndex, fast."""
    values = pd.DatetimeIndex(index).to_numpy().astype("datetime64[s]").astype("int64")
    return values / 86400.0


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(when: date) -> float:
    """One date (date or Timestamp at midnight) as a Matplotlib date number."""
    return float(when.toordinal() - EPOCH_ORDINAL)


def spans(ax: Axes, bands: Sequence[tuple[float, float, str]], alpha: float) -> None:
    """Full-height vertical bands ``(x0, x1, colour)`` drawn as ONE collection (many
    ``axvspan`` patches are slow to add and draw)."""
    if not bands:
        return
    verts = [[(a, 0.0), (a, 1.0), (b, 1.0), (b, 0.0)] for a, b, _ in bands]
    ax.add_collection(PolyCollection(verts, facecolors=[c for _, _, c in bands], alpha=alpha,
                                     linewidths=0, transform=ax.get_xaxis_transform(),
                                     zorder=0.5), autolim=False)


def clean_series(series: pd.Series, name: str, *, min_points: int = 2) -> pd.Series:
    """``series`` without NaNs, as float; ChartInputError if fewer than ``min_points`` remain."""
    if series is None or len(series) == 0:
        raise ChartInputError(f"no data for {name}")
    clean = series.dropna().astype("float64")
    if len(clean) < min_points:
        raise ChartInputError(f"not enough data for {name}: {len(clean)} point(s), "
                              f"need at least {min_points}")
    if not isinstance(clean.index, pd.DatetimeIndex):
        raise ChartInputError(f"{name} must be indexed by date")
    return clean


#: Matplotlib is not thread-safe: the theme is applied through the global rcParams and the
#: fast raster path shares FreeType font objects. Renders in one process take turns; the bot
#: renders in a process pool (one render per worker at a time), so only threads wait here.
_RENDER_LOCK = threading.Lock()


def render(figure_fn: Callable[[Any, Theme], Figure], data: Any, theme: Theme | str) -> bytes:
    """PNG bytes of ``figure_fn(data, theme)``, drawn with the theme's rcParams in effect (one
    render at a time per process; see ``_RENDER_LOCK``)."""
    chosen = get_theme(theme) if isinstance(theme, str) else theme
    with _RENDER_LOCK, styled(chosen):
        return to_png(figure_fn(data, chosen))


