"""The bundled demo snapshot: small, complete for the default universe, exact, verified when
unpacked, rebuilt byte for byte from the shared history, and labelled in every snapshot."""

from __future__ import annotations

import asyncio
import lzma
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bot.market_data import demo
from bot.market_data.demo import FRED_SERIES
from bot.market_data.frames import file_stem
from bot.market_data.service import build_market_data
from bot.settings import Settings
from tests.conftest import REPO


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.materialize(tmp_path_factory.mktemp("demo") / "market")


def test_snapshot_is_small_and_covers_the_default_universe() -> None:
    root = demo.package_dir()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size <= demo.MAX_BYTES
    files = demo.manifest()["files"]
    wanted = {f"{file_stem(s)}.csv" for s in Settings().universe.symbols()}
    assert wanted | {"RUT_since1979.csv"} <= set(files)
    assert {f"fred/{s}.csv" for s in FRED_SERIES} <= set(files)
    assert (root / demo.PROVENANCE).read_text().startswith("# Demo snapshot: provenance")


def test_unpacked_snapshot_is_a_csv_replay_labelled_demo(unpacked: Path, tmp_path: Path) -> None:
    end = demo.manifest()["end"]
    snap = asyncio.run(build_market_data(Settings(), unpacked).snapshot())
    assert snap.source == demo.label(end) == f"demo data to {end}"
    assert snap.asof is not None and snap.asof.isoformat() == end
    rut = snap.frame("^RUT")["close"]
    # Exact closes, and [data.extend] splices the 1979 backfill from the same directory.
    assert rut.loc[pd.Timestamp("2021-11-08")] == 2442.73999
    assert rut.index[0] == pd.Timestamp("1979-01-02")
    plain = tmp_path / "plain"
    shutil.copytree(unpacked, plain)
    (plain / demo.MARKER).unlink()
    assert asyncio.run(build_market_data(Settings(), plain).snapshot(["^GSPC"])).source == "csv"


def test_materialize_reuses_a_complete_copy_and_refuses_a_corrupt_snapshot(
        unpacked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert demo.materialize(unpacked) == unpacked  # the marker is there: nothing rewritten
    broken = tmp_path / "pkg"
    shutil.copytree(demo.package_dir(), broken)
    gspc = broken / "GSPC.csv.xz"
    text = lzma.decompress(gspc.read_bytes()).replace(b"4701.700195", b"4701.710195")
    gspc.write_bytes(lzma.compress(text))
    monkeypatch.setattr(demo, "package_dir", lambda: broken)
    with pytest.raises(demo.DemoError, match=r"GSPC\.csv does not match"):
        demo.materialize(tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.shared_data
def test_rebuild_from_the_shared_history_is_byte_identical(tmp_path: Path) -> None:
    shared = REPO.parent / "shared" / "data" / "market"
    if not (shared / "GSPC.csv").is_file():
        pytest.skip("the rebuild needs ../shared/data/market itself (not the demo)")
    meta = demo.build(shared, tmp_path / "demo_data")
    assert meta == demo.manifest()
    for path in demo.package_dir().rglob("*"):
        if path.is_file():
            assert (tmp_path / "demo_data" / path.relative_to(demo.package_dir())).read_bytes() \
                == path.read_bytes(), path.name
