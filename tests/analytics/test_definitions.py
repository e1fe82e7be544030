"""One set of definitions on hand-built series: calendar periods, session labels shared by the
text and the charts, the drought ranks worth stating, and no "-0.0%"."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.charts.inputs import window_base, window_label
from analytics.formats import pct
from analytics.records import RANK_SHOWN, calc_records_snapshot, rank_phrase
from analytics.returns import (
    WINDOW_TABLE,
    calc_return,
    calc_return_row,
    period_name,
    to_return_row,
    window_positions,
)
from bot.ui.text import fmt_pct, window_header
from tests.analytics._frames import bars


def _daily(start: str, end: str, step: float = 1.0) -> pd.Series:
    days = pd.bdate_range(start, end)
    return pd.Series(100.0 + step * np.arange(len(days)), index=days, dtype="float64")


def test_month_to_date_and_last_full_month() -> None:
    prices = _daily("2024-09-02", "2024-12-03")
    on = date(2024, 12, 3)
    nov_end = prices.loc[:"2024-11-30"].iloc[-1]
    oct_end = prices.loc[:"2024-10-31"].iloc[-1]
    assert calc_return(prices, on, "mtd") == pytest.approx(prices.iloc[-1] / nov_end - 1)
    assert calc_return(prices, on, "last_month") == pytest.approx(nov_end / oct_end - 1)
    # on the month's last session, month to date is the whole month
    last_nov = date(2024, 11, 29)
    assert calc_return(prices, last_nov, "mtd") == pytest.approx(nov_end / oct_end - 1)
    assert period_name(on, "mtd") == "Dec to date"
    assert period_name(on, "last_month") == "Nov 2024"
    assert math.isnan(calc_return(prices.loc[:"2024-09-30"], date(2024, 9, 30), "mtd"))


def test_fund_rows_carry_price_and_total() -> None:
    close = _daily("2024-01-02", "2024-12-31")
    adj = close * np.linspace(1.0, 1.02, len(close))  # dividends: total beats price
    row = calc_return_row(bars(close, adj), date(2024, 12, 31), symbol="IWM", name="IWM")
    assert row.basis == "price" and row.total_returns is None  # asked for price only
    full = to_return_row(close, close, date(2024, 12, 31), symbol="IWM", name="IWM",
                         basis="price", total=adj)
    assert full.total_returns is not None
    assert full.total_returns["1m"] > full.returns["1m"] > 0
    assert set(full.periods) == {"mtd", "last_month"}


def test_charts_and_text_name_a_window_the_same_way() -> None:
    """The chart label and the table header come from the one table in analytics.returns,
    and the chart's base session is the base the text's return uses."""
    prices = _daily("2023-01-02", "2024-12-31")
    index = pd.DatetimeIndex(prices.index)
    for key, header in (("1m", "21D"), ("3m", "63D"), ("1y", "252D"), ("ytd", "YTD")):
        assert window_header(key) == header
        assert window_label(key) == WINDOW_TABLE[key].label
        where = window_positions(index.to_numpy(), key)
        assert where is not None and window_base(index, key) == where[0]
    assert window_label("1m") == "21 sessions" and window_label("ytd") == "year to date"


def test_no_negative_zero_anywhere() -> None:
    for tiny in (-0.00004, -0.0, 0.0, 0.00004):
        assert pct(tiny, 1) == "0.0%"
        assert fmt_pct(tiny / 10) == "0.00%"
    assert pct(-0.0006, 1) == "-0.1%" and pct(0.012) == "+1.2%"
    assert pct(-0.025, 1, signed=False) == "-2.5%" and pct(0.025, 1, signed=False) == "2.5%"
    assert pct(math.nan) == "n/a" and pct(None) == "n/a"


def _droughts() -> pd.Series:
    """Records separated by droughts of 70, 2, 90, 1, 65 sessions, then an open one."""
    values: list[float] = [100.0]
    level = 100.0
    for gap in (70, 2, 90, 1, 65):
        values += [level - 5.0] * (gap - 1)
        level += 1.0
        values.append(level)
    values += [level - 5.0] * 80
    return pd.Series(values, index=pd.bdate_range("2000-01-03", periods=len(values)))


def test_droughts_rank_among_the_long_ones_only() -> None:
    prices = _droughts()
    snap = calc_records_snapshot(prices, prices.index[-1].date())
    assert snap is not None and snap.rank_min_sessions == 63
    # all gaps: 5 closed + the open one; long ones (63+ sessions): 70, 90, 65 and the open 80
    assert snap.drought_count == 6 and snap.long_drought_count == 4
    assert snap.long_drought_rank == 2  # 90 > 80 > 70 > 65
    assert rank_phrase(snap.long_drought_rank, snap.long_drought_count, 63,
                       snap.history_start) == "the 2nd-longest of the 4 droughts of 63+ " \
                                              "sessions since 2000"
    short = calc_records_snapshot(prices, prices.index[-60].date())  # 21 sessions in
    assert short is not None and short.long_drought_rank is None


def test_a_rank_outside_the_top_ten_is_not_mentioned() -> None:
    since = date(1979, 1, 2)
    assert rank_phrase(RANK_SHOWN, 24, 63, since) is not None
    assert rank_phrase(RANK_SHOWN + 1, 24, 63, since) is None
    assert rank_phrase(1, 1, 63, since) == "the longest of the 1 drought of 63+ sessions since 1979"
