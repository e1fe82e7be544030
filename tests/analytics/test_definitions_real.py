"""The issue's examples on their real dates (../shared/data/market; skipped without it): the
same label gives the same figure in the chart and the text, calendar months are named, price
and total returns are both shown, ranks are stated with their population or not at all, and the
dates convention holds from the CLI to the files."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.text import Text

from analytics.briefing import compose_briefing
from analytics.charts.build import leadership_input
from analytics.charts.inputs import Footnote
from analytics.charts.leadership import leadership_figure
from analytics.charts.theme import DARK
from analytics.formats import pct
from analytics.leadership import calc_leadership_snapshot
from analytics.returns import window_label
from analytics.series import to_price
from bot.briefing.compose import briefing_for
from bot.cli import main
from bot.market_data.demo import demo_label
from bot.market_data.inception import INCEPTIONS
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import load_settings
from bot.ui.embeds import status_embed
from bot.ui.text import render_scoreboard, window_header

pytestmark = pytest.mark.shared_data
SYMBOLS = ("^RUT", "^GSPC", "IWM", "SPY")


@pytest.fixture(scope="module")
def market(market_dir: Path) -> MarketSnapshot:
    service = build_market_data(load_settings(), market_dir)
    return asyncio.run(service.snapshot(SYMBOLS))


@pytest.fixture(scope="module")
def real_bars(market: MarketSnapshot) -> Mapping[str, pd.DataFrame]:
    return market.bars


def _texts(fig: object) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("window", ["1m", "3m", "ytd", "1y"])
def test_2025_09_18_chart_and_text_show_the_same_figure(real_bars: Mapping[str, pd.DataFrame],
                                                        window: str) -> None:
    """Was: the 1-month chart RUT +7.5% vs SPX +2.8% (calendar month), the 1M column +8.39%
    vs +3.44% (21 sessions). Now both count sessions and print the same figure."""
    day = date(2025, 9, 18)
    snap = calc_leadership_snapshot(real_bars, day)
    rut_row, spx_row = snap.row("^RUT"), snap.row("^GSPC")
    assert rut_row is not None and spx_row is not None
    data = leadership_input(to_price(real_bars["^RUT"]), to_price(real_bars["^GSPC"]), window,
                            day, Footnote(day))
    assert data.rut_change == pytest.approx(rut_row.returns[window], abs=1e-12)
    assert data.spx_change == pytest.approx(spx_row.returns[window], abs=1e-12)
    fig = leadership_figure(data, DARK)
    texts = _texts(fig)
    assert f"Russell 2000  {pct(rut_row.returns[window], 1)}" in texts
    assert f"S&P 500  {pct(spx_row.returns[window], 1)}" in texts
    assert any(t.startswith(window_label(window)) for t in texts)
    # the lines drawn end where the stated figure says
    top = fig.axes[0]
    ends = sorted(float(line.get_ydata()[-1]) for line in top.get_lines()[1:3])
    # (the chart draws % changes since the window's base session, as fractions)
    want = sorted((rut_row.returns[window], spx_row.returns[window]))
    assert ends == pytest.approx(want, abs=1e-9)
    # the text's table names the same window by the same count of sessions
    table = "\n".join(render_scoreboard(snap.scoreboard, snap.relative, snap.asof))
    assert window_header(window) in table.splitlines()[0]
    assert f"{rut_row.returns[window]:+.2%}" in table
    if window == "1m":
        assert (pct(rut_row.returns[window], 1), pct(spx_row.returns[window], 1)) == \
            ("+8.4%", "+3.4%")


def test_2024_11_29_names_21_sessions_and_the_month_itself(
        real_bars: Mapping[str, pd.DataFrame]) -> None:
    """Was: "Over the past month" +9.0% while the Russell's November was +10.84%."""
    b = compose_briefing(real_bars, date(2024, 11, 29), inceptions=INCEPTIONS)
    assert "Past 21 sessions, price: Russell 2000 +9.0%" in b.headline
    assert "past month" not in b.headline.split(".")[-2]  # the figures name their window
    table = " ".join(render_scoreboard(b.leadership.scoreboard, b.leadership.relative, b.asof))
    assert "Russell 2000 Nov to date +10.84%" in table


