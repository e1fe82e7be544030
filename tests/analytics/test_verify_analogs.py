"""Days like today on the real history (../shared/data/market; skipped where absent), as of
2025-09-18 (the breakout) and 2024-12-02: today's features against independent computations
(leadership, records, plain pandas), the analogs' spacing and outcomes, the baseline, and no
look-ahead (data cut at ``asof`` gives the same study)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.leadership import calc_relative_strength
from analytics.records import calc_records_snapshot
from analytics.series import to_price
from analytics.studies.analogs import AnalogStudy, calc_analogs
from bot.market_data.inception import inception_of
from bot.market_data.service import build_market_data
from bot.settings import Settings

DATES = [date(2025, 9, 18), date(2024, 12, 2)]


@pytest.fixture(scope="module")
def prices(market_dir: Path) -> dict[str, pd.Series]:
    md = build_market_data(Settings(), market_dir)
    snap = asyncio.run(md.snapshot(["^RUT", "^GSPC", "^TNX", "^VIX"]))
    return {s: to_price(snap.frame(s)) for s in ("^RUT", "^GSPC", "^TNX", "^VIX")}


def _study(prices: dict[str, pd.Series], asof: date, cut: bool = False) -> AnalogStudy:
    p = {s: v.loc[: pd.Timestamp(asof)] for s, v in prices.items()} if cut else prices
    return calc_analogs(p["^RUT"], p["^GSPC"], asof,
                        drivers={"^TNX": p["^TNX"], "^VIX": p["^VIX"]},
                        inception=inception_of("^RUT"))


@pytest.mark.parametrize("asof", DATES)
def test_todays_features_match_leadership_and_records(prices: dict[str, pd.Series],
                                                      asof: date) -> None:
    study = _study(prices, asof)
    rut, spx = prices["^RUT"], prices["^GSPC"]
    ratio = (rut / spx).dropna()
    rs = calc_relative_strength(ratio, asof)
    rec = calc_records_snapshot(rut, asof, inception=inception_of("^RUT"))
    assert rec is not None and rec.history_complete and study.history_complete
    value = {f.key: f.value for f in study.features}
    assert value["vs_sma200"] == pytest.approx(rs.vs_sma200)
    assert value["vs_sma50"] == pytest.approx(rs.vs_sma50)
    assert study.regime == rs.regime
    sign = {"small": 1, "large": -1, "even": 0}[rs.leader]
    assert study.streak_sessions == sign * rs.streak_sessions
    assert value["drawdown"] == pytest.approx(rec.drawdown)
    cut = ratio.loc[: pd.Timestamp(asof)]
    assert value["rel_1m"] == pytest.approx(cut.iloc[-1] / cut.iloc[-22] - 1)
    assert value["rel_3m"] == pytest.approx(cut.iloc[-1] / cut.iloc[-64] - 1)
    tnx = prices["^TNX"].loc[: pd.Timestamp(asof)]
    assert value["tnx_1m"] == pytest.approx((tnx.iloc[-1] - tnx.iloc[-22]) * 100)
    assert value["vix"] == pytest.approx(prices["^VIX"].loc[: pd.Timestamp(asof)].iloc[-1])
    assert all(f.used for f in study.features)


@pytest.mark.parametrize("asof", DATES)
def test_analogs_are_spaced_past_and_their_outcomes_are_plain_returns(
        prices: dict[str, pd.Series], asof: date) -> None:
    study = _study(prices, asof)
    rut, spx = prices["^RUT"], prices["^GSPC"]
    common = pd.concat({"rut": rut, "spx": spx}, axis=1, join="inner").dropna()
    index = common.index
    q = int(index.get_loc(pd.Timestamp(asof)))
    pos = np.array([index.get_loc(pd.Timestamp(a.date)) for a in study.analogs])
    assert len(study.analogs) == 10
    assert (pos <= q - 252).all()                          # outside today's last year
    assert (np.diff(np.sort(pos)) >= 21).all()             # one per cluster
    assert [a.distance for a in study.analogs] == sorted(a.distance for a in study.analogs)
    assert len({a.date.year for a in study.analogs}) >= 5  # spread over history
    for a, p in zip(study.analogs, pos, strict=True):
        for j, h in enumerate(study.horizons):
            assert a.rut[j] == pytest.approx(common["rut"].iloc[p + h] / common["rut"].iloc[p]
                                             - 1)
            assert a.spx[j] == pytest.approx(common["spx"].iloc[p + h] / common["spx"].iloc[p]
                                             - 1)
    # baseline: every pool day's 1-year S&P 500 price return
    start = int(index.get_loc(pd.Timestamp(study.pool_start)))
    fwd = (common["spx"].shift(-252) / common["spx"] - 1).iloc[start: q - 252 + 1]
    base = study.comparison("^GSPC", 252).baseline
    assert base.count == study.pool_size == len(fwd)
    assert base.mean == pytest.approx(fwd.mean()) and base.median == pytest.approx(fwd.median())
    for c in study.comparisons:
        assert 0 < c.p_value <= 1 and c.band_low < c.baseline.mean < c.band_high
        assert c.indistinguishable == (c.p_value >= 0.05)


@pytest.mark.parametrize("asof", DATES)
def test_no_look_ahead_on_real_history(prices: dict[str, pd.Series], asof: date) -> None:
    assert repr(_study(prices, asof)) == repr(_study(prices, asof, cut=True))
