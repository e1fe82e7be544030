"""Every data command through INTERACTION_CREATE: a deferral, then one follow-up carrying an
embed with the right numbers for the real history and a valid PNG."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.verdict import EVEN_BAND
from bot.ui.embeds import LARGE_COLOUR, NEUTRAL_COLOUR, SMALL_COLOUR
from tests.e2e import expected as X
from tests.e2e.conftest import Harness, png_size
from tests.fakes.discord_api import Recorded

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def one_png(followup: Recorded, filename: str) -> bytes:
    assert [f.filename for f in followup.files] == [filename]
    (embed,) = followup.embeds()
    assert embed["image"]["url"] == f"attachment://{filename}"
    assert followup.json["attachments"][0]["filename"] == filename
    data = followup.files[0].data
    width, height = png_size(data)
    assert 600 <= width <= 2400 and 300 <= height <= 1600
    return data


def fields(followup: Recorded) -> dict[str, str]:
    (embed,) = followup.embeds()
    return {f["name"]: f["value"] for f in embed["fields"]}


def within_limits(embed: dict) -> None:
    assert len(embed.get("title", "")) <= 256
    assert len(embed.get("fields", [])) <= 25
    assert all(len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in embed["fields"])
    total = len(embed.get("title", "")) + len(embed.get("description") or "") + \
        len(embed.get("footer", {}).get("text", "")) + \
        sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000


async def test_status_numbers_colour_and_chart(harness: Harness) -> None:
    callback, followup = await harness.reply("status")
    assert callback.json["type"] == 5 and followup.flags & 64 == 0
    one_png(followup, "status.png")
    (embed,) = followup.embeds()
    within_limits(embed)
    md = harness.market_dir
    asof = X.last_date(md, "GSPC")
    rut, spx = X.closes(md, "RUT_since1979"), X.closes(md, "GSPC")
    got = fields(followup)
    assert f"21D {X.fmt_pct(X.session_return(rut, asof, 21))}" in got["Russell 2000 (price)"]
    assert f"252D {X.fmt_pct(X.session_return(spx, asof, 252))}" in got["S&P 500 (price)"]
    assert f"**{spx.loc[asof]:,.2f}**" in got["S&P 500 (price)"]
    top, when, draw = X.record(spx, asof)
    if draw < 0:
        want = f"{X.fmt_pct(draw)} from record {top:,.2f} ({when.date()})"
        assert want in got["S&P 500 vs record"]
    ratio, _ = X.ratio_and_leader(rut, spx, asof)
    assert got["RUT/SPX ratio (small vs large)"].startswith(f"**{ratio:.4f}**")
    leader = X.verdict_leader(rut, spx, asof, EVEN_BAND)
    colours = {"small": SMALL_COLOUR, "large": LARGE_COLOUR, "mixed": NEUTRAL_COLOUR}
    assert embed["color"] == colours[leader].value
    title = {"small": "Small caps lead", "large": "Large caps lead", "mixed": "Mixed: "}[leader]
    assert embed["title"].startswith(title)
    assert asof.date().isoformat() in embed["title"]
    assert f"Data to close of {asof.date()}" in embed["footer"]["text"]


async def test_status_asof_replays_a_past_day(harness: Harness) -> None:
    _, followup = await harness.reply("status", {"asof": "2020-03-23", "window": "3m"})
    (embed,) = followup.embeds()
    spx = X.closes(harness.market_dir, "GSPC")
    day = spx.index.asof(pd.Timestamp("2020-03-23"))
    assert "2020-03-23" in embed["title"]
    assert f"**{spx.loc[day]:,.2f}**" in fields(followup)["S&P 500 (price)"]
    one_png(followup, "status.png")


async def test_chart_two_symbols_rebased(harness: Harness) -> None:
    callback, followup = await harness.reply("chart", {"symbols": "iwm spy", "period": "1y"})
    assert callback.json["type"] == 5
    one_png(followup, "chart.png")
    (embed,) = followup.embeds()
    within_limits(embed)
    assert embed["title"] == "IWM vs SPY · 252 sessions"
    got = fields(followup)
    for symbol in ("IWM", "SPY"):  # counted in sessions, as /status and the briefing count
        series = X.closes(harness.market_dir, symbol)
        change = X.session_return(series, series.index[-1], 252)
        assert f"252 sessions: {X.fmt_pct(change)}" in got[symbol], (symbol, got[symbol])
        assert f"**{series.iloc[-1]:,.2f}**" in got[symbol]


async def test_chart_ratio_kind(harness: Harness) -> None:
    _, followup = await harness.reply("chart", {"symbols": "IWM SPY", "kind": "ratio",
                                                "period": "5y"})
    got = fields(followup)
    iwm, spy = X.closes(harness.market_dir, "IWM"), X.closes(harness.market_dir, "SPY")
    last = iwm.index[-1]
    assert got["IWM/SPY"].startswith(f"**{iwm.loc[last] / spy.loc[last]:.4f}**")
    one_png(followup, "chart.png")


async def test_chart_autocomplete_suggests_universe_symbols(harness: Harness) -> None:
    ix = await harness.fake.autocomplete("chart", {"symbols": "IWM X"}, focused="symbols")
    callback = await ix.callback()
    assert callback.json["type"] == 8
    values = [c["value"] for c in callback.json["data"]["choices"]]
    assert values and all(v.startswith("IWM X") for v in values)
    assert "IWM XLF" in values and len(values) <= 25


async def test_history_breakouts_counts_events(harness: Harness) -> None:
    callback, followup = await harness.reply("history", {"study": "breakouts"})
    assert callback.json["type"] == 5
    one_png(followup, "history-breakouts.png")
    (embed,) = followup.embeds()
    within_limits(embed)
    rut = X.closes(harness.market_dir, "RUT_since1979")
    asof = X.last_date(harness.market_dir, "GSPC")
    events = X.breakouts(rut.loc[:asof], 365)
    assert f"{len(events)} events" in embed["description"]
    latest = fields(followup)[next(k for k in fields(followup) if k.startswith("Events"))]
    assert f"`{events[-1].date()}`" in latest.splitlines()[0]


@pytest.mark.parametrize("study", ["droughts", "cycles", "rates"])
async def test_history_other_studies(harness: Harness, study: str) -> None:
    callback, followup = await harness.reply("history", {"study": study})
    assert callback.json["type"] == 5
    one_png(followup, f"history-{study}.png")
    (embed,) = followup.embeds()
    within_limits(embed)
    assert embed["title"].startswith("History · ")


async def test_drivers_readings_and_chart(harness: Harness) -> None:
    callback, followup = await harness.reply("drivers")
    assert callback.json["type"] == 5
    one_png(followup, "drivers.png")
    (embed,) = followup.embeds()
    within_limits(embed)
    got = fields(followup)
    tnx = X.closes(harness.market_dir, "TNX")
    asof = X.last_date(harness.market_dir, "GSPC")
    assert f"{tnx.loc[:asof].iloc[-1]:.2f}%" in got["10-year yield"]
    assert embed["title"].startswith("What moved with small caps · ")
    # the forecast record's line: computed in the background, or said to be on its way
    assert "Composite forecast record" in embed["description"]
    # a replay has neither reading: each keeps its field, labelled
    assert got.pop("Valuation (trailing P/E)") == "not in replay data"
    assert got.pop("Pre-market futures") == "no pre-market quotes in replay"
    calls = {v.split("**")[1] for v in got.values()}
    assert calls <= {"🟢 tailwind", "🔴 headwind", "⚪ neutral", "🔹 descriptive", "▫️ no data"}
    for value in got.values():  # every measured relation shows r, its 95% interval and n
        if "r " in value:
            assert "95% CI" in value and "n=" in value
