"""Yahoo v8 chart JSON built from bar frames, for the fake in ``yahoo_api.py``.

A row's timestamp is its session's 09:30 New York open (epoch seconds, negative before 1970), as
Yahoo sends daily bars; NaN becomes ``null``. A range without bars is answered as Yahoo does:
``timestamp`` absent and ``indicators.quote == [{}]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

EXCHANGE_TZ = "America/New_York"
NOT_FOUND = {"chart": {"result": None, "error": {
    "code": "Not Found", "description": "No data found, symbol may be delisted"}}}
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]


def epoch(day: pd.Timestamp, hour: int = 9, minute: int = 30) -> int:
    """Epoch seconds of ``day`` at ``hour:minute`` New York time."""
    local = pd.Timestamp(day.year, day.month, day.day, hour, minute).tz_localize(EXCHANGE_TZ)
    return int(local.timestamp())


def opens(index: pd.DatetimeIndex) -> list[int]:
    """Epoch seconds of each day's 09:30 New York open (vectorised)."""
    local = (pd.DatetimeIndex(index) + pd.Timedelta(hours=9, minutes=30)).tz_localize(EXCHANGE_TZ)
    return [int(x) for x in local.as_unit("s").asi8]


def with_nan_rows(rows: pd.DataFrame, days: Iterable[pd.Timestamp],
                  volume: float) -> pd.DataFrame:
    """``rows`` with all prices null on ``days`` (replacing real rows there) and ``volume``."""
    days = list(days)
    blank = pd.DataFrame(float("nan"), index=pd.DatetimeIndex(days), columns=rows.columns)
    blank["volume"] = volume
    return pd.concat([rows.drop(index=[d for d in days if d in rows.index]), blank]).sort_index()


def _values(frame: pd.DataFrame, name: str) -> list[float | None]:
    if name not in frame:
        return [None] * len(frame)
    return [None if math.isnan(x) or math.isinf(x) else x
            for x in frame[name].astype("float64").tolist()]


def chart_payload(symbol: str, rows: pd.DataFrame, query: Mapping[str, str],
                  duplicate_last: bool = False) -> dict[str, Any]:
    """The chart answer for ``query`` (``period1``/``period2`` half-open range, or ``range`` for
    the last bar only) over ``rows``; ``duplicate_last`` repeats the last bar at 16:00 with a
    slightly higher volume, as Yahoo does while a session's bar is being finalised.

    Raises ValueError for an interval other than ``1d``.
    """
    interval = query.get("interval", "1d")
    if interval != "1d":
        raise ValueError(f"the fake serves interval=1d only, not {interval}")
    stamps = opens(pd.DatetimeIndex(rows.index))
    if "range" in query:
        keep = list(range(max(0, len(rows) - 1), len(rows)))
    else:
        lo = int(query.get("period1", "-9999999999"))
        hi = int(query.get("period2", "9999999999"))
        keep = [i for i, ts in enumerate(stamps) if lo <= ts < hi]
    sel = rows.iloc[keep]
    ts_out = [stamps[i] for i in keep]
    if duplicate_last and len(sel):
        sel = pd.concat([sel, sel.iloc[-1:]])
        sel.iloc[-1, sel.columns.get_loc("volume")] = (sel["volume"].iloc[-1] or 0) + 1000
        ts_out.append(epoch(sel.index[-1], 16, 0))
    result: dict[str, Any] = {"meta": _meta(symbol, rows)}
    if not ts_out:
        result["indicators"] = {"quote": [{}], "adjclose": [{}]}
        return {"chart": {"result": [result], "error": None}}
    result["timestamp"] = ts_out
    quote = {c: _values(sel, c) for c in ("open", "high", "low", "close", "volume")}
    result["indicators"] = {"quote": [quote], "adjclose": [{"adjclose": _values(sel, "adj_close")}]}
    return {"chart": {"result": [result], "error": None}}


def _meta(symbol: str, rows: pd.DataFrame) -> dict[str, Any]:
    last_day = rows.index[-1] if len(rows) else pd.Timestamp("2000-01-03")
    offset = int(pd.Timestamp(last_day).tz_localize(EXCHANGE_TZ).utcoffset().total_seconds())
    period = {"timezone": "EST" if offset == -18000 else "EDT", "gmtoffset": offset,
              "start": epoch(last_day), "end": epoch(last_day, 16, 0)}
    price = None
    if len(rows):
        price = next((v for v in (_values(rows.iloc[-1:], "close")[0],
                                  _values(rows.iloc[-1:], "adj_close")[0]) if v is not None), None)
    return {
        "currency": "USD", "symbol": symbol, "exchangeName": "NYQ", "fullExchangeName": "NYSE",
        "instrumentType": "INDEX" if symbol.startswith("^") else "ETF",
        "firstTradeDate": epoch(rows.index[0]) if len(rows) else None,
        "regularMarketTime": epoch(last_day, 16, 0), "hasPrePostMarketData": False,
        "gmtoffset": offset, "timezone": period["timezone"], "exchangeTimezoneName": EXCHANGE_TZ,
        "regularMarketPrice": price, "chartPreviousClose": price, "priceHint": 2,
        "currentTradingPeriod": {"pre": period, "regular": period, "post": period},
        "dataGranularity": "1d", "range": "", "validRanges": VALID_RANGES,
    }
