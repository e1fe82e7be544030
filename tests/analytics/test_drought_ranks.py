"""/history droughts ranks a drought the way the records line does: among droughts of 63+
sessions only, named only in the top 10, the population always stated (issue 10, item 6)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.records import calc_records_snapshot
from analytics.series import to_price
from analytics.studies.droughts import calc_droughts
from bot.market_data.inception import inception_of
from bot.market_data.service import build_market_data
from bot.settings import load_settings
from bot.ui.study_embeds import droughts_embed
from bot.ui.study_text import drought_rank_text, render_droughts_text
from tests.analytics._frames import series


def _gappy(gaps: list[int], tail: int) -> pd.Series:
    """Records separated by ``gaps`` sessions (a dip in between), then ``tail`` sessions below
    the last record (the open drought)."""
    values: list[float] = [100.0]
    level = 100.0
    for g in gaps:
        values += [level * 0.9] * (g - 1)
        level += 1.0
        values.append(level)
    values += [level * 0.9] * tail
    return series(values, "1990-01-01")


def test_only_droughts_of_63_sessions_are_ranked_and_counted() -> None:
    prices = _gappy([1, 2, 70, 1, 100, 65, 3], tail=80)
    table = calc_droughts(prices, prices.index[-1].date())
    long = {d.sessions: d.long_rank for d in table.droughts}
    assert long == {100: 1, 80: 2, 70: 3, 65: 4, 3: None, 2: None, 1: None}
    assert table.long_count == 4 and table.total == 8 and table.rank_min_sessions == 63
    cur = table.current
    assert cur is not None and cur.long_rank == 2 and cur.rank == 2
    assert drought_rank_text(table, cur) == \
        "the 2nd-longest of the 4 droughts of 63+ sessions since 1990"


def test_a_short_open_drought_is_not_ranked_but_the_population_is_stated() -> None:
    prices = _gappy([70, 1, 100], tail=5)
    table = calc_droughts(prices, prices.index[-1].date())
    assert table.current is not None and table.current.long_rank is None
    text = drought_rank_text(table, table.current)
    assert text == ("shorter than 63 sessions, so not ranked (the 2 droughts of 63+ sessions "
                    "since 1990)")


def test_a_rank_outside_the_top_ten_is_not_named() -> None:
    prices = _gappy([200 + i for i in range(12)], tail=64)
    table = calc_droughts(prices, prices.index[-1].date())
    assert table.current is not None and table.current.long_rank == 13
    text = drought_rank_text(table, table.current)
    assert text == "not among the 10 longest of the 13 droughts of 63+ sessions since 1990"
    assert "13th" not in render_droughts_text(table, "Test")


# ------------------------------------------------------------------ the real history


@pytest.fixture(scope="module")
def rut(market_dir: Path) -> pd.Series:
    market = build_market_data(load_settings(), market_dir)
    bars: Mapping[str, pd.DataFrame] = asyncio.run(market.snapshot(("^RUT", "^GSPC"))).bars
    return to_price(bars["^RUT"])


@pytest.mark.shared_data
def test_real_2024_12_02_droughts_quote_the_records_rank(rut: pd.Series) -> None:
    table = calc_droughts(rut, date(2024, 12, 2), min_days=365, inception=inception_of("^RUT"))
    text = render_droughts_text(table, "Russell 2000")
    phrase = "the 3rd-longest of the 29 droughts of 63+ sessions since 1979"
    assert phrase in " ".join(text.split())
    embed = droughts_embed(table, name="Russell 2000", source="csv", stale=False,
                           stale_reason=None).to_dict()
    assert phrase in embed["description"]
    # no rank among every gap anywhere ("#178 of 908", "the 178th-longest of 908")
    for out in (text, embed["description"]):
        assert not re.search(rf"of {table.total:,}\b", out) and "th longest" not in out


@pytest.mark.shared_data
@pytest.mark.parametrize("day", ["1999-06-01", "2009-03-09", "2016-02-11", "2023-10-27",
                                 "2025-09-17"])
def test_real_droughts_and_records_rank_the_open_drought_alike(rut: pd.Series, day: str) -> None:
    asof = date.fromisoformat(day)
    table = calc_droughts(rut, asof, inception=inception_of("^RUT"))
    snap = calc_records_snapshot(rut, asof, inception=inception_of("^RUT"))
    assert snap is not None and table.current is not None
    assert table.current.long_rank == snap.long_drought_rank
    assert table.long_count == snap.long_drought_count
    assert np.all([d.long_rank is None or d.sessions >= 63 for d in table.droughts])
