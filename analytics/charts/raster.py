"""Rasterising: two render paths with the same output, and a small deterministic PNG encoder.

- **fast** (:mod:`.glyphcache`): one reused Agg renderer per thread with glyph layout and bitmap
  caches. It relies on private Matplotlib internals, so it is used only when
  :func:`fast_path_supported` finds every one of them (:data:`REQUIRED_INTERNALS`) *and* the
  installed Matplotlib is in :data:`TESTED_MATPLOTLIB`, the range it was tested on.
- **fallback**: the public ``FigureCanvasAgg``; same size and, up to anti-aliasing, the same
  pixels (tested per chart family). Used automatically on any other Matplotlib, or when the
  caller asks for it with :func:`select_render_path` (analytics reads no environment: the bot
  passes the choice in).
- PNG: unfiltered rows + zlib level 1, RGB (the canvas is opaque), no metadata chunks.
"""

from __future__ import annotations

import importlib
import re
import struct
import zlib
from collections.abc import Mapping
from typing import Literal

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analytics.charts.theme import DPI, HEIGHT_IN, WIDTH_IN, Theme

PNG_LEVEL = 1
RenderPath = Literal["fast", "fallback"]
#: What :func:`select_render_path` accepts: ``auto`` is fast where supported, else fallback.
PATH_CHOICES: tuple[str, ...] = ("auto", "fast", "fallback")
#: Matplotlib versions the fast path was tested on: ``low <= (major, minor) < high``.
TESTED_MATPLOTLIB: tuple[tuple[int, int], tuple[int, int]] = ((3, 11), (3, 12))
#: Every private (or recent) name the fast path touches, as ``module: dotted attribute``.
REQUIRED_INTERNALS: tuple[tuple[str, str], ...] = (
    ("matplotlib.backends.backend_agg", "RendererAgg._prepare_font"),
    ("matplotlib.backends.backend_agg", "RendererAgg._draw_text_glyphs_and_boxes"),
    ("matplotlib.backends.backend_agg", "get_hinting_flag"),
    ("matplotlib.backends.backend_agg", "_RendererAgg.draw_text_image"),
    ("matplotlib.ft2font", "RenderMode.NORMAL"),
    ("matplotlib.ft2font", "RenderMode.MONO"),
    ("matplotlib.ft2font", "FT2Font._layout"),
    ("matplotlib.ft2font", "FT2Font._render_glyph"),
    ("matplotlib.ft2font", "FT2Font._set_transform"),
    ("matplotlib.ft2font", "FT2Font.set_size"),
    ("matplotlib.text", "Text.get_fontfeatures"),
    ("matplotlib.text", "Text.get_language"),
)

_choice = "auto"
_resolved: RenderPath | None = None


def version_tested(version: str, tested: tuple[tuple[int, int], tuple[int, int]]
                   = TESTED_MATPLOTLIB) -> bool:
    """True if ``version`` ("3.11.2", "3.11.0rc1", ...) is in ``low <= (major, minor) < high``;
    False for anything unparsable."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return False
    low, high = tested
    return low <= (int(match[1]), int(match[2])) < high


def missing_internals(modules: Mapping[str, object] | None = None) -> list[str]:
    """The names of :data:`REQUIRED_INTERNALS` that are absent (empty: all present).

    ``modules`` maps a module name to the object to inspect (a stub in tests); modules not in
    it are imported. A module that fails to import counts as missing."""
    missing: list[str] = []
    for module_name, dotted in REQUIRED_INTERNALS:
        target: object | None
        if modules is not None and module_name in modules:
            target = modules[module_name]
        else:
            try:
                target = importlib.import_module(module_name)
            except ImportError:
                target = None
        for part in dotted.split("."):
            target = getattr(target, part, None) if target is not None else None
        if target is None:
            missing.append(f"{module_name}.{dotted}")
    return missing


def fast_path_supported(version: str | None = None,
                        modules: Mapping[str, object] | None = None) -> bool:
    """True if the fast path can run: ``version`` (default: the installed Matplotlib) is in the
    tested range and none of :data:`REQUIRED_INTERNALS` is missing."""
    if version is None:
        import matplotlib

        version = matplotlib.__version__
    return version_tested(version) and not missing_internals(modules)


def select_render_path(choice: str = "auto") -> RenderPath:
    """Choose how this process rasterises from now on; returns the path in effect.

    ``auto``: fast if :func:`fast_path_supported`, else fallback; ``fallback``: always the public
    canvas; ``fast``: ValueError if unsupported here. Figures already created keep their canvas.
    """
    global _choice, _resolved
    if choice not in PATH_CHOICES:
        raise ValueError(f"unknown render path {choice!r}: use {', '.join(PATH_CHOICES)}")
    if choice == "fast" and not fast_path_supported():
        raise ValueError("the fast render path is not supported by this Matplotlib")
    _choice, _resolved = choice, None
    return render_path()


def render_path() -> RenderPath:
    """The render path in effect (resolving ``auto`` once per process)."""
    global _resolved
    if _resolved is None:
        if _choice == "fallback":
            _resolved = "fallback"
        elif _choice == "fast":
            _resolved = "fast"
        else:
            _resolved = "fast" if fast_path_supported() else "fallback"
    return _resolved


def new_figure(theme: Theme) -> Figure:
    """A blank 16:9 canvas in the theme's background, attached to the Agg canvas of the render
    path in effect (:func:`render_path`)."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor=theme.background)
    if render_path() == "fast":
        from analytics.charts.glyphcache import FastCanvas

        FastCanvas(fig)
    else:
        FigureCanvasAgg(fig)
    return fig


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(rgb: np.ndarray) -> bytes:
    """A PNG of an (h, w, 3) uint8 array: rows unfiltered, zlib level 1, no metadata chunks.

    Charts are large flat areas with thin lines, so plain deflate of unfiltered rows is both
    ~2.5x faster than Pillow's adaptive filtering and smaller; identical pixels give identical
    bytes (no timestamp or software tag)."""
    height, width, _ = rgb.shape
    raw = np.empty((height, width * 3 + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type None for every row
    pixels = raw[:, 1:].reshape(height, width, 3)  # a view: splits the contiguous row
    # One plane at a time: copying a strided (h, w, 3) slice of RGBA in one go is ~7x slower.
    for channel in range(3):
        pixels[:, :, channel] = rgb[:, :, channel]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw.data, PNG_LEVEL)) + _chunk(b"IEND", b""))


def to_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` drawn on its Agg canvas, as RGB: the background is opaque, so the
    alpha channel carries nothing (see :func:`encode_png`)."""
    canvas = fig.canvas
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[attr-defined]
    return encode_png(rgba[:, :, :3])
