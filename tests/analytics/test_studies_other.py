"""Droughts, cycles and rate days on tiny hand-built series, edge cases included."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.studies.cycles import calc_cycles, to_ratio
from analytics.studies.droughts import calc_droughts
from analytics.studies.rates import calc_rate_study


def _series(values: list[float], start: str = "2020-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"),
                     dtype="float64")


LAST = date(2020, 12, 31)

# ---------------------------------------------------------------- droughts


def test_droughts_longest_first_with_open_drought_ranked_and_depth() -> None:
    prices = _series([10, 8, 9, 11, 12, 6, 7, 13, 12, 11, 10, 9, 9])
    table = calc_droughts(prices, LAST)
    assert [(d.rank, d.start.day, d.days, d.open) for d in table.droughts] == [
        (1, 8, 5, True), (2, 1, 3, False), (3, 5, 3, False), (4, 4, 1, False)]
    cur = table.current
    assert cur is not None and cur.rank == 1 and cur.depth == pytest.approx(9 / 13 - 1)
    assert table.droughts[1].depth == pytest.approx(8 / 10 - 1)
    assert table.droughts[1].low_date == date(2020, 1, 2)
    assert table.droughts[3].depth == 0.0  # consecutive records: nothing in between
    assert table.total == 4


def test_min_days_filters_listing_not_ranks() -> None:
    prices = _series([10, 8, 9, 11, 12, 6, 7, 13, 12, 11, 10, 9, 9])
    table = calc_droughts(prices, LAST, min_days=4)
    assert [(d.rank, d.days) for d in table.droughts] == [(1, 5)] and table.total == 4
    with pytest.raises(ValueError):
        calc_droughts(prices, LAST, min_days=-1)


def test_droughts_edge_cases_empty_one_row_flat_ties_nan() -> None:
    assert calc_droughts(_series([]), LAST).droughts == ()
    one = calc_droughts(_series([5.0]), LAST)
    assert (one.total, one.current, one.data_start) == (0, None, date(2020, 1, 1))
    flat = calc_droughts(_series([5.0] * 4), LAST)  # ties are not records: one open drought
    assert [(d.days, d.open, d.depth) for d in flat.droughts] == [(3, True, 0.0)]
    nan = calc_droughts(_series([5, np.nan, 4, 6]), LAST)
    assert [(d.days, d.sessions) for d in nan.droughts] == [(3, 2)]


def test_droughts_ignore_data_after_asof() -> None:
    prices = _series([10, 8, 9, 11, 12, 6, 7, 13, 12])
    asof = date(2020, 1, 6)
    assert calc_droughts(prices, asof) == calc_droughts(prices.loc[:"2020-01-06"], asof)
    assert calc_droughts(prices, asof).current is not None


# ---------------------------------------------------------------- cycles


def test_cycles_swing_rule_dates_regimes_at_turning_points() -> None:
    ratio_path = [1.0, 1.05, 1.2, 1.3, 1.25, 1.1, 1.0, 0.95, 1.0, 1.12, 1.15]
    rut = _series(ratio_path)
    spx = _series([1.0] * len(ratio_path))
    study = calc_cycles(rut, spx, LAST, swing=0.15)
    got = [(r.leader, r.start.day, r.end.day, r.open) for r in study.regimes]
    assert got == [("small", 1, 4, False), ("large", 4, 8, False), ("small", 8, 11, True)]
    first, second, third = study.regimes
    assert first.relative_return == pytest.approx(0.3) and first.sessions == 3
    assert second.relative_return == pytest.approx(0.95 / 1.3 - 1)
    assert study.current == third and study.current_extreme_date == date(2020, 1, 11)
    assert study.current_from_extreme == 0.0
    assert len(study.ratio) == len(ratio_path)


def test_cycles_before_any_swing_is_one_open_regime_and_late_starter_aligned() -> None:
    rut = _series([1.0, 1.02, 1.01, 1.03])
    spx = _series([1.0, 1.0, 1.0], start="2020-01-02")  # starts a day later
    study = calc_cycles(rut, spx, LAST)
    (only,) = study.regimes
    assert only.open and only.start == date(2020, 1, 2) and only.leader == "small"
    assert study.current_extreme_date is None
    assert calc_cycles(_series([]), _series([]), LAST).regimes == ()
    assert calc_cycles(_series([1.0]), _series([1.0]), LAST).regimes == ()
    with pytest.raises(ValueError):
        calc_cycles(rut, spx, LAST, swing=15)


def test_ratio_drops_nan_and_cuts_at_asof() -> None:
    ratio = to_ratio(_series([2, np.nan, 4, 6]), _series([1, 1, 2, 2]), date(2020, 1, 3))
    assert ratio.tolist() == [2.0, 2.0]


def test_cycles_no_look_ahead() -> None:
    rng = np.random.default_rng(3)
    rut = _series(list(np.exp(np.cumsum(rng.normal(0, 0.02, 300)))))
    spx = _series(list(np.exp(np.cumsum(rng.normal(0, 0.01, 300)))))
    asof = date(2020, 7, 1)
    full, cut = calc_cycles(rut, spx, asof), calc_cycles(rut.loc[:"2020-07-01"],
                                                         spx.loc[:"2020-07-01"], asof)
    assert full == cut and full.ratio.equals(cut.ratio)


# ---------------------------------------------------------------- rates


def test_rate_days_bucket_by_bp_move_on_common_dates() -> None:
    rut = _series([100, 101, 99, 99, 102])
    spx = _series([100, 100, 100, 101, 101])
    # day 4 is a bond holiday: no yield row, so day 5's change spans days 3..5 for all three
    tnx = pd.Series([4.00, 3.90, 4.06, 4.00],
                    index=pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-03",
                                            "2020-01-05"]))
    study = calc_rate_study(rut, spx, tnx, LAST, bp=6)
    assert study.all_days.days == 3
    assert study.falling.days == 2 and study.rising.days == 1
    assert study.falling.rut_mean == pytest.approx(((101 / 100 - 1) + (102 / 99 - 1)) / 2)
    assert study.falling.spx_mean == pytest.approx((0 + (101 / 100 - 1)) / 2)
    assert study.rising.difference == pytest.approx(99 / 101 - 1)
    assert study.falling.small_beat_share == 1.0
    assert (study.start, study.end) == (date(2020, 1, 2), date(2020, 1, 5))


def test_rate_days_window_and_errors_and_empty() -> None:
    rut, spx = _series([1, 2, 3, 4]), _series([1, 1, 1, 1])
    tnx = _series([1.0, 1.1, 1.0, 1.2])
    study = calc_rate_study(rut, spx, tnx, date(2020, 1, 4), bp=5, start=date(2020, 1, 3))
    assert study.all_days.days == 2 and study.rising.days == 1 and study.falling.days == 1
    empty = calc_rate_study(_series([]), _series([]), _series([]), LAST)
    assert empty.all_days.days == 0 and math.isnan(empty.all_days.rut_mean)
    for kwargs in ({"bp": 0}, {"years": -1}, {"years": 1, "start": date(2020, 1, 1)}):
        with pytest.raises(ValueError):
            calc_rate_study(rut, spx, tnx, LAST, **kwargs)


def test_rate_days_no_look_ahead() -> None:
    rut, spx = _series([1, 2, 3, 4, 9]), _series([1, 1, 1, 1, 1])
    tnx = _series([1.0, 1.1, 1.0, 1.2, 0.1])
    asof = date(2020, 1, 4)
    assert calc_rate_study(rut, spx, tnx, asof) == calc_rate_study(
        rut.iloc[:4], spx.iloc[:4], tnx.iloc[:4], asof)
