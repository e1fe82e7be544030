"""RUT/SPX ratio, averages, the four trend regimes, the leadership streak, missing/late symbols."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.leadership import (
    InsufficientData,
    calc_leadership_snapshot,
    calc_relative_strength,
    to_ratio,
)
from tests.analytics._frames import bars, series, trending


def _bars_for_ratio(ratio: np.ndarray, start: str = "2020-01-01") -> dict[str, pd.DataFrame]:
    spx = series(np.full(len(ratio), 1000.0), start)
    rut = series(1000.0 * ratio, start)
    return {"^RUT": bars(rut), "^GSPC": bars(spx)}


def _regime(ratio: np.ndarray) -> str:
    b = _bars_for_ratio(ratio)
    return calc_leadership_snapshot(b, b["^GSPC"].index[-1].date()).relative.regime


def test_the_four_regimes_and_unknown() -> None:
    up, down = np.linspace(1.0, 3.0, 260), np.linspace(3.0, 1.0, 260)
    assert _regime(up) == "small_caps_leading"
    assert _regime(down) == "large_caps_leading"
    assert _regime(np.concatenate([down, [3.0] * 3])) == "small_caps_rebounding"
    assert _regime(np.concatenate([up, [0.5] * 3])) == "small_caps_fading"
    assert _regime(up[:220]) == "unknown"  # 200-day slope needs 221 values


def test_averages_and_ratio_changes() -> None:
    ratio = np.linspace(1.0, 2.0, 300)
    b = _bars_for_ratio(ratio)
    rel = calc_leadership_snapshot(b, b["^GSPC"].index[-1].date()).relative
    assert rel.ratio == pytest.approx(2.0)
    assert rel.sma50 == pytest.approx(ratio[-50:].mean())
    assert rel.sma200 == pytest.approx(ratio[-200:].mean())
    assert rel.vs_sma50 == pytest.approx(2.0 / ratio[-50:].mean() - 1)
    assert rel.sma200_rising is True
    assert rel.sma200_slope == pytest.approx(ratio[-200:].mean() / ratio[-221:-21].mean() - 1)
    assert rel.ratio_changes["1m"] == pytest.approx(2.0 / ratio[-22] - 1)


def test_relative_change_equals_relative_return_of_the_two_indices() -> None:
    rut, spx = trending(300, seed=1), trending(300, seed=2)
    snap = calc_leadership_snapshot({"^RUT": bars(rut), "^GSPC": bars(spx)},
                                    rut.index[-1].date())
    r, s = snap.row("^RUT"), snap.row("^GSPC")
    assert r is not None and s is not None
    for w in ("1d", "1m", "1y"):
        expected = (1 + r.returns[w]) / (1 + s.returns[w]) - 1
        assert snap.relative.ratio_changes[w] == pytest.approx(expected)


def test_streak_counts_sessions_on_one_side_of_the_50_day_average() -> None:
    ratio = np.concatenate([np.full(60, 1.0), np.full(3, 1.1)])
    b = _bars_for_ratio(ratio, start="2024-01-01")
    rel = calc_leadership_snapshot(b, b["^GSPC"].index[-1].date()).relative
    assert rel.leader == "small" and rel.streak_sessions == 3
    assert rel.streak_start == b["^GSPC"].index[-3].date() and rel.streak_weeks == 0
    falling = np.concatenate([np.full(60, 1.0), np.full(12, 0.9)])
    b = _bars_for_ratio(falling, start="2024-01-01")
    rel = calc_leadership_snapshot(b, b["^GSPC"].index[-1].date()).relative
    assert rel.leader == "large" and rel.streak_sessions == 12 and rel.streak_weeks == 2


def test_short_history_gives_nan_averages_and_no_streak() -> None:
    b = _bars_for_ratio(np.array([1.0, 1.1]))
    rel = calc_leadership_snapshot(b, b["^GSPC"].index[-1].date()).relative
    assert math.isnan(rel.sma50) and math.isnan(rel.sma200)
    assert rel.leader == "unknown" and rel.streak_sessions == 0 and rel.streak_start is None
    assert rel.regime == "unknown"


def test_one_row_of_each_index_still_answers() -> None:
    b = _bars_for_ratio(np.array([0.5]))
    snap = calc_leadership_snapshot(b, date(2020, 1, 1))
    assert snap.relative.ratio == 0.5 and snap.rut_records.is_record
    assert math.isnan(snap.relative.ratio_changes["1d"])


def test_ratio_uses_common_sessions_only_and_skips_nan_gaps() -> None:
    rut = series([100.0, np.nan, 110.0, 120.0])
    spx = series([200.0, 200.0, np.nan, 240.0])
    ratio = to_ratio({"^RUT": bars(rut), "^GSPC": bars(spx)})
    assert ratio.tolist() == [0.5, 0.5]
    assert list(ratio.index) == [rut.index[0], rut.index[3]]


def test_etfs_that_start_later_or_are_missing_are_left_off_the_board() -> None:
    rut, spx = trending(300, seed=3), trending(300, seed=4)
    iwm = trending(100, start=str(rut.index[200].date()), seed=5)
    b = {"^RUT": bars(rut), "^GSPC": bars(spx), "IWM": bars(iwm)}
    early = calc_leadership_snapshot(b, rut.index[150].date())
    assert [r.symbol for r in early.scoreboard] == ["^RUT", "^GSPC"]
    assert early.missing == ("IWM", "SPY")
    late = calc_leadership_snapshot(b, rut.index[-1].date())
    assert [r.symbol for r in late.scoreboard] == ["^RUT", "^GSPC", "IWM"]
    assert late.missing == ("SPY",)
    iwm_row = late.row("IWM")
    assert iwm_row is not None and math.isnan(iwm_row.returns["1y"])
    assert not math.isnan(iwm_row.returns["1m"])


def test_an_index_that_starts_later_limits_the_ratio_but_not_the_other_records() -> None:
    spx = trending(400, seed=6)
    rut = trending(100, start=str(spx.index[300].date()), seed=7)
    snap = calc_leadership_snapshot({"^RUT": bars(rut), "^GSPC": bars(spx)},
                                    spx.index[-1].date())
    assert snap.spx_records.history_start == spx.index[0].date()
    assert snap.rut_records.history_start == rut.index[0].date()
    assert math.isnan(snap.relative.sma200)
    with pytest.raises(InsufficientData, match="no session with both"):
        calc_leadership_snapshot({"^RUT": bars(rut), "^GSPC": bars(spx)}, spx.index[10].date())


def test_missing_or_empty_index_is_insufficient_data() -> None:
    spx = trending(50)
    with pytest.raises(InsufficientData, match=r"\^RUT"):
        calc_leadership_snapshot({"^GSPC": bars(spx)}, spx.index[-1].date())
    with pytest.raises(InsufficientData):
        calc_leadership_snapshot({"^RUT": bars(series([])), "^GSPC": bars(spx)},
                                 spx.index[-1].date())
    with pytest.raises(InsufficientData):
        calc_relative_strength(pd.Series(dtype="float64"), date(2024, 1, 1))


def test_flat_prices_have_zero_returns_and_a_level_ratio() -> None:
    flat = series([100.0] * 260)
    snap = calc_leadership_snapshot({"^RUT": bars(flat), "^GSPC": bars(flat * 2)},
                                    flat.index[-1].date())
    assert snap.relative.ratio == 0.5 and snap.relative.sma200_slope == 0.0
    assert snap.relative.sma200_rising is False
    assert snap.relative.leader == "even" and snap.relative.streak_sessions == 0
    assert all(v == 0.0 for v in snap.relative.ratio_changes.values() if not math.isnan(v))
