"""Tiny hand-built chart inputs and a PNG reader shared by the chart tests."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.charts import Footnote

FOOT = Footnote(asof=date(2024, 6, 28), stale=False, source="csv")


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; AssertionError if not a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def walk(n: int, start: float = 100.0, seed: int = 0, end: str = "2024-06-28",
         drift: float = 0.0004) -> pd.Series:
    """A deterministic random walk of ``n`` business days ending at ``end``."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(end=end, periods=n)
    steps = rng.normal(drift, 0.01, n)
    return pd.Series(start * np.exp(np.cumsum(steps)), index=index)


@pytest.fixture()
def foot() -> Footnote:
    return FOOT


#: Modules that choose the render path themselves (run once, not once per path).
CHOOSE_THEIR_PATH = ("test_render_paths",)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every chart test on both render paths (CI runs both, as issue 12 asks)."""
    if ("render_path" in metafunc.fixturenames
            and metafunc.module.__name__.rsplit(".", 1)[-1] not in CHOOSE_THEIR_PATH):
        metafunc.parametrize("render_path", ["fast", "fallback"], indirect=True)


@pytest.fixture(autouse=True)
def render_path(request: pytest.FixtureRequest,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The render path of this test run, in this process and (through the bot's switch) in any
    render pool the test starts; the fast one is skipped, with the reason, where this
    Matplotlib does not support it. The process default is restored afterwards."""
    from analytics.charts import raster
    from bot.render import FALLBACK_ENV

    if not hasattr(request, "param"):
        yield raster.render_path()
        return
    if request.param == "fast" and not raster.fast_path_supported():
        pytest.skip("fast render path not supported by this Matplotlib "
                    f"(missing: {', '.join(raster.missing_internals()) or 'tested version'})")
    monkeypatch.setenv(FALLBACK_ENV, "1" if request.param == "fallback" else "0")
    raster.select_render_path(request.param)
    try:
        yield request.param
    finally:
        raster.select_render_path("auto")
