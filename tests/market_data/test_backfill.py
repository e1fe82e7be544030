"""The bundled Russell 2000 history (1979-01-02 .. 1987-09-09): what ships, how it is rebuilt
and checked, and that the market-data service splices it under ^RUT wherever the bars meet it."""

from __future__ import annotations

import gzip
import logging
import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.market_data import backfill
from bot.market_data.frames import normalize_bars
from bot.market_data.service import MarketData
from bot.settings import Settings
from tests.conftest import REPO


def _yahoo_like_dir(root: Path) -> Path:
    """A replay directory with ^RUT as Yahoo serves it (from 1987-09-10) and ^GSPC."""
    days = pd.bdate_range("1987-09-10", "1987-12-31", name="date")
    close = np.linspace(167.0, 120.0, len(days))
    root.mkdir(parents=True, exist_ok=True)
    for stem, values in (("RUT", close), ("GSPC", close * 2)):
        frame = pd.DataFrame({"close": values, "adj_close": values}, index=days)
        frame.to_csv(root / f"{stem}.csv")
    return root


def _settings(tmp_path: Path, **data: object) -> Settings:
    return Settings.model_validate({
        "universe": {"indices": ["^RUT", "^GSPC"], "etfs": [], "drivers": [], "sectors": []},
        "storage": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}"}, "data": data})


def test_the_bundle_holds_every_close_before_yahoos_first_day() -> None:
    frame = backfill.load_bundled_history()
    assert frame.index[0] == pd.Timestamp(backfill.FIRST_DAY)
    assert frame.index[-1] == pd.Timestamp("1987-09-09")  # the session before Yahoo's first
    assert frame.index.is_monotonic_increasing and not frame.index.has_duplicates
    assert frame["close"].notna().all() and (frame["close"] == frame["adj_close"]).all()
    assert frame[["open", "high", "low", "volume"]].isna().all().all()  # close only
    assert 2150 < len(frame) < 2250  # ~8.7 years of sessions
    assert frame.loc["1987-08-21", "close"] == pytest.approx(174.24, abs=0.005)  # the 1987 peak
    assert backfill.resource_path().is_file()


def test_the_bundle_is_small_compressed_and_declared_as_package_data() -> None:
    shipped = REPO / "bot" / "market_data" / "data" / backfill.RESOURCE
    assert shipped.stat().st_size < 64_000 and shipped.read_bytes()[:2] == b"\x1f\x8b"
    assert (shipped.parent / "PROVENANCE.md").is_file()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["tool"]["setuptools"]["package-data"]["bot.market_data"]
    assert {"data/*.csv.gz", "data/PROVENANCE.md"} <= set(declared)


def test_rebuilding_from_the_source_is_byte_identical(market_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rebuilt.csv.gz"
    assert backfill.main(["--rebuild", str(market_dir / "RUT_since1979.csv"),
                          "--out", str(out)]) == 0
    shipped = REPO / "bot" / "market_data" / "data" / backfill.RESOURCE
    assert out.read_bytes() == shipped.read_bytes()


def test_rebuild_without_a_source_is_one_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert backfill.main(["--rebuild", str(tmp_path / "nope.csv"),
                          "--out", str(tmp_path / "x.gz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err and not (tmp_path / "x.gz").exists()


def test_to_bundle_bytes_keeps_only_closes_before_yahoo() -> None:
    days = pd.bdate_range("1987-09-01", "1987-09-15", name="date")
    src = normalize_bars(pd.DataFrame({"close": np.arange(len(days), dtype=float) + 100.5},
                                      index=days))
    payload = backfill.to_bundle_bytes(src)
    assert payload == backfill.to_bundle_bytes(src)  # deterministic (no time stamp)
    text = gzip.decompress(payload).decode()
    assert text.splitlines()[0] == "date,close" and "1987-09-09,106.500000" in text
    assert "1987-09-10" not in text
    with pytest.raises(ValueError, match="no closes before"):
        backfill.to_bundle_bytes(src.loc["1987-09-10":])


def test_check_backfill_lists_every_difference() -> None:
    days = pd.bdate_range("1979-01-02", periods=5)
    bundled = pd.Series([40.0, 41.0, 42.0, 43.0, 44.0], index=days)
    reference = bundled * backfill.RU2000PR_PER_RUT
    assert backfill.check_backfill(bundled, reference) == []
    # outside the bundle's range (the 1978-12-29 base, and after 1987) is not compared
    wider = pd.concat([pd.Series([100.0], index=[pd.Timestamp("1978-12-29")]), reference,
                       pd.Series([500.0], index=[pd.Timestamp("1990-01-02")])])
    assert backfill.check_backfill(bundled, wider) == []
    off = reference.copy()
    off.iloc[2] *= 1.01
    off = off.drop(days[3])
    extra = pd.Series([99.0], index=[pd.Timestamp("1979-01-06")]) * backfill.RU2000PR_PER_RUT
    diffs = backfill.check_backfill(bundled.drop(days[1]), pd.concat([off, extra]).sort_index())
    kinds = {(d.day, d.kind) for d in diffs}
    assert kinds == {(days[1].date(), "missing"), (days[2].date(), "value"),
                     (days[3].date(), "extra"), (date(1979, 1, 6), "missing")}
    value = next(d for d in diffs if d.kind == "value")
    assert value.relative == pytest.approx(1 / 1.01 - 1)


def test_the_bundle_matches_fred_ru2000pr(market_dir: Path) -> None:
    ref = pd.read_csv(market_dir / "fred" / "RU2000PR.csv", index_col=0, parse_dates=True)
    assert backfill.check_backfill(backfill.load_bundled_history()["close"],
                                   ref.iloc[:, 0]) == []


def test_log_backfill_check(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.market_data.backfill")
    assert backfill.log_backfill_check(None) == []
    assert "not checked" in caplog.text
    closes = backfill.load_bundled_history()["close"]
    wrong = closes * backfill.RU2000PR_PER_RUT * 1.02
    diffs = backfill.log_backfill_check(wrong)
    assert len(diffs) == len(closes) and "value date(s), first 1979-01-02" in caplog.text


async def test_the_service_checks_its_bundle_against_a_reference(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.market_data.backfill")
    md = MarketData(_settings(tmp_path), _yahoo_like_dir(tmp_path / "market"))
    closes = backfill.load_bundled_history()["close"]
    assert await md.check_bundled_history(closes * backfill.RU2000PR_PER_RUT) == []
    assert "matches RU2000PR" in caplog.text
    assert await md.check_bundled_history(None) == [] and "not checked" in caplog.text
    shifted = closes.drop(closes.index[:3]) * backfill.RU2000PR_PER_RUT
    assert len(await md.check_bundled_history(shifted)) == 3
    off = MarketData(_settings(tmp_path, bundled_history=False), tmp_path / "market")
    assert await off.check_bundled_history(shifted) == []  # nothing bundled, nothing to check


async def test_replay_of_yahoo_history_gets_the_bundle_spliced(tmp_path: Path) -> None:
    root = _yahoo_like_dir(tmp_path / "market")
    md = MarketData(_settings(tmp_path), root)
    rut = (await md.snapshot()).frame("^RUT")
    assert rut.index[0] == pd.Timestamp("1979-01-02")
    assert rut.loc["1987-09-09", "close"] == backfill.load_bundled_history().loc[
        "1987-09-09", "close"]  # no rescaling: the bundle is already in ^RUT scale
    assert rut.loc["1987-09-10", "close"] == 167.0 and not rut.index.has_duplicates
    gspc = (await md.snapshot()).frame("^GSPC")
    assert gspc.index[0] == pd.Timestamp("1987-09-10")  # only ^RUT is bundled


async def test_the_bundle_can_be_switched_off_or_injected(tmp_path: Path) -> None:
    root = _yahoo_like_dir(tmp_path / "market")
    off = MarketData(_settings(tmp_path, bundled_history=False), root)
    assert (await off.snapshot()).frame("^RUT").index[0] == pd.Timestamp("1987-09-10")
    injected = MarketData(_settings(tmp_path), root, bundled={})
    assert (await injected.snapshot()).frame("^RUT").index[0] == pd.Timestamp("1987-09-10")


async def test_bars_that_start_later_are_not_spliced_across_a_hole(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "market"
    root.mkdir()
    days = pd.bdate_range("2020-01-02", periods=30, name="date")
    for stem in ("RUT", "GSPC"):
        pd.DataFrame({"close": 100.0 + np.arange(30)}, index=days).to_csv(root / f"{stem}.csv")
    caplog.set_level(logging.DEBUG, logger="bot.market_data.service")
    md = MarketData(_settings(tmp_path), root)
    assert (await md.snapshot()).frame("^RUT").index[0] == pd.Timestamp("2020-01-02")
    assert "not spliced: its bars start 2020-01-02" in caplog.text


def test_the_bundle_is_read_from_the_package_not_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    backfill.load_bundled_history.cache_clear()
    try:
        assert backfill.load_bundled_history().index[0] == pd.Timestamp("1979-01-02")
    finally:
        backfill.load_bundled_history.cache_clear()
