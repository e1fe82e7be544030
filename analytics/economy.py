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
sentiment  UMCSENT, Michigan consumer       index points; 1 month (the final reading comes
           sentiment, monthly               out at the end of the period's month)
Fed path   DGS2 − FEDFUNDS, daily           2-year Treasury yield minus the fed funds rate,
                                            in %; DGS2 1 day (H.15), FEDFUNDS (a monthly
                                            average) 1 month + 1 day. Negative = markets
                                            price cuts. Each day pairs DGS2 with the latest
                                            FEDFUNDS month already published that day.
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
CONSUMER_SENTIMENT = EconomySpec("consumer_sentiment", "Consumer sentiment (Michigan)",
                                 ("UMCSENT",), 12)
FED_PATH = EconomySpec("fed_path", "Fed path (2y − fed funds)", ("DGS2", "FEDFUNDS"),
                       252)
ECONOMY_SPECS: tuple[EconomySpec, ...] = (UNEMPLOYMENT, GDP_GROWTH, JOBLESS_CLAIMS,
                                          CONSUMER_SENTIMENT, FED_PATH)
#: Release lag of each series after its FRED period date.
LAGS: dict[str, pd.DateOffset] = {
    "UNRATE": pd.DateOffset(months=1, days=7), "GDPC1": pd.DateOffset(months=4),
    "GDP": pd.DateOffset(months=4), "ICSA": pd.DateOffset(days=5),
    "UMCSENT": pd.DateOffset(months=1), "DGS2": pd.DateOffset(days=1),
    "FEDFUNDS": pd.DateOffset(months=1, days=1)}


def _shift(series: pd.Series, offset: pd.DateOffset) -> pd.Series:
    out = series.dropna().sort_index()
    out.index = pd.DatetimeIndex(out.index) + offset
    return out


def to_available(spec: EconomySpec, fred: Mapping[str, pd.Series]) -> tuple[pd.Series, str]:
    """(levels indexed by availability date, the FRED id used); KeyError when none is given.

    The index of the result is the availability date; ``attrs["period"]`` maps nothing — use
    :func:`period_of` to get an observation's period date back.
    """
    if spec is FED_PATH:
        return _fed_path(fred), "DGS2 − FEDFUNDS"
    source = next((s for s in spec.sources if s in fred and not fred[s].dropna().empty), None)
    if source is None:
        raise KeyError(spec.sources[0])
    raw = fred[source].dropna().sort_index().astype("float64")
    if spec is GDP_GROWTH:
        growth = ((raw / raw.shift(1)) ** 4 - 1) * 100
        return _shift(growth.dropna(), LAGS[source]), source
    if spec is JOBLESS_CLAIMS:
        return _shift(raw / 1000.0, LAGS[source]), source
    return _shift(raw, LAGS[source]), source


def _fed_path(fred: Mapping[str, pd.Series]) -> pd.Series:
    """DGS2 − FEDFUNDS by availability date (see the module docstring); KeyError when either
    series is missing or empty, or they never overlap."""
    for name in FED_PATH.sources:
        if name not in fred or fred[name].dropna().empty:
            raise KeyError(name)
    two = _shift(fred["DGS2"].astype("float64"), LAGS["DGS2"])
    funds = _shift(fred["FEDFUNDS"].astype("float64"), LAGS["FEDFUNDS"])
    pos = funds.index.searchsorted(two.index, side="right") - 1
    ok = pos >= 0
    if not ok.any():
        raise KeyError("FEDFUNDS")
    spread = two.to_numpy()[ok] - funds.to_numpy()[pos[ok]]
    return pd.Series(spread, index=two.index[ok], name="fed_path")


def period_of(spec: EconomySpec, available: pd.Timestamp) -> pd.Timestamp:
    """The FRED period date of an observation available on ``available`` (inverse of the lag;
    for the daily Fed path, the DGS2 date)."""
    if spec is GDP_GROWTH:
        return available - pd.DateOffset(months=4)
    if spec is UNEMPLOYMENT:
        return available - pd.DateOffset(days=7) - pd.DateOffset(months=1)
    if spec is CONSUMER_SENTIMENT:
        return available - pd.DateOffset(months=1)
    if spec is FED_PATH:
        return available - pd.DateOffset(days=1)
    return available - pd.DateOffset(days=5)
