"""Alert events on tiny hand-built frames: hysteresis, confirmation, turns, droughts, records,
what-followed counting (complete windows only) and no look-ahead."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.alerts import AlertParams, build_timeline, calc_alerts
from analytics.alerts.events import (
    to_cycle_turns,
    to_drought_milestones,
    to_level_crosses,
    to_ma_crosses,
)
from analytics.alerts.history import ForwardReturns
from analytics.studies.cycles import calc_cycles


def _series(values: list[float], start: str = "2020-01-01") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def _fires(prices: pd.Series, level: float, band: float = 0.01) -> list[tuple[int, int]]:
    pos = {d.date(): i for i, d in enumerate(prices.index)}
    return [(pos[c.date], c.direction) for c in to_level_crosses(prices, 100.0, band)
            if c.level == level]


def test_a_close_hovering_at_a_level_fires_once_until_it_moves_a_band_away() -> None:
    #                0     1     2     3     4     5     6     7     8     9     10
    p = _series([2450, 2490, 2505, 2495, 2502, 2498, 2480, 2470, 2490, 2510, 2530])
    # up at 2505 (first fire: the level itself); back under 2500 is quiet until <= 2475;
    # then the way up needs >= 2525
    assert _fires(p, 2500) == [(2, 1), (7, -1), (10, 1)]
    crosses = [c for c in to_level_crosses(p, 100.0, 0.01) if c.level == 2500]
    assert [c.first_ever for c in crosses] == [True, False, False]


def test_band_thresholds_are_inclusive_and_a_zero_band_fires_every_cross() -> None:
    p = _series([2450, 2500, 2475, 2520, 2525])
    assert _fires(p, 2500) == [(1, 1), (2, -1), (4, 1)]
    q = _series([2450, 2500, 2499, 2500, 2499])
    assert _fires(q, 2500, band=0.0) == [(1, 1), (2, -1), (3, 1), (4, -1)]


def test_the_first_fire_from_above_is_at_the_level_itself() -> None:
    p = _series([2550, 2520, 2499.99, 2510])
    assert _fires(p, 2500) == [(2, -1)]


def test_a_jump_through_several_levels_is_one_event_naming_them_all() -> None:
    rut = _series([2390.0] * 5 + [2610.0])
    spx = _series([5000.0] * 6)
    batch = calc_alerts(rut, spx, rut.index[-1].date(), AlertParams(ma_windows=(2,)))
    (event,) = [e for e in batch.events if e.kind == "level_cross"]
    assert event.values["levels"] == [2400.0, 2500.0, 2600.0] and event.level == 2600.0
    assert "above 2,400 and 2,500 and 2,600 for the first time" in event.sentence


def _ratio_path(deviations: str, flat: int = 60) -> pd.Series:
    signs = {"+": 0.01, "-": -0.01, "0": 0.0}
    return _series([1.0] * flat + [1.0 + signs[c] for c in deviations])


def test_a_moving_average_cross_needs_n_closes_in_a_row() -> None:
    r = _ratio_path("+++--+---++-+++")
    out = to_ma_crosses(r, 50, 3)
    got = [(int(r.index.get_loc(pd.Timestamp(c.date))) - 60, c.direction) for c in out]
    # first confirmation (+++) is no cross; "--+" does not confirm; "---" ends at 8; "+++" at 14
    assert got == [(8, -1), (14, 1)]
    assert out[0].run_start == r.index[66].date()
    # confirm=1: every change of side is a cross
    assert [c.direction for c in to_ma_crosses(r, 50, 1)] == [-1, 1, -1, 1, -1, 1]


def test_a_cycle_turn_fires_when_the_swing_completes_dated_from_the_extreme() -> None:
    up = list(np.linspace(1.0, 1.3, 40))
    down = list(np.linspace(1.29, 1.0, 40))
    rut = _series(up + down)
    spx = _series([1.0] * len(rut))
    turns = to_cycle_turns(rut, spx, rut.index[-1].date(), 0.15)
    assert len(turns) == 1
    t = turns[0]
    assert t.leader == "large" and t.turn_date == rut.index[39].date()
    first_hit = 40 + int(np.flatnonzero(rut.to_numpy()[40:] <= 1.3 * 0.85)[0])
    assert t.date == rut.index[first_hit].date()
    study = calc_cycles(rut, spx, rut.index[-1].date(), swing=0.15)
    assert study.regimes[-1].start == t.turn_date
    # the day before confirmation: no turn yet
    assert to_cycle_turns(rut, spx, rut.index[first_hit - 1].date(), 0.15) == []


def test_drought_milestones_fire_once_per_drought_at_each_year() -> None:
    days = pd.bdate_range("2010-01-01", "2014-06-30")
    values = np.where(days <= pd.Timestamp("2010-03-01"), np.arange(len(days)) + 100.0, 50.0)
    p = pd.Series(values, index=days)
    out = to_drought_milestones(p, (1, 2, 3))
    record = pd.Timestamp("2010-03-01")
    for m, years in zip(out, (1, 2, 3), strict=True):
        expected = days[days >= record + pd.Timedelta(days=365 * years)][0]
        assert (m.date, m.years, m.record_date) == (expected.date(), years, record.date())
    assert len(out) == 3


def test_records_need_a_complete_history() -> None:
    rut = _series([100, 101, 99, 102, 103])
    spx = _series([10.0] * 5)
    full = calc_alerts(rut, spx, rut.index[3].date(), inception=rut.index[0].date())
    assert [e.kind for e in full.events if e.kind == "record"] == ["record"]
    assert full.events[0].history_complete is True
    partial = calc_alerts(rut, spx, rut.index[3].date(), inception=date(1979, 1, 2))
    assert not [e for e in partial.events if e.kind in ("record", "breakout", "drought")]
    assert any("record, breakout and drought alerts are off" in n for n in partial.notes)


def test_forward_statistics_use_only_complete_windows() -> None:
    p = _series([100.0 * 1.01 ** i for i in range(30)])
    fwd = ForwardReturns({"^RUT": p}, (5,))
    dates = p.index.to_numpy()[[0, 10, 20, 24]]
    (s,) = fwd.stats(dates, p.index[26].date())
    # windows end at 5, 15, 25, 29: only the first three are complete by row 26
    assert s.count == 3 and s.hits == 3
    assert s.mean == pytest.approx(1.01 ** 5 - 1)


def _random_walk(n: int, seed: int, start: str = "2000-01-03") -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0004, 0.015, n))),
                     index=pd.bdate_range(start, periods=n))


def test_past_events_count_only_before_the_session_with_complete_windows() -> None:
    rut, spx = _random_walk(1500, 1), _random_walk(1500, 2) * 20
    params = AlertParams(rut_step=10.0, spx_step=200.0, horizons=(21,))
    timeline = build_timeline(rut, spx, rut.index[-1].date(), params,
                              inception=rut.index[0].date())
    crosses = [o for o in timeline.occurrences if o.group == "level_cross:^RUT:up"]
    event = crosses[-1]
    session = pd.Timestamp(event.when).date()
    (e,) = [x for x in timeline.batch(session).events if x.key == event.key]
    past = [pd.Timestamp(o.when) for o in crosses if o.when < event.when]
    assert e.history.before == len(past)
    pos = {d: i for i, d in enumerate(rut.index)}
    now = pos[pd.Timestamp(session)]
    complete = [d for d in past if pos[d] + 21 <= now]
    rut_after = next(s for s in e.history.after if s.symbol == "^RUT")
    assert rut_after.count == len(complete)
    expected = [rut.iloc[pos[d] + 21] / rut.iloc[pos[d]] - 1 for d in complete]
    assert rut_after.mean == pytest.approx(float(np.mean(expected)))
    base = next(s for s in e.history.base if s.symbol == "^RUT")
    assert base.count == now - 21 + 1      # every RUT day with its window done by the session


def test_appending_data_after_asof_changes_nothing() -> None:
    rut, spx = _random_walk(1600, 3), _random_walk(1600, 4) * 20
    params = AlertParams(rut_step=10.0, spx_step=200.0)
    full = build_timeline(rut, spx, rut.index[-1].date(), params, inception=rut.index[0].date())
    checked = 0
    for asof in rut.index[1200::37]:
        alone = calc_alerts(rut.loc[:asof], spx.loc[:asof], asof.date(), params,
                            inception=rut.index[0].date())
        assert alone == full.batch(asof.date())
        checked += len(alone.events)
    assert checked > 0


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="level_band"):
        AlertParams(level_band=1.5)
    with pytest.raises(ValueError, match="ma_confirm"):
        AlertParams(ma_confirm=0)
