"""Tiny hand-built chart inputs and a PNG reader shared by the chart tests."""

from __future__ import annotations

import struct
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
