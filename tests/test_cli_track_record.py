"""``python -m bot history track-record``: the scored record over 1990 to the latest data (text
and versioned JSON valid against docs/schema/history-track-record.schema.json), and ``--asof``
replay."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bot.cli import main

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs/schema/"
                     "history-track-record.schema.json").read_text())


@pytest.fixture(autouse=True)
def _quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)


@pytest.mark.shared_data
def test_track_record_text_and_json(market_dir: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    assert main(["history", "track-record", "--data-dir", str(market_dir)]) == 0
    text = capsys.readouterr().out
    assert "track record" in text and "next 21 sessions" in text and "next 63 sessions" in text
    assert "1990-01-02" in text and "Hit rate" in text and "Base rate" in text
    assert "Robustness, non-overlapping" in text and "-0.0%" not in text
    assert main(["history", "track-record", "--json", "--data-dir", str(market_dir)]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["schema"] == "history.track-record" and doc["schema_version"] == "1.0"
    assert doc["asof"] == doc["data"]["latest_session"]
    over = doc["horizons"][0]["overlapping"]
    assert over["first"] == "1990-01-02" and over["sessions"] > 9000
    assert over["small_calls"] + over["large_calls"] + over["mixed_days"] \
        + over["unknown_days"] == over["sessions"]


@pytest.mark.shared_data
def test_track_record_replays_a_past_day(market_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "track-record", "--asof", "2025-09-20", "--json",
                 "--data-dir", str(market_dir)]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["asof"] == "2025-09-19" and doc["asof_note"]
    # nothing after the replayed day is scored
    assert all(h["overlapping"]["last"] < "2025-09-19" for h in doc["horizons"])
