"""``python -m bot status|briefing``: text, --json keys, --asof replay notes and errors.

Most tests replay a tiny CSV directory written here; one reads the real history (skips where
it is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.cli import main

FILES = {"RUT": 200.0, "GSPC": 4000.0, "IWM": 190.0, "SPY": 400.0}


@pytest.fixture()
def csv_dir(tmp_path: Path) -> Path:
    """2020-01-02 .. ~2021-03: 300 business days per symbol (US holidays not removed)."""
    dates = pd.bdate_range("2020-01-02", periods=300)
    rng = np.random.default_rng(7)
    for stem, level in FILES.items():
        closes = level * np.exp(np.cumsum(rng.normal(0.0005, 0.01, len(dates))))
        frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "open": closes,
                              "high": closes, "low": closes, "close": closes,
                              "adj_close": closes, "volume": 1000})
        frame.to_csv(tmp_path / f"{stem}.csv", index=False)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # bot.logs logs INFO to stdout; keep the captured stdout to the command's own output.
    config = Path(argv[argv.index("--data-dir") + 1]) / "quiet.toml"
    config.write_text('[logging]\nlevel = "WARNING"\n')
    code = main([*argv, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


def test_status_text_shows_scoreboard_trend_and_records(csv_dir: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "status", "--data-dir", str(csv_dir))
    assert code == 0, err
    last = pd.bdate_range("2020-01-02", periods=300)[-1].date().isoformat()
    assert f"data to the close of {pd.Timestamp(last):%a %d %b %Y} ({last})" in out
    for needle in ("Russell 2000", "S&P 500", "IWM ", "SPY ", "  total return",
                   "RUT vs SPX (rel.)", "RUT/SPX ratio", "Verdict", "200-day trend: ",
                   "Records", "YTD", "21D", "Calendar, price: "):
        assert needle in out
    header = next(line for line in out.splitlines() if line.startswith("Price returns "))
    rut = next(line for line in out.splitlines() if line.startswith("Russell 2000 "))
    assert len(header) == len(rut)  # aligned columns


def test_status_json_has_self_explaining_keys(csv_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "status", "--json", "--asof", "2020-12-31",
                        "--data-dir", str(csv_dir))
    assert code == 0
    doc = json.loads(out)
    assert doc["asof"] == "2020-12-31" and doc["requested_asof"] == "2020-12-31"
    assert doc["asof_note"] is None and doc["data"]["source"] == "csv"
    lead = doc["leadership"]
    assert set(lead) >= {"asof", "scoreboard", "relative", "rut_records", "spx_records", "missing"}
    row = lead["scoreboard"][0]
    assert row["symbol"] == "^RUT" and set(row["returns"]) == {"1d", "1w", "1m", "3m", "ytd", "1y"}
    assert abs(row["returns"]["1d"]) < 0.2  # a fraction, not percent
    assert {"ratio", "sma50", "sma200", "regime", "regime_label", "streak_sessions",
            "ratio_changes"} <= set(lead["relative"])
    # this data starts 2020, after both indexes began: nothing may be called a record
    rut = lead["rut_records"]
    assert rut["history_complete"] is False and rut["inception"] == "1979-01-02"
    assert {"high_close", "high_date", "drawdown", "days_since_high", "drought_rank",
            "high_after_gap", "next_level", "highs_ytd"} <= set(rut)
    assert not [k for k in rut if "record" in k or "breakout" in k]


def test_non_session_asof_uses_the_previous_session_and_says_so(
        csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "status", "--asof", "2020-06-07", "--data-dir", str(csv_dir))
    assert code == 0
    assert "2020-06-07 (Sunday) was not a trading session" in out
    assert "data to the close of Fri 05 Jun 2020 (2020-06-05)" in out
    code, out, _ = _run(capsys, "briefing", "--json", "--asof", "2020-06-06",
                        "--data-dir", str(csv_dir))
    doc = json.loads(out)
    assert doc["asof"] == "2020-06-05" and "not a trading session" in doc["asof_note"]


@pytest.mark.parametrize(("asof", "message"), [
    ("2999-01-01", "2999-01-01 is in the future"),
    ("2019-05-01", "2019-05-01 is before the data begins (2020-01-02)"),
    ("2020-13-01", "--asof must be a date as YYYY-MM-DD"),
])
def test_bad_asof_is_one_clear_line(csv_dir: Path, capsys: pytest.CaptureFixture[str],
                                    asof: str, message: str) -> None:
    for command in ("status", "briefing"):
        code, out, err = _run(capsys, command, "--asof", asof, "--data-dir", str(csv_dir))
        assert code == 2 and out == ""
        assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_asof_after_the_data_ends_uses_the_last_session_with_a_note(
        csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "status", "--asof", "2022-01-03", "--data-dir", str(csv_dir))
    assert code == 0 and "no data after" in out


def test_missing_index_file_is_a_clear_error(csv_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (csv_dir / "GSPC.csv").unlink()
    code, _, err = _run(capsys, "status", "--data-dir", str(csv_dir))
    assert code == 3 and "no market data for ^GSPC" in err


def test_briefing_text(csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "briefing", "--asof", "2020-12-31", "--data-dir", str(csv_dir))
    assert code == 0
    lines = out.splitlines()
    # the morning it is for (the next session) and the close it reports
    assert lines[0] == ("Morning briefing for Mon 04 Jan 2021 · data to the close of "
                        "Thu 31 Dec 2020")
    assert lines[2].startswith(("Small caps lead", "Large caps lead", "Mixed:"))
    assert any(line.startswith("Records: Russell 2000") for line in lines)
    assert lines[-1].startswith("Data as of 2020-12-31 close")


@pytest.mark.shared_data
def test_status_on_real_history_2025_09_18(market_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "status", "--asof", "2025-09-18", "--data-dir", str(market_dir))
    assert code == 0
    assert "BREAKOUT: first record in 1,410 days" in out
    assert "Russell 2000          2,467.70" in out


def test_resolve_asof_edges() -> None:
    from datetime import date

    from bot.asof import resolve_asof
    from bot.errors import BadInput, DataUnavailable
    from tests.analytics._frames import bars, series

    spx = series([1.0, 2.0, 3.0, 4.0], start="2024-07-02")  # Tue 2 .. Fri 5
    spx = spx.drop(spx.index[2])  # Thu 4 July: no session
    rut = series([1.0, 2.0, 3.0], start="2024-07-03")        # starts a day later
    b = {"^GSPC": bars(spx), "^RUT": bars(rut)}
    today = date(2024, 7, 10)
    assert resolve_asof(b, None, today=today).session == date(2024, 7, 5)
    first = resolve_asof(b, date(2024, 7, 3), today=today)
    assert first.session == date(2024, 7, 3) and first.note is None
    holiday = resolve_asof(b, date(2024, 7, 4), today=today)
    assert holiday.session == date(2024, 7, 3)
    assert holiday.note is not None
    assert "2024-07-04 (Thursday) was not a trading session" in holiday.note
    with pytest.raises(BadInput, match="before the data begins"):
        resolve_asof(b, date(2024, 7, 2), today=today)  # ^GSPC has it, ^RUT does not yet
    with pytest.raises(BadInput, match="in the future"):
        resolve_asof(b, date(2024, 7, 11), today=today)
    assert resolve_asof(b, date(2024, 7, 10), today=today).note is not None
    with pytest.raises(DataUnavailable):
        resolve_asof({"^GSPC": bars(spx)}, None, today=today)
