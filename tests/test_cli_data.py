"""``python -m bot data show|refresh`` and ``python -m bot run`` (no token: preview; token: bot),
on the shared history, on files written here, and through the cache with an injected provider."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import bot.subcommands.data as data_cmd
from bot.cli import main
from bot.market_data import calendar
from bot.market_data.csvdir import CsvDirProvider
from bot.market_data.errors import SourceUnavailable
from bot.market_data.provider import FetchResult
from bot.market_data.service import MarketData
from bot.settings import Settings

LAST = date(2026, 8, 20)


def write_csv(root: Path, stem: str, end: date = LAST, base: float = 100.0,
              adjusted_only: bool = False) -> None:
    days = pd.DatetimeIndex([pd.Timestamp(d) for d in calendar.sessions(date(2026, 7, 1), end)],
                            name="date")
    close = base + np.arange(len(days), dtype=float)
    frame = pd.DataFrame({"open": close - 1, "high": close + 1, "low": close - 2,
                          "close": close, "adj_close": close * 0.5, "volume": 1234567.0},
                         index=days)
    if adjusted_only:
        frame[["open", "high", "low", "close"]] = np.nan
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / f"{stem}.csv", index_label="date", na_rep="")


@pytest.fixture(autouse=True)
def _quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the log handler (stdout) out of the command output these tests read."""
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    root = tmp_path / "market"
    write_csv(root, "GSPC", base=6000.0)
    write_csv(root, "SPY", base=600.0)
    write_csv(root, "XLF", base=50.0, adjusted_only=True)
    write_csv(root, "TNX", end=date(2026, 7, 31), base=4.0)
    return root


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[universe]\nindices = ["^GSPC"]\netfs = ["SPY"]\ndrivers = ["^TNX"]\n'
        'sectors = ["XLF"]\n'
        f'[storage]\nurl = "sqlite:///{tmp_path / "store" / "capbrief.sqlite3"}"\n'
        '[data]\nhistory_start = "2026-01-02"\n')
    return path


def test_show_rut_last_close_on_the_shared_history(
        market_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "show", "^RUT", "--data-dir", str(market_dir), "--tail", "1"]) == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1].split()
    assert last[0] == "2026-08-27" and "3014.34" in last
    assert "as of 2026-08-27" in out


