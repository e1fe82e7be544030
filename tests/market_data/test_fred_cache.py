"""FRED through the store (SQLite, and PostgreSQL where ``CAPBRIEF_TEST_POSTGRES_URL`` is set):
incremental refresh, revisions inside the window, refresh throttling, stale-but-labelled
fallback and absence with the reason; and how the drivers show both."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from analytics.briefing import compose_drivers_line
from analytics.drivers import calc_drivers
from bot.market_data.fred import FredClient
from bot.market_data.fred_cache import FredCache
from bot.market_data.fred_store import FredStore
from bot.storage.db import create_engine, migrate
from tests.fakes.fred_api import FakeFred, tiny_series
from tests.postgres import needs_postgres, schema_engine

IDS = ["UNRATE", "ICSA", "GDPC1", "UMCSENT", "FEDFUNDS", "DGS2"]
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def engine(request: pytest.FixtureRequest, sqlite_engine: Engine) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield sqlite_engine
        return
    with schema_engine("fred") as eng:
        migrate(eng)
        yield eng


@pytest.fixture
def fake() -> Iterator[FakeFred]:
    with FakeFred(tiny_series(IDS, start="2020-01-01", end="2026-11-27")) as f:
        f.reveal_until(date(2026, 10, 31))
        yield f


@pytest.fixture
def make_cache(fake: FakeFred, engine: Engine) -> Callable[..., tuple[FredCache, Clock]]:
    def make(**overrides: object) -> tuple[FredCache, Clock]:
        clock = Clock()
        client = FredClient(graph_url=fake.graph_url, api_url=fake.api_url, retries=1,
                            backoff_seconds=0.0, timeout_seconds=0.5, sleep=_no_sleep,
                            rng=random.Random(2))
        kwargs: dict[str, object] = {"revision_days": 30, "refresh_hours": 6.0, "now": clock}
        kwargs.update(overrides)
        return FredCache(client, FredStore(engine), **kwargs), clock  # type: ignore[arg-type]
    return make


async def test_first_refresh_fetches_everything_then_only_new_dates(
        fake: FakeFred, make_cache: Callable[..., tuple[FredCache, Clock]]) -> None:
    cache, clock = make_cache()
    first = await cache.readings(IDS)
    assert set(first) == set(IDS) and not first.stale and first.notes == {}
    assert all(h.start is None for h in fake.hits) and len(fake.hits) == len(IDS)
    assert first["DGS2"].index[-1] <= pd.Timestamp("2026-10-31")
    last_dgs2 = first["DGS2"].index[-1].date()

    fake.reset_log()
    fake.reveal_until(None)
    fake.set_series("UNRATE", first["UNRATE"].copy().add(
        pd.Series({first["UNRATE"].index[-1]: 0.25}), fill_value=0))  # a revision in the window
    clock.now = T0 + timedelta(hours=1)
    await cache.readings(IDS)
    assert fake.hits == []  # not due yet (refresh_hours)

    clock.now = T0 + timedelta(hours=7)
    second = await cache.readings(IDS)
    starts = {h.series_id: h.start for h in fake.hits}
    assert starts["DGS2"] == (last_dgs2 - timedelta(days=30)).isoformat()
    assert all(s is not None for s in starts.values()) and len(fake.hits) == len(IDS)
    assert second["DGS2"].index[-1] == pd.Timestamp("2026-11-27")
    revised = first["UNRATE"].index[-1]
    assert second["UNRATE"].loc[revised] == pytest.approx(first["UNRATE"].loc[revised] + 0.25)
    # the window's rows were replaced, not duplicated; older rows kept
    assert second["DGS2"].index.is_unique and second["DGS2"].index[0] == first["DGS2"].index[0]
    assert second.version != first.version


async def test_fred_down_serves_the_last_good_data_labelled_stale(
        fake: FakeFred, make_cache: Callable[..., tuple[FredCache, Clock]]) -> None:
    cache, clock = make_cache()
    good = await cache.readings(IDS)
    fake.down()
    clock.now = T0 + timedelta(hours=7)
    stale = await cache.readings(IDS)
    assert stale.stale and "FRED refresh failed" in (stale.stale_reason or "")
    assert stale["UNRATE"].equals(good["UNRATE"])
    note = stale.notes["UNRATE"]
    assert note.startswith("stale: last good data fetched 2026-11-28 12:00 UTC")
    assert "HTTP 503" in note and good["UNRATE"].index[-1].date().isoformat() in note

    # a failing series is not re-asked on every call, and stays labelled
    fake.reset_log()
    clock.now += timedelta(minutes=5)
    again = await cache.readings(IDS)
    assert fake.hits == [] and again.stale
    # FRED back: the label goes
    fake.up()
    clock.now += timedelta(minutes=20)
    back = await cache.readings(IDS)
    assert not back.stale and back.notes == {}


async def test_never_fetched_and_failing_series_are_absent_with_the_reason(
        fake: FakeFred, make_cache: Callable[..., tuple[FredCache, Clock]]) -> None:
    cache, _ = make_cache()
    fake.fail_next("unknown", series="UMCSENT")
    fake.fail_next("malformed", series="ICSA")
    fake.fail_next("empty", series="GDPC1")
    got = await cache.readings(IDS)
    assert "UMCSENT" not in got and "unknown series" in got.notes["UMCSENT"]
    assert "ICSA" not in got and "FRED ICSA" in got.notes["ICSA"]
    assert "empty answer" in got.notes["GDPC1"]
    assert not got.stale and "UNRATE" in got


async def test_an_empty_window_is_an_error_not_a_deletion(
        fake: FakeFred, make_cache: Callable[..., tuple[FredCache, Clock]]) -> None:
    cache, clock = make_cache()
    first = await cache.readings(["UNRATE"])
    fake.set_series("UNRATE", first["UNRATE"].loc[:"2019-12-31"])  # nothing in the window
    clock.now = T0 + timedelta(hours=7)
    again = await cache.readings(["UNRATE"])
    assert again["UNRATE"].equals(first["UNRATE"]) and again.stale
    assert "no observations since" in again.notes["UNRATE"]


async def test_store_round_trip_and_state(engine: Engine) -> None:
    store = FredStore(engine)
    values = pd.Series([1.5, 2.5, 3.5], index=pd.DatetimeIndex(
        ["2024-01-01", "2024-02-01", "2024-03-01"], name="date"))
    store.save("UNRATE", values, start=None, source="fred", at=T0)
    store.save("UNRATE", pd.Series([9.0], index=pd.DatetimeIndex(["2024-02-01"])),
               start=date(2024, 2, 1), source="fred", at=T0 + timedelta(hours=1))
    held = store.read(["UNRATE", "DGS2"])
    assert list(held) == ["UNRATE"] and held["UNRATE"].tolist() == [1.5, 9.0]
    state = store.states(["UNRATE", "DGS2"])
    assert state["UNRATE"].last_date == date(2024, 2, 1)
    assert state["UNRATE"].last_success_at == T0 + timedelta(hours=1)
    assert state["DGS2"].last_success_at is None and not state["DGS2"].failing
    store.record_error("UNRATE", "boom", at=T0 + timedelta(hours=2))
    assert store.states(["UNRATE"])["UNRATE"].failing


def _bars(days: pd.DatetimeIndex, base: float, step: float) -> pd.DataFrame:
    close = base + step * pd.Series(range(len(days)), index=days, dtype="float64")
    close = close * (1 + 0.01 * pd.Series(range(len(days)), index=days).mod(7))
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                         "adj_close": close, "volume": 1.0}, index=days.rename("date"))


async def test_drivers_label_stale_fred_and_explain_absent_series(
        fake: FakeFred, make_cache: Callable[..., tuple[FredCache, Clock]]) -> None:
    cache, clock = make_cache()
    await cache.readings(IDS)
    fake.down()
    clock.now = T0 + timedelta(hours=7)
    fred = await cache.readings(IDS)
    days = pd.bdate_range("2021-01-04", "2026-10-30")
    bars = {"^RUT": _bars(days, 1500.0, 0.3), "^GSPC": _bars(days, 3500.0, 0.5)}
    panel = calc_drivers(bars, date(2026, 10, 30), fred=fred, fred_notes=fred.notes)
    readings = {r.key: r for r in panel.readings}
    for key in ("unemployment", "consumer_sentiment", "fed_path", "jobless_claims"):
        assert readings[key].call != "absent"
        assert readings[key].reason.startswith("Stale FRED"), readings[key].reason
    line = compose_drivers_line(panel) or ""
    assert "stale FRED data (last refresh failed): " in line and "Unemployment rate" in line
    absent = calc_drivers(bars, date(2026, 10, 30), fred={},
                          fred_notes={"UMCSENT": "FRED UMCSENT: HTTP 503"})
    sentiment = {r.key: r for r in absent.readings}["consumer_sentiment"]
    assert sentiment.call == "absent" and "HTTP 503" in sentiment.reason


async def test_ru2000pr_is_fetchable_through_the_store(
        fake: FakeFred, make_cache: Callable[..., tuple[FredCache, Clock]]) -> None:
    fake.set_series("RU2000PR", tiny_series(["RU2000PR"], start="2024-01-01",
                                            end="2024-03-29")["RU2000PR"])
    cache, _ = make_cache()
    got = await cache.readings(["RU2000PR"])
    assert list(got) == ["RU2000PR"] and got["RU2000PR"].index[0] == pd.Timestamp("2024-01-01")
    assert [h.series_id for h in fake.hits] == ["RU2000PR"]


async def test_readings_are_reused_until_the_store_changes(
        fake: FakeFred, make_cache: Callable[..., tuple[FredCache, Clock]]) -> None:
    cache, clock = make_cache()
    reads: list[int] = []
    original = cache.store.read

    def counting(series: object) -> dict[str, pd.Series]:
        reads.append(1)
        return original(series)  # type: ignore[arg-type]

    cache.store.read = counting  # type: ignore[method-assign]
    first = await cache.readings(IDS)
    assert await cache.readings(IDS) is first and len(reads) == 1
    fake.reveal_until(None)
    clock.now = T0 + timedelta(hours=7)
    newer = await cache.readings(IDS)
    assert newer is not first and len(reads) == 2
    assert newer["DGS2"].index[-1] > first["DGS2"].index[-1]
