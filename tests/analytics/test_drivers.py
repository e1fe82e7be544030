"""Drivers panel on hand-built frames: units, z-score, weekly relation, calls, stale and absent
readings, FRED release lags, no look-ahead."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.drivers import calc_drivers, calc_relation, to_driver_series
from analytics.economy import GDP_GROWTH, UNEMPLOYMENT, to_available

DAYS = pd.bdate_range("2019-01-01", "2024-06-28")
ASOF = date(2024, 6, 28)


def _bars(values: np.ndarray | list[float], index: pd.DatetimeIndex = DAYS,
          adjusted_only: bool = False) -> pd.DataFrame:
    v = np.asarray(values, dtype="float64")
    close = np.full(v.size, np.nan) if adjusted_only else v
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                         "adj_close": v, "volume": np.nan}, index=index.rename("date"))


def _world(seed: int = 7) -> dict[str, pd.DataFrame]:
    """Yields random-walk; small caps' relative return = -0.002 per bp of yield change + noise;
    the last month the 10y falls 40 bp."""
    rng = np.random.default_rng(seed)
    n = len(DAYS)
    dy = rng.normal(0, 5, n)  # bp per day
    dy[-21:] = -40 / 21
    tnx = 3.0 + np.cumsum(dy) / 100
    rel = np.cumsum(-0.0004 * dy + rng.normal(0, 0.002, n))
    spx = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n)))
    rut = spx * np.exp(rel)
    flat = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return {"^RUT": _bars(rut), "^GSPC": _bars(spx), "^TNX": _bars(tnx),
            "^IRX": _bars(2.0 + np.cumsum(rng.normal(0, 0.02, n))),
            "^VIX": _bars(15 + np.abs(rng.normal(0, 3, n))),
            "UUP": _bars(flat, adjusted_only=True), "SPY": _bars(spx),
            "XLI": _bars(flat * 2, adjusted_only=True)}


def _reading(panel, key: str):  # type: ignore[no-untyped-def]
    return next(r for r in panel.readings if r.key == key)


def test_ten_year_reading_units_relation_and_tailwind_call() -> None:
    bars = _world()
    panel = calc_drivers(bars, ASOF)
    ten = _reading(panel, "ten_year")
    tnx = bars["^TNX"]["close"]
    assert ten.level == pytest.approx(tnx.iloc[-1]) and ten.asof == ASOF and not ten.stale
    assert (ten.level_unit, ten.change_unit) == ("%", "bp")
    assert ten.change_1m == pytest.approx((tnx.iloc[-1] - tnx.iloc[-22]) * 100)
    assert ten.change_1m == pytest.approx(-40, abs=0.01)
    year = tnx.iloc[-252:]
    assert ten.zscore == pytest.approx((year.iloc[-1] - year.mean()) / year.std())
    assert ten.relation is not None and ten.relation.periods == 156
    assert ten.relation.corr < -0.5 and ten.relation.strength == "strong"
    assert ten.relation.beta == pytest.approx(-0.0004, rel=0.25)
    assert ten.call == "tailwind"
    assert ten.relation.reliable and ten.relation.low <= ten.relation.corr <= ten.relation.high
    assert ten.relation.high < 0
    assert ten.reason.startswith("10y yield down 40 bp in a month; it has moved against small "
                                 "caps (r −0.")
    assert "n=156), so this move went with small-cap outperformance" in ten.reason


def test_missing_symbols_and_fred_are_absent_with_reasons() -> None:
    panel = calc_drivers(_world(), ASOF)
    credit = _reading(panel, "credit")
    assert credit.call == "absent" and credit.reason == "no data for HYG, LQD"
    unemployment = _reading(panel, "unemployment")
    assert unemployment.call == "absent" and "no FRED data given" in unemployment.reason
    assert panel.absent == 9  # credit, KRE, IWN/IWO, XLY/XLP, 5 economy (Fed path, sentiment)
    assert panel.tailwinds + panel.headwinds + panel.neutral == 5  # 10y, 3m, UUP, VIX, XLI


def test_symbol_ending_early_is_labelled_and_not_counted() -> None:
    bars = _world()
    early = DAYS[DAYS <= "2024-05-31"]
    bars["KRE"] = _bars(np.linspace(10, 12, len(early)), index=early, adjusted_only=True)
    panel = calc_drivers(bars, ASOF)
    kre = _reading(panel, "regional_banks")
    assert kre.asof == date(2024, 5, 31) and kre.stale
    assert kre.reason.startswith("As of 2024-05-31 (stale, not counted)")
    assert "regional_banks" in panel.not_counted and "stale not counted" in panel.summary
    assert panel.tailwinds + panel.headwinds + panel.neutral == 5


def test_ratio_changes_are_fractions_and_flat_moves_are_neutral() -> None:
    bars = _world()
    panel = calc_drivers(bars, ASOF)
    xli = _reading(panel, "industrials")
    ratio = bars["XLI"]["adj_close"] / bars["SPY"]["close"]
    assert xli.change_unit == "fraction" and xli.source == "XLI/SPY"
    assert xli.change_3m == pytest.approx(ratio.iloc[-1] / ratio.iloc[-64] - 1)


def test_no_look_ahead_in_drivers() -> None:
    bars = _world()
    asof = date(2023, 12, 29)
    cut = {s: f.loc[:"2023-12-29"] for s, f in bars.items()}
    assert calc_drivers(bars, asof) == calc_drivers(cut, asof)


def test_fred_economy_uses_release_lags_and_gdp_growth_formula() -> None:
    months = pd.date_range("2019-01-01", "2024-05-01", freq="MS")
    unrate = pd.Series(np.linspace(3.5, 4.0, len(months)), index=months)
    quarters = pd.date_range("2017-01-01", "2024-01-01", freq="QS")
    gdp = pd.Series(100 * 1.01 ** np.arange(len(quarters)), index=quarters)
    fred = {"UNRATE": unrate, "GDPC1": gdp}
    levels, source = to_available(UNEMPLOYMENT, fred)
    assert source == "UNRATE" and levels.index[-1] == pd.Timestamp("2024-06-08")
    growth, _ = to_available(GDP_GROWTH, fred)
    assert growth.iloc[-1] == pytest.approx((1.01 ** 4 - 1) * 100)
    assert growth.index[-1] == pd.Timestamp("2024-05-01")  # Q1 2024 known ~4 months on
    panel = calc_drivers(_world(), date(2024, 6, 7), fred=fred)
    un = _reading(panel, "unemployment")
    assert un.period == date(2024, 4, 1)  # May's rate is not out until 8 June
    assert un.change_unit == "pp" and un.level == pytest.approx(unrate.iloc[-2])
    gdp_reading = _reading(panel, "gdp_growth")
    assert gdp_reading.change_1m is None and gdp_reading.period == date(2024, 1, 1)
    claims = _reading(panel, "jobless_claims")
    assert claims.call == "absent" and "ICSA" in claims.reason


def test_relation_needs_26_pairs_and_variation() -> None:
    idx = pd.date_range("2020-01-03", periods=30, freq="W-FRI")
    x = pd.Series(np.arange(30.0), index=idx)
    assert calc_relation(x.iloc[:25], x.iloc[:25]) is None
    assert calc_relation(pd.Series(1.0, index=idx), x) is None
    rel = calc_relation(x, 2 * x)
    assert rel is not None and rel.corr == pytest.approx(1) and rel.beta == pytest.approx(2)


def test_driver_series_for_charts() -> None:
    bars = _world()
    series = to_driver_series(bars, "industrials", ASOF, window=100)
    assert len(series) == 100 and series.index[-1] == pd.Timestamp(ASOF)
    expected = bars["XLI"]["adj_close"].iloc[-1] / bars["SPY"]["close"].iloc[-1]
    assert series.iloc[-1] == pytest.approx(expected)
    with pytest.raises(KeyError):
        to_driver_series(bars, "unemployment", ASOF)


def test_one_row_and_empty_driver_do_not_crash() -> None:
    bars = _world()
    bars["UUP"] = _bars([], index=DAYS[:0])
    bars["^VIX"] = _bars([20.0], index=DAYS[-1:])
    panel = calc_drivers(bars, ASOF)
    assert _reading(panel, "dollar").call == "absent"
    vix = _reading(panel, "volatility")
    assert vix.level == 20.0 and vix.change_1m is None and vix.call == "neutral"


def test_flat_driver_is_neutral_and_unchanged() -> None:
    bars = _world()
    bars["UUP"] = _bars(np.full(len(DAYS), 27.0), adjusted_only=True)
    dollar = _reading(calc_drivers(bars, ASOF), "dollar")
    assert dollar.change_1m == 0 and dollar.zscore is None and dollar.relation is None
    assert (dollar.call, dollar.reason) == ("neutral", "The dollar unchanged over the month")
