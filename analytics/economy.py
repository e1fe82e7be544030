"""FRED economic series turned into point-in-time level series (what was known on each day).

FRED dates an observation by its period (UNRATE 2025-09-01 is September's rate), but the market
only learns it later. So that replay never sees a number before it was published, each series is
re-indexed to an *availability date* = period date + a typical release lag:

========= ================================ ============================================
key        FRED series                      level; release lag after the period date
========= ================================ ============================================
UNRATE     unemployment rate, monthly, %    level in %; 1 month + 7 days (jobs Friday)
GDP growth GDPC1 (real; GDP nominal if no   annualised q/q growth in %,
           GDPC1), quarterly                ``((v / v_prev) ** 4 - 1) * 100``; 4 months
ICSA       initial claims, weekly (Sat)     level in thousands; 5 days (Thursday)
========= ================================ ============================================

Revisions are not modelled (these are today's vintages). Pure: series in, series out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class EconomySpec:
    """How one economic reading is built: its FRED source and cadence (observations per year)."""

    key: str
    name: str
    sources: tuple[str, ...]
    per_year: int


UNEMPLOYMENT = EconomySpec("unemployment", "Unemployment rate", ("UNRATE",), 12)
GDP_GROWTH = EconomySpec("gdp_growth", "GDP growth (q/q annualised)", ("GDPC1", "GDP"), 4)
JOBLESS_CLAIMS = EconomySpec("jobless_claims", "Initial jobless claims", ("ICSA",), 52)
ECONOMY_SPECS: tuple[EconomySpec, ...] = (UNEMPLOYMENT, GDP_GROWTH, JOBLESS_CLAIMS)


def _shift(series: pd.Series, offset: pd.DateOffset) -> pd.Series:
    out = series.dropna().sort_index()
    out.index = pd.DatetimeIndex(out.index) + offset
    return out


def to_available(spec: EconomySpec, fred: Mapping[str, pd.Series]) -> tuple[pd.Series, str]:
    """(levels indexed by availability date, the FRED id used); KeyError when none is given.

    The index of the result is the availability date; ``attrs["period"]`` maps nothing — use
    :func:`period_of` to get an observation's period date back.
    """
    source = next((s for s in spec.sources if s in fred and not fred[s].dropna().empty), None)
    if source is None:
        raise KeyError(spec.sources[0])
    raw = fred[source].dropna().sort_index().astype("float64")
    if spec is GDP_GROWTH:
        growth = ((raw / raw.shift(1)) ** 4 - 1) * 100
        return _shift(growth.dropna(), pd.DateOffset(months=4)), source
    if spec is UNEMPLOYMENT:
        return _shift(raw, pd.DateOffset(months=1, days=7)), source
    return _shift(raw / 1000.0, pd.DateOffset(days=5)), source


def period_of(spec: EconomySpec, available: pd.Timestamp) -> pd.Timestamp:
    """The FRED period date of an observation available on ``available`` (inverse of the lag)."""
    if spec is GDP_GROWTH:
        return available - pd.DateOffset(months=4)
    if spec is UNEMPLOYMENT:
        return available - pd.DateOffset(days=7) - pd.DateOffset(months=1)
    return available - pd.DateOffset(days=5)
