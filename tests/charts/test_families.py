"""Every chart family from tiny hand-built frames: a valid 1200x675 PNG, identical bytes for
identical input, a clear ChartInputError for empty or too-short input, both themes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analytics.charts import KINDS, ChartInputError, Footnote, render_png
from analytics.charts import build as cb
from analytics.charts.inputs import (
    AlertMark,
    AlertsInput,
    AnalogsInput,
    BreakoutPath,
    BreakoutsInput,
    CustomInput,
    CyclesInput,
    DriverPanel,
    DriversInput,
    Regime,
    TrackBar,
    TrackRecordInput,
)
from analytics.charts.registry import figure_for
from analytics.charts.theme import DARK, LIGHT, SIZE_PX
from tests.charts.conftest import FOOT, png_size, walk

ASOF = date(2024, 6, 28)


def tiny_inputs() -> dict[str, object]:
    rut, spx = walk(400, 2000.0, seed=1), walk(400, 5000.0, seed=2)
    paths = tuple(BreakoutPath(event=date(2000 + i, 1, 3), values=100 * np.exp(
        np.cumsum(np.r_[0.0, np.random.default_rng(i).normal(0.0005, 0.01, 63)])))
        for i in range(4))
    live = BreakoutPath(event=date(2024, 6, 3), values=np.array([100.0, 101.0, 100.5]),
                        live=True)
    ratio = (rut / spx).iloc[::5]
    return {
        "leadership": cb.leadership_input(rut, spx, "6m", ASOF, FOOT),
        "records": cb.records_input(rut, ASOF, FOOT, round_step=100.0),
        "breakouts": BreakoutsInput(paths=(*paths, live), horizon=63, footnote=FOOT),
        "cycles": CyclesInput(ratio=ratio, regimes=(
            Regime(ratio.index[0].date(), ratio.index[40].date(), "small"),
            Regime(ratio.index[40].date(), ratio.index[-1].date(), "large")), footnote=FOOT),
        "drivers": DriversInput(panels=tuple(
            DriverPanel(name=f"d{i}", values=walk(250, 4.0, seed=10 + i),
                        call=("tailwind", "headwind", "neutral")[i % 3], label=f"{i} · +1 bp")
            for i in range(5)), footnote=FOOT),
        "custom": cb.custom_input([("^RUT", rut), ("^GSPC", spx)], "rebased", "1y", ASOF, FOOT),
        "analogs": tiny_analogs(),
        "alerts": AlertsInput(
            session=ASOF, title="2 alerts at the close of 2024-06-28", name="Russell 2000",
            prices=rut.iloc[-252:], ratio=rut / spx,
            marks=(AlertMark(ASOF, "Round-level cross", "price"),
                   AlertMark(ASOF, "RUT/SPX crosses its average", "ratio")),
            levels=(round(float(rut.iloc[-1]), -2),), record_close=float(rut.max()),
            start=rut.index[-252].date(), footnote=FOOT),
        "track_record": tiny_track_record(),
    }


def tiny_track_record() -> TrackRecordInput:
    """Two horizons of hand-made bars (one group without an interval)."""
    bars = tuple(TrackBar(horizon=h, group=g, mean=m * h / 21, low=m * h / 21 - 0.004,
                          high=m * h / 21 + 0.004, n=100)
                 for h in (21, 63) for g, m in (("small", 0.003), ("large", -0.002),
                                                ("all", 0.0)))
    bars = (*bars[:-1], TrackBar(63, "all", 0.0005, float("nan"), float("nan"), 2))
    return TrackRecordInput(bars=bars, findings=("Next 21 sessions: hit rate 52.0% vs 50.0% "
                                                 "by chance · no forecast value",),
                            period="1990–2024", today="small", footnote=FOOT)


def tiny_analogs(n: int = 5, before: int = 21, horizon: int = 63) -> AnalogsInput:
    """``n`` hand-made analog paths (the first one starts late: short history), today's run-in
    and a band around zero."""
    rng = np.random.default_rng(7)
    paths = tuple(np.cumsum(rng.normal(0, 0.01, before + horizon + 1)) for _ in range(n))
    paths = tuple(p - p[before] for p in paths)
    paths = (paths[0][10:], *paths[1:])
    steps = np.arange(horizon + 1)
    return AnalogsInput(
        dates=tuple(date(1990 + 5 * i, 3, 1) for i in range(n)), paths=paths,
        today=np.linspace(-0.04, 0.0, before + 1), before=before, horizon=horizon,
        band_low=-0.001 * steps, band_mid=np.zeros(horizon + 1), band_high=0.001 * steps,
        asof=ASOF, footnote=FOOT, verdict="+3m RUT/SPX: analogs -1.0%, all days +0.0%")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_family_renders_a_png_of_the_house_size(kind: str, theme: str) -> None:
    png = render_png(kind, tiny_inputs()[kind], theme)
    assert png_size(png) == SIZE_PX == (1200, 675)


@pytest.mark.parametrize("kind", KINDS)
def test_identical_input_gives_identical_bytes(kind: str) -> None:
    data = tiny_inputs()
    first, second = render_png(kind, data[kind]), render_png(kind, tiny_inputs()[kind])
    assert first == second
    assert b"Software" not in first and b"Creation" not in first


def test_themes_differ_and_figure_variant_is_a_figure() -> None:
    data = tiny_inputs()["leadership"]
    assert render_png("leadership", data, "dark") != render_png("leadership", data, "light")
    fig = figure_for("leadership", data, DARK)
    assert isinstance(fig, Figure)
    assert fig.get_facecolor()[:3] != figure_for("leadership", data, LIGHT).get_facecolor()[:3]


@pytest.mark.parametrize("kind", ["price", "rebased", "ratio", "drawdown"])
def test_every_custom_kind(kind: str) -> None:
    rut, spx, vix = walk(300, seed=1), walk(300, seed=2), walk(300, seed=3)
    symbols = [("^RUT", rut), ("^GSPC", spx)] + ([] if kind == "ratio" else [("^VIX", vix)])
    png = render_png("custom", cb.custom_input(symbols, kind, "1y", ASOF, FOOT))
    assert png_size(png) == SIZE_PX


def test_small_and_large_caps_keep_their_colours_everywhere() -> None:
    for theme in (DARK, LIGHT):
        assert theme.symbol_colour("^RUT", 3) == theme.symbol_colour("IWM", 0) == theme.small_caps
        assert theme.symbol_colour("^GSPC", 2) == theme.symbol_colour("SPY", 1) == theme.large_caps
        assert theme.symbol_colour("QQQ", 0) not in (theme.small_caps, theme.large_caps)


def test_custom_figure_colours_rut_as_small_caps() -> None:
    data = cb.custom_input([("^GSPC", walk(60, seed=2)), ("^RUT", walk(60, seed=1))], "rebased",
                           "1m", ASOF, FOOT)
    fig = figure_for("custom", data, DARK)
    colours = {line.get_color() for line in fig.axes[0].get_lines()}
    assert {DARK.small_caps, DARK.large_caps} <= colours


def test_log_scale_for_decades_is_stated() -> None:
    long = walk(252 * 12, seed=4, drift=0.0008)
    data = cb.custom_input([("^RUT", long)], "rebased", "max", ASOF, FOOT)
    fig = figure_for("custom", data, DARK)
    assert fig.axes[0].get_yscale() == "log"
    assert any("log scale" in t.get_text() for t in fig.texts)
    short = figure_for("custom", cb.custom_input([("^RUT", walk(60))], "rebased", "1m", ASOF,
                                                 FOOT), DARK)
    assert short.axes[0].get_yscale() == "linear"
    assert not any("log scale" in t.get_text() for t in short.texts)
    cyc = tiny_inputs()["cycles"]
    cfig = figure_for("cycles", cyc, DARK)
    assert cfig.axes[0].get_yscale() == "log"
    assert any("log scale" in t.get_text() for t in cfig.texts)


def test_stale_footnote_is_marked() -> None:
    data = tiny_inputs()["custom"]
    stale = replace(data, footnote=Footnote(asof=ASOF, stale=True, source="yahoo"))
    texts = [t.get_text() for t in figure_for("custom", stale, DARK).texts]
    assert any("STALE" in t for t in texts)
    assert any("2024-06-28" in t and "Yahoo Finance" in t for t in texts)
    fresh = [t.get_text() for t in figure_for("custom", data, DARK).texts]
    assert not any("STALE" in t for t in fresh)


EMPTY = pd.Series(dtype="float64", index=pd.DatetimeIndex([]))


@pytest.mark.parametrize("make", [
    lambda: cb.leadership_input(EMPTY, walk(10), "1y", ASOF, FOOT),
    lambda: cb.records_input(EMPTY, ASOF, FOOT),
    lambda: cb.custom_input([("^RUT", EMPTY)], "price", "1y", ASOF, FOOT),
    lambda: cb.custom_input([("^RUT", walk(10))], "ratio", "1y", ASOF, FOOT),
    lambda: cb.custom_input([], "price", "1y", ASOF, FOOT),
    lambda: cb.breakouts_input(walk(10), [], ASOF, FOOT),
    lambda: cb.drivers_input([("x", EMPTY, "tailwind", "")], ASOF, FOOT),
    lambda: render_png("custom", CustomInput(series=(("^RUT", walk(1)),), kind="price",
                                             period_label="1d", footnote=FOOT)),
    lambda: render_png("cycles", CyclesInput(ratio=EMPTY, regimes=(), footnote=FOOT)),
    lambda: render_png("drivers", DriversInput(panels=(), footnote=FOOT)),
    lambda: render_png("breakouts", BreakoutsInput(paths=(), horizon=10, footnote=FOOT)),
    lambda: render_png("analogs", replace(tiny_analogs(), paths=())),
    lambda: render_png("analogs", replace(tiny_analogs(), band_mid=np.zeros(3))),
    lambda: render_png("nonsense", None),
    lambda: render_png("records", tiny_inputs()["custom"]),
])
def test_empty_or_too_short_input_raises_a_clear_error(make: object) -> None:
    with pytest.raises(ChartInputError) as err:
        make()  # type: ignore[operator]
    assert str(err.value) and "Traceback" not in str(err.value)


def test_analogs_chart_draws_every_path_today_and_the_median() -> None:
    data = tiny_analogs()
    fig = figure_for("analogs", data, DARK)
    ax = fig.axes[0]
    lines = ax.get_lines()
    wide = [ln for ln in lines if len(ln.get_xdata()) == data.before + data.horizon + 1]
    assert len(wide) == len(data.paths) + 1              # every analog + the median
    median = next(ln for ln in lines if ln.get_color() == DARK.small_caps)
    assert np.asarray(median.get_ydata())[data.before] == pytest.approx(0.0)
    today = next(ln for ln in lines if ln.get_color() == DARK.accent)
    assert np.asarray(today.get_xdata())[-1] == 0 and len(today.get_xdata()) == data.before + 1
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "1990–2010" in texts and "2024-06-28" in texts and data.verdict in texts


def test_leadership_window_too_short_is_a_chart_input_error() -> None:
    rut, spx = walk(3, seed=1), walk(3, seed=2)
    data = cb.leadership_input(rut, spx, "1m", ASOF, FOOT)
    data = replace(data, start=date(2030, 1, 1))
    with pytest.raises(ChartInputError, match="not enough sessions"):
        render_png("leadership", data)


def test_builders_never_look_past_asof() -> None:
    rut, spx = walk(400, seed=1), walk(400, seed=2)
    cut = date(2024, 3, 1)
    data = cb.leadership_input(rut, spx, "1m", cut, FOOT)
    assert data.rut.index[-1] <= pd.Timestamp(cut) and data.spx.index[-1] <= pd.Timestamp(cut)
    later = cb.leadership_input(pd.concat([rut, walk(5, end="2024-07-08")]), spx, "1m", cut, FOOT)
    assert later.rut.equals(data.rut)


def test_glyph_cache_draws_the_same_pixels_as_matplotlib(monkeypatch: pytest.MonkeyPatch,
                                                        render_path: str) -> None:
    """The renderer's cached glyph bitmaps (placed at integer offsets) match Matplotlib's own
    per-glyph rendering byte for byte (fast path only)."""
    if render_path != "fast":
        pytest.skip("glyph cache exists on the fast path only")
    from analytics.charts import glyphcache

    data = tiny_inputs()
    cached = {kind: render_png(kind, data[kind]) for kind in ("leadership", "drivers")}

    def plain(self: glyphcache.FastRenderer, gc: object, x: float, y: float,
              glyphs: object) -> None:
        self._draw_text_glyphs_and_boxes(gc, x, y, 0, glyphs, [])

    monkeypatch.setattr(glyphcache.FastRenderer, "_draw_upright_glyphs", plain)
    assert {kind: render_png(kind, data[kind]) for kind in cached} == cached


def test_png_encoder_round_trips_the_canvas_pixels() -> None:
    import io

    from PIL import Image

    from analytics.charts import canvas

    with canvas.styled(DARK):
        fig = figure_for("records", tiny_inputs()["records"], DARK)
        png = canvas.to_png(fig)
        pixels = np.asarray(fig.canvas.buffer_rgba())[:, :, :3]  # type: ignore[attr-defined]
    decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert decoded.shape == (675, 1200, 3) and np.array_equal(decoded, pixels)


def test_two_small_cap_symbols_get_different_colours() -> None:
    import pandas as pd

    from analytics.charts.custom import _colours
    from analytics.charts.theme import DARK

    empty = pd.Series(dtype="float64")
    picked = _colours(DARK, [("^RUT", empty), ("^GSPC", empty), ("IWM", empty), ("SPY", empty),
                             ("QQQ", empty)])
    assert len(set(picked)) == 5
    assert picked[:2] == [DARK.small_caps, DARK.large_caps]


def test_renders_from_threads_equal_serial_renders(render_path: str) -> None:
    """Matplotlib is not thread-safe (global rcParams per theme, shared font objects): the CLI
    and the tests render in threads, so renders in one process must take turns and give the
    bytes a serial render gives, whatever the interleaving of kinds and themes."""
    from concurrent.futures import ThreadPoolExecutor

    inputs = tiny_inputs()
    jobs = [(kind, inputs[kind], theme) for kind in ("leadership", "records", "custom")
            for theme in ("dark", "light")]
    serial = [render_png(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=6) as threads:
        for _ in range(3):
            assert list(threads.map(lambda job: render_png(*job), jobs)) == serial