def test_2024_12_02_last_full_month_price_and_total_and_a_stated_rank(
        real_bars: Mapping[str, pd.DataFrame]) -> None:
    day = date(2024, 12, 2)
    b = compose_briefing(real_bars, day, inceptions=INCEPTIONS)
    table = " ".join(render_scoreboard(b.leadership.scoreboard, b.leadership.relative, b.asof))
    assert "Russell 2000 Dec to date -0.02%, Nov 2024 +10.84%" in table
    iwm = b.leadership.row("IWM")
    assert iwm is not None and iwm.basis == "price" and iwm.total_returns is not None
    assert (f"{iwm.returns['ytd']:+.1%}", f"{iwm.total_returns['ytd']:+.1%}") == \
        ("+20.4%", "+21.5%")
    embed = status_embed(b.leadership, source="csv", stale=False, stale_reason=None)
    iwm_field = next(f.value for f in embed.fields if f.name == "IWM (price)")
    assert "YTD +20.45% (total +21.50%)" in (iwm_field or "")
    assert ("1,120 days without a record, the 3rd-longest of the 29 droughts of 63+ sessions "
            "since 1979") in b.records_line


def test_2026_08_20_no_rank_that_informs_nothing(real_bars: Mapping[str, pd.DataFrame]) -> None:
    """Was: "the 178th-longest drought" (a 6-day gap among 870, mostly 1-day)."""
    b = compose_briefing(real_bars, date(2026, 8, 20), inceptions=INCEPTIONS)
    rec = b.leadership.rut_records
    assert rec.days_since_record == 6 and rec.long_drought_rank is None
    assert "longest" not in b.records_line and "longest" not in b.headline
    embed = status_embed(b.leadership, source="csv", stale=False, stale_reason=None)
    assert all("longest" not in (f.value or "") for f in embed.fields)


def test_2025_09_18_cli_and_files_name_the_same_morning_and_close(
        market_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: stdout "Morning briefing - 2025-09-18 (Thu)", files "Fri 19 Sep 2025 morning
    briefing"."""
    out = tmp_path / "out"
    config = tmp_path / "quiet.toml"
    config.write_text('[logging]\nlevel = "WARNING"\n')
    code = main(["briefing", "--asof", "2025-09-18", "--data-dir", str(market_dir), "--out",
                 str(out), "--config", str(config)])
    assert code == 0
    first = capsys.readouterr().out.splitlines()[0]
    want = "Morning briefing for Fri 19 Sep 2025 · data to the close of Thu 18 Sep 2025"
    assert first == want
    demo = demo_label(market_dir)  # the bundled demo snapshot says so in the heading
    heading = f"# Small vs large caps · {want}" + (f" · {demo}" if demo else "")
    assert (out / "briefing.md").read_text().splitlines()[0] == heading
    assert want in (out / "briefing.html").read_text()


def test_old_data_says_how_old(market: MarketSnapshot) -> None:
    """A preview built from data 101 days old says so; one session behind says nothing."""
    settings = load_settings()
    last = market.asof
    assert last == date(2026, 8, 20)
    late = briefing_for(market, last, settings, now=datetime(2026, 11, 29, 17, tzinfo=UTC))
    assert late.data_age is not None and "Thu 20 Aug 2026, 101 days ago" in late.data_age
    fresh = briefing_for(market, last, settings, now=datetime(2026, 8, 21, 21, tzinfo=UTC))
    assert fresh.data_age is None  # Fri 21 Aug closed: one session behind is tolerated
    replay = briefing_for(market, date(2025, 9, 18), settings,
                          now=datetime(2026, 11, 29, 17, tzinfo=UTC))
    assert replay.data_age is None  # a replay reports a chosen past close, not the newest
