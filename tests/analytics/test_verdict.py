"""The verdict on hand-built series: the rule, its words, the vectorised series against the
scalar call, and no look-ahead."""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.leadership import (
    InsufficientData,
    RelativeStrength,
    calc_relative_strength,
    to_ratio,
)
from analytics.verdict import (
    EVEN_BAND,
    TREND_MIN,
    calc_verdict,
    calc_verdict_series,
    verdict_from_relative,
)
from tests.analytics._frames import bars, series, trending


def _pair(rut: pd.Series, spx: pd.Series) -> dict[str, pd.DataFrame]:
    return {"^RUT": bars(rut), "^GSPC": bars(spx)}


def _waves(n: int = 1500, seed: int = 7) -> dict[str, pd.DataFrame]:
    """RUT/SPX swinging through every state: slow cycles plus noise."""
    t = np.arange(n)
    rel = np.exp(0.15 * np.sin(t / 90.0) + 0.05 * np.sin(t / 13.0))
    spx = trending(n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    rut = spx * rel * np.exp(rng.normal(0, 0.002, n))
    return _pair(rut, spx)


def _relative(month: float, fifty: str, regime: str) -> RelativeStrength:
    """A RelativeStrength with the three horizon inputs set by hand."""
    b = _waves(400)
    base = calc_relative_strength(to_ratio(b), b["^GSPC"].index[-1].date())
    return dataclasses.replace(base, ratio_changes={**base.ratio_changes, "1m": month},
                               leader=fifty, regime=regime)


@pytest.mark.parametrize(("month", "fifty", "regime", "leader"), [
    (0.02, "small", "small_caps_leading", "small"),
    (-0.02, "large", "large_caps_leading", "large"),
    (0.001, "small", "small_caps_rebounding", "small"),  # the month level: it abstains
    (-0.02, "large", "small_caps_leading", "mixed"),
    (-0.02, "small", "small_caps_leading", "mixed"),
    (0.02, "large", "small_caps_fading", "mixed"),  # below a rising average: large trend
    (0.001, "even", "small_caps_leading", "small"),
    (math.nan, "small", "small_caps_leading", "unknown"),
    (0.02, "small", "unknown", "unknown"),
])
def test_the_rule(month: float, fifty: str, regime: str, leader: str) -> None:
    v = verdict_from_relative(_relative(month, fifty, regime))
    assert v.leader == leader
    if leader in ("small", "large"):
        other = "Large" if leader == "small" else "Small"
        assert v.title.startswith(f"{leader.capitalize()} caps lead")
        assert other.lower() + " caps" not in v.sentence.lower()
    if leader == "mixed":
        assert v.title.startswith("Mixed: ") and "still lead" in v.sentence


def test_the_mixed_sentence_names_each_side_and_the_pullback() -> None:
    v = verdict_from_relative(_relative(-0.02, "large", "small_caps_leading"))
    assert v.sentence == ("Large caps lead the past month (21 sessions) and the 50-day average; "
                          "small caps still lead the 200-day trend (a pullback inside "
                          "small-cap leadership).")
    assert v.title == "Mixed: large caps lead short term, small caps the trend"
    bounce = verdict_from_relative(_relative(0.02, "large", "large_caps_leading"))
    assert bounce.sentence == ("Small caps lead the past month (21 sessions); large caps still "
                               "lead the 50-day average and the 200-day trend (a small-cap "
                               "bounce inside large-cap leadership).")


def test_the_month_is_level_inside_the_band() -> None:
    inside = verdict_from_relative(_relative(EVEN_BAND * 0.99, "small", "small_caps_leading"))
    outside = verdict_from_relative(_relative(-EVEN_BAND * 1.01, "small", "small_caps_leading"))
    assert inside.month.side == "even" and inside.leader == "small"
    assert "the past month (21 sessions) is level" in inside.sentence
    assert outside.month.side == "large" and outside.leader == "mixed"


def test_series_equals_the_scalar_call_on_every_session() -> None:
    b = _waves()
    labels = calc_verdict_series(b)
    assert set(labels.unique()) == {"small", "large", "mixed", "unknown"}
    scalar = [calc_verdict(b, d.date()).leader for d in labels.index]
    assert labels.tolist() == scalar
    assert (labels.iloc[: TREND_MIN - 1] == "unknown").all()
    assert labels.iloc[TREND_MIN - 1] != "unknown"


def test_series_start_end_and_no_look_ahead() -> None:
    b = _waves()
    full = calc_verdict_series(b)
    cut_day = full.index[900].date()
    cut = {k: v.loc[: pd.Timestamp(cut_day)] for k, v in b.items()}
    assert calc_verdict_series(b, end=cut_day).equals(full.loc[:pd.Timestamp(cut_day)])
    assert calc_verdict_series(cut).equals(full.loc[:pd.Timestamp(cut_day)])
    part = calc_verdict_series(b, start=full.index[500].date(), end=cut_day)
    assert part.index[0] == full.index[500] and part.equals(full.iloc[500:901])
    for pos in (100, 300, 900):
        day = full.index[pos].date()
        later = {k: v.loc[: pd.Timestamp(day)] for k, v in b.items()}
        assert calc_verdict(b, day) == calc_verdict(later, day)


def test_every_word_of_a_side_matches_its_horizon() -> None:
    """Over a whole synthetic history: the sentence claims each horizon for the side it was
    called, and the title never claims a side the verdict gives no horizon."""
    b = _waves()
    ratio = to_ratio(b)
    for ts in ratio.index[TREND_MIN::7]:
        v = calc_verdict(b, ts.date())
        sides = {h.key: h.side for h in v.horizons}
        for who, horizons in re.findall(r"(Small|Large) caps (?:still )?lead ([^;.(]+)",
                                        v.sentence):
            side = who.lower()
            if "every horizon" in horizons:
                assert set(sides.values()) == {side}
            if "past month" in horizons:
                assert sides["month"] == side
            if "50-day" in horizons:
                assert sides["fifty_day"] == side
            if "200-day" in horizons:
                assert sides["trend"] == side
        for side in ("small", "large"):
            if f"{side} caps" in v.title.lower():
                assert side in sides.values()


def test_needs_both_indices() -> None:
    with pytest.raises(InsufficientData):
        calc_verdict({"^GSPC": bars(series([1.0, 2.0]))}, date(2024, 1, 2))
