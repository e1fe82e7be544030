"""The house style: one palette, one canvas, fonts sized for Discord's preview.

Canvas: 12 x 6.75 in at 100 dpi = 1200 x 675 px (16:9). Discord shows attachments at about
500 px wide (:data:`PREVIEW_WIDTH_PX`), a scale of ~0.42, so a font of F px on the canvas appears
as ~0.42·F px. The legibility floor is a font size (em) of :data:`MIN_PREVIEW_PX` = 11 px at that
width, i.e. ≥ 26.4 px = 19 pt on the canvas; every text (ticks, legends, footnote, subtitles,
panel readings) is at least :data:`MIN_TEXT_PT` = 20 pt (≈ 27.8 px → ≈ 11.6 px on Discord) and
titles 24 pt (≈ 33 px → ≈ 14 px). ``tests/charts/test_layout.py`` checks the floor on every
text of every chart family.

Small caps (Russell 2000 and its ETFs) and large caps (S&P 500 and its ETFs) always get the same
two colours, in every chart and theme: orange and blue (distinguishable with the common
colour-vision deficiencies).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ThemeName = Literal["dark", "light"]

WIDTH_IN = 12.0
HEIGHT_IN = 6.75
DPI = 100
SIZE_PX = (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))

PREVIEW_WIDTH_PX = 500  # Discord's attachment preview width
MIN_PREVIEW_PX = 11.0  # smallest legible font size (em, px) at that width


def preview_px(points: float) -> float:
    """Font size ``points`` as pixels at Discord's preview width (the canvas scaled down)."""
    return points * DPI / 72.0 * PREVIEW_WIDTH_PX / SIZE_PX[0]


MIN_TEXT_PT = 20.0  # preview_px(20) ≈ 11.6 px ≥ MIN_PREVIEW_PX
TICK_PT = MIN_TEXT_PT
LABEL_PT = MIN_TEXT_PT
LEGEND_PT = MIN_TEXT_PT
TITLE_PT = 24.0
PANEL_TITLE_PT = MIN_TEXT_PT
NOTE_PT = MIN_TEXT_PT
ANNOTATION_PT = MIN_TEXT_PT

SMALL_CAP_SYMBOLS = frozenset({"^RUT", "IWM", "IWN", "IWO", "IJR", "VTWO", "^RUA"})
LARGE_CAP_SYMBOLS = frozenset({"^GSPC", "SPY", "IVV", "VOO", "^SPX"})


@dataclass(frozen=True)
class Theme:
    """Colours for one theme. ``series`` is the cycle for symbols that are neither cap class."""

    name: ThemeName
    background: str
    panel: str
    text: str
    muted: str
    grid: str
    small_caps: str
    large_caps: str
    tailwind: str
    headwind: str
    neutral: str
    accent: str
    past_paths: str
    series: tuple[str, ...]

    def symbol_colour(self, symbol: str, index: int) -> str:
        """Small/large-cap colour for known symbols, else the ``index``-th series colour."""
        if symbol.upper() in SMALL_CAP_SYMBOLS:
            return self.small_caps
        if symbol.upper() in LARGE_CAP_SYMBOLS:
            return self.large_caps
        return self.series[index % len(self.series)]

    def call_colour(self, call: str) -> str:
        """Colour of a driver's call: tailwind (green), headwind (red), anything else neutral."""
        return {"tailwind": self.tailwind, "headwind": self.headwind}.get(call, self.neutral)

    def rc(self) -> dict[str, Any]:
        """rcParams for :func:`matplotlib.rc_context` (no global state is changed)."""
        return {
            "figure.facecolor": self.background,
            "figure.edgecolor": self.background,
            "savefig.facecolor": self.background,
            "savefig.edgecolor": self.background,
            "axes.facecolor": self.panel,
            "axes.edgecolor": self.grid,
            "axes.labelcolor": self.text,
            "axes.titlecolor": self.text,
            "axes.labelsize": LABEL_PT,
            "axes.titlesize": PANEL_TITLE_PT,
            "axes.titlelocation": "left",
            "axes.titlepad": 8.0,
            "axes.grid": True,
            "axes.axisbelow": True,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.linewidth": 1.0,
            "axes.formatter.useoffset": False,
            "axes.xmargin": 0.0,
            "grid.color": self.grid,
            "grid.linewidth": 0.8,
            "grid.alpha": 1.0,
            "xtick.color": self.muted,
            "ytick.color": self.muted,
            "xtick.labelcolor": self.text,
            "ytick.labelcolor": self.text,
            "xtick.labelsize": TICK_PT,
            "ytick.labelsize": TICK_PT,
            "xtick.major.size": 5.0,
            "ytick.major.size": 0.0,
            "ytick.major.pad": 8.0,  # clears the first x tick label at the axes corner
            "xtick.minor.size": 0.0,
            "ytick.minor.size": 0.0,
            "legend.fontsize": LEGEND_PT,
            "legend.frameon": False,
            "legend.labelcolor": self.text,
            "legend.handlelength": 1.4,
            "legend.borderaxespad": 0.3,
            "font.family": "DejaVu Sans",
            "font.size": LABEL_PT,
            "text.color": self.text,
            "lines.linewidth": 2.6,
            "lines.solid_capstyle": "round",
            "path.simplify": True,
            "path.simplify_threshold": 0.5,
            "agg.path.chunksize": 10000,
            "date.converter": "auto",
        }


DARK = Theme(
    name="dark",
    background="#313338",  # Discord dark mode's message background: the chart has no visible box
    panel="#313338",
    text="#F2F3F5",
    muted="#B5BAC1",
    grid="#4E5058",
    small_caps="#FF9F1C",
    large_caps="#4EA8FF",
    tailwind="#3BD17A",
    headwind="#FF5C5C",
    neutral="#B5BAC1",
    accent="#F5E663",
    past_paths="#80848E",
    series=("#C77DFF", "#2EC4B6", "#F5E663", "#FF70A6"),
)

LIGHT = Theme(
    name="light",
    background="#FFFFFF",  # Discord light mode's message background
    panel="#FFFFFF",
    text="#1E1F22",
    muted="#5C5E66",
    grid="#E3E5E8",
    small_caps="#E07000",
    large_caps="#1763C9",
    tailwind="#15894A",
    headwind="#D12F2F",
    neutral="#6D6F78",
    accent="#8E24AA",
    past_paths="#A5A8B0",
    series=("#8E24AA", "#00897B", "#B8860B", "#D81B60"),
)

THEMES: dict[str, Theme] = {"dark": DARK, "light": LIGHT}


def get_theme(name: str) -> Theme:
    """The theme called ``name`` ("dark" or "light"); ValueError otherwise."""
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"unknown chart theme {name!r}: use 'dark' or 'light'") from None
