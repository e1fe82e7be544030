"""``python -m bot alerts``: the replay on real history (2024 to the latest data) against
independent counts, the JSON schema, settings ↔ parameters, and one-line bad input."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

from analytics.alerts import AlertParams
from bot.alerts.params import to_alert_params
from bot.cli import main
from bot.market_data.csvdir import read_bar_csv
from bot.market_data.demo import demo_label
from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "docs" / "schema" / "alerts.schema.json").read_text())


@pytest.fixture(autouse=True)
def _quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)


@pytest.fixture(scope="module")
def replay(market_dir: Path) -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    # Module scope runs before the function-scoped _quiet_logging: patch here too, or the real
    # root handler (level INFO) leaks into every later test module.
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        patch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)
        code = main(["alerts", "--from", "2024-01-01", "--json", "--data-dir", str(market_dir)])
    assert code == 0
    return json.loads(out.getvalue())


def _events(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for s in doc["sessions"] for e in s["events"] if e["kind"] == kind]


def _close(market_dir: Path, stem: str) -> pd.Series:
    return read_bar_csv(market_dir / f"{stem}.csv")["close"].dropna()


def test_the_replay_validates_against_its_schema(replay: dict[str, Any]) -> None:
    jsonschema.validate(replay, SCHEMA)
    assert replay["schema_version"] == 1 and replay["from"] == "2024-01-01"
    sessions = [s["session"] for s in replay["sessions"]]
    assert sessions == sorted(sessions) and len(set(sessions)) == len(sessions)


def test_the_2025_09_18_breakout_is_listed(replay: dict[str, Any]) -> None:
    (event,) = [e for e in _events(replay, "breakout") if e["session"] == "2025-09-18"]
    assert event["values"]["previous_record_date"] == "2021-11-08"
    assert event["history"]["before"] >= 10 and event["history_complete"] is True
    assert len(_events(replay, "breakout")) == 1     # no other breakout since 2024


def test_every_2026_record_close_is_listed(replay: dict[str, Any], market_dir: Path) -> None:
    rut = _close(market_dir, "RUT")           # from 1987: every 2026 record beats it all
    records = rut[rut > rut.cummax().shift(1)]
    expected = [d.date().isoformat() for d in records.index if d.year == 2026]
    got = [e["session"] for e in _events(replay, "record") if e["session"] >= "2026"]
    assert expected and got == expected


def test_the_2500_cross_is_listed(replay: dict[str, Any], market_dir: Path) -> None:
    rut = _close(market_dir, "RUT")
    first = rut[rut >= 2500].index[0].date().isoformat()
    ups = [e for e in _events(replay, "level_cross")
           if e["symbol"] == "^RUT" and 2500 in e["values"]["levels"]
           and e["values"]["direction"] == "up"]
    assert ups[0]["session"] == first and "2,500 for the first time" in ups[0]["sentence"]


def _independent_200_day_crosses(market_dir: Path, confirm: int) -> list[tuple[str, str]]:
    """Plain pandas and a loop: RUT/SPX on common dates vs its 200-session mean; the confirmed
    side changes after ``confirm`` closes in a row on the other side."""
    both = pd.concat([_close(market_dir, "RUT_since1979"), _close(market_dir, "GSPC")],
                     axis=1, join="inner").dropna()
    ratio = both.iloc[:, 0] / both.iloc[:, 1]
    mean = ratio.rolling(200).mean()
    confirmed, run_side, run = None, None, 0
    out = []
    for day, r, m in zip(ratio.index, ratio, mean, strict=True):
        side = None if pd.isna(m) or r == m else ("above" if r > m else "below")
        run = run + 1 if side is not None and side == run_side else (1 if side else 0)
        run_side = side
        if side is not None and run >= confirm and side != confirmed:
            if confirmed is not None:
                out.append((day.date().isoformat(), side))
            confirmed = side
    return [x for x in out if x[0] >= "2024-01-01"]


def test_each_200_day_cross_matches_an_independent_count(replay: dict[str, Any],
                                                         market_dir: Path) -> None:
    got = [(e["session"], e["values"]["direction"]) for e in _events(replay, "ma_cross")
           if e["values"]["window"] == 200]
    expected = _independent_200_day_crosses(market_dir, AlertParams().ma_confirm)
    assert len(expected) >= 4 and got == expected


def test_text_replay_lists_sessions_with_sentences(market_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["alerts", "--from", "2025-09-18", "--to", "2025-09-18", "--data-dir",
                 str(market_dir)])
    out = capsys.readouterr().out
    assert code == 0 and "2025-09-18 · 3 alerts" in out
    assert "first record close in 1,410 days" in out and "any day" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_brief_replay_is_one_line_per_alert(market_dir: Path, replay: dict[str, Any],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["alerts", "--from", "2024-01-01", "--brief", "--data-dir", str(market_dir)])
    lines = capsys.readouterr().out.splitlines()
    if demo_label(market_dir):  # the bundled demo snapshot says so first
        assert lines.pop(0).startswith("Demo data to ")
    events = [e for s in replay["sessions"] for e in s["events"]]
    assert code == 0 and lines[0].endswith(f"{len(events):,} in {len(replay['sessions'])} "
                                           "sessions")
    assert lines[1:] == [f"{e['session']}  {e['kind']:<11}  {e['sentence']}" for e in events]


@pytest.mark.parametrize(("argv", "message"), [
    (["--from", "2025-13-01"], "--from must be a date"),
    (["--from", "2025-09-19", "--to", "2025-09-18"], "is after --to"),
    (["--to", "2999-01-01"], "in the future"),
])
def test_bad_input_is_one_line_exit_2(market_dir: Path, capsys: pytest.CaptureFixture[str],
                                      argv: list[str], message: str) -> None:
    code = main(["alerts", *argv, "--data-dir", str(market_dir)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_settings_defaults_are_the_analytics_defaults() -> None:
    assert to_alert_params(Settings()) == AlertParams()
    custom = to_alert_params(Settings(alerts={"rut_step": 50.0, "ma_confirm": 5}))
    assert (custom.rut_step, custom.ma_confirm) == (50.0, 5)


def test_cli_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["alerts", "--help"])
    assert "python -m bot alerts --from 2024-01-01" in capsys.readouterr().out


def test_no_lookahead_in_the_replay(market_dir: Path) -> None:
    from analytics.alerts import build_timeline, calc_alerts
    from analytics.series import to_price

    rut = to_price(read_bar_csv(market_dir / "RUT_since1979.csv"))
    spx = to_price(read_bar_csv(market_dir / "GSPC.csv"))
    inception = rut.index[0].date()
    timeline = build_timeline(rut, spx, rut.index[-1].date(), inception=inception)
    for day in (date(2024, 11, 8), date(2025, 9, 18), date(2026, 6, 22)):
        alone = calc_alerts(rut.loc[:pd.Timestamp(day)], spx.loc[:pd.Timestamp(day)], day,
                            inception=inception)
        assert alone.events and alone == timeline.batch(day)


def test_every_replayed_batch_fits_one_embed(market_dir: Path) -> None:
    from analytics.alerts import replay_alerts
    from analytics.series import to_price
    from bot.ui.alert_embeds import alert_embed
    from bot.ui.limits import embed_problems

    rut = to_price(read_bar_csv(market_dir / "RUT_since1979.csv"))
    spx = to_price(read_bar_csv(market_dir / "GSPC.csv"))
    batches = replay_alerts(rut, spx, date(2024, 1, 1), rut.index[-1].date(),
                            inception=rut.index[0].date())
    busiest = max(batches, key=lambda b: len(b.events))
    for batch in batches:
        embed = alert_embed(batch, source="csv")
        assert embed_problems(embed) == []
        assert len(embed.fields) == len(batch.events)
    embed = alert_embed(busiest, source="csv")
    assert all(e.sentence in f.value for e, f in zip(busiest.events, embed.fields, strict=True))


def test_the_replay_imports_no_discord_matplotlib_or_sqlalchemy(market_dir: Path) -> None:
    from tests.test_cli_imports import run_and_list_modules

    status, heavy, _ = run_and_list_modules("alerts", "--from", "2026-08-01", "--data-dir",
                                            str(market_dir))
    assert status == 0 and heavy == [], f"alerts replay imported {heavy}"
