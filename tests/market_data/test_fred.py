"""FRED client and parsers against the loopback fake FRED: both CSV column names, ``.`` values,
each fault (429, 5xx, timeout, empty, malformed, unknown series), what is and is not retried,
and the API-key path (the key never reaches a log line or an error)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import aiohttp
import numpy as np
import pandas as pd
import pytest

from bot.errors import BadInput, DataUnavailable
from bot.market_data.fred import (
    DRIVER_SERIES,
    SERIES,
    FredClient,
    FredError,
    FredMalformed,
    FredUnknownSeries,
    fred_dir_for,
    parse_api_json,
    parse_fredgraph_csv,
    read_fred_dir,
    redact,
)
from bot.settings import Settings
from tests.fakes.fred_api import FakeFred, tiny_series

ISSUE_SERIES = ("UNRATE", "ICSA", "PAYEMS", "GDPC1", "INDPRO", "CPIAUCSL", "UMCSENT", "FEDFUNDS",
                "DGS2", "DGS10", "T10Y2Y", "BAMLH0A0HYM2", "BAMLC0A0CM", "RU2000PR")


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeFred]:
    with FakeFred(tiny_series(["UNRATE", "DGS2"], start="2024-01-01", end="2024-12-31")) as f:
        yield f


def client_for(fake: FakeFred, **overrides: object) -> tuple[FredClient, Sleeps]:
    sleeps = Sleeps()
    kwargs: dict[str, object] = {"graph_url": fake.graph_url, "api_url": fake.api_url,
                                 "retries": 2, "backoff_seconds": 1.0, "timeout_seconds": 0.5,
                                 "sleep": sleeps, "rng": random.Random(1)}
    kwargs.update(overrides)
    return FredClient(**kwargs), sleeps  # type: ignore[arg-type]


async def fetch(client: FredClient, series_id: str, start: date | None = None) -> pd.Series:
    async with aiohttp.ClientSession() as session:
        return await client.fetch(session, series_id, start)


def test_every_series_the_issue_names_is_known() -> None:
    assert set(ISSUE_SERIES) <= set(SERIES)
    assert set(DRIVER_SERIES) <= set(SERIES)


@pytest.mark.parametrize("header", ["observation_date", "DATE", "date"])
def test_csv_parses_both_fred_column_names_and_drops_dots(header: str) -> None:
    text = f"{header},DGS10\n2024-07-03,4.36\n2024-07-04,.\n2024-07-05,4.28\n"
    series = parse_fredgraph_csv(text, "DGS10")
    assert list(series.index.date) == [date(2024, 7, 3), date(2024, 7, 5)]
    assert series.tolist() == [4.36, 4.28] and series.dtype == np.float64


@pytest.mark.parametrize("text, message", [
    ("", "empty answer"),
    ("<html><body>Error</body></html>", "HTML page"),
    ("when,what\n2024-01-01,1\n", "expected columns"),
    ("observation_date,X\n2024-13-01,1\n", "date"),
    ("observation_date,X\n2024-01-01,abc\n", "not a number"),
])
def test_malformed_csv_is_refused_with_a_short_reason(text: str, message: str) -> None:
    with pytest.raises(FredMalformed, match=message):
        parse_fredgraph_csv(text, "X")


def test_api_json_parses_and_refuses_garbage() -> None:
    doc = {"observations": [{"date": "2024-01-01", "value": "3.7"},
                            {"date": "2024-02-01", "value": "."}]}
    assert parse_api_json(doc, "UNRATE").tolist() == [3.7]
    with pytest.raises(FredMalformed):
        parse_api_json({"error": 1}, "UNRATE")
    with pytest.raises(FredMalformed):
        parse_api_json({"observations": [{"when": 1}]}, "UNRATE")


async def test_fetch_serves_the_series_with_start_and_holes(fake: FakeFred) -> None:
    fake.holes["DGS2"] = [date(2024, 7, 4)]
    client, _ = client_for(fake)
    full = await fetch(client, "DGS2")
    assert pd.Timestamp("2024-07-04") not in full.index and len(full) > 200
    part = await fetch(client, "DGS2", date(2024, 12, 1))
    assert part.index[0] >= pd.Timestamp("2024-12-01")
    assert fake.hits[-1].start == "2024-12-01" and fake.hits[-1].path == "graph"


async def test_old_date_header_is_accepted_over_http() -> None:
    with FakeFred(tiny_series(["UNRATE"], start="2024-01-01", end="2024-06-30"),
                  header="DATE") as fake:
        client, _ = client_for(fake)
        assert len(await fetch(client, "UNRATE")) == 6


@pytest.mark.parametrize("kind", ["429", "500", "503", "timeout"])
async def test_transient_faults_are_retried_with_backoff(fake: FakeFred, kind: str) -> None:
    fake.fail_next(kind, times=2, series="UNRATE", delay=2.0)
    client, sleeps = client_for(fake)
    series = await fetch(client, "UNRATE")
    assert len(series) == 12 and client.requests == 3
    assert len(sleeps) == 2
    if kind == "429":
        assert sleeps == [0.0, 0.0]  # Retry-After: 0 honoured
    else:
        assert sleeps[1] > sleeps[0] > 0  # exponential


async def test_transient_faults_give_up_after_the_retries(fake: FakeFred) -> None:
    fake.fail_next("503", times=5, series="UNRATE")
    client, sleeps = client_for(fake)
    with pytest.raises(FredError, match="HTTP 503") as err:
        await fetch(client, "UNRATE")
    assert err.value.retryable and client.requests == 3 and len(sleeps) == 2


@pytest.mark.parametrize("kind, error, message", [
    ("empty", FredMalformed, "empty answer"),
    ("malformed", FredMalformed, "FRED UNRATE"),
    ("unknown", FredUnknownSeries, "unknown series"),
])
async def test_permanent_faults_are_not_retried(fake: FakeFred, kind: str,
                                                error: type[Exception], message: str) -> None:
    fake.fail_next(kind, series="UNRATE")
    client, sleeps = client_for(fake)
    with pytest.raises(error, match=message):
        await fetch(client, "UNRATE")
    assert client.requests == 1 and sleeps == []


async def test_an_unknown_series_gets_freds_html_404(fake: FakeFred) -> None:
    client, sleeps = client_for(fake)
    with pytest.raises(FredUnknownSeries, match="NOSUCH"):
        await fetch(client, "NOSUCH")
    assert client.requests == 1 and sleeps == []


async def test_a_dns_failure_is_not_retried() -> None:
    client = FredClient(graph_url="http://fred.invalid/graph/fredgraph.csv", retries=3,
                        timeout_seconds=5.0, sleep=Sleeps())
    with pytest.raises(FredError) as err:
        await fetch(client, "UNRATE")
    assert not err.value.retryable and client.requests == 1


async def test_a_refused_connection_is_retried() -> None:
    with FakeFred() as fake:
        url = fake.graph_url
    client = FredClient(graph_url=url, retries=1, backoff_seconds=0.0, sleep=Sleeps())
    with pytest.raises(FredError, match="cannot connect") as err:
        await fetch(client, "UNRATE")
    assert err.value.retryable and client.requests == 2


async def test_the_api_key_path_uses_the_api_and_never_logs_the_key(
        caplog: pytest.LogCaptureFixture) -> None:
    key = "abcdef0123456789abcdef0123456789"
    caplog.set_level(logging.DEBUG)
    with FakeFred(tiny_series(["UNRATE"], start="2024-01-01", end="2024-12-31"),
                  api_key=key) as fake:
        client, _ = client_for(fake, api_key=key)
        series = await fetch(client, "UNRATE", date(2024, 6, 1))
        assert len(series) == 7 and client.source == "fred-api"
        assert [(h.path, h.keyed, h.start) for h in fake.hits] == [("api", True, "2024-06-01")]
        fake.fail_next("503", times=1)
        fake.fail_next("unknown", times=1)
        with pytest.raises(FredUnknownSeries) as err:
            await fetch(client, "UNRATE")
        bad, _ = client_for(fake, api_key="wrong-key-0000")
        with pytest.raises(FredError, match="refused FRED_API_KEY") as refused:
            await fetch(bad, "UNRATE")
        assert not isinstance(refused.value, FredUnknownSeries) and bad.requests == 1
    assert key not in str(err.value) and "wrong-key" not in str(refused.value)
    assert key not in caplog.text and "retry" in caplog.text
    assert redact(f"url?api_key={key}", key) == "url?api_key=***"


def test_the_one_resolver_and_reader(tmp_path: Path) -> None:
    settings = Settings()
    assert fred_dir_for(settings, tmp_path) is None
    (tmp_path / "fred").mkdir()
    assert fred_dir_for(settings, tmp_path) == tmp_path / "fred"
    configured = Settings(analytics={"fred_dir": str(tmp_path / "elsewhere")})
    assert fred_dir_for(configured, tmp_path) == tmp_path / "elsewhere"
    assert fred_dir_for(configured, tmp_path, tmp_path / "fred") == tmp_path / "fred"
    with pytest.raises(BadInput, match="not a directory"):
        fred_dir_for(settings, tmp_path, tmp_path / "nope")
    (tmp_path / "fred" / "UNRATE.csv").write_text("date,value\n2024-01-01,3.7\n2024-02-01,.\n")
    (tmp_path / "fred" / "ICSA.csv").write_text("observation_date,ICSA\n2024-01-06,200000\n")
    held = read_fred_dir(tmp_path / "fred")
    assert held["UNRATE"].tolist() == [3.7] and held["ICSA"].tolist() == [200000.0]
    assert "GDPC1" not in held
    (tmp_path / "fred" / "DGS2.csv").write_text("nonsense\n")
    with pytest.raises(DataUnavailable, match=r"DGS2\.csv"):
        read_fred_dir(tmp_path / "fred")


async def test_market_data_reads_the_replay_folder_through_the_one_reader(tmp_path: Path) -> None:
    from bot.market_data.service import MarketData

    settings = Settings()
    bare = await MarketData(settings, tmp_path).fred()
    assert len(bare) == 0 and bare.source == "none"
    assert "no FRED folder in the replay data" in bare.notes["UNRATE"]
    (tmp_path / "fred").mkdir()
    (tmp_path / "fred" / "UNRATE.csv").write_text("date,value\n2024-01-01,3.7\n")
    (tmp_path / "fred" / "RU2000PR.csv").write_text("date,value\n2024-01-02,2000.5\n")
    held = await MarketData(settings, tmp_path).fred()
    assert held.source == f"fred-dir {tmp_path / 'fred'}" and list(held) == ["UNRATE"]
    assert "no DGS2.csv" in held.notes["DGS2"] and not held.stale
    check = await MarketData(settings, tmp_path).fred(["RU2000PR"])
    assert check["RU2000PR"].tolist() == [2000.5]
