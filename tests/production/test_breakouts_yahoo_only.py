"""Production mode: the real CLI, the real yfinance client and the bar cache, against a fake Yahoo
that serves only what Yahoo serves (^RUT from 1987-09-10). The bot reads no shared file: its
1979-1987 Russell history can only come from the package's bundled data.

- With the bundle (the default), ``history breakouts`` finds the 12 events 1982-11-04 ..
  2025-09-18 (11 complete; S&P 500 higher a year later in 10 of 11, mean +12.8%), and the false
  1989-06-02 "breakout" of a Yahoo-only history is not among them.
- With the bundle switched off (``data.bundled_history = false``), nothing calls 1989-06-02 a
  record or a breakout: the events are "highest since 1987-09-10" and the limit is stated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.market_data.service import MarketData
from bot.market_data.yahoo import YahooProvider
from bot.settings import Settings
from tests.fakes.yahoo_api import FakeYahoo, isolate_yfinance, yahoo_frames

# After the 2026-08-27 close (the last ^RUT session held); ^GSPC's data ends 2026-08-20.
NOW = datetime(2026, 8, 28, 1, 0, tzinfo=UTC)
EVENT_ROW = re.compile(r"^(\d{4}-\d{2}-\d{2})\s", re.MULTILINE)


@pytest.fixture(scope="module")
def yahoo(market_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeYahoo]:
    """A fake Yahoo holding ^RUT and ^GSPC as Yahoo serves them (the fake reads ../shared)."""
    with FakeYahoo(yahoo_frames(market_dir, ["^RUT", "^GSPC", "IWM", "SPY"])) as fake:
        yield fake


@pytest.fixture
def cli(yahoo: FakeYahoo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Callable[..., int]:
    """``cli(*argv, bundled=True)`` runs ``python -m bot`` in-process on a fresh store, with the
    market-data service's provider aimed at the fake (the one public factory the command uses
    is replaced; everything behind it is the production path)."""
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)
    built: list[MarketData] = []

    def factory(settings: Settings, data_dir: Path | None = None) -> MarketData:
        assert data_dir is None and settings.data.csv_dir is None  # no files: Yahoo only
        provider = YahooProvider.from_settings(settings, session_factory=yahoo.session,
                                               now=lambda: NOW)
        market = MarketData(settings, provider=provider, now=lambda: NOW)
        built.append(market)
        return market

    monkeypatch.setattr("bot.subcommands.history.build_market_data", factory)
    monkeypatch.setattr("bot.subcommands.status.build_market_data", factory)

    def run(*argv: str, bundled: bool = True) -> int:
        isolate_yfinance(tmp_path / "yfinance")
        config = tmp_path / "config.toml"
        config.write_text(
            f'[data]\nbundled_history = {"true" if bundled else "false"}\nretries = 1\n'
            f'[storage]\nurl = "sqlite:///{tmp_path / "store.sqlite3"}"\n', encoding="utf-8")
        return main([*argv, "--config", str(config)])

    return run


def _run(cli: Callable[..., Any], capsys: pytest.CaptureFixture[str], *argv: str,
         bundled: bool = True) -> str:
    code = cli(*argv, bundled=bundled)
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_yahoo_only_with_the_bundle_finds_the_twelve_events(
        cli: Callable[..., Any], yahoo: FakeYahoo, capsys: pytest.CaptureFixture[str]) -> None:
    text = _run(cli, capsys, "history", "breakouts")
    with capsys.disabled():
        print(text)  # the table the closing note quotes (pytest -s)
    assert yahoo.chart_requests["^RUT"] >= 1
    days = EVENT_ROW.findall(text)
    assert len(days) == 12 and days[0] == "1982-11-04" and days[-1] == "2025-09-18"
    assert "1989-06-02" not in text and "LIMIT" not in text
    assert text.startswith("Russell 2000 breakouts: first record close")
    assert "Data since 1979-01-02" in text

    doc = json.loads(_run(cli, capsys, "history", "breakouts", "--json"))
    assert doc["history_complete"] is True and doc["data"]["source"] == "yahoo"
    events = doc["events"]
    assert events[0]["date"] == "1982-11-04" and len(events) == 12
    complete = [e for e in events if e["complete"]]
    year = next(s for s in doc["stats"]["spx"] if s["horizon"] == 252)
    assert len(complete) == 11 and year["count"] == 11 and year["hits"] == 10
    assert round(year["mean"], 3) == 0.128
    assert sum(e["spx_forward_returns"]["252"] > 0 for e in complete) == 10


def test_yahoo_only_without_the_bundle_never_calls_1989_a_record(
        cli: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    text = _run(cli, capsys, "history", "breakouts", bundled=False)
    with capsys.disabled():
        print(text)
    assert "Russell 2000 highest closes since 1987-09-10" in text
    assert "Event: highest since 1987-09-10" in text and "Data since 1987-09-10" in text
    assert ("LIMIT: the data starts 1987-09-10 but the Russell 2000 starts 1979-01-02" in text)
    assert "1989-06-02" in EVENT_ROW.findall(text)  # listed, as what it is
    for line in text.splitlines():
        if "1989-06-02" in line:
            assert not re.search(r"record|breakout", line, re.IGNORECASE), line
    assert not re.search(r"\bbreakouts?\b(?! \(an)", text.replace(
        "ruled a record or a breakout", "").replace("a breakout above", ""), re.IGNORECASE)
    assert "Cannot rule on" in text  # the early highs whose look-back starts before the data

    doc = json.loads(_run(cli, capsys, "history", "breakouts", "--json", bundled=False))
    assert doc["history_complete"] is False and doc["data_start"] == "1987-09-10"
    assert doc["inception"] == "1979-01-02" and doc["limit"]
    assert {e["label"] for e in doc["events"]} == {"highest since 1987-09-10"}
    assert not [k for e in doc["events"] for k in e if "record" in k]
    assert not [k for k in doc if "record" in k]
    assert all(u["date"] < "1988-09-09" for u in doc["unruled"]) and doc["unruled"]


def test_yahoo_only_status_on_1989_06_02_without_the_bundle(
        cli: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    text = _run(cli, capsys, "status", "--asof", "1989-06-02", bundled=False)
    records = text[text.index("\nRecords"):]
    assert "highest close since 1987-09-10" in records
    assert not re.search(r"RECORD|BREAKOUT", text)
    with_bundle = _run(cli, capsys, "status", "--asof", "1989-06-02")
    assert "from record 174.24 (1987-08-21)" in with_bundle.replace(",", "")

    doc = json.loads(_run(cli, capsys, "status", "--asof", "1989-06-02", "--json",
                          bundled=False))
    rut = doc["leadership"]["rut_records"]
    assert rut["history_complete"] is False and rut["history_start"] == "1987-09-10"
    assert rut["is_high"] is True and rut["high_after_gap"] is True  # what the data can say
    assert not [k for k in rut if "record" in k or "breakout" in k]
    spx = doc["leadership"]["spx_records"]  # ^GSPC reaches its 1927 inception: records stand
    assert spx["history_complete"] is True and "record_close" in spx
