"""Record primitives on tiny hand-built series: ties, NaN gaps, first-day records, empty input."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics.records import calc_record_gaps, to_record_dates, to_record_flags


def _series(values: list[float], start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def test_first_valid_close_is_a_record_and_ties_are_not() -> None:
    flags = to_record_flags(_series([10, 12, 12, 11, 13]))
    assert flags.tolist() == [True, True, False, False, True]


def test_nan_rows_are_ignored_not_treated_as_records() -> None:
    s = _series([np.nan, 10, np.nan, 9, 11])
    assert [d.day for d in to_record_dates(s)] == [2, 5]


def test_empty_and_all_nan_give_nothing() -> None:
    assert to_record_flags(_series([])).empty
    assert calc_record_gaps(_series([np.nan, np.nan])) == []


def test_gaps_count_calendar_days_and_sessions_and_append_open_drought() -> None:
    s = _series([10, 11, 9, 9, 12, 8, 8])  # Mon 1 Jan 2024 onwards, business days
    gaps = calc_record_gaps(s)
    assert [(g.start, g.end, g.days, g.sessions, g.open) for g in gaps] == [
        (date(2024, 1, 1), date(2024, 1, 2), 1, 1, False),
        (date(2024, 1, 2), date(2024, 1, 5), 3, 3, False),
        (date(2024, 1, 5), date(2024, 1, 9), 4, 2, True),
    ]


def test_asof_cuts_the_series_before_anything_is_computed() -> None:
    s = _series([10, 9, 8, 20])
    gaps = calc_record_gaps(s, asof=date(2024, 1, 3))
    assert len(gaps) == 1 and gaps[0].open and gaps[0].end == date(2024, 1, 3)


def test_a_series_ending_on_a_record_has_no_open_drought() -> None:
    assert not any(g.open for g in calc_record_gaps(_series([1, 2, 3])))
