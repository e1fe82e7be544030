"""The two render paths: the fast glyph-caching renderer (private Matplotlib internals, guarded by
a capability check) and the public Agg canvas fallback draw the same charts."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from analytics.charts import KINDS, raster, render_png
from analytics.charts.theme import DARK
from tests.charts.conftest import png_size
from tests.charts.test_families import tiny_inputs

#: Pixels whose largest channel difference exceeds this count as different (anti-aliasing of
#: glyph edges moves a few levels; a missing or moved line moves ~100+).
CHANNEL_TOLERANCE = 48
#: At most this fraction of pixels may differ by more than CHANNEL_TOLERANCE ...
MAX_DIFFERENT_FRACTION = 0.002
#: ... and the mean absolute difference over all channels stays below this (0-255 scale).
MAX_MEAN_ABS = 0.25

needs_fast = pytest.mark.skipif(not raster.fast_path_supported(),
                                reason="the fast render path is not supported by this Matplotlib")


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def render_on(path: str, kind: str, data: object, theme: str = "dark") -> bytes:
    raster.select_render_path(path)
    try:
        return render_png(kind, data, theme)
    finally:
        raster.select_render_path("auto")


@needs_fast
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_both_paths_draw_the_same_chart(kind: str, theme: str) -> None:
    data = tiny_inputs()[kind]
    fast, fallback = render_on("fast", kind, data, theme), render_on("fallback", kind, data, theme)
    assert png_size(fast) == png_size(fallback) == (1200, 675)
    a, b = pixels(fast), pixels(fallback)
    diff = np.abs(a - b)
    different = float((diff.max(axis=2) > CHANNEL_TOLERANCE).mean())
    assert different <= MAX_DIFFERENT_FRACTION, f"{kind}: {different:.4%} of pixels differ"
    assert float(diff.mean()) <= MAX_MEAN_ABS, f"{kind}: mean abs diff {diff.mean():.3f}"


def test_the_tolerance_catches_a_real_difference() -> None:
    """The comparison above fails for a chart that differs in content (a different window)."""
    from analytics.charts import build as cb
    from tests.charts.conftest import FOOT, walk
    from tests.charts.test_families import ASOF

    rut, spx = walk(400, 2000.0, seed=1), walk(400, 5000.0, seed=2)
    a = pixels(render_on("fallback", "leadership", cb.leadership_input(rut, spx, "6m", ASOF, FOOT)))
    b = pixels(render_on("fallback", "leadership", cb.leadership_input(rut, spx, "3m", ASOF, FOOT)))
    diff = np.abs(a - b)
    assert float((diff.max(axis=2) > CHANNEL_TOLERANCE).mean()) > MAX_DIFFERENT_FRACTION


def test_fallback_uses_the_public_agg_canvas_and_is_deterministic() -> None:
    raster.select_render_path("fallback")
    try:
        assert raster.render_path() == "fallback"
        fig = raster.new_figure(DARK)
        assert type(fig.canvas) is FigureCanvasAgg
        data = tiny_inputs()["records"]
        assert render_png("records", data) == render_png("records", data)
    finally:
        raster.select_render_path("auto")


@needs_fast
def test_auto_picks_the_fast_path_where_supported() -> None:
    from analytics.charts.glyphcache import FastCanvas

    assert raster.select_render_path("auto") == "fast"
    assert isinstance(raster.new_figure(DARK).canvas, FastCanvas)


def test_unknown_path_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown render path"):
        raster.select_render_path("turbo")


def _stub_modules(drop: str | None = None) -> dict[str, object]:
    """Stand-ins for the three modules, with every required name, minus ``drop``."""
    def noop() -> None:
        return None

    agg = SimpleNamespace(RendererAgg=SimpleNamespace(_prepare_font=noop,
                                                      _draw_text_glyphs_and_boxes=noop),
                          get_hinting_flag=noop,
                          _RendererAgg=SimpleNamespace(draw_text_image=noop))
    ft2 = SimpleNamespace(RenderMode=SimpleNamespace(NORMAL=0, MONO=1),
                          FT2Font=SimpleNamespace(_layout=noop, _render_glyph=noop,
                                                  _set_transform=noop, set_size=noop))
    text = SimpleNamespace(Text=SimpleNamespace(get_fontfeatures=noop, get_language=noop))
    modules: dict[str, object] = {"matplotlib.backends.backend_agg": agg,
                                  "matplotlib.ft2font": ft2, "matplotlib.text": text}
    if drop is not None:
        module_name, dotted = drop.rsplit(":", 1)
        *owner_path, leaf = dotted.split(".")
        owner = modules[module_name]
        for part in owner_path:
            owner = getattr(owner, part)
        delattr(owner, leaf)
    return modules


def test_capability_check_passes_on_a_complete_stub_in_the_tested_range() -> None:
    assert raster.missing_internals(_stub_modules()) == []
    assert raster.fast_path_supported("3.11.0", _stub_modules())


@pytest.mark.parametrize("module_name,dotted", raster.REQUIRED_INTERNALS)
def test_capability_check_fails_when_any_required_name_is_missing(module_name: str,
                                                                  dotted: str) -> None:
    modules = _stub_modules(f"{module_name}:{dotted}")
    assert raster.missing_internals(modules) == [f"{module_name}.{dotted}"]
    assert not raster.fast_path_supported("3.11.0", modules)


@pytest.mark.parametrize("version,ok", [
    ("3.11.0", True), ("3.11.7", True), ("3.11.0rc1", True), ("3.10.8", False),
    ("3.12.0", False), ("4.0.0", False), ("2.2.5", False), ("garbage", False)])
def test_capability_check_needs_a_tested_version(version: str, ok: bool) -> None:
    assert raster.version_tested(version) is ok
    assert raster.fast_path_supported(version, _stub_modules()) is ok


def test_environment_switch_is_read_by_the_bot_not_by_analytics() -> None:
    from bot.render import FALLBACK_ENV, render_path_choice

    assert render_path_choice({FALLBACK_ENV: "1"}) == "fallback"
    assert render_path_choice({FALLBACK_ENV: "true"}) == "fallback"
    assert render_path_choice({FALLBACK_ENV: "0"}) == "auto"
    assert render_path_choice({}) == "auto"
