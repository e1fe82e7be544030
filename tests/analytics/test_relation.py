"""A relation's n, r and 95% interval (Newey-West, never narrower than the conventional one); the
drivers' calls need that interval to exclude zero. Synthetic checks: an independent driver is
called in under 5% of trials; GDP on 2025-09-18 (r = −0.15, n = 26) is no reliable relation."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.linear_model import OLS

from analytics.drivers import calc_drivers
from analytics.relation import calc_relation, hac_lags, relation_of

DAYS = pd.bdate_range("2021-01-04", "2024-06-28")


def _bars(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"open": values, "high": values, "low": values, "close": values,
                         "adj_close": values, "volume": np.nan},
                        index=DAYS.rename("date"))


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    shocks = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = shocks[0] / np.sqrt(1 - phi ** 2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


def test_lag_rule_is_the_overlap_or_the_newey_west_plug_in() -> None:
    assert hac_lags(100) == 4 and hac_lags(156) == 4 and hac_lags(26) == 2
    assert hac_lags(756, overlap=21) == 20 and hac_lags(30, overlap=4) == 3


def test_interval_holds_r_and_is_never_narrower_than_the_conventional_one() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200)
    y = 0.3 * x + rng.standard_normal(200)
    rel = relation_of(x, y)
    assert rel is not None and rel.periods == 200 and rel.lags == hac_lags(200)
    assert rel.corr == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert rel.low < rel.corr < rel.high and rel.reliable and rel.p_value < 0.05
    design = np.column_stack([np.ones(200), (x - x.mean()) / x.std()])
    plain = OLS((y - y.mean()) / y.std(), design).fit().conf_int()[1]
    assert rel.high - rel.low >= plain[1] - plain[0] - 1e-12
    # the same pairs read as overlapping 21-day windows: a wider interval
    wide = relation_of(x, y, overlap=21)
    assert wide is not None and wide.lags == 20
    assert wide.high - wide.low > rel.high - rel.low


def test_no_relation_is_not_reliable_and_short_or_flat_input_is_none() -> None:
    idx = pd.date_range("2020-01-03", periods=30, freq="W-FRI")
    x = pd.Series(np.arange(30.0), index=idx)
    assert calc_relation(x.iloc[:25], x.iloc[:25]) is None
    assert calc_relation(pd.Series(1.0, index=idx), x) is None
    rng = np.random.default_rng(1)
    noise = pd.Series(rng.standard_normal(30), index=idx)
    rel = calc_relation(noise, pd.Series(rng.standard_normal(30), index=idx))
    assert rel is not None and rel.low < 0 < rel.high and not rel.reliable


def test_an_independent_autocorrelated_driver_is_called_in_under_5_percent_of_trials() -> None:
    """200 seeded trials: the 10-year yield is a strongly autocorrelated AR(1) (0.99 a day)
    generated independently of the RUT/SPX ratio (a random walk); the bot's own panel
    (weekly changes, 156 weeks; the call on the overlapping 21-session change)."""
    rng = np.random.default_rng(2026)
    n = len(DAYS)
    reliable = calls = 0
    trials = 200
    for _ in range(trials):
        spx = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n)))
        rut = spx * np.exp(np.cumsum(rng.normal(0, 0.006, n)))
        tnx = 3.0 + 0.05 * _ar1(rng, n, 0.99)
        panel = calc_drivers({"^RUT": _bars(rut), "^GSPC": _bars(spx), "^TNX": _bars(tnx)},
                             DAYS[-1].date())
        ten = next(r for r in panel.readings if r.key == "ten_year")
        assert ten.relation is not None and ten.relation.periods == 156
        reliable += ten.relation.reliable
        calls += ten.call in ("tailwind", "headwind")
        if not ten.relation.reliable:
            assert ten.call == "neutral" and "no reliable relation" in ten.reason
    assert reliable <= 0.05 * trials and calls <= 0.05 * trials


@pytest.mark.shared_data
def test_gdp_on_2025_09_18_is_no_reliable_relation(market_dir: Path) -> None:
    """Issue 10: GDP was called a tailwind on r = −0.15, n = 26, p = 0.46."""
    from bot.market_data.fred import read_fred_dir
    from bot.market_data.service import build_market_data
    from bot.settings import Settings

    snap = asyncio.run(build_market_data(Settings(), market_dir).snapshot())
    panel = calc_drivers(snap.bars, date(2025, 9, 18), fred=read_fred_dir(market_dir / "fred"))
    gdp = next(r for r in panel.readings if r.key == "gdp_growth")
    assert gdp.relation is not None and gdp.relation.periods == 26
    assert gdp.relation.corr == pytest.approx(-0.14, abs=0.02)
    assert gdp.relation.low < 0 < gdp.relation.high and not gdp.relation.reliable
    assert gdp.call == "neutral" and "no reliable relation to small caps" in gdp.reason
    assert "n=26" in gdp.reason
    # one reading per series: no curve (^TNX − ^IRX); KRE and IWN/IWO described, not counted
    keys = [r.key for r in panel.readings]
    assert "curve" not in keys and len(keys) == len(set(keys))
    for key in ("regional_banks", "small_value_growth"):
        assert next(r for r in panel.readings if r.key == key).call == "descriptive"
    assert set(panel.descriptive) == {"regional_banks", "small_value_growth"}
    counted = [r for r in panel.readings if not r.stale and r.call != "absent"
               and r.call != "descriptive"]
    assert panel.tailwinds + panel.headwinds + panel.neutral == len(counted)
    for r in panel.readings:  # every call rests on an interval that excludes zero
        if r.call in ("tailwind", "headwind"):
            assert r.relation is not None and r.relation.reliable
