"""Breakout study on tiny hand-built series: the event rule, forward returns, incomplete events,
statistics and the edge cases (empty, one row, NaN gaps, flat, first-day record, ties, late
starters)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.studies.breakouts import calc_breakout_study


def _series(values: list[float], start: str = "2020-01-01", freq: str = "D") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq=freq),
                     dtype="float64")


# Daily calendar rows: record on day 0 (10), dip, new record on day 5 (11) after a 5-day gap,
# record day 6 (12, gap 1), dip, record day 12 (13, gap 6).
RUT = _series([10, 9, 8, 9, 10, 11, 12, 11, 10, 11, 12, 12, 13, 12, 14])
SPX = _series([100, 101, 102, 103, 104, 105, 106, 108, 104, 110, 111, 112, 113, 115, 116])
LAST = date(2020, 1, 15)


def test_events_are_first_records_after_gap_longer_than_gap_days() -> None:
    study = calc_breakout_study(RUT, SPX, LAST, gap_days=4, horizons=(1, 2))
    assert [e.date for e in study.events] == [date(2020, 1, 6), date(2020, 1, 13)]
    first = study.events[0]
    assert (first.previous_record_date, first.gap_days, first.gap_sessions) == (
        date(2020, 1, 1), 5, 5)
    assert first.close == 11 and first.previous_record_close == 10
    # gap must be MORE than gap_days: a 5-day gap is not an event at gap_days=5
    assert [e.date for e in calc_breakout_study(RUT, SPX, LAST, gap_days=5,
                                                horizons=(1,)).events] == [date(2020, 1, 13)]


def test_forward_price_returns_of_both_indices_at_session_horizons() -> None:
    study = calc_breakout_study(RUT, SPX, LAST, gap_days=4, horizons=(1, 2))
    first = study.events[0]
    assert first.spx_returns == pytest.approx((106 / 105 - 1, 108 / 105 - 1))
    assert first.rut_returns == pytest.approx((12 / 11 - 1, 11 / 11 - 1))
    assert first.complete and not first.live


def test_incomplete_event_is_listed_with_return_so_far_and_left_out_of_stats() -> None:
    study = calc_breakout_study(RUT, SPX, LAST, gap_days=4, horizons=(1, 3))
    last = study.events[-1]  # 2020-01-13, two sessions of data after it
    assert not last.complete and last.live and study.live_event == last
    assert last.sessions_so_far == 2
    assert last.spx_returns[0] == pytest.approx(115 / 113 - 1) and last.spx_returns[1] is None
    assert last.spx_so_far == pytest.approx(116 / 113 - 1)
    assert last.rut_so_far == pytest.approx(14 / 13 - 1)
    h1, h3 = study.spx_stats
    assert (h1.count, h1.incomplete) == (2, 0)
    assert (h3.count, h3.incomplete) == (1, 1)
    assert h3.mean == pytest.approx(104 / 105 - 1) and h3.hits == 0 and h3.hit_rate == 0


def test_stats_hit_rate_mean_median_min_max() -> None:
    study = calc_breakout_study(RUT, SPX, LAST, gap_days=4, horizons=(1,))
    (h,) = study.spx_stats
    rets = [106 / 105 - 1, 115 / 113 - 1]
    assert (h.count, h.hits, h.hit_rate) == (2, 2, 1.0)
    assert h.mean == pytest.approx(np.mean(rets)) and h.median == pytest.approx(np.median(rets))
    assert (h.min, h.max) == pytest.approx((min(rets), max(rets)))


def test_event_on_asof_is_live_with_nothing_forward() -> None:
    study = calc_breakout_study(RUT, SPX, date(2020, 1, 13), gap_days=4, horizons=(1,))
    live = study.live_event
    assert live is not None and live.date == date(2020, 1, 13) and live.sessions_so_far == 0
    assert live.spx_returns == (None,) and live.spx_so_far == 0.0


def test_gspc_can_define_the_events() -> None:
    study = calc_breakout_study(RUT, SPX, LAST, gap_days=1, horizons=(1,), event_index="^GSPC")
    assert [e.date for e in study.events] == [date(2020, 1, 10)]  # 110 after 108 on day 7


def test_data_after_asof_never_changes_the_answer() -> None:
    asof = date(2020, 1, 14)
    full = calc_breakout_study(RUT, SPX, asof, gap_days=4, horizons=(1, 2))
    cut = calc_breakout_study(RUT.loc[:"2020-01-14"], SPX.loc[:"2020-01-14"], asof,
                              gap_days=4, horizons=(1, 2))
    assert full == cut


def test_empty_and_one_row_give_no_events() -> None:
    empty = calc_breakout_study(_series([]), _series([]), LAST)
    assert empty.events == () and empty.data_start is None and empty.last_record_date is None
    assert empty.spx_stats[0].count == 0 and math.isnan(empty.spx_stats[0].mean)
    one = calc_breakout_study(_series([5.0]), _series([7.0]), LAST)
    assert one.events == () and one.last_record_date == date(2020, 1, 1)
    assert one.days_since_record == 0


def test_nan_rows_are_skipped_and_horizons_count_valid_sessions() -> None:
    rut = _series([10, np.nan, 8, 11, np.nan, 12])
    spx = _series([1, 2, 3, 4, np.nan, 5])
    study = calc_breakout_study(rut, spx, LAST, gap_days=2, horizons=(1,))
    (event,) = study.events
    assert event.date == date(2020, 1, 4) and event.gap_sessions == 2  # NaN row not counted
    assert event.rut_returns[0] == pytest.approx(12 / 11 - 1)
    assert event.spx_returns[0] == pytest.approx(5 / 4 - 1)


def test_flat_prices_and_ties_are_not_records() -> None:
    flat = calc_breakout_study(_series([5.0] * 30), _series([5.0] * 30), LAST, gap_days=1)
    assert flat.events == () and flat.last_record_date == date(2020, 1, 1)
    tie = _series([10, 9, 10, 9, 10, 11])  # ties on days 2 and 4 are not records
    study = calc_breakout_study(tie, tie, LAST, gap_days=4, horizons=(1,))
    assert [(e.date, e.previous_record_date) for e in study.events] == [
        (date(2020, 1, 6), date(2020, 1, 1))]


def test_record_on_first_day_is_not_an_event() -> None:
    study = calc_breakout_study(_series([10, 11, 12]), _series([1, 1, 1]), LAST, gap_days=1)
    assert study.events == () and study.last_record_date == date(2020, 1, 3)


def test_other_index_starting_later_gives_none_not_an_error() -> None:
    rut = _series([10, 9, 9, 9, 11, 12, 13])
    spx = _series([100, 101, 102], start="2020-01-06")
    study = calc_breakout_study(rut, spx, LAST, gap_days=2, horizons=(1,))
    (event,) = study.events  # 2020-01-05: S&P 500 has no close on or before it
    assert event.spx_returns == (None,) and event.spx_so_far is None
    assert event.rut_returns[0] == pytest.approx(12 / 11 - 1)
    assert study.spx_stats[0].count == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"gap_days": 0}, "gap_days"), ({"horizons": (0, 5)}, "horizons"),
    ({"horizons": ()}, "horizons"), ({"event_index": "^IXIC"}, "event_index"),
])
def test_bad_parameters_raise_value_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calc_breakout_study(RUT, SPX, LAST, **kwargs)
