"""RecordsSnapshot on tiny series: drawdown, droughts and rank, breakout, ties, round levels."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.records import calc_records_snapshot, calc_round_levels
from tests.analytics._frames import series


def test_empty_series_has_no_snapshot() -> None:
    assert calc_records_snapshot(series([]), date(2024, 1, 1)) is None
    assert calc_records_snapshot(series([np.nan, np.nan]), date(2024, 1, 5)) is None


def test_one_row_is_a_record_on_the_first_day_without_a_prior_gap() -> None:
    snap = calc_records_snapshot(series([250.0]), date(2024, 1, 1), round_step=100)
    assert snap is not None
    assert snap.is_record and snap.record_date == date(2024, 1, 1) and snap.drawdown == 0.0
    assert snap.prior_gap_days is None and not snap.breakout
    assert snap.drought_count == 0 and snap.drought_rank is None
    assert (snap.next_level, snap.nearest_level) == (300.0, 300.0)
    assert snap.records_ytd == 1 and snap.history_start == date(2024, 1, 1)


def test_drawdown_days_sessions_and_rank_of_the_open_drought() -> None:
    # Records Mon 1, Tue 2, Fri 5; then below it for 5 sessions (to Fri 12).
    s = series([10, 11, 9, 9, 12, 8, 8, 9, 10, 11])
    snap = calc_records_snapshot(s, s.index[-1].date())
    assert snap is not None and not snap.is_record
    assert snap.record_close == 12 and snap.record_date == date(2024, 1, 5)
    assert snap.drawdown == pytest.approx(11 / 12 - 1)
    assert (snap.days_since_record, snap.sessions_since_record) == (7, 5)
    # Closed gaps: 1 day, 3 days; the open one (7 days) is the longest of 3.
    assert (snap.drought_rank, snap.drought_count) == (1, 3)


def test_ties_at_the_record_are_not_new_records() -> None:
    s = series([10, 12, 12, 12])
    snap = calc_records_snapshot(s, s.index[-1].date())
    assert snap is not None
    assert not snap.is_record and snap.record_date == date(2024, 1, 2)
    assert snap.drawdown == 0.0 and snap.sessions_since_record == 2


def test_breakout_needs_a_gap_longer_than_the_threshold() -> None:
    s = pd.Series([100.0, 90.0, 100.5, 99.0, 101.0],
                  index=pd.DatetimeIndex(["2020-01-02", "2020-06-01", "2021-01-04",
                                          "2021-06-01", "2021-06-02"]))
    first = calc_records_snapshot(s, date(2021, 1, 4), gap_days=365)
    assert first is not None and first.is_record
    assert first.prior_gap_days == 368 and first.prior_gap_sessions == 2 and first.breakout
    assert first.prior_gap_rank == 1
    assert not calc_records_snapshot(s, date(2021, 1, 4), gap_days=368).breakout  # type: ignore[union-attr]
    later = calc_records_snapshot(s, date(2021, 6, 2), gap_days=365)
    assert later is not None and later.is_record and not later.breakout
    assert later.prior_gap_days == 149 and later.records_ytd == 2


def test_nan_gaps_are_ignored() -> None:
    s = series([10, np.nan, 12, np.nan])
    snap = calc_records_snapshot(s, s.index[-1].date())
    assert snap is not None and snap.asof == s.index[2].date() and snap.is_record


def test_flat_prices_keep_the_first_day_as_the_record() -> None:
    s = series([5.0] * 6)
    snap = calc_records_snapshot(s, s.index[-1].date())
    assert snap is not None and snap.record_date == s.index[0].date()
    assert snap.drawdown == 0.0 and snap.drought_rank == 1 and snap.drought_count == 1


def test_round_levels_next_is_strictly_above_and_nearest_is_signed() -> None:
    assert calc_round_levels(2434.14, 100) == (2500.0, 2400.0)
    assert calc_round_levels(2500.0, 100) == (2600.0, 2500.0)
    assert calc_round_levels(2450.0, 100) == (2500.0, 2500.0)
    assert calc_round_levels(2434.14, 500) == (2500.0, 2500.0)
    with pytest.raises(ValueError):
        calc_round_levels(10.0, 0)
    snap = calc_records_snapshot(series([2434.14]), date(2024, 1, 1), round_step=100)
    assert snap is not None
    assert snap.next_level_distance == pytest.approx(2500 / 2434.14 - 1)
    assert snap.nearest_level_distance < 0


def test_records_ytd_counts_only_the_asof_year() -> None:
    s = pd.Series([1.0, 2.0, 3.0, 2.5, 4.0],
                  index=pd.DatetimeIndex(["2023-12-27", "2023-12-28", "2024-01-02",
                                          "2024-01-03", "2024-01-04"]))
    snap = calc_records_snapshot(s, date(2024, 1, 3))
    assert snap is not None and snap.records_ytd == 1
    assert not math.isnan(snap.drawdown)


def test_equal_droughts_rank_the_older_one_first() -> None:
    # Records Mon 1, Wed 3, Fri 5: two gaps of 2 days and 2 sessions each. The one that ends
    # on Fri 5 ties the older one, which ranks first.
    s = series([10, 9, 11, 9, 12])
    snap = calc_records_snapshot(s, s.index[-1].date())
    assert snap is not None and snap.prior_gap_days == 2 and snap.prior_gap_rank == 2
    # The open drought from Fri 5 to Tue 9 (4 days) outranks both.
    longer = series([10, 9, 11, 9, 12, 11, 11])
    snap = calc_records_snapshot(longer, longer.index[-1].date())
    assert snap is not None and snap.drought_rank == 1 and snap.drought_count == 3


def test_nearest_round_level_is_never_zero() -> None:
    assert calc_round_levels(42.51, 100) == (100.0, 100.0)
