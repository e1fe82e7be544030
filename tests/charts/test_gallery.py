"""``python -m bot charts``: every family and custom kind as PNGs plus an index.html, through the
real data path and render pool; bad input is one clear line (exit 2)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.charts.conftest import png_size

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.shared_data
def test_gallery_writes_every_chart_and_an_index(market_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gallery"
    code = main(["charts", "--out", str(out), "--asof", "2024-12-02", "--data-dir",
                 str(market_dir), "--theme", "light"])
    assert code == 0, capsys.readouterr()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert {"leadership-1y.png", "records.png", "breakouts.png", "cycles.png", "drivers.png",
            "analogs.png",
            "custom-price.png", "custom-rebased.png", "custom-ratio.png",
            "custom-drawdown.png"} <= set(pngs)
    for name in pngs:
        assert png_size((out / name).read_bytes()) == (1200, 675), name
    index = (out / "index.html").read_text()
    assert set(re.findall(r"src='([^']+\.png)'", index)) == set(pngs)
    assert "2024-12-02" in index and "light theme" in index


def test_gallery_rejects_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["charts", "--out", str(tmp_path), "--asof", "18/09/2025"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "YYYY-MM-DD" in err and "Traceback" not in err


def test_importing_the_charts_never_loads_pyplot() -> None:
    code = ("import sys, analytics.charts.registry, bot.render; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
