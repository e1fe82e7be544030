"""The expected Fed path (DGS2 − FEDFUNDS) and consumer sentiment (UMCSENT): release lags, the
pairing of a daily yield with a monthly average, units, relation, and no look-ahead."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.drivers import calc_drivers
from analytics.economy import CONSUMER_SENTIMENT, FED_PATH, period_of, to_available

DAYS = pd.bdate_range("2019-01-01", "2024-06-28")
ASOF = date(2024, 6, 28)


def _bars(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"open": values, "high": values, "low": values, "close": values,
                         "adj_close": values, "volume": np.nan}, index=DAYS.rename("date"))


def _fred(seed: int = 5) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    months = pd.date_range("2018-01-01", "2024-06-01", freq="MS")
    funds = pd.Series(np.round(2 + np.cumsum(rng.normal(0, 0.1, len(months))), 2), index=months)
    sentiment = pd.Series(np.round(70 + np.cumsum(rng.normal(0, 2, len(months))), 1),
                          index=months)
    two = pd.Series(np.round(2 + np.cumsum(rng.normal(0, 0.03, len(DAYS))), 3), index=DAYS)
    return {"FEDFUNDS": funds, "UMCSENT": sentiment, "DGS2": two}


def _world(fred: dict[str, pd.Series], seed: int = 9) -> dict[str, pd.DataFrame]:
    """Small caps' relative return rises 0.001 per bp of the 2y − fed funds change."""
    rng = np.random.default_rng(seed)
    spread, _ = to_available(FED_PATH, fred)
    change = spread.diff().reindex(DAYS).fillna(0).to_numpy() * 100
    rel = np.cumsum(0.001 * change + rng.normal(0, 0.001, len(DAYS)))
    spx = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(DAYS))))
    return {"^RUT": _bars(spx * np.exp(rel)), "^GSPC": _bars(spx)}


def test_fed_path_pairs_each_day_with_the_fed_funds_month_already_published() -> None:
    fred = _fred()
    spread, source = to_available(FED_PATH, fred)
    assert source == "DGS2 − FEDFUNDS"
    day = pd.Timestamp("2024-03-01")  # DGS2 of Thu 2024-02-29, available Fri 2024-03-01
    # February's average is published 2024-03-02: on 03-01 only January's is known
    assert spread.loc[day] == pytest.approx(fred["DGS2"].loc["2024-02-29"]
                                            - fred["FEDFUNDS"].loc["2024-01-01"])
    later = pd.Timestamp("2024-03-05")
    assert spread.loc[later] == pytest.approx(fred["DGS2"].loc["2024-03-04"]
                                              - fred["FEDFUNDS"].loc["2024-02-01"])
    assert period_of(FED_PATH, later) == pd.Timestamp("2024-03-04")


def test_sentiment_is_available_a_month_after_its_period() -> None:
    levels, source = to_available(CONSUMER_SENTIMENT, _fred())
    assert source == "UMCSENT" and levels.index[0] == pd.Timestamp("2018-02-01")
    assert period_of(CONSUMER_SENTIMENT, levels.index[-1]) == pd.Timestamp("2024-06-01")


def test_fed_path_and_sentiment_readings_units_relation_and_no_look_ahead() -> None:
    fred = _fred()
    bars = _world(fred)
    panel = calc_drivers(bars, ASOF, fred=fred)
    path = next(r for r in panel.readings if r.key == "fed_path")
    spread, _ = to_available(FED_PATH, fred)
    upto = spread.loc[: pd.Timestamp(ASOF)]
    assert path.level == pytest.approx(upto.iloc[-1]) and path.period is None
    assert (path.level_unit, path.change_unit) == ("%", "bp")
    assert path.change_1m == pytest.approx((upto.iloc[-1] - upto.iloc[-22]) * 100)
    assert path.relation is not None and path.relation.corr > 0.5
    assert path.relation.sign == "positive"
    mood = next(r for r in panel.readings if r.key == "consumer_sentiment")
    assert (mood.level_unit, mood.change_unit) == ("pts", "pts")
    assert mood.level == pytest.approx(fred["UMCSENT"].loc["2024-05-01"])  # June's not out yet
    assert mood.period == date(2024, 5, 1) and mood.relation is not None
    # appending observations after asof changes nothing
    more = {k: pd.concat([v, pd.Series([99.0], index=[pd.Timestamp("2024-06-28")])])
            if k != "DGS2" else v for k, v in fred.items()}
    again = calc_drivers(bars, ASOF, fred=more)
    assert [r for r in again.readings if r.key in ("fed_path", "consumer_sentiment")] == \
        [r for r in panel.readings if r.key in ("fed_path", "consumer_sentiment")]
