"""BarRepository: upserts, one-transaction refresh writes, fetch state, bulk reads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Connection, Engine

from bot.market_data.frames import BAR_COLUMNS, normalize_bars
from bot.storage.repositories import BarRepository

AT = datetime(2026, 8, 21, 21, 0, tzinfo=UTC)


def bars(days: list[str], start: float = 100.0) -> pd.DataFrame:
    n = len(days)
    close = start + np.arange(n, dtype=float)
    frame = pd.DataFrame({"open": close - 0.5, "high": close + 1, "low": close - 1,
                          "close": close, "adj_close": close * 0.9, "volume": 1e9 + np.arange(n)},
                         index=pd.to_datetime(days))
    return normalize_bars(frame)


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_index_type=False, check_freq=False)
    assert list(a.index) == list(b.index)


def test_round_trip_keeps_values_nans_and_dates(engine: Engine) -> None:
    repo = BarRepository(engine)
    spx = bars(["2026-08-18", "2026-08-19", "2026-08-20"])
    spx.loc[spx.index[1], "volume"] = np.nan
    xlf = bars(["2026-08-19", "2026-08-20"], 50.0)
    xlf[["open", "high", "low", "close"]] = np.nan  # adjusted-only ETF
    written = repo.write_refresh({"^GSPC": spx, "XLF": xlf}, fetched_at=AT, source="test")
    assert written == {"^GSPC": 3, "XLF": 2}
    got = repo.load_bars(["^GSPC", "XLF", "NOPE"])
    assert set(got) == {"^GSPC", "XLF"}
    assert_same(got["^GSPC"], spx)
    assert_same(got["XLF"], xlf)
    assert list(got["XLF"].columns) == list(BAR_COLUMNS)


def test_upsert_overwrites_revised_rows_and_keeps_the_rest(engine: Engine) -> None:
    repo = BarRepository(engine)
    repo.write_refresh({"SPY": bars(["2026-08-18", "2026-08-19", "2026-08-20"])},
                       fetched_at=AT, source="test")
    revised = bars(["2026-08-20", "2026-08-21"], 500.0)
    repo.write_refresh({"SPY": revised}, fetched_at=AT, source="test")
    got = repo.load_bars(["SPY"])["SPY"]
    assert [d.date().isoformat() for d in got.index] == [
        "2026-08-18", "2026-08-19", "2026-08-20", "2026-08-21"]
    assert got.loc["2026-08-19", "close"] == 101.0
    assert got.loc["2026-08-20", "close"] == 500.0  # the revision won
    assert got.loc["2026-08-21", "close"] == 501.0


def test_a_crash_mid_write_leaves_the_previous_good_state(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = BarRepository(engine)
    before = {"SPY": bars(["2026-08-18", "2026-08-19"]), "IWM": bars(["2026-08-18"], 200.0)}
    repo.write_refresh(before, fetched_at=AT, source="test")
    states_before = repo.states(["SPY", "IWM"])

    real = BarRepository._upsert_bars
    calls: list[str] = []

    def crash_on_second(self: BarRepository, conn: Connection, symbol: str,
                        frame: pd.DataFrame) -> Any:
        calls.append(symbol)
        if len(calls) == 2:
            raise RuntimeError("disk full (simulated) after the first symbol was written")
        return real(self, conn, symbol, frame)

    monkeypatch.setattr(BarRepository, "_upsert_bars", crash_on_second)
    later = datetime(2026, 8, 25, 21, 0, tzinfo=UTC)
    with pytest.raises(RuntimeError, match="simulated"):
        repo.write_refresh({"SPY": bars(["2026-08-19", "2026-08-20"], 900.0),
                            "IWM": bars(["2026-08-19"], 900.0)}, fetched_at=later, source="test")
    assert calls == ["SPY", "IWM"]
    got = repo.load_bars(["SPY", "IWM"])
    assert_same(got["SPY"], before["SPY"])  # SPY's upsert was rolled back with the rest
    assert_same(got["IWM"], before["IWM"])
    assert repo.states(["SPY", "IWM"]) == states_before


def test_states_report_rows_range_and_fetch_outcomes(engine: Engine) -> None:
    repo = BarRepository(engine)
    repo.write_refresh({"SPY": bars(["2026-08-18", "2026-08-19"])}, fetched_at=AT,
                       source="yahoo", missing={"ZZZZ": "not found at source"})
    st = repo.states(["SPY", "ZZZZ", "NEW"])
    assert (st["SPY"].rows, st["SPY"].first, st["SPY"].last) == (
        2, date(2026, 8, 18), date(2026, 8, 19))
    assert st["SPY"].last_success_at == AT and st["SPY"].source == "yahoo"
    assert not st["SPY"].failing
    assert st["ZZZZ"].rows == 0 and st["ZZZZ"].failing
    assert st["ZZZZ"].last_error == "not found at source"
    assert st["NEW"].rows == 0 and st["NEW"].last is None and not st["NEW"].failing
    later = datetime(2026, 8, 24, 21, 0, tzinfo=UTC)
    repo.record_failure(["SPY"], "Yahoo answered 500", later)
    spy = repo.states(["SPY"])["SPY"]
    assert spy.failing and spy.last_error_at == later and spy.last_success_at == AT
    assert repo.last_dates(["SPY", "NEW"]) == {"SPY": date(2026, 8, 19), "NEW": None}
    repo.write_refresh({"SPY": bars(["2026-08-20"])}, fetched_at=later.replace(hour=22),
                       source="yahoo")
    assert not repo.states(["SPY"])["SPY"].failing


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        BarRepository(engine).record_failure(["SPY"], "x", datetime(2026, 1, 1))


def test_many_symbols_in_one_read(engine: Engine) -> None:
    repo = BarRepository(engine)
    days = [d.date().isoformat() for d in pd.bdate_range("2020-01-01", periods=300)]
    frames = {f"S{i}": bars(days, float(i)) for i in range(12)}
    written = repo.write_refresh(frames, fetched_at=AT, source="test")
    assert sum(written.values()) == 12 * 300
    got = repo.load_bars(list(frames))
    for symbol, frame in frames.items():
        assert_same(got[symbol], frame)
    assert repo.symbols() == sorted(frames)
