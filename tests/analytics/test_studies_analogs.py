"""Days like today (analytics/studies/analogs.py, analog_features.py) on tiny hand-built frames:
the feature vector, the robust scale, the distance with a missing driver, the declustering rule,
the random-set test, and no look-ahead."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.leadership import InsufficientData, calc_relative_strength
from analytics.studies.analog_features import (
    CORE_FEATURES,
    FeatureSpec,
    calc_robust_scale,
    to_analog_features,
)
from analytics.studies.analogs import (
    calc_analog_paths,
    calc_analogs,
    calc_distances,
    pick_separated,
    random_separated_sets,
)
from tests.analytics._frames import series, trending

RUT_START = date(1990, 1, 2)


def ramp(n: int, step: float = 0.001) -> tuple[pd.Series, pd.Series]:
    """spx flat at 100, rut = 100 * (1 + step * t): the ratio is 1 + step * t."""
    spx = series([100.0] * n, "2020-01-01")
    return series(100.0 * (1.0 + step * np.arange(n)), "2020-01-01"), spx


def test_features_of_a_linear_ratio_match_the_closed_forms() -> None:
    rut, spx = ramp(300)
    f = to_analog_features(rut, spx)
    t = 299
    ratio = 1 + 0.001 * t
    sma200 = 1 + 0.001 * (t - 99.5)
    sma50 = 1 + 0.001 * (t - 24.5)
    last = f.iloc[t]
    assert last["vs_sma200"] == pytest.approx(ratio / sma200 - 1)
    assert last["vs_sma50"] == pytest.approx(ratio / sma50 - 1)
    assert last["rel_1m"] == pytest.approx(ratio / (1 + 0.001 * (t - 21)) - 1)
    assert last["rel_3m"] == pytest.approx(ratio / (1 + 0.001 * (t - 63)) - 1)
    assert last["above_200d"] == 1.0 and last["rising_200d"] == 1.0
    assert last["streak_sessions"] == t - 49 + 1          # above its 50-day since row 49
    assert last["streak"] == pytest.approx(np.log1p(t - 49 + 1))
    assert last["drawdown"] == 0.0                        # rising every day: always a record
    # warm-up: NaN until each window is full
    assert np.isnan(f["vs_sma200"].iloc[198]) and not np.isnan(f["vs_sma200"].iloc[199])
    assert np.isnan(f["rising_200d"].iloc[219]) and f["rising_200d"].iloc[220] == 1.0
    assert np.isnan(f["streak"].iloc[48])


def test_falling_ratio_gives_the_large_cap_regime_and_a_negative_streak() -> None:
    rut, spx = ramp(300, step=-0.001)
    last = to_analog_features(rut, spx).iloc[-1]
    assert last["above_200d"] == 0.0 and last["rising_200d"] == 0.0
    assert last["streak_sessions"] == -(299 - 49 + 1)
    assert last["drawdown"] == pytest.approx(rut.iloc[-1] / rut.iloc[0] - 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_streak_and_averages_agree_with_leadership(seed: int) -> None:
    rut, spx = trending(700, seed=seed), trending(700, seed=seed + 10, drift=0.0005)
    f = to_analog_features(rut, spx)
    ratio = rut / spx
    for i in (120, 260, 431, 699):
        day = f.index[i].date()
        rs = calc_relative_strength(ratio, day)
        sign = {"small": 1, "large": -1, "even": 0}[rs.leader]
        assert f["streak_sessions"].iloc[i] == sign * rs.streak_sessions
        assert f["vs_sma50"].iloc[i] == pytest.approx(rs.vs_sma50)
        if i >= 221:
            assert f["vs_sma200"].iloc[i] == pytest.approx(rs.vs_sma200)
            assert bool(f["rising_200d"].iloc[i]) == rs.sma200_rising
            assert bool(f["above_200d"].iloc[i]) == (rs.ratio > rs.sma200)


def test_drawdown_is_from_the_highest_close_so_far() -> None:
    rut = series([100, 120, 90, 130, 117, 117])
    spx = series([100] * 6)
    f = to_analog_features(rut, spx)
    assert f["drawdown"].tolist() == pytest.approx([0, 0, -0.25, 0, -0.1, -0.1])


def test_driver_features_are_read_as_of_each_session_and_dropped_when_stale() -> None:
    rut, spx = ramp(80)
    tnx = series(4.0 + 0.01 * np.arange(40), "2020-01-01")      # 40 observations only
    vix = series([20.0] * 30, "2020-01-01")
    f = to_analog_features(rut, spx, {"^TNX": tnx, "^VIX": vix})
    assert np.isnan(f["tnx_1m"].iloc[20])                      # fewer than 21 changes
    assert f["tnx_1m"].iloc[30] == pytest.approx(21.0)          # 21 obs x 1 bp
    assert f["tnx_1m"].iloc[40] == pytest.approx(21.0)          # last obs 1 day old: kept
    assert np.isnan(f["tnx_1m"].iloc[60])                       # weeks old: NaN, not carried
    assert f["vix"].iloc[29] == 20.0 and np.isnan(f["vix"].iloc[60])
    assert "tnx_1m" not in to_analog_features(rut, spx).columns


def test_robust_scale_rule() -> None:
    x = pd.Series([1.0, 2.0, 3.0, 4.0, 100.0])                 # median 3, |dev| 2,1,0,1,97
    assert calc_robust_scale(x) == pytest.approx(1.4826 * 1.0)
    assert calc_robust_scale(pd.Series([5.0, 5.0, 5.0, 6.0, 5.0])) == pytest.approx(
        np.std([5, 5, 5, 6, 5], ddof=1))                       # MAD 0 → std
    assert calc_robust_scale(pd.Series([2.0, 2.0])) == 1.0
    assert calc_robust_scale(pd.Series([np.nan])) == 1.0


def test_distance_is_weighted_euclidean_renormalised_over_present_features() -> None:
    specs = [FeatureSpec("a", "a", 1.0), FeatureSpec("b", "b", 3.0, core=False)]
    rows = pd.DataFrame({"a": [1.0, 3.0, 1.0], "b": [0.0, 2.0, np.nan]})
    query = pd.Series({"a": 1.0, "b": 0.0})
    d = calc_distances(rows, query, specs, {"a": 2.0, "b": 1.0})
    assert d[0] == 0.0
    assert d[1] == pytest.approx(np.sqrt(1.0 * 1.0 + 3.0 * 4.0))
    assert d[2] == 0.0                 # b missing: judged on a alone, scaled by 4/1
    rows.loc[2, "a"] = 3.0
    d = calc_distances(rows, query, specs, {"a": 2.0, "b": 1.0})
    assert d[2] == pytest.approx(np.sqrt(1.0 * 1.0 * 4.0 / 1.0))


def test_declustering_keeps_the_closest_of_each_cluster() -> None:
    positions = np.array([100, 105, 130, 140, 200, 221])
    order = np.array([1, 0, 3, 2, 4, 5])     # 105 is closest, then 100, 140, 130, 200, 221
    assert pick_separated(order, positions, 10, 21) == [1, 3, 4, 5]   # 221 - 200 = 21: apart
    assert pick_separated(order, positions, 2, 21) == [1, 3]
    assert pick_separated(order, positions, 10, 22) == [1, 3, 4]


def test_random_sets_obey_the_spacing_and_the_seed() -> None:
    pool = np.arange(500, 3000)
    a = random_separated_sets(pool, 8, 21, 300, seed=3)
    b = random_separated_sets(pool, 8, 21, 300, seed=3)
    assert a.shape == (300, 8) and np.array_equal(a, b)
    assert (np.diff(pool[a], axis=1) >= 21).all()
    assert a.min() >= 0 and a.max() < len(pool)
    assert len(np.unique(a[:, 0])) > 100                     # spread, not one fixed set
    tight = np.arange(100)                       # room for 5 sessions 21 apart …
    assert random_separated_sets(tight, 5, 21, 10, seed=1).shape == (10, 5)
    assert random_separated_sets(tight, 6, 21, 10, seed=1).shape == (0, 6)   # … but not 6


@pytest.fixture(scope="module")
def walk() -> tuple[pd.Series, pd.Series]:
    return trending(3000, start="1990-01-01", seed=5), trending(3000, start="1990-01-01",
                                                                 seed=6, drift=0.0004)


def test_analogs_respect_pool_spacing_exclusion_and_forward_window(walk) -> None:
    rut, spx = walk
    asof = rut.index[-1].date()
    study = calc_analogs(rut, spx, asof, k=12, draws=300, inception=RUT_START)
    assert len(study.analogs) == 12
    index = rut.index
    pos = sorted(int(index.get_loc(pd.Timestamp(a.date))) for a in study.analogs)
    q = len(index) - 1
    assert (np.diff(pos) >= 21).all()
    assert max(pos) <= q - 252
    assert min(pos) >= 220                           # 200 + 21 - 1: every core feature
    distances = [a.distance for a in study.analogs]
    assert distances == sorted(distances)
    # outcomes are the plain forward returns
    a = study.analogs[0]
    p = int(index.get_loc(pd.Timestamp(a.date)))
    assert a.rut[-1] == pytest.approx(rut.iloc[p + 252] / rut.iloc[p] - 1)
    ratio = rut / spx
    assert a.relative[0] == pytest.approx(ratio.iloc[p + 21] / ratio.iloc[p] - 1)
    # the baseline is the whole pool
    c = study.comparison("^GSPC", 63)
    fwd = (spx.shift(-63) / spx - 1).iloc[220: q - 252 + 1]
    assert study.pool_size == len(fwd) == c.baseline.count
    assert c.baseline.mean == pytest.approx(fwd.mean())
    assert c.baseline.hit_rate == pytest.approx((fwd > 0).mean())


def test_no_look_ahead_in_features_or_analogs(walk) -> None:
    rut, spx = walk
    cut = rut.index[2200]
    noise = np.exp(np.random.default_rng(9).normal(0, 0.05, len(rut)))
    late = rut.index > cut
    rut2, spx2 = rut.where(~late, rut * noise), spx.where(~late, spx / noise)
    extra = pd.bdate_range(rut.index[-1] + pd.Timedelta(days=1), periods=50)
    rut2 = pd.concat([rut2, pd.Series(1.0, index=extra)])
    spx2 = pd.concat([spx2, pd.Series(9.0, index=extra)])
    tnx = pd.Series(np.linspace(3, 5, len(rut)), index=rut.index)
    tnx2 = tnx.where(~late, 0.0)
    f1 = to_analog_features(rut, spx, {"^TNX": tnx}).loc[:cut]
    f2 = to_analog_features(rut2, spx2, {"^TNX": tnx2}).loc[:cut]
    pd.testing.assert_frame_equal(f1, f2)
    asof = cut.date()
    one = calc_analogs(rut, spx, asof, draws=200, drivers={"^TNX": tnx})
    two = calc_analogs(rut2, spx2, asof, draws=200, drivers={"^TNX": tnx2})
    three = calc_analogs(rut.loc[:cut], spx.loc[:cut], asof, draws=200,
                         drivers={"^TNX": tnx.loc[:cut]})
    assert repr(one) == repr(two) == repr(three)
    p1, p2 = calc_analog_paths(rut, spx, one, draws=50), calc_analog_paths(rut2, spx2, two,
                                                                          draws=50)
    assert np.array_equal(p1.band_mid, p2.band_mid)
    assert all(np.array_equal(a, b) for a, b in zip(p1.paths, p2.paths, strict=True))


def test_a_predictable_history_is_flagged_as_different_from_a_random_day() -> None:
    """log(RUT/SPX) is a sine of period 504 sessions: today's features fix the phase, so the
    analogs' forward returns equal today's future and sit far outside the random-set band.
    Today (t = 11 x 504) is a rising zero crossing: +5.3% over 21 sessions, +14% over 63."""
    n = 6000
    t = np.arange(n)
    spx = series(np.full(n, 100.0), "1990-01-01")
    rut = series(100.0 * np.exp(0.2 * np.sin(2 * np.pi * t / 504)), "1990-01-01")
    study = calc_analogs(rut, spx, rut.index[11 * 504].date(), k=10, draws=500)
    for h in (21, 63):
        c = study.comparison("relative", h)
        assert c.p_value < 0.05 and not c.indistinguishable
        assert not c.band_low <= c.analogs.mean <= c.band_high
        assert c.analogs.mean == pytest.approx(np.exp(0.2 * np.sin(2 * np.pi * h / 504)) - 1,
                                               abs=0.01)
    # a constant-drift ratio: every day alike, so the analogs are like any day
    flat = calc_analogs(series(100 * np.exp(0.0002 * t), "1990-01-01"), spx,
                        rut.index[5800].date(), k=10, draws=500)
    assert all(c.indistinguishable for c in flat.comparisons if c.series == "relative")


def test_drawdown_is_left_out_when_the_history_misses_the_inception(walk) -> None:
    rut, spx = walk
    asof = rut.index[-1].date()
    full = calc_analogs(rut, spx, asof, draws=100, inception=rut.index[0].date())
    partial = calc_analogs(rut, spx, asof, draws=100, inception=None)
    dd = {s.history_complete: s.feature("drawdown") for s in (full, partial)}
    assert dd[True] is not None and dd[True].used
    assert dd[False] is not None and not dd[False].used and "inception" in dd[False].reason
    assert not partial.history_complete


def test_bad_parameters_and_short_history() -> None:
    rut, spx = ramp(400)
    with pytest.raises(InsufficientData, match="too little history"):
        calc_analogs(rut, spx, rut.index[200].date())
    with pytest.raises(InsufficientData, match="analogs need more history"):
        calc_analogs(rut, spx, rut.index[-1].date())
    with pytest.raises(ValueError, match="k must be"):
        calc_analogs(rut, spx, rut.index[-1].date(), k=0)
    assert [s.key for s in CORE_FEATURES][:2] == ["above_200d", "rising_200d"]
