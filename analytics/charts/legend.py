"""Legends drawn as plain artists in pixel space (a key row above the axes).

Matplotlib's ``Legend`` re-packs its offset boxes on every draw, a large share of render time;
a swatch and a text per entry cost almost nothing and never cover the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import IdentityTransform

from analytics.charts.theme import DPI, LEGEND_PT, SIZE_PX

W_PX, H_PX = SIZE_PX


def header_legend(ax: Axes, handles: Sequence[Any], labels: Sequence[str], *,
                  ncol: int | None = None) -> None:
    """A key just above ``ax`` (left aligned, ``ncol`` entries a row), so it never covers data."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    box = ax.get_position()
    key_row(fig, box.x0 * W_PX, box.y1 * H_PX + 4, handles, labels, ncol=ncol)


def key_row(fig: Figure, x_px: float, y_px: float, handles: Sequence[Any],
            labels: Sequence[str], *, ncol: int | None = None, fontsize: float = LEGEND_PT,
            colour: str | None = None) -> None:
    """A legend drawn as plain artists in pixel coordinates, bottom row at ``y_px``: a swatch
    (line sample, marker or colour box) and a label per entry, rows filled left to right.

    Matplotlib's ``Legend`` re-packs its boxes on every draw, a large share of render time;
    these few artists cost almost nothing. Widths come from the renderer's cached metrics.
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    prop = FontProperties(family="DejaVu Sans", size=fontsize)
    per_row = ncol or len(labels)
    rows = (len(labels) + per_row - 1) // per_row
    row_h = fontsize * DPI / 72.0 * 1.45
    pixels = IdentityTransform()
    x = x_px
    for i, (handle, label) in enumerate(zip(handles, labels, strict=True)):
        if i % per_row == 0:
            x = x_px
        mid = y_px + (rows - 1 - i // per_row) * row_h + row_h / 2
        _swatch(fig, handle, x, mid, pixels)
        width = _text_width(renderer, label, prop)
        fig.text(x + 38, mid, label, transform=pixels, fontproperties=prop, va="center_baseline",
                 ha="left", color=colour or mpl.rcParams["legend.labelcolor"],
                 parse_math=False)
        x += 38 + width + 26


_WIDTHS: dict[tuple[str, float, float], float] = {}


def _text_width(renderer: Any, text: str, prop: FontProperties) -> float:
    """Rendered width of ``text`` in pixels (memoised: keys repeat from render to render)."""
    key = (text, float(prop.get_size_in_points()), float(renderer.dpi))
    width = _WIDTHS.get(key)
    if width is None:
        if len(_WIDTHS) > 4096:
            _WIDTHS.clear()
        width = _WIDTHS[key] = renderer.get_text_width_height_descent(text, prop, ismath=False)[0]
    return width


def _swatch(fig: Figure, handle: Any, x: float, mid: float, pixels: Any) -> None:
    """A 28 px sample of ``handle``: a line (with its style), a marker, or a colour box."""
    if isinstance(handle, Line2D):
        if handle.get_linestyle() in ("None", "none", "", " "):
            xs, ys = [x + 14], [mid]
        else:
            xs, ys = [x, x + 14, x + 28], [mid, mid, mid]
        fig.add_artist(Line2D(xs, ys, transform=pixels, color=handle.get_color(),
                              linewidth=handle.get_linewidth(),
                              linestyle=handle.get_linestyle(), marker=handle.get_marker(),
                              markersize=handle.get_markersize(), markevery=[len(xs) // 2],
                              markeredgewidth=0, solid_capstyle="butt"))
        return
    face = handle.get_facecolor() if isinstance(handle, Patch) else "none"
    fig.add_artist(Rectangle((x + 4, mid - 8), 22, 16, transform=pixels, facecolor=face,
                             linewidth=0))
