"""Known facts on the real history (../shared/data/market, ^RUT extended to 1979 by the market
data service with the bundled 1979-1987 closes), and no look-ahead on a sample of real dates."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.briefing import compose_briefing
from analytics.leadership import calc_leadership_snapshot
from bot.market_data.inception import INCEPTIONS
from bot.market_data.service import build_market_data
from bot.settings import load_settings
from bot.ui.text import to_jsonable

pytestmark = pytest.mark.shared_data
SYMBOLS = ("^RUT", "^GSPC", "IWM", "SPY")


@pytest.fixture(scope="module")
def real_bars(market_dir: Path) -> Mapping[str, pd.DataFrame]:
    market = build_market_data(load_settings(), market_dir)
    return asyncio.run(market.snapshot(SYMBOLS)).bars


def test_rut_history_is_extended_to_1979(real_bars: Mapping[str, pd.DataFrame]) -> None:
    snap = calc_leadership_snapshot(real_bars, date(2024, 12, 2))
    assert snap.rut_records.history_start == date(1979, 1, 2)


def test_rut_record_close_2021_11_08(real_bars: Mapping[str, pd.DataFrame]) -> None:
    on_day = calc_leadership_snapshot(real_bars, date(2021, 11, 8))
    rec = on_day.rut_records
    assert rec.is_record and rec.close == pytest.approx(2442.74, abs=0.005)
    later = calc_leadership_snapshot(real_bars, date(2025, 9, 17)).rut_records
    assert later.record_date == date(2021, 11, 8)
    assert later.record_close == pytest.approx(2442.739990, abs=1e-6)
    assert not later.is_record and later.drought_rank is not None


def test_breakout_2025_09_18_after_1410_days(real_bars: Mapping[str, pd.DataFrame]) -> None:
    rec = calc_leadership_snapshot(real_bars, date(2025, 9, 18)).rut_records
    assert rec.is_record and rec.record_date == date(2025, 9, 18)
    assert rec.close == pytest.approx(2467.70, abs=0.005)
    assert rec.breakout and rec.prior_gap_days == 1410
    # No record close in between: the previous one is the 2021-11-08 record.
    before = calc_leadership_snapshot(real_bars, date(2025, 9, 17)).rut_records
    assert before.days_since_record == 1409 and not before.breakout


def test_spx_close_2021_11_08(real_bars: Mapping[str, pd.DataFrame]) -> None:
    row = calc_leadership_snapshot(real_bars, date(2021, 11, 8)).row("^GSPC")
    assert row is not None and row.level == pytest.approx(4701.70, abs=0.005)


def test_late_2024_round_level_was_2500(real_bars: Mapping[str, pd.DataFrame]) -> None:
    rec = calc_leadership_snapshot(real_bars, date(2024, 12, 2)).rut_records
    assert rec.next_level == 2500.0 and 0 < rec.next_level_distance < 0.05
    assert rec.days_since_record == (date(2024, 12, 2) - date(2021, 11, 8)).days


def test_breakout_day_briefing_uses_the_breakouts_study(
        real_bars: Mapping[str, pd.DataFrame]) -> None:
    b = compose_briefing(real_bars, date(2025, 9, 18), inceptions=INCEPTIONS)
    assert b.analog is not None and b.analog.event_date == date(2025, 9, 18)
    assert (b.analog.count, b.analog.spx_hits) == (11, 10)
    assert b.history_line is not None and "higher a year later in 10 of 11" in b.history_line
    # Price returns, and both statistics the breakouts chart and `history breakouts` quote.
    assert ("in 10 of 11 (price return: mean +12.8%, median +16.2%), the Russell in 8 of 11 "
            "(mean +12.8%, median +8.3%)") in b.history_line
    assert b.analog.spx_median == pytest.approx(0.162, abs=5e-4)


def test_breakout_day_lines_name_the_session_not_today(
        real_bars: Mapping[str, pd.DataFrame]) -> None:
    """The morning post is read the day after the close: "today" would point at the wrong day."""
    b = compose_briefing(real_bars, date(2025, 9, 18), inceptions=INCEPTIONS)
    assert b.history_line is not None and b.history_line.startswith("Thursday's breakout")
    assert "record close on Thursday" in b.records_line
    assert "today" not in (b.headline + b.records_line + b.history_line).lower()


@pytest.mark.parametrize("asof", [date(1979, 3, 1), date(1987, 10, 19), date(2000, 6, 1),
                                  date(2008, 11, 20), date(2021, 11, 8), date(2024, 12, 2),
                                  date(2025, 9, 18), date(2025, 11, 29)])
def test_no_look_ahead_on_real_history(real_bars: Mapping[str, pd.DataFrame],
                                       asof: date) -> None:
    cut = {s: f.loc[: pd.Timestamp(asof)] for s, f in real_bars.items()}
    full = to_jsonable(compose_briefing(real_bars, asof, inceptions=INCEPTIONS))
    assert full == to_jsonable(compose_briefing(cut, asof, inceptions=INCEPTIONS))


def test_briefing_with_the_real_drivers_panel(market_dir: Path) -> None:
    from analytics.drivers import calc_drivers

    market = build_market_data(load_settings(), market_dir)
    bars = asyncio.run(market.snapshot()).bars
    asof = date(2024, 12, 2)
    panel = calc_drivers(bars, asof)
    b = compose_briefing(bars, asof, drivers=panel, inceptions=INCEPTIONS)
    assert (b.drivers_tailwinds, b.drivers_headwinds) == (panel.tailwinds, panel.headwinds)
    assert b.drivers_line is not None and b.drivers_line.startswith(
        f"{panel.tailwinds} tailwind")


@pytest.mark.parametrize("asof", [date(1990, 10, 11), date(2003, 3, 11), date(2024, 12, 2),
                                  date(2025, 4, 8)])
def test_drought_rank_matches_the_droughts_study(real_bars: Mapping[str, pd.DataFrame],
                                                 asof: date) -> None:
    from analytics.series import to_price
    from analytics.studies.droughts import calc_droughts

    rec = calc_leadership_snapshot(real_bars, asof).rut_records
    table = calc_droughts(to_price(real_bars["^RUT"]), asof)
    assert table.current is not None
    assert (rec.drought_rank, rec.drought_count) == (table.current.rank, table.total)
    assert rec.days_since_record == table.current.days


def test_late_2024_briefing_shows_the_pending_breakout(
        real_bars: Mapping[str, pd.DataFrame]) -> None:
    b = compose_briefing(real_bars, date(2024, 12, 2), inceptions=INCEPTIONS)
    assert b.analog is not None and b.analog.kind == "pending"
    assert b.analog.record_close == pytest.approx(2442.739990, abs=1e-6)
    assert (b.analog.count, b.analog.spx_hits) == (11, 10)