def test_show_prints_the_tail_as_a_table(csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "show", "spy", "--data-dir", str(csv_dir), "--tail", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("SPY: 36 sessions, 2026-07-01 .. 2026-08-20")
    assert lines[1].split() == ["date", "open", "high", "low", "close", "adj", "close", "volume"]
    rows = [line.split() for line in lines[3:]]
    assert [r[0] for r in rows] == ["2026-08-18", "2026-08-19", "2026-08-20"]
    # 36 sessions (July 3 was a holiday): close = 600 + 35, adj_close = close / 2
    assert rows[-1] == ["2026-08-20", "634.00", "636.00", "633.00", "635.00", "317.50",
                        "1,234,567"]


def test_show_marks_missing_values_and_small_prices(
        csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "show", "XLF", "--data-dir", str(csv_dir), "--tail", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split() == [
        "2026-08-20", "-", "-", "-", "-", "42.50", "1,234,567"]
    assert main(["data", "show", "^TNX", "--data-dir", str(csv_dir), "--tail", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[4] == "25.00"
    write_csv(csv_dir, "IRX", base=4.0, end=date(2026, 7, 2))  # two sessions: 4.0, 5.0
    assert main(["data", "show", "^IRX", "--data-dir", str(csv_dir), "--tail", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[4] == "5.0000"


@pytest.mark.parametrize(("symbol", "message"), [
    ("ZZZZ", "error: unknown symbol ZZZZ: no file for ZZZZ"),
    ("../etc/passwd", "error: '../etc/passwd' is not a ticker symbol"),
    ("", "error: '' is not a ticker symbol"),
])
def test_show_bad_symbol_is_one_line_and_exit_2(
        csv_dir: Path, capsys: pytest.CaptureFixture[str], symbol: str, message: str) -> None:
    assert main(["data", "show", symbol, "--data-dir", str(csv_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(message) and captured.err.count("\n") == 1


def test_show_rejects_a_non_positive_tail(csv_dir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["data", "show", "SPY", "--data-dir", str(csv_dir), "--tail", "0"])
    assert exc.value.code == 2


def test_refresh_on_csv_replay_lists_every_symbol(
        csv_dir: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "refresh", "--config", str(config), "--data-dir", str(csv_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("CSV replay")
    rows = {line.split()[0]: line.split() for line in out[3:]}
    assert rows["SPY"] == ["SPY", "36", "2026-07-01", "2026-08-20", "-", "ok"]
    assert rows["^TNX"][3] == "2026-07-31"


class FlakyCsv(CsvDirProvider):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.down = False

    async def fetch(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        if self.down:
            raise SourceUnavailable("Yahoo Finance is unavailable (HTTP 503)")
        return await super().fetch(symbols, start, end)


def test_refresh_through_the_cache_then_an_outage(
        csv_dir: Path, config: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    provider = FlakyCsv(csv_dir)
    now = [calendar.session_close(LAST) + timedelta(hours=1)]

    def build(settings: Settings, data_dir: Path | None = None) -> MarketData:
        assert data_dir is None
        return MarketData(settings, provider=provider, now=lambda: now[0])

    monkeypatch.setattr(data_cmd, "build_market_data", build)
    assert main(["data", "refresh", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Refreshed from csv up to session 2026-08-20: 1 provider call(s)" in out
    rows = {line.split()[0]: line for line in out.splitlines()[3:] if line.strip()}
    assert rows["SPY"].split() == ["SPY", "36", "2026-07-01", "2026-08-20", "36", "ok"]

    provider.down = True
    now[0] = calendar.session_close(date(2026, 8, 21)) + timedelta(hours=1)
    assert main(["data", "refresh", "--config", str(config), "SPY", "^gspc"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: Yahoo Finance is unavailable (HTTP 503)" in out
    assert "STALE: Yahoo Finance is unavailable (HTTP 503)" in out
    assert "STALE data is being served" in out and "as of 2026-08-20" in out


def test_refresh_missing_symbol_exits_1(csv_dir: Path, config: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "refresh", "--config", str(config), "--data-dir", str(csv_dir),
                 "SPY", "ZZZZ"])
    assert code == 1
    assert "MISSING: no file for ZZZZ" in capsys.readouterr().out


def test_run_without_token_writes_a_summary_and_explains(
        csv_dir: Path, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    assert main(["run", "--config", str(config), "--data-dir", str(csv_dir),
                 "--out", str(out_dir)]) == 0
    printed = capsys.readouterr().out
    assert "export DISCORD_TOKEN=" in printed and str(out_dir / "summary.md") in printed
    summary = (out_dir / "summary.md").read_text()
    assert "As of session **2026-08-20** (source: csv)" in summary
    assert "| SPY | ETF | 2026-07-01 | 2026-08-20 | 36 | 635.00 | ok |" in summary
    assert "| XLF | sector/style | 2026-07-01 | 2026-08-20 | 36 | 42.50 (adj) | ok |" in summary
    assert "| ^TNX | driver | 2026-07-01 | 2026-07-31 | 22 | 25.00 | lags: ends 2026-07-31 |" \
        in summary
    assert not list(out_dir.glob("*.partial"))


def test_run_with_token_starts_the_bot_and_never_prints_the_token(
        csv_dir: Path, config: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[Any, ...]] = []

    def run_bot(settings: Settings, token: Any, data_dir: Path | None) -> int:
        calls.append((settings, token, data_dir))
        return 0

    fake = types.ModuleType("bot.client")
    fake.run_bot = run_bot  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.client", fake)
    monkeypatch.setenv("DISCORD_TOKEN", "s3cret-token-value")
    assert main(["run", "--config", str(config), "--data-dir", str(csv_dir)]) == 0
    (_settings, token, data_dir), = calls
    assert token.get_secret_value() == "s3cret-token-value" and data_dir == csv_dir
    captured = capsys.readouterr()
    assert "s3cret" not in captured.out + captured.err


def test_run_offline_falls_back_to_the_demo_snapshot_in_one_line(
        config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import bot.subcommands.run as run_cmd

    class Down:
        name = "yahoo"

        async def fetch(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
            raise SourceUnavailable("Yahoo Finance could not be reached")

    real_build = run_cmd.build_market_data

    def build(settings: Settings, data_dir: Path | None = None) -> MarketData:
        if data_dir is not None:  # the demo snapshot, unpacked
            return real_build(settings, data_dir)
        return MarketData(settings, provider=Down(),
                          now=lambda: datetime.fromisoformat("2026-08-21T00:00:00+00:00"))

    monkeypatch.setattr(run_cmd, "build_market_data", build)
    monkeypatch.setattr(run_cmd, "PROBE", None)  # no early check: the provider's error is the line
    out = tmp_path / "out"
    assert main(["run", "--config", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    said = [line for line in printed.out.splitlines() if "could not be reached" in line]
    assert said == ["Yahoo Finance could not be reached. Using the bundled demo snapshot "
                    "instead (demo data to 2026-08-20)."]
    assert "could not be reached" not in printed.err  # the cache's warning is not repeated
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# capbrief: market data summary (demo data to 2026-08-20)")
    assert "| SPY | ETF | 1993-01-29 | 2026-08-20 | 8,447 | 762.60 | ok |" in summary


def test_run_from_a_replay_directory_never_falls_back_to_the_demo(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["run", "--config", str(config), "--data-dir", str(empty),
                 "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0 and "demo" not in captured.out + captured.err
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "(source: csv)" in summary and "missing: no file for SPY" in summary
