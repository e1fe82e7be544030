"""Returns over session windows: formulas, too-short history, NaN gaps, YTD anchoring, asof cut."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.returns import (
    WINDOWS,
    calc_base_date,
    calc_return,
    calc_return_row,
    calc_returns,
)
from tests.analytics._frames import bars, series


def test_session_windows_count_rows_back_from_the_last_close() -> None:
    s = series(range(1, 301))  # 1..300
    asof = s.index[-1].date()
    assert calc_return(s, asof, "1d") == pytest.approx(300 / 299 - 1)
    assert calc_return(s, asof, "1w") == pytest.approx(300 / 295 - 1)
    assert calc_return(s, asof, "1m") == pytest.approx(300 / 279 - 1)
    assert calc_return(s, asof, "3m") == pytest.approx(300 / 237 - 1)
    assert calc_return(s, asof, "1y") == pytest.approx(300 / 48 - 1)


def test_too_short_history_is_nan_not_an_error() -> None:
    s = series([10.0, 11.0, 12.0])
    out = calc_returns(s, s.index[-1].date())
    assert out["1d"] == pytest.approx(12 / 11 - 1)
    assert all(math.isnan(out[w]) for w in ("1w", "1m", "3m", "1y", "ytd"))


def test_empty_and_single_row_give_nan_everywhere() -> None:
    for s in (series([]), series([5.0])):
        assert all(math.isnan(v) for v in calc_returns(s, date(2030, 1, 1)).values())


def test_nan_rows_are_skipped_so_a_window_counts_sessions_with_a_price() -> None:
    s = series([100.0, np.nan, 110.0, np.nan, 121.0])
    asof = s.index[-1].date()
    assert calc_return(s, asof, "1d") == pytest.approx(0.10)
    assert calc_base_date(s, asof, "1d") == s.index[2].date()


def test_flat_prices_return_zero_and_zero_base_is_nan() -> None:
    flat = series([50.0] * 30)
    assert calc_return(flat, flat.index[-1].date(), "1m") == 0.0
    zero = series([0.0, 1.0])
    assert math.isnan(calc_return(zero, zero.index[-1].date(), "1d"))


def test_ytd_base_is_the_last_close_of_the_prior_year() -> None:
    s = pd.Series([90.0, 100.0, 105.0, 120.0],
                  index=pd.DatetimeIndex(["2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03"]))
    assert calc_base_date(s, date(2024, 1, 3), "ytd") == date(2023, 12, 29)
    assert calc_return(s, date(2024, 1, 3), "ytd") == pytest.approx(0.20)
    # A series that starts in the asof year has no YTD base.
    assert math.isnan(calc_return(s.loc["2024"], date(2024, 1, 3), "ytd"))


def test_asof_uses_the_last_close_on_or_before_it_and_ignores_later_rows() -> None:
    s = series([100.0, 110.0, 1_000.0])  # Mon, Tue, Wed
    assert calc_return(s, date(2024, 1, 2), "1d") == pytest.approx(0.10)
    assert calc_return(s, date(2023, 12, 1), "1d") != calc_return(s, date(2023, 12, 1), "1d")


def test_unknown_window_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown window"):
        calc_return(series([1.0, 2.0]), date(2024, 1, 2), "2w")


def test_return_row_total_basis_uses_adjusted_close_but_shows_the_price() -> None:
    close = series([100.0, 100.0, 100.0])
    adj = series([98.0, 99.0, 100.0])  # a dividend paid in between
    row = calc_return_row(bars(close, adj), close.index[-1].date(), symbol="SPY", name="SPY",
                          basis="total")
    assert row.level == 100.0 and row.basis == "total"
    assert row.returns["1d"] == pytest.approx(100 / 99 - 1)
    price = calc_return_row(bars(close, adj), close.index[-1].date(), symbol="SPY", name="SPY")
    assert price.returns["1d"] == 0.0
    assert tuple(row.returns) == WINDOWS


def test_return_row_before_the_symbol_starts_has_no_level() -> None:
    close = series([1.0, 2.0], start="2024-06-03")
    row = calc_return_row(bars(close), date(2024, 1, 2), symbol="IWM", name="IWM")
    assert row.level_date is None and math.isnan(row.level)
