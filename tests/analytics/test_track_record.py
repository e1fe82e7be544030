"""Track record of the verdict's call: scoring on hand-built frames (a perfect call scores 1, a
coin-flip call scores chance), no look-ahead, and the real history from 1990 to the latest data
checked against an independent pandas computation."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from analytics.leadership import to_ratio
from analytics.studies import track_record as tr
from analytics.studies.track_record import TrackRecord, calc_track_record, to_cumulative
from analytics.verdict import calc_verdict_series
from bot.market_data.service import build_market_data
from bot.settings import load_settings
from bot.ui.study_text import render_track_record_text, track_record_json
from tests.analytics._frames import bars, series

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs/schema/history-track-record.schema.json").read_text())


def _pair(ratio: np.ndarray, start: str = "1989-01-02") -> dict[str, pd.DataFrame]:
    """^RUT = 100 × ratio, ^GSPC = 100 flat-ish: the RUT/SPX ratio is ``ratio`` exactly."""
    spx = 100.0 * np.exp(np.linspace(0, 0.3, len(ratio)))
    return {"^RUT": bars(series(ratio * spx, start)), "^GSPC": bars(series(spx, start))}


def _walk(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))


def _same(a: TrackRecord, b: TrackRecord) -> None:
    assert a.scores == b.scores and a.robust == b.robust and a.today == b.today
    assert a.calls.equals(b.calls)
    pd.testing.assert_series_equal(a.next_day, b.next_day)


def test_a_ratio_that_only_rises_is_called_small_and_every_call_hits() -> None:
    data = _pair(np.exp(np.arange(1500) * 0.002))
    record = calc_track_record(data, date(1994, 12, 30), start=date(1990, 1, 2))
    for s in record.scores:
        assert s.small_calls == s.days > 0 and s.large_calls == 0 and s.no_calls == 0
        assert s.hit_rate.value == 1.0 and s.base_rate.value == 1.0 and s.no_skill == 1.0
        assert s.mean_small.value > 0 and math.isnan(s.mean_large.value)


def test_an_oracle_call_scores_one_and_has_forecast_value(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Labels that know the next 21 sessions: hit rate 1, spread clearly above zero."""
    values = _walk(3000, seed=1)
    data = _pair(values)
    ratio = to_ratio(data)
    ahead = ratio.shift(-21) / ratio - 1.0
    oracle = pd.Series(np.where(ahead > 0, "small", "large"), index=ratio.index, dtype=object)
    monkeypatch.setattr(tr, "calc_verdict_series", lambda bars, end=None: oracle)
    s = calc_track_record(data, ratio.index[-1].date(), horizons=(21,),
                          start=date(1990, 1, 2)).score(21)
    assert s.hit_rate.value == 1.0 and s.calls == s.days
    assert s.forecast_value and s.beats_chance and s.spread.low > 0
    assert s.mean_small.value > 0 > s.mean_large.value


