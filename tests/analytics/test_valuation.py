"""The pure valuation and pre-market readings: tiny hand-built inputs, edge cases, and no
look-ahead (readings or prices after ``asof`` never change an answer)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from analytics.premarket import NO_PREMARKET_IN_REPLAY, absent_premarket, calc_premarket
from analytics.valuation import (
    FORWARD_WEEKS,
    NOT_IN_REPLAY,
    absent_valuation,
    calc_hac_interval,
    calc_valuation,
)

NY = "America/New_York"


def history(days: list[str], iwm: list[float], spy: list[float] | None = None,
            ivw: list[float] | None = None) -> pd.DataFrame:
    rows = []
    for i, day in enumerate(days):
        for symbol, values in (("IWM", iwm), ("SPY", spy), ("IVW", ivw)):
            if values is not None and not np.isnan(values[i]):
                rows.append({"symbol": symbol, "session": date.fromisoformat(day),
                             "trailing_pe": values[i]})
    return pd.DataFrame(rows, columns=["symbol", "session", "trailing_pe"])


def test_iwm_against_spy_and_ivw() -> None:
    h = history(["2026-08-13", "2026-08-14"], [26.0, 27.23], [25.0, 26.1], [28.0, 28.25])
    r = calc_valuation(h, date(2026, 8, 14))
    assert (r.session, r.iwm, r.spy, r.ivw) == (date(2026, 8, 14), 27.23, 26.1, 28.25)
    assert r.vs_ivw == pytest.approx(27.23 / 28.25 - 1)
    assert r.vs_spy == pytest.approx(27.23 / 26.1 - 1)
    assert r.sessions == 2 and r.relation is None and not r.stale
    assert r.line.startswith("IWM P/E 27.23 vs 28.25 for IVW and 26.10 for SPY (2026-08-14): "
                             "IWM 4% below IVW, 4% above SPY. 2 sessions of history")


def test_missing_benchmark_is_named_with_its_reason() -> None:
    h = history(["2026-08-14"], [27.0], [26.0], None)
    r = calc_valuation(h, date(2026, 8, 14), reasons={"IVW": "HTTP 429"})
    assert r.ivw is None and r.vs_ivw is None and r.missing == ("IVW",)
    assert "; IVW: HTTP 429" in r.line


def test_old_reading_is_labelled_and_none_at_all_is_an_absence() -> None:
    h = history(["2026-08-03"], [27.0], [26.0], [28.0])
    old = calc_valuation(h, date(2026, 8, 14))
    assert old.stale and "(2026-08-03, old)" in old.line
    none = calc_valuation(h, date(2026, 7, 31))
    assert none.status == "absent"
    assert none.line == "Valuation (trailing P/E): no reading recorded on or before 2026-07-31"
    empty = calc_valuation(history([], []), date(2026, 8, 14), reasons={"IWM": "HTTP 404"})
    assert empty.line == "Valuation (trailing P/E): HTTP 404"


def test_replay_absence_keeps_its_line() -> None:
    r = absent_valuation(date(2025, 9, 18), NOT_IN_REPLAY)
    assert r.status == "absent" and r.line == "Valuation (trailing P/E): not in replay data"
    p = absent_premarket(NO_PREMARKET_IN_REPLAY)
    assert p.line == "Pre-market: no pre-market quotes in replay"


def _weekly_case(sign: float) -> tuple[pd.DataFrame, pd.Series, date]:
    """40 weeks of Friday readings whose IWM/SPY P/E ratio decides the next 4 weeks' RUT/SPX
    return (``sign`` +1: cheap IWM → small caps lag; -1: cheap IWM → small caps lead)."""
    fridays = pd.date_range("2025-01-03", periods=40, freq="W-FRI")
    ratio = 1.0 + 0.1 * np.sin(np.arange(40) / 2.0)
    rel = [1.0]
    for i in range(1, 40):  # the return over week i, known to follow the ratio 4 weeks before
        rel.append(rel[-1] * (1 + sign * 0.01 * (ratio[i - 1] - 1.0) / FORWARD_WEEKS))
    days = [d.date().isoformat() for d in fridays]
    h = history(days, list(25.0 * ratio), [25.0] * 40, [27.0] * 40)
    return h, pd.Series(rel, index=fridays), fridays[-1].date()


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_relation_appears_once_history_allows_it(sign: float) -> None:
    h, relative, asof = _weekly_case(sign)
    r = calc_valuation(h, asof, relative)
    assert r.relation is not None
    assert r.relation.periods == 40 - FORWARD_WEEKS
    assert np.sign(r.relation.corr) == sign and r.relation.strength == "strong"
    assert r.interval is not None and np.sign(r.interval[0]) == np.sign(r.interval[1]) == sign
    led = "led" if sign > 0 else "lagged"
    assert f"when IWM was dearer than SPY, small caps {led}" in r.line
    assert "(95% HAC interval excludes zero)" in r.line
    short = calc_valuation(h, pd.Timestamp("2025-05-02").date(), relative)
    assert short.relation is None and f"{short.sessions} sessions of history" in short.line


def test_hac_interval_covers_the_slope_and_widens_with_autocorrelation() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=200)
    y = 2.0 * x + rng.normal(size=200)
    lo, hi = calc_hac_interval(x, y, 3) or (0.0, 0.0)
    assert lo < 2.0 < hi
    noise = rng.normal(size=200)
    lo0, hi0 = calc_hac_interval(x, noise, 3) or (1.0, 1.0)
    assert lo0 < 0.0 < hi0
    # smooth, trending series: their scores are autocorrelated, so lags widen the interval
    t = np.arange(120, dtype="float64")
    xs, ys = np.sin(t / 8.0), np.sin(t / 8.0 + 0.5) + 0.3 * np.cos(t / 5.0)
    narrow, wide = calc_hac_interval(xs, ys, 0), calc_hac_interval(xs, ys, 6)
    assert narrow is not None and wide is not None
    assert wide[1] - wide[0] > narrow[1] - narrow[0]
    assert calc_hac_interval(np.ones(10), np.arange(10.0), 3) is None


def test_no_look_ahead_from_later_readings_or_prices() -> None:
    h, relative, _ = _weekly_case(1.0)
    asof = date(2025, 8, 29)
    cut_h = h.loc[h["session"] <= asof]
    cut_rel = relative.loc[:pd.Timestamp(asof)]
    assert calc_valuation(h, asof, relative) == calc_valuation(cut_h, asof, cut_rel)


# ---------------------------------------------------------------- pre-market
def bars(start: str, end: str, base: float) -> pd.Series:
    idx = pd.date_range(start, end, freq="5min", tz=NY)
    return pd.Series(base + np.arange(len(idx), dtype="float64"), index=idx)


def test_premarket_from_the_bar_before_the_close_to_the_last_before_the_read() -> None:
    rty = bars("2026-08-13 15:00", "2026-08-14 09:30", 2300.0)
    close_at = pd.Timestamp("2026-08-13 16:00", tz=NY).to_pydatetime()
    read_at = pd.Timestamp("2026-08-14 08:47", tz=NY).to_pydatetime()
    r = calc_premarket({"RTY=F": rty}, date(2026, 8, 13), close_at, read_at,
                       reasons={"ES=F": "HTTP 404"})
    (m_rty, m_es) = r.moves
    prior = rty[pd.Timestamp("2026-08-13 15:55", tz=NY)]
    last = rty[pd.Timestamp("2026-08-14 08:45", tz=NY)]
    assert (m_rty.prior_close, m_rty.last) == (prior, last)
    assert m_rty.change == pytest.approx(last / prior - 1)
    assert m_es.change is None and m_es.reason == "HTTP 404"
    assert r.status == "ok"
    assert r.line == (f"Pre-market (read 08:47 ET): Russell 2000 futures "
                      f"{(last / prior - 1) * 100:+.2f}% since the Thu 13 Aug close (last quotes "
                      "08:45 ET); S&P 500 futures: HTTP 404")
    after_open = calc_premarket({"RTY=F": rty}, date(2026, 8, 13), close_at, read_at,
                                open_at=pd.Timestamp("2026-08-14 08:30", tz=NY).to_pydatetime())
    assert after_open.line.startswith("Futures (read 08:47 ET): Russell 2000 futures")
    # later bars never change the answer
    assert calc_premarket({"RTY=F": rty.loc[:read_at]}, date(2026, 8, 13), close_at, read_at,
                          reasons={"ES=F": "HTTP 404"}) == r


def test_premarket_early_close_and_no_quote_since() -> None:
    es = bars("2026-11-27 12:00", "2026-11-27 16:00", 6400.0)
    early = pd.Timestamp("2026-11-27 13:00", tz=NY).to_pydatetime()
    read_at = pd.Timestamp("2026-11-30 08:00", tz=NY).to_pydatetime()
    r = calc_premarket({"ES=F": es}, date(2026, 11, 27), early, read_at)
    m = r.moves[1]
    assert m.prior_close == es[pd.Timestamp("2026-11-27 12:55", tz=NY)]
    assert m.last == es.iloc[-1]
    stale = calc_premarket({"ES=F": es.loc[es.index < early]}, date(2026, 11, 27), early,
                           read_at)
    assert stale.status == "absent" and "no quote since the prior close" in stale.line


def test_premarket_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calc_premarket({}, date(2026, 8, 13), datetime(2026, 8, 13, 20), datetime(2026, 8, 14))
