"""``python -m bot chart``: the PNG /chart would draw, exit statuses 0/2/3, help and version."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.cli import EXIT_BAD_INPUT, EXIT_DATA_UNAVAILABLE, main
from tests.e2e.conftest import png_size


def _write(directory: Path, stem: str, dates: pd.DatetimeIndex, level: float) -> None:
    rng = np.random.default_rng(len(stem))
    closes = level * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(dates))))
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "open": closes, "high": closes,
                  "low": closes, "close": closes, "adj_close": closes, "volume": 1000}
                 ).to_csv(directory / f"{stem}.csv", index=False)


@pytest.fixture()
def csv_dir(tmp_path: Path) -> Path:
    days = pd.bdate_range("2022-01-03", periods=400)
    for stem, level in {"RUT": 2000.0, "GSPC": 4500.0, "IWM": 200.0}.items():
        _write(tmp_path, stem, days, level)
    _write(tmp_path, "SPY", days[:1], 450.0)  # one bar only: nothing to draw
    (tmp_path / "quiet.toml").write_text('[logging]\nlevel = "WARNING"\n')
    return tmp_path


def _chart(csv_dir: Path, *argv: str) -> int:
    return main(["chart", *argv, "--data-dir", str(csv_dir),
                 "--config", str(csv_dir / "quiet.toml")])


def test_writes_the_png_and_says_what_it_drew(csv_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "charts" / "ratio.png"
    code = _chart(csv_dir, "^rut", "^GSPC", "--kind", "ratio", "--period", "6m",
                  "--out", str(out))
    assert code == 0
    width, height = png_size(out.read_bytes())
    assert width > 600 and height > 300
    said = capsys.readouterr().out
    last = pd.bdate_range("2022-01-03", periods=400)[-1].date()
    assert "^RUT ^GSPC, ratio, 6m" in said and f"as of {last}" in said
    assert not list(out.parent.glob("*.partial"))


@pytest.mark.parametrize(("argv", "needle"), [
    (["IWM", "SPY", "^RUT", "--kind", "ratio"], "exactly two"),
    (["IWM", "--kind", "pie"], "kind"),
    (["IWM", "--period", "7y"], "period"),
    (["IWM", "A", "B", "C", "D"], "At most 4"),
    (["IWM", "ZZZZ"], "ZZZZ"),
])
def test_bad_input_exits_2_and_writes_nothing(csv_dir: Path, tmp_path: Path, argv: list[str],
                                              needle: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.png"
    assert _chart(csv_dir, *argv, "--out", str(out)) == EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
    assert not out.exists()


def test_data_it_cannot_draw_exits_3(csv_dir: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.png"
    assert _chart(csv_dir, "SPY", "--out", str(out)) == EXIT_DATA_UNAVAILABLE == 3
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not out.exists()


def test_version_and_help_for_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("capbrief ")
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "exit status: 0 ok, 2 bad input, 3 data unavailable" in text
    assert "``" not in text  # no developer docstring markup
    with pytest.raises(SystemExit):
        main(["chart", "--help"])
    assert "--kind ratio" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["status", "briefing", "history", "drivers", "charts", "data",
                                     "run", "chart"])
def test_every_command_help_has_examples(command: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and f"python -m bot {command}" in text


def test_a_ratio_ends_where_both_series_do_and_the_footer_names_a_lagging_one(
        csv_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = pd.bdate_range("2022-01-03", periods=400)
    _write(csv_dir, "GSPC", days[:-5], 4500.0)  # the S&P 500 file stops a week earlier
    assert _chart(csv_dir, "^RUT", "^GSPC", "--kind", "ratio", "--out",
                  str(tmp_path / "r.png")) == 0
    assert f"as of {days[-6].date()}" in capsys.readouterr().out
    assert _chart(csv_dir, "^RUT", "^GSPC", "--out", str(tmp_path / "p.png")) == 0
    assert f"as of {days[-1].date()}" in capsys.readouterr().out


def test_the_footer_names_series_that_end_before_the_as_of_date() -> None:
    from datetime import date

    from analytics.charts.inputs import Footnote

    note = Footnote(asof=date(2026, 8, 27), source="csv", lagging=("^GSPC to 2026-08-20",))
    assert note.text().startswith("Data to close of 2026-08-27 (^GSPC to 2026-08-20) · ")
    assert "(" not in Footnote(asof=date(2026, 8, 27), source="csv").text()
