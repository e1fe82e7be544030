"""Walk-forward record of the drivers panel: points anchored at the start, each signal computed
from data up to its point only, outcomes only where the window ends by ``asof``; appending data
after ``asof`` changes no score."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.drivers import DriversPanel, calc_drivers, to_relative
from analytics.studies.drivers_forward import (
    calc_drivers_forward,
    calc_signals,
    describe_record,
    score_forward,
    to_points,
    to_signal_row,
)

DAYS = pd.bdate_range("2016-01-04", "2024-12-31")
START = date(2019, 1, 1)


def _bars(values: np.ndarray, index: pd.DatetimeIndex = DAYS) -> pd.DataFrame:
    return pd.DataFrame({"open": values, "high": values, "low": values, "close": values,
                         "adj_close": values, "volume": np.nan}, index=index.rename("date"))


def _world(seed: int = 4) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = len(DAYS)
    dy = rng.normal(0, 5, n)
    spx = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n)))
    rut = spx * np.exp(np.cumsum(-0.0004 * dy + rng.normal(0, 0.004, n)))
    return {"^RUT": _bars(rut), "^GSPC": _bars(spx), "^TNX": _bars(3 + np.cumsum(dy) / 100),
            "^VIX": _bars(15 + np.abs(rng.normal(0, 3, n)))}


def _cut(bars: dict[str, pd.DataFrame], day: date) -> dict[str, pd.DataFrame]:
    return {s: f.loc[: pd.Timestamp(day)] for s, f in bars.items()}


def test_points_are_anchored_every_21_sessions() -> None:
    relative = to_relative(_world(), DAYS[-1].date())
    points = to_points(relative, date(2023, 6, 30), start=START)
    assert points[0] == pd.Timestamp("2019-01-01")
    positions = relative.index.get_indexer(points)
    assert set(np.diff(positions)) == {21} and points[-1] <= pd.Timestamp("2023-06-30")
    assert to_points(relative, date(2024, 6, 28), start=START)[: len(points)].equals(points)


def test_appending_data_after_asof_changes_no_score() -> None:
    bars = _world()
    asof = date(2023, 6, 30)
    short = calc_drivers_forward(_cut(bars, asof), asof, start=START)
    long = calc_drivers_forward(bars, asof, start=START)
    assert short.scores == long.scores
    pd.testing.assert_frame_equal(short.signals, long.signals)
    # one signals frame computed to the end serves an earlier as-of unchanged
    later = calc_signals(bars, DAYS[-1].date(), start=START)
    again = score_forward(later, to_relative(bars, DAYS[-1].date()), asof)
    assert again.scores == short.scores
    ten = short.score("ten_year", 21)
    assert ten is not None and ten.points > 26


def test_each_signal_reads_only_data_up_to_its_point() -> None:
    bars = _world()
    asof = date(2024, 12, 31)
    signals = calc_signals(bars, asof, start=START)
    for t in signals.index[[0, 7, 30, -1]]:
        day = t.date()
        alone = to_signal_row(calc_drivers(_cut(bars, day), day))
        assert signals.loc[t].to_dict() == pytest.approx(alone, nan_ok=True)


def test_outcomes_stop_at_asof_and_past_returns_look_back() -> None:
    bars = _world()
    asof = date(2024, 6, 28)
    forward = calc_drivers_forward(bars, asof, start=START)
    frame = forward.signals
    relative = to_relative(bars, asof)
    pos = relative.index.get_indexer(frame.index)
    for i, p in enumerate(pos):
        fwd = frame["fwd_21"].iloc[i]
        if p + 21 < len(relative):
            assert fwd == pytest.approx(relative.iloc[p + 21] / relative.iloc[p] - 1)
        else:
            assert np.isnan(fwd)
        assert np.isnan(frame["fwd_63"].iloc[i]) == (p + 63 >= len(relative))
    p = pos[-3]
    assert frame["past_21"].iloc[-3] == pytest.approx(relative.iloc[p] / relative.iloc[p - 21] - 1)
    # the 63-session test uses every 3rd point: no two windows overlap
    s63 = forward.score("composite", 63)
    assert s63 is not None and s63.points == frame["fwd_63"].iloc[::3].notna().sum()


def _panel(day: date, score: int) -> DriversPanel:
    return DriversPanel(asof=day, lookback_weeks=156, readings=(), tailwinds=max(score, 0),
                        headwinds=max(-score, 0), neutral=0, absent=0, not_counted=(),
                        summary="")


def test_record_line_says_so_when_the_composite_forecasts_and_when_it_does_not() -> None:
    bars = _world()
    asof = DAYS[-1].date()
    relative = to_relative(bars, asof)

    def cheat(day: date) -> DriversPanel:  # looks ahead on purpose: the sign of what follows
        p = relative.index.get_loc(pd.Timestamp(day))
        ahead = relative.iloc[min(p + 21, len(relative) - 1)] / relative.iloc[p] - 1
        return _panel(day, 1 if ahead > 0 else -1)

    rng = np.random.default_rng(0)
    good = calc_drivers_forward(bars, asof, start=date(2016, 1, 1), panel_at=cheat)
    line = describe_record(good)
    assert line.startswith("Composite forecast record 2016–2024: Spearman +0.")
    assert "n=" in line and "95% CI" in line and line.endswith("it tended to point the right way")
    noise = calc_drivers_forward(bars, asof, start=date(2016, 1, 1),
                                 panel_at=lambda d: _panel(d, int(rng.integers(-2, 3))))
    assert describe_record(noise).endswith("no forecast value")
    none = calc_drivers_forward(bars, asof, start=date(2024, 6, 1),
                                panel_at=lambda d: _panel(d, 1))
    assert "too few scored points" in describe_record(none)
