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


# ---------------------------------------------------------------- intraday and quote summary
QUOTE_NOT_FOUND = {"quoteSummary": {"result": None, "error": {
    "code": "Not Found", "description": "Quote not found for symbol: {symbol}"}}}


def intraday_payload(symbol: str, rows: pd.DataFrame, query: Mapping[str, str]
                     ) -> dict[str, Any]:
    """The chart answer for intraday bars (``rows`` indexed by tz-aware bar START times), as
    Yahoo serves futures (``instrumentType`` FUTURE, New York time zone, no ``adjclose``).
    ``period1``/``period2`` select a half-open range; a ``range`` query gets every bar."""
    stamps = [int(ts.timestamp()) for ts in pd.DatetimeIndex(rows.index)]
    if "range" in query:
        keep = list(range(len(rows)))
    else:
        lo = int(query.get("period1", "-9999999999"))
        hi = int(query.get("period2", "9999999999"))
        keep = [i for i, ts in enumerate(stamps) if lo <= ts < hi]
    sel = rows.iloc[keep]
    last = pd.Timestamp(rows.index[-1]).tz_convert(EXCHANGE_TZ) if len(rows) else None
    offset = int(last.utcoffset().total_seconds()) if last is not None else -18000
    price = _values(rows.iloc[-1:], "close")[0] if len(rows) else None
    period = {"timezone": "EST" if offset == -18000 else "EDT", "gmtoffset": offset,
              "start": stamps[0] if stamps else 0, "end": stamps[-1] if stamps else 0}
    meta = {
        "currency": "USD", "symbol": symbol, "exchangeName": "CME", "fullExchangeName": "CME",
        "instrumentType": "FUTURE", "firstTradeDate": stamps[0] if stamps else None,
        "regularMarketTime": stamps[-1] if stamps else None, "hasPrePostMarketData": False,
        "gmtoffset": offset, "timezone": period["timezone"],
        "exchangeTimezoneName": EXCHANGE_TZ, "regularMarketPrice": price,
        "chartPreviousClose": price, "priceHint": 2,
        "currentTradingPeriod": {"pre": period, "regular": period, "post": period},
        "dataGranularity": query.get("interval", "5m"), "range": query.get("range", ""),
        "validRanges": VALID_RANGES,
    }
    result: dict[str, Any] = {"meta": meta}
    if not keep:
        result["indicators"] = {"quote": [{}]}
        return {"chart": {"result": [result], "error": None}}
    result["timestamp"] = [stamps[i] for i in keep]
    result["indicators"] = {"quote": [{c: _values(sel, c) for c in
                                       ("open", "high", "low", "close", "volume")}]}
    return {"chart": {"result": [result], "error": None}}


def quote_summary_payload(symbol: str, fields: Mapping[str, Any], modules: Iterable[str]
                          ) -> dict[str, Any]:
    """``/v10/finance/quoteSummary`` for an ETF: each requested module Yahoo has for one
    (``quoteType``, ``summaryDetail`` with ``fields`` such as ``trailingPE``,
    ``defaultKeyStatistics``); ``financialData`` and ``assetProfile`` are left out, as Yahoo
    leaves them out for ETFs."""
    have: dict[str, dict[str, Any]] = {
        "quoteType": {"exchange": "PCX", "quoteType": "ETF", "symbol": symbol,
                      "longName": f"{symbol} fund", "timeZoneFullName": EXCHANGE_TZ},
        "summaryDetail": {"maxAge": 1, "currency": "USD", **dict(fields)},
        "defaultKeyStatistics": {"maxAge": 1, "category": "Blend"},
    }
    result = {m: have[m] for m in modules if m in have}
    return {"quoteSummary": {"result": [result], "error": None}}


def quote_payload(symbols: Iterable[str], known: Mapping[str, Mapping[str, Any]]
                  ) -> dict[str, Any]:
    """``/v7/finance/quote``: one record per known symbol (unknown ones are left out)."""
    result = [{"symbol": s, "quoteType": "ETF", "language": "en-US", "region": "US",
               **dict(known[s])} for s in symbols if s in known]
    return {"quoteResponse": {"result": result, "error": None}}


def timeseries_payload(symbol: str, types: Iterable[str]) -> dict[str, Any]:
    """``/ws/fundamentals-timeseries``: an ETF has no such series (meta only, as Yahoo sends)."""
    return {"timeseries": {"result": [{"meta": {"symbol": [symbol], "type": [t]}}
                                      for t in types], "error": None}}
