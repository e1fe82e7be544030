"""``python -m bot history analogs``: text, JSON, --k, one-line errors, on a tiny CSV directory
and on the real history (2025-09-18, 2024-12-02; skipped where absent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.cli import main

COLUMNS = ["open", "high", "low", "close", "adj_close"]


@pytest.fixture(autouse=True)
def _quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)


@pytest.fixture()
def tiny_dir(tmp_path: Path) -> Path:
    days = pd.bdate_range("2016-01-01", "2021-12-31", name="date")
    t = np.arange(len(days))
    for stem, values in (("RUT", 100 + 10 * np.sin(t / 90) + t * 0.02),
                         ("GSPC", 1000 + t * 0.5)):
        frame = pd.DataFrame({c: values for c in COLUMNS}, index=days)
        frame["volume"] = np.nan
        frame.to_csv(tmp_path / f"{stem}.csv")
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_analogs_text_and_json_on_tiny_data(tiny_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "analogs", "--k", "4", "--data-dir", str(tiny_dir))
    assert code == 0
    assert "Days like today: the 4 past sessions most like 2021-12-31" in out
    rows = re.findall(r"^(\d{4}-\d{2}-\d{2})  ", out, flags=re.M)
    assert len(rows) == 8                    # 4 analogs in each of the two tables
    assert max(len(line) for line in out.splitlines()) <= 100
    code, out, _ = _run(capsys, "history", "analogs", "--k", "4", "--json", "--data-dir",
                        str(tiny_dir))
    doc = json.loads(out)
    assert code == 0 and doc["study"] == "analogs" and doc["k"] == 4
    assert len(doc["analogs"]) == 4 and len(doc["comparisons"]) == 9
    for c in doc["comparisons"]:
        assert c["indistinguishable"] == (c["p_value"] >= 0.05)
        assert c["verdict"] == ("indistinguishable from a random day" if c["indistinguishable"]
                                else "differs from a random day")
    # no driver files here: only the core features
    assert [f["key"] for f in doc["features"]][-1] == "rel_3m"


@pytest.mark.parametrize(("argv", "message"), [
    (["--k", "0"], "--k must be between 1 and 50"),
    (["--k", "51"], "--k must be between 1 and 50"),
    (["--asof", "2016-06-01"], "too little history"),
    (["--asof", "2017-03-01"], "analogs need more history"),
])
def test_bad_input_is_one_line_exit_2(tiny_dir: Path, capsys: pytest.CaptureFixture[str],
                                      argv: list[str], message: str) -> None:
    code, out, err = _run(capsys, "history", "analogs", *argv, "--data-dir", str(tiny_dir))
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.mark.parametrize("asof", ["2025-09-18", "2024-12-02"])
def test_real_analogs(market_dir: Path, capsys: pytest.CaptureFixture[str], asof: str) -> None:
    code, out, _ = _run(capsys, "history", "analogs", "--asof", asof, "--data-dir",
                        str(market_dir))
    assert code == 0 and f"most like {asof}" in out
    assert "LIMIT" not in out                          # ^RUT reaches 1979 in every mode
    assert "VIX level" in out and "10-year yield" in out
    code, out, _ = _run(capsys, "history", "analogs", "--asof", asof, "--json", "--data-dir",
                        str(market_dir))
    doc = json.loads(out)
    assert doc["history_complete"] is True and doc["data_start"] == "1979-01-02"
    assert all(f["used"] for f in doc["features"])
    assert doc["pool_start"] < "1981" and doc["pool_end"] < asof


def test_the_analogs_regime_column_uses_the_verdicts_trend_words() -> None:
    """One definition per word: each regime's short label names the 200-day trend side the
    verdict gives it, and "newly" exactly where the long label says so."""
    from analytics.leadership import REGIME_LABELS
    from analytics.verdict import TREND_SIDES
    from bot.ui.study_text import REGIME_SHORT

    assert set(REGIME_SHORT) == set(REGIME_LABELS)
    for regime, short in REGIME_SHORT.items():
        assert short.split(",")[0] == TREND_SIDES[regime]
        assert ("newly" in short) == ("newly" in REGIME_LABELS[regime])
