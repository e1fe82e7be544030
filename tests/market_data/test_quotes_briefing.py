"""The morning post's pre-market line: futures through real yfinance against the fake, shown
with their read time in the post, its markdown and the briefing text; a replay says it has none."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pandas as pd

from bot.briefing.compose import BriefingComposer
from bot.briefing.models import BriefingOptions
from bot.briefing.post import BriefingPost
from bot.market_data import calendar
from bot.market_data.quotes import QuoteReader
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.ui.text import render_briefing_markdown, render_briefing_text
from tests.analytics._frames import bars, trending
from tests.fakes.yahoo_api import FakeYahoo

NY = "America/New_York"


def _market(source: str) -> MarketSnapshot:
    b = {"^RUT": bars(trending(400, start="2024-03-01", seed=11)),
         "^GSPC": bars(trending(400, start="2024-03-01", seed=12))}
    return MarketSnapshot(bars=b, asof=b["^GSPC"].index[-1].date(), source=source, version="t")


def _compose(market: MarketSnapshot, quotes: QuoteReader | None) -> BriefingPost:
    async def snap() -> MarketSnapshot:
        return market

    composer = BriefingComposer(Settings(), snap, quotes=quotes)
    assert market.asof is not None
    session = calendar.next_session(market.asof)
    return asyncio.run(composer.compose(session, market.asof, BriefingOptions(charts=False)))


def test_morning_post_shows_futures_since_the_close_with_read_time(yahoo_fake: FakeYahoo
                                                                   ) -> None:
    market = _market("yahoo")
    assert market.asof is not None
    asof = calendar.session_on_or_before(market.asof)
    close_at = pd.Timestamp(calendar.session_close(asof))
    read_at = close_at + timedelta(hours=16, minutes=47)  # 08:47 ET the next morning
    idx = pd.date_range(close_at - timedelta(hours=2), read_at + timedelta(minutes=30),
                        freq="5min").tz_convert(NY)
    rty = pd.DataFrame({c: 2300.0 + 0.1 * pd.RangeIndex(len(idx)).to_numpy()
                        for c in ("open", "high", "low", "close")}, index=idx)
    rty["volume"] = 10.0
    yahoo_fake.set_intraday("RTY=F", rty)
    yahoo_fake.set_intraday("ES=F", rty * 2.8)
    quotes = QuoteReader(None, replay=False, session_factory=yahoo_fake.session,
                         now=lambda: read_at.to_pydatetime())

    post = _compose(market, quotes)
    first = post.fields[0]
    assert first.name == "Pre-market (read 08:47 ET)"
    prior = rty.loc[rty.index < close_at, "close"].iloc[-1]
    last = rty.loc[rty.index <= read_at, "close"].iloc[-1]
    assert first.value.startswith(f"Russell 2000 futures {(last / prior - 1) * 100:+.2f}%")
    assert f"since the {asof:%a %d %b} close" in first.value
    assert "## Pre-market (read 08:47 ET)\n\nRussell 2000 futures" in post.markdown()


def test_replay_post_and_text_say_there_are_no_premarket_quotes(yahoo_fake: FakeYahoo) -> None:
    market = _market("csv")
    post = _compose(market, None)
    assert (post.fields[0].name, post.fields[0].value) == (
        "Pre-market", "no pre-market quotes in replay")
    assert yahoo_fake.requests == []

    from bot.briefing.compose import briefing_for, with_premarket

    assert market.asof is not None
    brief = asyncio.run(with_premarket(briefing_for(market, market.asof, Settings()), market))
    assert "Pre-market: no pre-market quotes in replay" in render_briefing_text(brief)
    assert "**Pre-market:** no pre-market quotes in replay" in render_briefing_markdown(brief)


def test_past_date_post_has_no_premarket_line(yahoo_fake: FakeYahoo) -> None:
    market = _market("yahoo")
    assert market.asof is not None
    much_later = pd.Timestamp(calendar.session_close(market.asof)) + timedelta(days=30)
    quotes = QuoteReader(None, replay=False, session_factory=yahoo_fake.session,
                         now=lambda: much_later.to_pydatetime())
    post = _compose(market, quotes)
    assert not any(f.name.startswith("Pre-market") for f in post.fields)
    assert yahoo_fake.requests == []
