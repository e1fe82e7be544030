"""``python -m bot history …`` and ``python -m bot drivers``: text, JSON, --asof replay and
one-line errors, on a tiny CSV directory built here and on the real history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.cli import main

COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]


def _write(root: Path, stem: str, values: np.ndarray, index: pd.DatetimeIndex) -> None:
    frame = pd.DataFrame({c: values for c in COLUMNS[:-1]}, index=index.rename("date"))
    frame["volume"] = np.nan
    frame.to_csv(root / f"{stem}.csv")


@pytest.fixture(autouse=True)
def _quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep log lines out of the command output these tests read."""
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)


@pytest.fixture()
def tiny_dir(tmp_path: Path) -> Path:
    days = pd.bdate_range("2018-01-01", "2021-12-31")
    t = np.arange(len(days))
    rut = 100 + 10 * np.sin(t / 120) + t * 0.02
    _write(tmp_path, "RUT", rut, days)
    _write(tmp_path, "GSPC", 1000 + t * 0.5, days)
    _write(tmp_path, "TNX", 2 + np.cos(t / 7) / 10, days)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_breakouts_text_and_json_on_tiny_data(tiny_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "breakouts", "--gap-days", "30", "--horizons",
                        "5,21", "--data-dir", str(tiny_dir))
    assert code == 0 and "1W" in out and "1M" in out
    # the tiny data starts 2018, long after the index: its highs are not records
    assert "Russell 2000 highest closes since 2018-01-01" in out and "breakouts:" not in out
    assert "LIMIT: the data starts 2018-01-01 but the Russell 2000 starts 1979-01-02" in out
    code, out, _ = _run(capsys, "history", "breakouts", "--gap-days", "30", "--horizons",
                        "21,5", "--json", "--data-dir", str(tiny_dir))
    doc = json.loads(out)
    assert code == 0 and doc["horizons_sessions"] == [5, 21] and doc["gap_days"] == 30
    assert doc["events"] and set(doc["events"][0]["spx_forward_returns"]) == {"5", "21"}
    assert doc["history_complete"] is False and "last_record_date" not in doc
    assert {e["label"] for e in doc["events"]} == {"highest since 2018-01-01"}
    assert doc["stats"]["spx"][0]["horizon"] == 5 and doc["asof"] == "2021-12-31"