def test_a_coin_flip_call_scores_chance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Labels drawn independently of the ratio: hit rate ≈ the no-skill rate."""
    values = _walk(6000, seed=2)
    data = _pair(values)
    ratio = to_ratio(data)
    rng = np.random.default_rng(3)
    labels = pd.Series(rng.choice(["small", "large", "mixed"], len(ratio)), index=ratio.index,
                       dtype=object)
    monkeypatch.setattr(tr, "calc_verdict_series", lambda bars, end=None: labels)
    record = calc_track_record(data, ratio.index[-1].date(), start=date(1990, 1, 2))
    for s in (*record.scores, *record.robust):  # the non-overlapping samples are small
        assert abs(s.hit_rate.value - s.no_skill) < (0.05 if s.overlapping else 0.1)
        assert s.mixed_days > 0 and s.calls + s.no_calls == s.days


def test_a_persistent_useless_call_is_rarely_called_a_forecast(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Regime-like labels (runs of ~40 sessions) independent of a random-walk ratio as long as
    the real history: the HAC interval finds forecast value in at most 10% of 40 trials at each
    horizon (nominal 5%: overlapping windows and persistent calls would fool a naive one)."""
    found = {21: 0, 63: 0}
    trials = 40
    for trial in range(trials):
        data = _pair(_walk(9200, seed=100 + trial))
        ratio = to_ratio(data)
        rng = np.random.default_rng(1000 + trial)
        state = (np.cumsum(rng.random(len(ratio)) < 1 / 40) + rng.integers(3)) % 3
        labels = pd.Series(np.array(["small", "large", "mixed"])[state], index=ratio.index,
                           dtype=object)
        monkeypatch.setattr(tr, "calc_verdict_series", lambda bars, end=None, x=labels: x)
        for s in calc_track_record(data, ratio.index[-1].date(), start=date(1990, 1, 2)).scores:
            found[s.horizon] += s.forecast_value or s.spread.high < 0
    assert all(n <= trials // 10 for n in found.values()), found


def test_data_after_asof_changes_no_label_and_no_score() -> None:
    values = _walk(2600, seed=4)
    data = _pair(values)
    asof = data["^RUT"].index[1800].date()
    bumped = {k: f.copy() for k, f in data.items()}
    later = bumped["^RUT"].index > pd.Timestamp(asof)
    rng = np.random.default_rng(5)
    bumped["^RUT"].loc[later, "close"] *= rng.uniform(0.5, 1.5, later.sum())
    cut = {k: f.loc[: pd.Timestamp(asof)] for k, f in data.items()}
    base = calc_track_record(cut, asof, start=date(1990, 1, 2))
    _same(base, calc_track_record(data, asof, start=date(1990, 1, 2)))
    _same(base, calc_track_record(bumped, asof, start=date(1990, 1, 2)))
    # the labels themselves: each session's call is the same whatever follows it
    full = calc_verdict_series(bumped)
    assert full.loc[: pd.Timestamp(asof)].equals(calc_verdict_series(cut))
    # and a session is scored only once its whole forward window is in
    for s in base.scores:
        held = to_ratio(cut).index
        assert held.get_loc(pd.Timestamp(s.last)) + s.horizon == len(held) - 1


def test_bad_horizons_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        calc_track_record(_pair(_walk(300, 0)), date(1990, 6, 1), horizons=(0,))


def test_too_little_history_scores_nothing_without_error() -> None:
    record = calc_track_record(_pair(_walk(100, 0)), date(1990, 1, 31))
    assert all(s.days == 0 and math.isnan(s.hit_rate.value) for s in record.scores)
    assert "too few calls" in render_track_record_text(record)


# ------------------------------------------------------------------ the real history


@pytest.fixture(scope="module")
def real_bars(market_dir: Path) -> Mapping[str, pd.DataFrame]:
    market = build_market_data(load_settings(), market_dir)
    return asyncio.run(market.snapshot(("^RUT", "^GSPC"))).bars


@pytest.fixture(scope="module")
def real_record(real_bars: Mapping[str, pd.DataFrame]) -> TrackRecord:
    last = to_ratio(real_bars).index[-1].date()
    return calc_track_record(real_bars, last)


@pytest.mark.shared_data
def test_real_record_covers_1990_to_the_latest_complete_window(
        real_bars: Mapping[str, pd.DataFrame], real_record: TrackRecord) -> None:
    ratio = to_ratio(real_bars)
    for s in real_record.scores:
        assert s.first == date(1990, 1, 2)
        assert ratio.index.get_loc(pd.Timestamp(s.last)) == len(ratio) - 1 - s.horizon
        assert s.small_calls + s.large_calls + s.mixed_days + s.unknown_days == s.days
        for e in (s.hit_rate, s.base_rate, s.mean_small, s.mean_large, s.spread):
            assert e.low < e.value < e.high
    for s in real_record.robust:
        full = real_record.score(s.horizon)
        assert s.days == math.ceil(full.days / s.horizon) and s.first == full.first


@pytest.mark.shared_data
def test_real_record_matches_an_independent_count(real_bars: Mapping[str, pd.DataFrame],
                                                  real_record: TrackRecord) -> None:
    """Hit rate, base rate and means recomputed with plain pandas from the same labels."""
    ratio = to_ratio(real_bars)
    labels = calc_verdict_series(real_bars)
    for s in real_record.scores:
        ahead = (ratio.shift(-s.horizon) / ratio - 1.0).loc["1990-01-01":].dropna()
        call = labels.reindex(ahead.index)
        small, large = ahead[call == "small"], ahead[call == "large"]
        hits = (small > 0).sum() + (large < 0).sum()
        assert s.days == len(ahead) and s.small_calls == len(small)
        assert s.hit_rate.value == pytest.approx(hits / (len(small) + len(large)))
        assert s.base_rate.value == pytest.approx((ahead > 0).mean())
        assert s.mean_small.value == pytest.approx(small.mean())
        assert s.spread.value == pytest.approx(small.mean() - large.mean())
        # a HAC interval is wider than the naive one (positively correlated overlaps)
        naive = 1.96 * small.std() / math.sqrt(len(small))
        assert s.mean_small.high - s.mean_small.value > naive


@pytest.mark.shared_data
def test_real_record_text_json_and_schema(real_record: TrackRecord) -> None:
    text = render_track_record_text(real_record)
    doc = track_record_json(real_record)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["schema_version"] and [h["horizon"] for h in doc["horizons"]] == [21, 63]
    for s, h in zip(real_record.scores, doc["horizons"], strict=True):
        word = "forecast value" if s.forecast_value else "NO forecast value"
        assert f"{s.horizon} sessions: {word}" in text
        assert h["overlapping"]["forecast_value"] is s.forecast_value
        assert h["overlapping"]["small_calls"] == s.small_calls
    assert "-0.0%" not in text and "+0.0%" not in text


@pytest.mark.shared_data
def test_cumulative_lines_compound_the_next_session(real_record: TrackRecord) -> None:
    lines = to_cumulative(real_record)
    nxt = real_record.next_day.fillna(0.0)
    small = real_record.calls == "small"
    assert lines["small"].iloc[-1] == pytest.approx(float(np.prod(1 + nxt[small])))
    both = lines["small"] * lines["large"]
    rest = ~real_record.calls.isin(["small", "large"])
    assert (both * (1 + nxt[rest]).prod()).iloc[-1] == pytest.approx(lines["all"].iloc[-1])
