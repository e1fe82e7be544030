"""Studies on the real history (../shared/data/market; skipped where absent).

The published study: "since 1980, 11 occasions when the Russell 2000 set its first record in over
a year; the S&P 500 was higher a year later in 10 of 11, with an average gain of about 15%".
Our rule (docs/studies.md) on our data gives 11 complete events, 10 of 11 higher, mean 12.8%
(price return); the gap to ~15% is explained in docs/studies.md, not fudged here.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.series import to_price
from analytics.studies.breakouts import calc_breakout_study
from bot.market_data.service import build_market_data
from bot.settings import Settings


@pytest.fixture(scope="module")
def prices(market_dir: Path) -> dict[str, pd.Series]:
    md = build_market_data(Settings(), market_dir)  # ^RUT: RUT.csv + the bundled 1979-1987 closes
    snap = asyncio.run(md.snapshot(["^RUT", "^GSPC"]))
    return {s: to_price(snap.frame(s)) for s in ("^RUT", "^GSPC")}


def test_rut_history_is_extended_back_to_1979(prices: dict[str, pd.Series]) -> None:
    assert prices["^RUT"].index[0] == pd.Timestamp("1979-01-02")


def test_published_breakout_study_count_and_hit_rate(prices: dict[str, pd.Series]) -> None:
    study = calc_breakout_study(prices["^RUT"], prices["^GSPC"], date(2025, 9, 18))
    since_1980 = [e for e in study.events if e.date >= date(1980, 1, 1)]
    assert len(since_1980) == 12
    complete = [e for e in since_1980 if e.complete]
    assert len(complete) == 11                      # published: 11 occasions
    year = study.spx_stats[-1]
    assert (year.horizon, year.count, year.hits, year.incomplete) == (252, 11, 10, 1)
    assert round(year.mean, 3) == 0.128             # published "about 15%": see docs/studies.md
    (loser,) = [e for e in complete if e.spx_returns[-1] is not None and e.spx_returns[-1] <= 0]
    assert loser.date == date(1999, 12, 29)         # the one miss: the 2000 top


def test_2025_09_18_is_a_live_breakout_after_1410_days(prices: dict[str, pd.Series]) -> None:
    study = calc_breakout_study(prices["^RUT"], prices["^GSPC"], date(2025, 9, 18))
    live = study.live_event
    assert live is not None and live.date == date(2025, 9, 18) and live.gap_days == 1410
    assert round(live.close, 2) == 2467.70
    assert live.previous_record_date == date(2021, 11, 8)
    assert round(live.previous_record_close, 2) == 2442.74
    assert round(float(prices["^GSPC"].loc["2021-11-08"]), 2) == 4701.70


def test_no_breakout_is_live_on_2024_12_02(prices: dict[str, pd.Series]) -> None:
    study = calc_breakout_study(prices["^RUT"], prices["^GSPC"], date(2024, 12, 2))
    assert study.live_event is None
    assert study.last_record_date == date(2021, 11, 8)
    assert study.events[-1].date == date(2020, 11, 13) and study.events[-1].complete


@pytest.mark.parametrize("asof", ["1987-10-19", "2000-03-10", "2021-11-08", "2025-09-18",
                                  "2025-12-31"])
def test_breakouts_have_no_look_ahead(prices: dict[str, pd.Series], asof: str) -> None:
    day = date.fromisoformat(asof)
    full = calc_breakout_study(prices["^RUT"], prices["^GSPC"], day)
    cut = calc_breakout_study(prices["^RUT"].loc[:asof], prices["^GSPC"].loc[:asof], day)
    assert full == cut


def test_droughts_on_real_history(prices: dict[str, pd.Series]) -> None:
    from analytics.studies.droughts import calc_droughts

    before = calc_droughts(prices["^RUT"], date(2024, 12, 2), min_days=365)
    assert before.current is not None and before.current.rank == 3
    assert (before.current.start, before.current.days) == (date(2021, 11, 8), 1120)
    after = calc_droughts(prices["^RUT"], date(2025, 9, 18), min_days=365)
    closed = [d for d in after.droughts if d.start == date(2021, 11, 8)]
    assert [(d.rank, d.days, d.open) for d in closed] == [(2, 1410, False)]
    assert after.droughts[0].start == date(2000, 3, 9) and after.droughts[0].days == 1488


def test_cycles_on_real_history_and_no_look_ahead(prices: dict[str, pd.Series]) -> None:
    from analytics.studies.cycles import calc_cycles

    study = calc_cycles(prices["^RUT"], prices["^GSPC"], date(2025, 9, 18))
    assert study.regimes[0].start == date(1979, 1, 2)
    # on 2025-09-18 the ratio was not yet 15% off its April low: the large-cap regime is open
    assert study.current is not None and study.current.start == date(2021, 3, 12)
    assert study.current.leader == "large" and study.current.open
    assert study.current_extreme_date == date(2025, 4, 11)
    assert 0 < (study.current_from_extreme or 0) < 0.15
    later = calc_cycles(prices["^RUT"], prices["^GSPC"], date(2026, 8, 20))
    closed = [r for r in later.regimes if r.start == date(2021, 3, 12)]
    assert [(r.leader, r.end, r.open) for r in closed] == [("large", date(2025, 4, 11), False)]
    cut = calc_cycles(prices["^RUT"].loc[:"2025-09-18"], prices["^GSPC"].loc[:"2025-09-18"],
                      date(2025, 9, 18))
    assert cut == study


def test_price_vs_total_return_explains_most_of_the_gap_to_15pct(
        prices: dict[str, pd.Series], market_dir: Path) -> None:
    """SPY's total return (adj_close) beat ^GSPC's price return by ~2 pp on the 7 events since
    1993; with 1980s dividend yields of 3–5% that closes our 12.8% → "about 15%"."""
    from bot.market_data.csvdir import read_bar_csv

    spy = read_bar_csv(market_dir / "SPY.csv")["adj_close"].dropna()
    study = calc_breakout_study(prices["^RUT"], prices["^GSPC"], date(2025, 9, 18))
    gaps = []
    for e in study.complete_events:
        day = pd.Timestamp(e.date)
        if day in spy.index and e.spx_returns[-1] is not None:
            i = spy.index.get_loc(day)
            gaps.append(float(spy.iloc[i + 252] / spy.iloc[i] - 1) - e.spx_returns[-1])
    assert len(gaps) == 7
    assert 0.015 < sum(gaps) / len(gaps) < 0.03


def test_official_russell_series_moves_the_2004_event(market_dir: Path,
                                                      prices: dict[str, pd.Series]) -> None:
    """On FRED RU2000PR (Russell's own history, to 2019) the March-2000 record is relatively
    higher than in Yahoo's ^RUT, so the 2004 breakout comes on 2004-11-10, not 2004-04-05."""
    ru = pd.read_csv(market_dir / "fred" / "RU2000PR.csv", index_col="date",
                     parse_dates=["date"])["value"]
    official = calc_breakout_study(ru, prices["^GSPC"], date(2019, 1, 10))
    dates = [e.date for e in official.events]
    assert len(dates) == 10 and date(2004, 11, 10) in dates and date(2004, 4, 5) not in dates
    assert sum(1 for e in official.events if (e.spx_returns[-1] or 0) > 0) == 9


@pytest.mark.parametrize("asof", ["2008-10-10", "2024-12-02"])
def test_drivers_and_rates_have_no_look_ahead_on_real_history(market_dir: Path,
                                                              asof: str) -> None:
    from analytics.drivers import calc_drivers
    from analytics.studies.rates import calc_rate_study
    from bot.market_data.fred import read_fred_dir

    snap = asyncio.run(build_market_data(Settings(), market_dir).snapshot())
    fred = read_fred_dir(market_dir / "fred")
    day = date.fromisoformat(asof)
    cut_bars = {s: f.loc[:asof] for s, f in snap.bars.items()}
    cut_fred = {k: v.loc[:asof] for k, v in fred.items()}  # FRED period dates ≤ asof
    full = calc_drivers(snap.bars, day, fred=fred)
    assert full == calc_drivers(cut_bars, day, fred=cut_fred)
    assert all(r.asof is None or r.asof <= day for r in full.readings)
    rut, spx, tnx = (to_price(snap.frame(s)) for s in ("^RUT", "^GSPC", "^TNX"))
    assert calc_rate_study(rut, spx, tnx, day, years=5) == calc_rate_study(
        rut.loc[:asof], spx.loc[:asof], tnx.loc[:asof], day, years=5)