@pytest.mark.parametrize("study", ["droughts", "cycles", "rates"])
def test_other_studies_print_text_and_json(tiny_dir: Path, study: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", study, "--data-dir", str(tiny_dir))
    assert code == 0 and out.strip()
    code, out, _ = _run(capsys, "history", study, "--json", "--data-dir", str(tiny_dir))
    doc = json.loads(out)
    assert code == 0 and doc["study"] == study and doc["asof"] == "2021-12-31"


def test_non_session_asof_uses_previous_session_and_says_so(
        tiny_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "droughts", "--asof", "2021-06-05", "--data-dir",
                        str(tiny_dir))
    assert code == 0 and "as of 2021-06-04" in out and "2021-06-05 (Saturday)" in out
    code, out, _ = _run(capsys, "history", "cycles", "--asof", "2021-06-05", "--json",
                        "--data-dir", str(tiny_dir))
    doc = json.loads(out)
    assert doc["asof"] == "2021-06-04" and doc["requested_asof"] == "2021-06-05"


@pytest.mark.parametrize(("argv", "message"), [
    (["breakouts", "--asof", "2099-01-02"], "in the future"),
    (["breakouts", "--asof", "1990-01-02"], "before the data begins"),
    (["breakouts", "--asof", "June 5"], "YYYY-MM-DD"),
    (["breakouts", "--gap-days", "0"], "--gap-days must be between 1 and 3650"),
    (["breakouts", "--gap-days", "3651"], "--gap-days"),
    (["breakouts", "--horizons", "21,-5"], "positive"),
    (["breakouts", "--horizons", "abc"], "whole numbers"),
    (["breakouts", "--horizons", "5000"], "longer than the"),
    (["breakouts", "--index", "^IXIC"], "--index must be ^RUT or ^GSPC"),
    (["rates", "--bp", "0"], "--bp"),
    (["rates", "--years", "-2"], "--years"),
    (["cycles", "--swing", "0.5"], "--swing"),
])
def test_bad_input_is_one_line_exit_2(tiny_dir: Path, capsys: pytest.CaptureFixture[str],
                                      argv: list[str], message: str) -> None:
    code, out, err = _run(capsys, "history", *argv, "--data-dir", str(tiny_dir))
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
    assert err.startswith("error: ")


def test_drivers_without_fred_reports_economy_absent(tiny_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "drivers", "--json", "--data-dir", str(tiny_dir))
    doc = json.loads(out)
    assert code == 0 and doc["fred_dir"] is None
    readings = {r["key"]: r for r in doc["readings"]}
    assert readings["unemployment"]["call"] == "absent"
    assert "no FRED folder in the replay data" in readings["unemployment"]["reason"]
    assert readings["fed_path"]["call"] == "absent"
    assert doc["fred"]["source"] == "none" and doc["asof_note"] is None
    assert readings["ten_year"]["change_unit"] == "bp"
    code, _, err = _run(capsys, "drivers", "--fred-dir", str(tiny_dir / "nope"),
                        "--data-dir", str(tiny_dir))
    assert code == 2 and "not a directory" in err


# ------------------------------------------------------------ real history


def test_real_breakouts_as_of_2025_09_18(market_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "breakouts", "--asof", "2025-09-18", "--data-dir",
                        str(market_dir))
    assert code == 0 and "LIVE: at the as-of close (Thu 2025-09-18)" in out
    assert "1,410-day drought" in out
    assert "Higher        6/11    8/11    7/11   10/11" in out
    code, out, _ = _run(capsys, "history", "breakouts", "--asof", "2025-09-18", "--json",
                        "--data-dir", str(market_dir))
    doc = json.loads(out)
    assert doc["live_event_date"] == "2025-09-18" and len(doc["events"]) == 12
    year = doc["stats"]["spx"][-1]
    assert (year["count"], year["hits"], year["incomplete"]) == (11, 10, 1)


def test_real_drivers_label_symbols_that_end_early(market_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "drivers", "--asof", "2026-08-20", "--json", "--data-dir",
                        str(market_dir))
    doc = json.loads(out)
    readings = {r["key"]: r for r in doc["readings"]}
    assert code == 0 and doc["fred_dir"].endswith("fred")
    assert readings["regional_banks"]["asof"] == "2026-07-31"
    assert readings["regional_banks"]["stale"] is True
    assert readings["dollar"]["asof"] == "2026-08-20" and not readings["dollar"]["stale"]
    assert "regional_banks" in doc["not_counted"]
    assert readings["unemployment"]["call"] != "absent"
    # the composite's walk-forward record, replayed up to the as-of session only
    record = doc["forecast_record"]
    assert record["line"].startswith("Composite forecast record 1990–2026: Spearman ")
    assert record["first"] == "1990-01-02" and record["last"] <= "2026-08-20"
    assert record["composite"][0]["horizon"] == 21 and record["composite"][0]["points"] > 400


def test_breakouts_text_marks_live_and_incomplete_rows() -> None:
    from datetime import date

    from analytics.studies.breakouts import calc_breakout_study
    from bot.ui.study_text import breakouts_json, render_breakouts_text

    days = pd.date_range("2020-01-01", periods=15, freq="D")
    rut = pd.Series([10, 9, 8, 9, 10, 11, 12, 11, 10, 11, 12, 12, 13, 12, 14.0], index=days)
    spx = pd.Series(np.linspace(100, 116, 15), index=days)
    study = calc_breakout_study(rut, spx, date(2020, 1, 15), gap_days=4, horizons=(1, 3),
                                inception=rut.index[0].date())
    text = render_breakouts_text(study, note="a note")
    assert "LIVE: 2 sessions ago, on 2020-01-13" in text and "Note: a note" in text
    assert "live, 2 sessions so far: S&P +" in text
    assert ("S&P 500 price return after 2 breakouts (2020-01-13 counted only at horizons "
            "already reached)") in text
    assert "Higher         2/2     1/1" in text
    doc = breakouts_json(study)
    assert doc["events"][-1]["spx_forward_returns"]["3"] is None
    assert doc["events"][-1]["live"] is True and doc["live_event_date"] == "2020-01-13"
