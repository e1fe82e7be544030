"""The live check of the bundled ^RUT closes: in production (a provider behind the store, not a CSV
replay) capbrief fetches FRED's RU2000PR through its own FRED path and logs whether the bundle
matches it. Loopback fake FRED only."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pandas as pd
import pytest

from bot.market_data import backfill
from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.service import MarketData
from bot.settings import Settings
from tests.fakes.fred_api import FakeFred


def _market(tmp_path: Path, fred: FakeFred) -> MarketData:
    settings = Settings(  # type: ignore[arg-type]
        storage={"url": f"sqlite:///{tmp_path / 'check.sqlite3'}"},
        fred={"graph_url": fred.graph_url, "api_url": fred.api_url, "retries": 0,
              "backoff_seconds": 0, "timeout_seconds": 2})
    # Any injected provider means "not a CSV replay": the production path.
    return MarketData(settings, provider=CsvDirProvider(tmp_path))


def _as_fred(closes: pd.Series) -> pd.Series:
    """RU2000PR as FRED publishes it: the index on its own base (100 on 1978-12-29)."""
    return closes * backfill.RU2000PR_PER_RUT


def _check(market: MarketData) -> list[backfill.BackfillDifference]:
    async def go() -> list[backfill.BackfillDifference]:
        try:
            return await market.verify_bundled_history()
        finally:
            await market.close()
    return asyncio.run(go())


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRED_API_KEY", raising=False)


def test_a_matching_ru2000pr_confirms_the_bundle(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    bundled = backfill.load_bundled_history()["close"]
    with FakeFred({"RU2000PR": _as_fred(bundled)}) as fred, caplog.at_level(logging.INFO):
        assert _check(_market(tmp_path, fred)) == []
        assert [h.series_id for h in fred.hits] == ["RU2000PR"]
    assert "matches RU2000PR" in caplog.text


def test_a_different_ru2000pr_is_logged_as_a_warning(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    reference = backfill.load_bundled_history()["close"].copy()
    changed = reference.index[100]
    reference.loc[changed] = reference.loc[changed] * 1.05
    with FakeFred({"RU2000PR": _as_fred(reference)}) as fred, caplog.at_level(logging.INFO):
        diffs = _check(_market(tmp_path, fred))
    assert [(d.kind, pd.Timestamp(d.day)) for d in diffs] == [("value", changed)]
    assert any(r.levelno == logging.WARNING and "RU2000PR" in r.getMessage()
               for r in caplog.records)


def test_fred_down_skips_the_check_without_failing(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with FakeFred({}) as fred, caplog.at_level(logging.INFO):
        fred.down()
        assert _check(_market(tmp_path, fred)) == []
    assert "not checked" in caplog.text


def test_a_csv_replay_never_asks_fred(tmp_path: Path) -> None:
    with FakeFred({}) as fred:
        settings = Settings(fred={"graph_url": fred.graph_url})  # type: ignore[arg-type]
        market = MarketData(settings, data_dir=tmp_path)
        assert _check(market) == []
        assert fred.hits == []
