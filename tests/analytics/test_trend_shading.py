"""The shaded trend regime: hysteresis stops the flicker of the raw above/below-200d rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.trend_shading import (
    LARGE,
    SMALL,
    UNKNOWN,
    count_flips,
    to_display_states,
    to_trend_states,
)


def test_oscillating_around_the_average_never_flips() -> None:
    average = np.full(60, 1.0)
    ratio = 1.0 + 0.005 * np.where(np.arange(60) % 2 == 0, 1, -1)  # ±0.5%, every day
    raw = np.where(ratio > average, SMALL, LARGE)
    assert count_flips(raw) == 59
    states = to_trend_states(ratio, average)
    assert count_flips(states) == 0 and set(states) == {SMALL}


def test_a_change_needs_five_sessions_beyond_the_band() -> None:
    average = np.full(20, 1.0)
    ratio = np.r_[np.full(5, 1.02), np.full(4, 0.98), [1.0], np.full(10, 0.98)]
    states = to_trend_states(ratio, average)
    # 4 sessions below, one back inside the band (resets the count), then 5 more: flips on the 5th
    assert list(states[:14]) == [SMALL] * 14
    assert list(states[14:]) == [LARGE] * 6
    assert count_flips(states) == 1


def test_unknown_until_the_average_exists_and_causal() -> None:
    rng = np.random.default_rng(3)
    ratio = 1.0 + np.cumsum(rng.normal(0, 0.01, 400))
    average = pd.Series(ratio).rolling(200).mean().to_numpy()
    states = to_trend_states(ratio, average)
    assert (states[:199] == UNKNOWN).all() and (states[199:] != UNKNOWN).all()
    for cut in (210, 300, 399):  # appending values never changes an earlier state
        assert (to_trend_states(ratio[:cut], average[:cut]) == states[:cut]).all()


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        to_trend_states(np.ones(3), np.ones(3), confirm=0)


@pytest.mark.shared_data
def test_real_history_flips_at_most_twice_in_any_21_sessions(market_dir: Path) -> None:
    def close(name: str) -> pd.Series:
        frame = pd.read_csv(market_dir / f"{name}.csv", index_col=0, parse_dates=True)
        return frame["close"]

    rut, spx = close("RUT"), close("GSPC")
    common = rut.index.intersection(spx.index)
    ratio = (rut.loc[common] / spx.loc[common]).to_numpy()
    average = pd.Series(ratio).rolling(200).mean().to_numpy()
    raw = np.where(np.isnan(average), UNKNOWN, np.where(ratio > average, SMALL, LARGE))
    states = to_trend_states(ratio, average)
    end = int(common.searchsorted(pd.Timestamp("2025-09-18"), side="right"))
    assert count_flips(raw[end - 22:end]) == 7  # the example: the 1-month chart
    assert count_flips(states[end - 22:end]) == 0
    worst = max(count_flips(states[i - 22:i]) for i in range(222, len(states) + 1))
    assert worst <= 2
    # What the chart draws at each date: the same, its last run set to the raw side.
    run_start = np.zeros(len(raw), dtype=int)
    for i in range(1, len(raw)):
        run_start[i] = run_start[i - 1] if raw[i] == raw[i - 1] else i
    shown_worst = 0
    for i in range(221, len(raw)):
        window = states[i - 21:i + 1].copy()
        if window[-1] != raw[i]:
            window[max(run_start[i] - (i - 21), 0):] = raw[i]
        shown_worst = max(shown_worst, count_flips(window))
    assert shown_worst <= 3
    display = to_display_states(ratio[:end], average[:end])
    assert display[-1] == raw[end - 1] and count_flips(display[end - 22:end]) <= 1


def test_display_ends_on_the_raw_side_the_verdict_calls() -> None:
    average = np.full(12, 1.0)
    ratio = np.r_[np.full(8, 1.02), np.full(3, 0.995), [0.98]]  # below for the last 4 only
    assert to_trend_states(ratio, average)[-1] == SMALL  # not yet confirmed
    shown = to_display_states(ratio, average)
    assert list(shown) == [SMALL] * 8 + [LARGE] * 4
    assert list(to_display_states(ratio[:8], average[:8])) == [SMALL] * 8  # agree: unchanged
