"""The fast render path: one reused Agg renderer per thread, with glyph layout and bitmap caches.

Built on private Matplotlib internals (``RendererAgg._prepare_font``,
``RendererAgg._draw_text_glyphs_and_boxes``, ``FT2Font._layout`` / ``_render_glyph`` /
``_set_transform``, ``ft2font.RenderMode``) that change between minor versions, so this module
is imported only after :func:`analytics.charts.raster.fast_path_supported` has checked every one
of them and the Matplotlib version (see :data:`analytics.charts.raster.TESTED_MATPLOTLIB`).
Everything else uses the public ``FigureCanvasAgg`` (same pixels up to anti-aliasing, tested).

- Matplotlib lays out and rasterises every label on every draw; a warm render worker draws the
  same tick labels, titles and footnotes again and again, so the layout of each (text, font)
  and the bitmap of each (glyph, size, sub-pixel offset) are cached. Translating a glyph by
  whole pixels only shifts its bitmap, so the output is byte-identical (tested).
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.ft2font import RenderMode

_IDENTITY = np.array([[0x10000, 0], [0, 0x10000]])

class FastRenderer(RendererAgg):
    """RendererAgg that remembers the glyph layout of each (text, font, size).

    Laying out a string (``FT2Font._layout``) is the single largest cost of drawing our labels,
    and a warm render worker draws the same tick labels, titles and footnotes again and again.
    The cache is bounded; layouts depend only on the key, so output is unchanged.
    """

    _layouts: ClassVar[dict[tuple[Any, ...], list[Any]]] = {}
    MAX_LAYOUTS: ClassVar[int] = 4096
    _glyphs: ClassVar[dict[tuple[Any, ...], tuple[np.ndarray, int, int]]] = {}
    MAX_GLYPHS: ClassVar[int] = 50_000

    def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                  ismath: Any = False, mtext: Any = None) -> None:
        if ismath:
            super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        key = (s, tuple(prop.get_family()), prop.get_style(), prop.get_variant(),
               prop.get_weight(), prop.get_stretch(), prop.get_size_in_points(),
               prop.get_file(), self.dpi, features and tuple(features), language,
               get_hinting_flag())
        items = self._layouts.get(key)
        if items is None:
            font = self._prepare_font(prop)
            items = list(font._layout(s, flags=get_hinting_flag(), features=features,
                                      language=language))
            if len(self._layouts) >= self.MAX_LAYOUTS:
                self._layouts.clear()
            self._layouts[key] = items
        size = prop.get_size_in_points()
        glyphs = ((item.ft_object, size, item.glyph_index, 0, 1, item.x, item.y)
                  for item in items)
        if angle != 0:
            self._draw_text_glyphs_and_boxes(gc, x, y, angle, glyphs, [])
            return
        self._draw_upright_glyphs(gc, x, y, glyphs)

    def _draw_upright_glyphs(self, gc: Any, x: float, y: float, glyphs: Any) -> None:
        """Unrotated text with each glyph bitmap cached by (face, size, glyph, sub-pixel offset).

        Same arithmetic as ``RendererAgg._draw_text_glyphs_and_boxes`` at angle 0: FreeType
        renders the glyph translated by its 26.6 fixed-point position; translating by whole
        pixels only shifts the bitmap, so the bitmap is rendered once per fractional offset and
        placed at the integer offset (identical pixels, checked by a test)."""
        flags = get_hinting_flag()
        mode = RenderMode.NORMAL if gc.get_antialiased() else RenderMode.MONO
        height = self.height
        cache = self._glyphs
        for font, size, glyph_index, _slant, _extend, dx, dy in glyphs:
            ix, fx = divmod(round(0x40 * (x + dx)), 0x40)
            iy, fy = divmod(round(0x40 * (height - y + dy)), 0x40)
            key = (font.fname, size, self.dpi, glyph_index, fx, fy, flags, mode)
            entry = cache.get(key)
            if entry is None:
                font.set_size(size, self.dpi)
                font._set_transform(_IDENTITY, [fx, fy])
                bitmap = font._render_glyph(glyph_index, flags, mode)
                buffer = np.array(bitmap.buffer, copy=True)
                if mode is RenderMode.MONO:
                    buffer *= 0xFF
                if len(cache) >= self.MAX_GLYPHS:
                    cache.clear()
                entry = cache[key] = (buffer, bitmap.left, bitmap.top)
            buffer, left, top = entry
            self._renderer.draw_text_image(buffer, left + ix,
                                           int(height) - (top + iy) + buffer.shape[0], 0, gc)


class FastCanvas(FigureCanvasAgg):
    """Agg canvas that reuses one renderer per thread and size.

    Matplotlib caches text metrics per renderer, so a fresh renderer per figure re-measures
    every label; reusing it makes warm renders in a worker markedly faster. Safe because a
    figure is drawn and encoded before the next one is drawn in the same thread.
    """

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = (w, h, self.figure.dpi)
        cache: dict[tuple[int, int, float], RendererAgg] = _RENDERERS.__dict__.setdefault(
            "by_key", {})
        renderer = cache.get(key)
        if renderer is None:
            renderer = cache[key] = FastRenderer(w, h, self.figure.dpi)
        self.renderer = renderer
        self._lastKey = key
        return renderer


_RENDERERS = threading.local()
