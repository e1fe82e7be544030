"""Expected numbers computed straight from the CSV files, independently of capbrief's analytics
(plain pandas on the raw columns), so an e2e test compares two separate computations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def closes(market_dir: Path, stem: str) -> pd.Series:
    """Raw ``close`` (``adj_close`` where a file has no closes), NaN rows dropped."""
    df = pd.read_csv(market_dir / f"{stem}.csv", parse_dates=["date"], index_col="date")
    col = df["close"] if df["close"].notna().any() else df["adj_close"]
    return col.dropna().astype(float)


def last_date(market_dir: Path, stem: str) -> pd.Timestamp:
    return closes(market_dir, stem).index[-1]


def session_return(series: pd.Series, asof: pd.Timestamp, back: int) -> float:
    cut = series.loc[:asof]
    return float(cut.iloc[-1] / cut.iloc[-1 - back] - 1.0)


def record(series: pd.Series, asof: pd.Timestamp) -> tuple[float, pd.Timestamp, float]:
    """(record close, its first date, close / record - 1) up to ``asof``."""
    cut = series.loc[:asof]
    top = float(cut.max())
    when = cut[cut == top].index[0]
    return top, when, float(cut.iloc[-1] / top - 1.0)


def ratio_and_leader(rut: pd.Series, spx: pd.Series, asof: pd.Timestamp) -> tuple[float, str]:
    """RUT/SPX on common dates; leader by the side of its 50-value mean."""
    ratio = (rut / spx).dropna().loc[:asof]
    last, mean50 = float(ratio.iloc[-1]), float(ratio.iloc[-50:].mean())
    return last, "small" if last > mean50 else "large" if last < mean50 else "even"


def month_leader(rut: pd.Series, spx: pd.Series, asof: pd.Timestamp, band: float) -> str:
    """Who led over 21 common sessions: RUT/SPX change beyond ±``band``, else "even"."""
    ratio = (rut / spx).dropna().loc[:asof]
    change = float(ratio.iloc[-1] / ratio.iloc[-22] - 1.0)
    return "even" if abs(change) < band else "small" if change > 0 else "large"


def verdict_leader(rut: pd.Series, spx: pd.Series, asof: pd.Timestamp, band: float) -> str:
    """The verdict recomputed with pandas rolling means: the month (21-session RUT/SPX change
    beyond ±``band``), the side of the 50-value mean, the side of the 200-value mean; one side
    when every non-level horizon says it, else "mixed"."""
    ratio = (rut / spx).dropna().loc[:asof]
    last = float(ratio.iloc[-1])
    sides = [month_leader(rut, spx, asof, band), ratio_and_leader(rut, spx, asof)[1],
             "small" if last > float(ratio.rolling(200).mean().iloc[-1]) else "large"]
    called = {s for s in sides if s != "even"}
    return called.pop() if len(called) == 1 else "mixed"


def period_change(series: pd.Series, asof: pd.Timestamp, years: int) -> float:
    """``last / base - 1``, base = last close on or before ``asof`` minus ``years``."""
    cut = series.loc[:asof]
    start = asof - pd.DateOffset(years=years)
    base = cut.loc[:start].iloc[-1]
    return float(cut.iloc[-1] / base - 1.0)


def breakouts(series: pd.Series, gap_days: int) -> list[pd.Timestamp]:
    """Record closes whose previous record close is more than ``gap_days`` days earlier."""
    events, best, best_date = [], float("-inf"), None
    for when, value in series.items():
        if value > best:
            if best_date is not None and (when - best_date).days > gap_days:
                events.append(when)
            best, best_date = value, when
    return events


def fmt_pct(value: float, digits: int = 2) -> str:
    return f"{value:+.{digits}%}"
