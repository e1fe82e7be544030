"""Valuation and pre-market readings through REAL yfinance against the loopback fake Yahoo:
the quote summary's trailing P/E recorded once per NYSE session, its faults as labelled
absences, futures since the prior close with their read time, replay's labelled absence, and
no look-ahead for a past date."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analytics.drivers import calc_drivers
from bot.market_data import calendar
from bot.market_data.quotes import RETRY_AFTER, QuoteReader, reader_for
from bot.market_data.snapshot import MarketSnapshot
from bot.market_data.yahoo import fetch_intraday_closes, fetch_trailing_pe
from bot.settings import Settings
from bot.storage.db import create_engine, migrate
from bot.storage.valuations import valuations_table
from bot.subcommands.drivers import quote_readings
from bot.ui.study_text import drivers_json, render_drivers_text
from tests.fakes.yahoo_api import FakeYahoo
from tests.market_data.conftest import tiny_bars

NY = "America/New_York"
# Thursday 2026-08-13 and Friday 2026-08-14 are sessions; each clock reads before the open.
FRI_MORNING = datetime(2026, 8, 14, 12, 47, tzinfo=UTC)  # 08:47 New York
MON_MORNING = datetime(2026, 8, 17, 12, 47, tzinfo=UTC)
THU, FRI = date(2026, 8, 13), date(2026, 8, 14)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'db' / 'capbrief.sqlite3'}")
    migrate(eng)
    yield eng
    eng.dispose()


def serve_pe(fake: FakeYahoo, iwm: float = 27.23, spy: float = 26.1, ivw: float = 28.25) -> None:
    fake.set_quote_summary("IWM", trailingPE=iwm)
    fake.set_quote_summary("SPY", trailingPE=spy)
    fake.set_quote_summary("IVW", trailingPE=ivw)


def futures_bars(base: float, seed: int, start: str = "2026-08-12 18:00",
                 end: str = "2026-08-14 09:25") -> pd.DataFrame:
    """5-minute bars (default: Wed 18:00 to Fri 09:25 New York) without Globex's daily
    17:00-18:00 halt or its weekend close (Fri 17:00 to Sun 18:00)."""
    idx = pd.date_range(start, end, freq="5min", tz=NY)
    day = idx.day_of_week
    weekend = ((day == 4) & (idx.hour >= 17)) | (day == 5) | ((day == 6) & (idx.hour < 18))
    idx = idx[~(idx.hour == 17) & ~weekend]
    close = base * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 5e-4, len(idx))))
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                         "volume": 100.0}, index=idx)


def move(frame: pd.DataFrame, close_at: pd.Timestamp, read_at: pd.Timestamp) -> float:
    """The expected change, from the served frame: last bar before the close → last bar
    at or before the read time."""
    prior = frame.loc[frame.index < close_at, "close"].iloc[-1]
    last = frame.loc[frame.index <= read_at, "close"].iloc[-1]
    return float(last / prior - 1.0)


def rows(engine: Engine) -> list[tuple[str, date, float]]:
    t = valuations_table
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(t.c.symbol, t.c.session, t.c.trailing_pe)
                                               .order_by(t.c.session, t.c.symbol))]


# ---------------------------------------------------------------- fetching through yfinance
def test_trailing_pe_comes_from_the_quote_summary(yahoo_fake: FakeYahoo) -> None:
    serve_pe(yahoo_fake)
    got = fetch_trailing_pe(["IWM", "SPY", "IVW"], session=yahoo_fake.session())
    assert got.values == {"IWM": 27.23, "SPY": 26.1, "IVW": 28.25}
    assert got.absent == {}
    assert set(yahoo_fake.summary_requests) == {"IWM", "SPY", "IVW"}


@pytest.mark.parametrize(("fault", "reason"), [
    ("missing", "has no trailing P/E"),
    ("unknown", "has no quote for IVW"),
    ("429", "rate-limiting requests (HTTP 429)"),
    ("503", "HTTP 503"),
    ("malformed", "unreadable answer"),
])
def test_quote_summary_faults_are_labelled_absences(yahoo_fake: FakeYahoo, fault: str,
                                                    reason: str) -> None:
    serve_pe(yahoo_fake)
    if fault == "missing":
        yahoo_fake.set_quote_summary("IVW")  # an ETF Yahoo serves without a trailing P/E
    else:  # yfinance re-sends once after a status >= 400: make the fault outlast it
        yahoo_fake.fail_next(fault, times=3, symbols=["IVW"])
    got = fetch_trailing_pe(["IWM", "IVW"], session=yahoo_fake.session())
    assert got.values == {"IWM": 27.23}
    assert reason in got.absent["IVW"]


# ---------------------------------------------------------------- recorded once per session
def test_recorded_once_per_session_and_again_the_next(yahoo_fake: FakeYahoo,
                                                      engine: Engine) -> None:
    serve_pe(yahoo_fake)
    clock = Clock(FRI_MORNING)
    reader = QuoteReader(engine, replay=False, session_factory=yahoo_fake.session, now=clock)

    first = asyncio.run(reader.valuation(THU))
    assert rows(engine) == [("IVW", THU, 28.25), ("IWM", THU, 27.23), ("SPY", THU, 26.1)]
    assert first.status == "ok" and first.session == THU
    assert first.line.startswith("IWM P/E 27.23 vs 28.25 for IVW and 26.10 for SPY (2026-08-13)")
    assert first.vs_ivw == pytest.approx(27.23 / 28.25 - 1)
    assert "1 session of history" in first.line
    asked = sum(yahoo_fake.summary_requests.values())

    serve_pe(yahoo_fake, iwm=30.0)  # Yahoo's figure moves within the session...
    again = asyncio.run(reader.valuation(THU))
    assert sum(yahoo_fake.summary_requests.values()) == asked  # ...but nothing is fetched
    assert len(rows(engine)) == 3 and again.iwm == 27.23

    clock.at = MON_MORNING  # the next session (Friday's close) gets its own rows
    later = asyncio.run(reader.valuation(FRI))
    assert len(rows(engine)) == 6
    assert later.session == FRI and later.iwm == 30.0 and later.sessions == 2
    assert "2 sessions of history" in later.line


def test_a_failed_symbol_is_fetched_again_later_in_the_session(yahoo_fake: FakeYahoo,
                                                               engine: Engine) -> None:
    serve_pe(yahoo_fake)
    yahoo_fake.fail_next("429", times=3, symbols=["IVW"])
    clock = Clock(FRI_MORNING)
    reader = QuoteReader(engine, replay=False, session_factory=yahoo_fake.session, now=clock)
    first = asyncio.run(reader.valuation(THU))
    assert first.ivw is None and first.missing == ("IVW",)
    assert "IVW: Yahoo Finance is rate-limiting requests (HTTP 429)" in first.line
    assert first.iwm == 27.23 and "26.10 for SPY" in first.line
    asked = yahoo_fake.summary_requests["IVW"]
    clock.at = FRI_MORNING + timedelta(minutes=5)  # within RETRY_AFTER: not asked again
    soon = asyncio.run(reader.valuation(THU))
    assert yahoo_fake.summary_requests["IVW"] == asked
    assert "IVW: Yahoo Finance is rate-limiting requests (HTTP 429)" in soon.line
    clock.at = FRI_MORNING + RETRY_AFTER  # still before the open: asked again, recorded
    second = asyncio.run(reader.valuation(THU))
    assert second.ivw == 28.25 and len(rows(engine)) == 3


def test_nothing_is_recorded_during_trading_hours(yahoo_fake: FakeYahoo,
                                                  engine: Engine) -> None:
    serve_pe(yahoo_fake)
    clock = Clock(datetime(2026, 8, 14, 15, 0, tzinfo=UTC))  # Friday 11:00 New York
    reader = QuoteReader(engine, replay=False, session_factory=yahoo_fake.session, now=clock)
    during = asyncio.run(reader.valuation(THU))
    assert during.status == "absent" and "not recorded during trading hours" in during.line
    assert rows(engine) == [] and yahoo_fake.summary_requests == {}
    clock.at = datetime(2026, 8, 14, 20, 5, tzinfo=UTC)  # 16:05 New York: Friday is complete
    after = asyncio.run(reader.valuation(FRI))
    assert after.session == FRI and after.iwm == 27.23


def test_iwm_unavailable_keeps_the_line_with_its_reason(yahoo_fake: FakeYahoo,
                                                        engine: Engine) -> None:
    reader = QuoteReader(engine, replay=False, session_factory=yahoo_fake.session,
                         now=Clock(FRI_MORNING))
    reading = asyncio.run(reader.valuation(THU))  # the fake knows no symbol: 404 for each
    assert reading.status == "absent"
    assert reading.line == "Valuation (trailing P/E): Yahoo Finance has no quote for IWM"
    assert rows(engine) == []


def test_a_past_date_never_uses_a_later_reading(yahoo_fake: FakeYahoo, engine: Engine) -> None:
    serve_pe(yahoo_fake)
    clock = Clock(FRI_MORNING)
    reader = QuoteReader(engine, replay=False, session_factory=yahoo_fake.session, now=clock)
    asyncio.run(reader.valuation(THU))
    serve_pe(yahoo_fake, iwm=31.0, spy=25.0)
    clock.at = MON_MORNING
    asyncio.run(reader.valuation(FRI))
    asked = sum(yahoo_fake.summary_requests.values())

    past = asyncio.run(reader.valuation(THU))  # a replay of Thursday, run on Monday
    assert past.session == THU and past.iwm == 27.23 and past.spy == 26.1
    assert past.sessions == 1
    before = asyncio.run(reader.valuation(date(2026, 8, 12)))
    assert before.status == "absent"
    assert before.line == ("Valuation (trailing P/E): no reading recorded on or before "
                           "2026-08-12")
    assert sum(yahoo_fake.summary_requests.values()) == asked  # past dates only read


# ---------------------------------------------------------------- replay
def test_replay_says_not_in_replay_data_and_never_calls_yahoo(yahoo_fake: FakeYahoo) -> None:
    reader = reader_for("csv", None, session_factory=yahoo_fake.session)
    valuation, premarket = asyncio.run(reader.readings(THU))
    assert valuation.status == "absent"
    assert valuation.line == "Valuation (trailing P/E): not in replay data"
    assert premarket is not None and premarket.line == "Pre-market: no pre-market quotes in replay"
    assert yahoo_fake.requests == []


# ---------------------------------------------------------------- pre-market futures
def test_premarket_futures_since_the_prior_close_with_read_time(yahoo_fake: FakeYahoo) -> None:
    rty, es = futures_bars(2300.0, 1), futures_bars(6400.0, 2)
    yahoo_fake.set_intraday("RTY=F", rty)
    yahoo_fake.set_intraday("ES=F", es)
    got = fetch_intraday_closes(["RTY=F", "ES=F"], session=yahoo_fake.session())
    assert got.absent == {}
    assert got.values["RTY=F"].index[-1] == rty.index[-1]  # bar starts, New York time

    reader = QuoteReader(None, replay=False, session_factory=yahoo_fake.session,
                         now=Clock(FRI_MORNING))
    reading = asyncio.run(reader.premarket_for(THU))
    assert reading is not None and reading.status == "ok"
    close_at = pd.Timestamp("2026-08-13 16:00", tz=NY)
    read_at = pd.Timestamp(FRI_MORNING)
    by_symbol = {m.symbol: m for m in reading.moves}
    assert by_symbol["RTY=F"].change == pytest.approx(move(rty, close_at, read_at))
    assert by_symbol["ES=F"].change == pytest.approx(move(es, close_at, read_at))
    # bars after the read time (the fake serves up to 09:25) are not used
    assert by_symbol["RTY=F"].last_time == pd.Timestamp("2026-08-14 08:45", tz=NY)
    rty_pct = f"{move(rty, close_at, read_at) * 100:+.2f}%"
    assert reading.line.startswith(f"Pre-market (read 08:47 ET): Russell 2000 futures {rty_pct}")
    assert "since the Thu 13 Aug close (last quotes 08:45 ET)" in reading.line


def test_premarket_missing_future_is_labelled(yahoo_fake: FakeYahoo) -> None:
    yahoo_fake.set_intraday("RTY=F", futures_bars(2300.0, 1))
    reader = QuoteReader(None, replay=False, session_factory=yahoo_fake.session,
                         now=Clock(FRI_MORNING))
    reading = asyncio.run(reader.premarket(THU))
    assert reading.status == "ok"
    assert "S&P 500 futures: Yahoo Finance has no quote for ES=F" in reading.line

    yahoo_fake.set_intraday("RTY=F", futures_bars(2300.0, 1).iloc[:0])
    none = asyncio.run(reader.premarket(THU))
    assert none.status == "absent" and none.line.startswith("Pre-market: Russell 2000 futures")


def test_premarket_is_not_shown_for_a_past_date(yahoo_fake: FakeYahoo) -> None:
    reader = QuoteReader(None, replay=False, session_factory=yahoo_fake.session,
                         now=Clock(MON_MORNING))
    assert asyncio.run(reader.premarket_for(THU)) is None
    assert yahoo_fake.requests == []


# ---------------------------------------------------------------- the drivers panel
def _market() -> MarketSnapshot:
    start = date(2026, 1, 2)
    bars = {"^RUT": tiny_bars(start, FRI, base=2300.0), "^GSPC": tiny_bars(start, FRI, 6400.0)}
    return MarketSnapshot(bars=bars, asof=FRI, source="yahoo", version="t")


def drivers_text_against_fake(fake: FakeYahoo, tmp_path: Path,
                              now: Callable[[], datetime]) -> tuple[str, dict]:
    settings = Settings(storage={"url": f"sqlite:///{tmp_path / 'cli.sqlite3'}"})  # type: ignore[arg-type]
    market = _market()
    valuation, premarket = quote_readings(settings, market, FRI,
                                          session_factory=fake.session, now=now)
    panel = calc_drivers(market.bars, FRI)
    return (render_drivers_text(panel, valuation=valuation, premarket=premarket),
            drivers_json(panel, valuation=valuation, premarket=premarket))


def test_drivers_text_and_json_show_valuation_and_premarket(yahoo_fake: FakeYahoo,
                                                            tmp_path: Path) -> None:
    serve_pe(yahoo_fake)
    span = {"start": "2026-08-13 18:00", "end": "2026-08-17 09:25"}
    rty, es = futures_bars(2300.0, 1, **span), futures_bars(6400.0, 2, **span)
    yahoo_fake.set_intraday("RTY=F", rty)
    yahoo_fake.set_intraday("ES=F", es)
    # Monday morning: the latest completed session is Friday, the panel's date
    assert calendar.last_completed_session(MON_MORNING) == FRI
    text, doc = drivers_text_against_fake(yahoo_fake, tmp_path, lambda: MON_MORNING)
    assert "IWM P/E 27.23 vs 28.25 for IVW and 26.10 for SPY (2026-08-14)" in text
    assert doc["valuation"]["iwm"] == 27.23 and doc["valuation"]["session"] == "2026-08-14"
    close_at = pd.Timestamp("2026-08-14 16:00", tz=NY)
    change = move(rty, close_at, pd.Timestamp(MON_MORNING))
    assert doc["premarket"]["moves"][0]["change"] == pytest.approx(change)
    assert (f"Pre-market (read 08:47 ET): Russell 2000 futures {change * 100:+.2f}%"
            in text)
    assert "since the Fri 14 Aug close (last quotes 08:45 ET)" in doc["premarket"]["line"]
    assert " ".join(doc["premarket"]["line"].split()) in " ".join(text.split())
    print(text)  # shown with -s (the closing note quotes it)

    from analytics.valuation import ValuationReading
    from bot.ui.study_embeds import drivers_embed

    valuation = ValuationReading(**{k: v for k, v in doc["valuation"].items()
                                    if k not in ("asof", "session", "relation", "missing")},
                                 asof=FRI, session=FRI, relation=None, missing=())
    embed = drivers_embed(calc_drivers(_market().bars, FRI), source="yahoo", stale=False,
                          stale_reason=None, valuation=valuation)
    got = {f.name: f.value for f in embed.fields}
    assert got["Valuation (trailing P/E)"].startswith("IWM P/E 27.23 vs 28.25 for IVW")
