"""MarketData: CSV replay reads files directly; any provider can sit behind the bar cache, and
the snapshot carries the cache's stale label, fetch time and a version that tracks the bars."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.market_data import calendar
from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.errors import SourceUnavailable
from bot.market_data.provider import FetchResult
from bot.market_data.service import MarketData, build_market_data
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[2]
LAST = date(2026, 8, 20)


def write_csv(root: Path, stem: str, start: date, end: date, base: float) -> pd.DataFrame:
    days = pd.DatetimeIndex([pd.Timestamp(d) for d in calendar.sessions(start, end)], name="date")
    close = base + np.arange(len(days), dtype=float)
    frame = pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close,
                          "adj_close": close, "volume": 1000.0}, index=days)
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / f"{stem}.csv", index_label="date")
    return frame


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    root = tmp_path / "market"
    write_csv(root, "GSPC", date(2026, 6, 1), LAST, 5000.0)
    write_csv(root, "RUT", date(2026, 7, 1), LAST, 2000.0)
    write_csv(root, "RUT_since1979", date(2026, 6, 1), LAST, 1000.0)  # older, half the level
    write_csv(root, "SPY", date(2026, 6, 1), LAST, 500.0)
    return root


def settings_for(tmp_path: Path, symbols: Sequence[str] = ("^RUT", "^GSPC")) -> Settings:
    """A small universe, a store under ``tmp_path``, extensions read from ``tmp_path/market``."""
    return Settings.model_validate({
        "universe": {"indices": list(symbols), "etfs": ["SPY"], "drivers": [], "sectors": []},
        "storage": {"url": f"sqlite:///{tmp_path / 'store' / 'capbrief.sqlite3'}"},
        "data": {"history_start": "2026-01-02", "refresh_overlap_sessions": 2,
                 "csv_dir": str(tmp_path / "market"),
                 "extend": {"^RUT": "RUT_since1979.csv"}},  # a file override of the bundle
    })


class FlakyCsv(CsvDirProvider):
    """The CSV provider behind the cache, counting calls and failing on demand."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls = 0
        self.down = False

    async def fetch(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        self.calls += 1
        if self.down:
            raise SourceUnavailable("Yahoo Finance is unavailable (HTTP 503)")
        return await super().fetch(symbols, start, end)


def clock(day: date) -> datetime:
    return calendar.session_close(day) + timedelta(hours=2)


async def test_csv_replay_reads_files_and_extends_rut(csv_dir: Path, tmp_path: Path) -> None:
    md = build_market_data(settings_for(tmp_path), csv_dir)
    snap = await md.snapshot()
    assert snap.source == "csv" and not snap.stale and snap.asof == LAST
    rut = snap.frame("^RUT")
    assert rut.index[0] == pd.Timestamp("2026-06-01")  # extended back from RUT_since1979
    first_own = rut.loc["2026-07-01", "close"]
    assert first_own == 2000.0
    # the older series is scaled to meet the newer one without a jump
    older = pd.read_csv(csv_dir / "RUT_since1979.csv", index_col="date", parse_dates=["date"])
    closes = older["close"].astype(float)
    scale = 2000.0 / closes.loc["2026-07-01"]
    expected = closes.loc["2026-06-30"] * scale
    assert rut.loc["2026-06-30", "close"] == pytest.approx(expected)
    assert (await md.refresh()).skipped
    await md.close()
    assert not (tmp_path / "store").exists()  # CSV replay never touches the store


async def test_provider_behind_the_cache_fills_the_snapshot(csv_dir: Path, tmp_path: Path) -> None:
    provider = FlakyCsv(csv_dir)
    md = MarketData(settings_for(tmp_path), provider=provider, now=lambda: clock(LAST))
    snap = await md.snapshot()
    assert provider.calls == 1
    assert snap.source == "csv" and snap.asof == LAST and not snap.stale
    assert snap.fetched_at == clock(LAST)
    assert set(snap.bars) == {"^RUT", "^GSPC", "SPY"} and snap.version
    assert snap.frame("^RUT").index[0] == pd.Timestamp("2026-06-01")  # extension applied
    again = await md.snapshot()
    assert provider.calls == 1 and again.version == snap.version
    assert again.frame("^RUT") is snap.frame("^RUT")  # extension memoised on the cached frame
    assert (tmp_path / "store" / "capbrief.sqlite3").is_file()
    await md.close()


async def test_source_outage_gives_a_stale_labelled_snapshot(csv_dir: Path, tmp_path: Path) -> None:
    provider = FlakyCsv(csv_dir)
    now = [clock(LAST)]
    md = MarketData(settings_for(tmp_path), provider=provider, now=lambda: now[0])
    good = await md.snapshot()
    provider.down = True
    now[0] = clock(date(2026, 8, 21))
    snap = await md.snapshot()
    assert provider.calls == 2
    assert snap.stale and snap.stale_reason and "HTTP 503" in snap.stale_reason
    assert "as of 2026-08-20" in snap.stale_reason
    assert snap.asof == LAST and snap.version == good.version
    await md.close()


async def test_symbols_outside_the_universe_and_unknown_ones(csv_dir: Path, tmp_path: Path) -> None:
    md = MarketData(settings_for(tmp_path), provider=FlakyCsv(csv_dir), now=lambda: clock(LAST))
    snap = await md.snapshot(["SPY", "NOPE"])
    assert set(snap.bars) == {"SPY"} and "NOPE" in snap.missing
    await md.close()


def test_csv_replay_never_imports_yfinance(csv_dir: Path) -> None:
    code = ("import asyncio, sys; from pathlib import Path; from bot.settings import Settings; "
            "from bot.market_data.service import build_market_data; "
            f"md = build_market_data(Settings(), Path({str(csv_dir)!r})); "
            "snap = asyncio.run(md.snapshot(['SPY'])); "
            "assert len(snap.frame('SPY')) > 10; "
            "assert 'yfinance' not in sys.modules, 'yfinance imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


async def test_version_changes_with_a_new_bar_only(csv_dir: Path, tmp_path: Path) -> None:
    provider = FlakyCsv(csv_dir)
    now = [clock(LAST)]
    md = MarketData(settings_for(tmp_path), provider=provider, now=lambda: now[0])
    first = await md.snapshot()
    assert (await md.snapshot()).version == first.version
    write_csv(csv_dir, "SPY", date(2026, 6, 1), date(2026, 8, 21), 500.0)  # one more session
    now[0] = clock(date(2026, 8, 21))
    second = await md.snapshot()
    assert second.frame("SPY").index[-1] == pd.Timestamp("2026-08-21")
    assert second.version != first.version
    await md.close()


async def test_csv_replay_snapshots_share_parsed_files_until_one_changes(
        csv_dir: Path, tmp_path: Path) -> None:
    md = build_market_data(settings_for(tmp_path), csv_dir)
    first = await md.snapshot()
    again = await md.snapshot()
    assert again.frame("SPY") is first.frame("SPY") and again.version == first.version
    assert again.frame("^RUT") is first.frame("^RUT")  # the extension is memoised too
    write_csv(csv_dir, "SPY", date(2026, 6, 1), date(2026, 8, 21), 500.0)
    changed = await md.snapshot()
    assert changed.frame("SPY").index[-1] == pd.Timestamp("2026-08-21")
    assert changed.version != first.version
