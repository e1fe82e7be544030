"""Production mode, end to end through the CLI: the fake Yahoo serves the bars, the fake FRED the
economy, nothing is read from ``../shared`` (an audit hook watches every ``open``), and the store
is a fresh SQLite file. ``drivers`` gets its economy readings from FRED; with FRED down they are
labelled stale when previously stored, or absent with the reason when never fetched."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.market_data import calendar
from bot.market_data.fred import DRIVER_SERIES
from bot.market_data.yahoo import YahooProvider
from tests.fakes.fred_api import FakeFred, tiny_series
from tests.fakes.yahoo_api import FakeYahoo, isolate_yfinance
from tests.market_data.conftest import tiny_bars

ECONOMY = ("unemployment", "gdp_growth", "jobless_claims", "consumer_sentiment", "fed_path")
_watch: dict[str, Any] = {"on": False, "opened": []}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if (_watch["on"] and event == "open" and args and isinstance(args[0], str | Path)
            and "/shared/" in str(args[0])):
        _watch["opened"].append(str(args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed; it records only while _watch["on"]


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[tuple[FakeYahoo, FakeFred]]:
    today = datetime.now(UTC).date()
    last = calendar.session_on_or_before(today - timedelta(days=1))
    start = last - timedelta(days=3 * 365)
    frames = {"^RUT": tiny_bars(start, last, base=1800.0),
              "^GSPC": tiny_bars(start, last, base=4000.0)}
    isolate_yfinance(tmp_path / "yfinance-cache")
    with FakeYahoo(frames) as yahoo, \
            FakeFred(tiny_series(DRIVER_SERIES, start="2015-01-01", end=last.isoformat())) as fred:
        original = YahooProvider.from_settings.__func__  # type: ignore[attr-defined]

        def from_settings(cls: type[YahooProvider], settings: Any, **kw: Any) -> YahooProvider:
            return original(cls, settings, session_factory=yahoo.session, **kw)  # type: ignore[no-any-return]

        monkeypatch.setattr(YahooProvider, "from_settings", classmethod(from_settings))
        monkeypatch.setattr("bot.cli.setup_logging", lambda *a, **k: None)
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("FRED_API_KEY", raising=False)
        for key, value in {"STORAGE__URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
                           "DATA__EXTEND": "{}", "DATA__RETRIES": "0",
                           "FRED__GRAPH_URL": fred.graph_url, "FRED__API_URL": fred.api_url,
                           "FRED__RETRIES": "1", "FRED__BACKOFF_SECONDS": "0",
                           "FRED__TIMEOUT_SECONDS": "2", "FRED__REFRESH_HOURS": "0"}.items():
            monkeypatch.setenv(f"CAPBRIEF_{key}", value)
        _watch.update(on=True, opened=[])
        try:
            yield yahoo, fred
        finally:
            _watch["on"] = False


def _drivers(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["drivers", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def test_drivers_get_the_economy_from_fred_and_label_it_when_fred_fails(
        production: tuple[FakeYahoo, FakeFred], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, fred = production
    doc = _drivers(capsys)
    readings = {r["key"]: r for r in doc["readings"]}
    assert doc["data"]["source"] == "yahoo" and doc["fred"]["source"] == "fred"
    assert not doc["fred"]["stale"] and doc["fred_dir"] is None
    for key in ECONOMY:
        assert readings[key]["call"] != "absent", readings[key]["reason"]
        assert readings[key]["source"].startswith("FRED")
    assert {h.series_id for h in fred.hits} == set(DRIVER_SERIES)

    fred.down()  # previously stored: served, labelled stale
    doc = _drivers(capsys)
    readings = {r["key"]: r for r in doc["readings"]}
    assert doc["fred"]["stale"] and "FRED refresh failed" in doc["fred"]["stale_reason"]
    for key in ECONOMY:
        assert readings[key]["call"] != "absent"
        assert readings[key]["reason"].startswith("Stale FRED"), readings[key]["reason"]
        assert "HTTP 503" in readings[key]["reason"]

    # a fresh store with FRED down: absent, with the reason
    monkeypatch.setenv("CAPBRIEF_STORAGE__URL", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    doc = _drivers(capsys)
    readings = {r["key"]: r for r in doc["readings"]}
    for key in ECONOMY:
        assert readings[key]["call"] == "absent"
        assert "HTTP 503" in readings[key]["reason"], readings[key]["reason"]
    assert _watch["opened"] == []


def test_with_fred_api_key_the_api_is_used_and_the_key_never_shows(
        production: tuple[FakeYahoo, FakeFred], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _, fred = production
    key = "0123456789abcdef0123456789abcdef"
    fred.api_key = key
    monkeypatch.setenv("FRED_API_KEY", key)
    caplog.set_level(logging.DEBUG)
    fred.fail_next("500", times=1, series="UNRATE")
    fred.fail_next("unknown", times=1, series="UMCSENT")
    code = main(["drivers", "--json"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    readings = {r["key"]: r for r in doc["readings"]}
    assert code == 0 and doc["fred"]["source"] == "fred-api"
    assert {h.path for h in fred.hits} == {"api"} and all(h.keyed for h in fred.hits)
    assert readings["unemployment"]["call"] != "absent"  # the 500 was retried
    assert readings["consumer_sentiment"]["call"] == "absent"
    assert "unknown series" in readings["consumer_sentiment"]["reason"]
    assert "FRED refresh failed for 1 of" in caplog.text
    for text in (captured.out, captured.err, caplog.text):
        assert key not in text
