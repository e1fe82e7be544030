"""First run anywhere: ``python -m bot run`` with no network, no token, no config and no
``../shared``, as a subprocess. It says once that Yahoo is unreachable, falls back to the bundled
demo snapshot and writes the preview, every file labelled "demo data to <date>"; yfinance's own
warnings never reach the console. (Its wall time is a bench figure: bench/bench_first_run.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.market_data import demo
from tests.fakes.offline import CliRun, run_cli

YFINANCE_NOISE = ("crumb", "Cookie", "Failed download", "possibly delisted", "yfinance",
                  "Traceback", "retry")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CliRun]:
    workdir = tmp_path_factory.mktemp("first-run")
    return workdir, run_cli(workdir, ["run"], blocked=True)


def test_first_run_offline_says_so_once_and_writes_the_demo_preview(
        first_run: tuple[Path, CliRun]) -> None:
    workdir, result = first_run
    label = demo.label(demo.manifest()["end"])
    assert result.returncode == 0, result.text
    said = [line for _, line in result.lines if "unreachable" in line.lower()]
    assert said == ["Yahoo Finance is unreachable: the HTTP proxy could not be reached."]
    assert f"Using the bundled demo snapshot instead ({label})." in result.text
    text = result.text
    assert f"Preview written to out/briefing.html ({label})" in text
    assert "No DISCORD_TOKEN in the environment" in text
    assert not [w for w in YFINANCE_NOISE if w in text], text
    assert len(result.lines) <= 12, text

    out = workdir / "out"
    assert {"summary.md", "briefing.md", "briefing.html", "leadership.png", "records.png"} <= {
        p.name for p in out.iterdir()}
    assert label in (out / "summary.md").read_text().splitlines()[0]
    md = (out / "briefing.md").read_text()
    assert label in md.splitlines()[0] and f"Source: {label}" in md  # title and footer
    html = (out / "briefing.html").read_text()
    assert html.count(label) >= 3  # <title>, the first line and the footer
    assert not (workdir / "config.toml").exists()  # nothing but the defaults was read


def test_first_run_offline_unpacks_the_snapshot_outside_the_repo(
        first_run: tuple[Path, CliRun]) -> None:
    workdir, _ = first_run
    [unpacked] = (workdir / "tmp").glob("capbrief-demo-*")
    assert (unpacked / demo.MARKER).is_file() and (unpacked / "GSPC.csv").is_file()
    assert (unpacked / "RUT_since1979.csv").is_file() and (unpacked / "fred").is_dir()
