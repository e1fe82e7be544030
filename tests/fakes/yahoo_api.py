"""A fake Yahoo chart API on 127.0.0.1 that the REAL yfinance client talks to.

Usage (sync or async code alike; the server runs its own event loop in a background thread)::

    with FakeYahoo({"SPY": spy_bars, "^GSPC": gspc_bars}) as fake:
        isolate_yfinance(tmp_path)                 # fresh YfData singleton + caches (tests)
        provider = YahooProvider(session_factory=fake.session, ...)
        ...
        fake.chart_requests                        # Counter {symbol: data requests}

API
- ``FakeYahoo(frames=None, *, visible_until=None)``: ``frames`` maps symbol → bar frame
  (``bot.market_data.frames`` contract, e.g. ``CsvDirProvider(dir).load(sym)``).
  ``start()`` / ``stop()`` or use it as a context manager; ``.url`` (``http://127.0.0.1:PORT``).
- ``session()``: a new :class:`LoopbackSession` (a subclass of yfinance's own curl_cffi session
  class) that rewrites every ``*.yahoo.com`` URL to the fake. Pass it as the provider's
  ``session_factory=fake.session``.
- Data: ``set_frames(frames, visible_until=None)`` replaces the data; rows dated after
  ``visible_until`` are hidden. Like real Yahoo, a symbol in :data:`YAHOO_FIRST_DAYS` is never
  served before that day (``^RUT``: 1987-09-10), whatever the frames hold.
  ``yahoo_frames(market_dir, symbols)`` loads only the files Yahoo itself serves (``RUT.csv``,
  never the 1979 backfill) from the real history, for production-mode tests.
  ``advance(n_sessions=1)`` reveals the next ``n`` dates present in the frames (an
  incremental-refresh test: load, ``advance(1)``, refresh again).
  ``reveal_until(day)`` sets the cut-off directly; ``visible_until`` reads it.
- Faults: ``fail_next(kind, times=1, symbols=None, delay=2.0, lookups=False)`` makes the next
  ``times`` chart data requests of each matching symbol (``None`` = every symbol) fail; with
  ``lookups=True`` yfinance's timezone look-ups (``range=1d``, made once per symbol while its tz
  cache is cold, with yfinance's own hard-coded 10 s timeout) count and fail too. Kinds:
  ``"429"``; any 5xx code (``"500"``, ``"503"``); ``"timeout"`` (the answer waits ``delay``
  seconds, past the client's timeout); ``"empty"`` (200, empty body); ``"malformed"`` (200,
  invalid JSON); ``"noresult"`` (200, valid JSON without a chart result); ``"unknown"``
  (Yahoo's 404 "No data found, symbol may be delisted" JSON). Symbols not in the frames always
  get that 404. NOTE: yfinance itself re-sends a request once
  after any HTTP status >= 400 (toggling its cookie strategy), so one failed *round* of a status
  fault costs two requests: use ``times=2`` to make a 429/5xx reach the caller.
  ``clear_faults()`` drops pending faults.
- Quirks Yahoo really serves: ``add_nan_rows(symbol, days, volume=0.0)`` adds rows whose prices
  are all null (replacing real rows on those days if present); ``duplicate_last_row(symbol)``
  repeats the last visible bar at 16:00 the same day with a slightly higher volume.
- Load: ``latency`` (seconds, default 0) delays every chart answer; ``max_in_flight`` is the
  most chart requests the fake was answering at once (a concurrency bound shows here).
- Request log: ``requests`` (list of :class:`Hit`), ``path_counts()`` (Counter per path),
  ``chart_requests`` (Counter symbol → chart DATA requests, i.e. with period1/period2),
  ``tz_requests`` (Counter symbol → yfinance's ``range=1d`` timezone look-ups),
  ``reset_log()``.
- Quotes (what ``yf.Ticker(...).get_info()`` reads): ``set_quote_summary(symbol, **fields)``
  serves ``/v10/finance/quoteSummary/{symbol}`` with those ``summaryDetail`` fields (e.g.
  ``trailingPE=27.23``), plus the ``/v7/finance/quote`` record and an empty
  ``/ws/fundamentals-timeseries`` answer (an ETF has no PEG series). Unset symbols get Yahoo's
  404 "Quote not found" JSON; ``fail_next`` faults apply to quote summaries too (the same
  retry-once note holds). ``summary_requests`` counts them per symbol.
- Intraday (futures): ``set_intraday(symbol, frame)`` serves tz-aware 5-minute (or any) bars for
  chart requests with an interval other than ``1d`` (``range=5d`` gets every bar), as Yahoo
  serves ``RTY=F``/``ES=F``: ``instrumentType`` FUTURE, New York time, no ``adjclose``. Its
  daily time-zone look-up is answered from the same bars when no daily frame is set.
- ``isolate_yfinance(cache_dir)``: forget yfinance's process-wide state (the ``YfData``
  singleton with its cookie/crumb/strategy, its response ``lru_cache``, the tz/cookie caches,
  which it points at ``cache_dir``). Call it before each test.

Counting HTTP rounds: ``YahooProvider.rounds`` is the number of ``yf.download`` calls it made; one
round asks each symbol once (``chart_requests``). Pytest fixtures in
``tests/market_data/conftest.py``: ``yahoo_fake`` (started, yfinance isolated in ``tmp_path``),
``make_provider(**overrides)`` (aimed at it, fixed clock, recorded sleeps) and ``tiny_bars()``.
The chart JSON itself is built in ``yahoo_payloads.py`` (session-open timestamps, NaN → null).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
from aiohttp import web
from curl_cffi import requests as curl_requests

from tests.fakes.loopback import LoopbackServer
from tests.fakes.yahoo_payloads import (
    NOT_FOUND,
    QUOTE_NOT_FOUND,
    chart_payload,
    intraday_payload,
    quote_payload,
    quote_summary_payload,
    timeseries_payload,
    with_nan_rows,
)

#: The first session real Yahoo serves for a symbol (checked: ^RUT's chart starts 1987-09-10).
YAHOO_FIRST_DAYS: dict[str, date] = {"^RUT": date(1987, 9, 10)}
STATUS_KINDS = {"429"} | {str(code) for code in range(500, 600)}
KINDS = STATUS_KINDS | {"timeout", "empty", "malformed", "noresult", "unknown"}


@dataclass(frozen=True)
class Hit:
    """One request the fake received (``host`` is the Yahoo host the client meant)."""

    host: str
    path: str
    kind: str  # "chart" | "tz" | "summary" | "quote" | "timeseries" | "cookie" | "crumb" | "other"
    symbol: str | None
    params: Mapping[str, str]
    status: int


@dataclass
class _Fault:
    kind: str
    times: int
    symbols: frozenset[str] | None
    delay: float
    lookups: bool
    used: Counter[str] = field(default_factory=Counter)

    def take(self, symbol: str, kind: str) -> bool:
        if kind == "tz" and not self.lookups:
            return False
        if self.symbols is not None and symbol not in self.symbols:
            return False
        if self.used[symbol] >= self.times:
            return False
        self.used[symbol] += 1
        return True


class LoopbackSession(curl_requests.Session):  # type: ignore[type-arg]
    """yfinance's own curl_cffi session class, sending ``*.yahoo.com`` to the fake."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        kwargs.setdefault("impersonate", "chrome")
        super().__init__(**kwargs)
        self._base = urlsplit(base_url)

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host == "yahoo.com" or host.endswith(".yahoo.com"):
            url = urlunsplit((self._base.scheme, self._base.netloc, parts.path or "/",
                              parts.query, parts.fragment))
            headers = dict(kwargs.pop("headers", None) or {})
            headers["X-Fake-Host"] = host
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)


def isolate_yfinance(cache_dir: Path | str) -> None:
    """Reset yfinance's process-wide state and point its caches at ``cache_dir``."""
    import yfinance as yf
    from yfinance import cache as yf_cache
    from yfinance.data import SingletonMeta, YfData

    SingletonMeta._instances.pop(YfData, None)
    YfData.cache_get.cache_clear()
    yf_cache._TzCacheManager._tz_cache = None
    yf_cache._CookieCacheManager._Cookie_cache = None
    yf_cache._ISINCacheManager._isin_cache = None
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    yf.set_tz_cache_location(str(cache_dir))


def _as_yahoo_serves(symbol: str, frame: pd.DataFrame) -> pd.DataFrame:
    first = YAHOO_FIRST_DAYS.get(symbol)
    return frame if first is None else frame.loc[frame.index >= pd.Timestamp(first)]


def yahoo_frames(market_dir: Path, symbols: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Bar frames of ``symbols`` from the real history's per-symbol files (``^RUT`` →
    ``RUT.csv``, Yahoo's own download; never ``RUT_since1979.csv``); absent files are skipped."""
    from bot.market_data.csvdir import CsvDirProvider

    provider = CsvDirProvider(market_dir)
    loaded = {s: provider.load(s) for s in symbols}
    return {s: f for s, f in loaded.items() if f is not None}


class FakeYahoo(LoopbackServer):
    """The fake server (see the module docstring for the whole API)."""

    name = "fake-yahoo"

    def __init__(self, frames: Mapping[str, pd.DataFrame] | None = None, *,
                 visible_until: date | None = None) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self._frames: dict[str, pd.DataFrame] = {}
        self._visible_until: pd.Timestamp | None = None
        self._faults: list[_Fault] = []
        self._nan_rows: dict[str, tuple[list[pd.Timestamp], float]] = {}
        self._dup_last: set[str] = set()
        self._intraday: dict[str, pd.DataFrame] = {}
        self._summaries: dict[str, dict[str, Any]] = {}
        self.requests: list[Hit] = []
        self.latency = 0.0
        self.max_in_flight = 0
        self._in_flight = 0
        self.set_frames(frames or {}, visible_until)

    # ---------------------------------------------------------------- lifecycle
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v8/finance/chart/{symbol}", self._chart)
        app.router.add_get("/v1/test/getcrumb", self._crumb)
        app.router.add_get("/v10/finance/quoteSummary/{symbol}", self._quote_summary)
        app.router.add_get("/v7/finance/quote", self._quote)
        app.router.add_get("/ws/fundamentals-timeseries/v1/finance/timeseries/{symbol}",
                           self._timeseries)
        app.router.add_route("*", "/{tail:.*}", self._other)

    def session(self) -> LoopbackSession:
        """A fresh yfinance-compatible session aimed at this fake."""
        return LoopbackSession(self.url)

    # ---------------------------------------------------------------- data
    def set_frames(self, frames: Mapping[str, pd.DataFrame],
                   visible_until: date | None = None) -> None:
        with self._lock:
            self._frames = {sym: _as_yahoo_serves(sym, df.sort_index())
                            for sym, df in frames.items()}
            self._visible_until = pd.Timestamp(visible_until) if visible_until else None

    @property
    def visible_until(self) -> date | None:
        with self._lock:
            return self._visible_until.date() if self._visible_until is not None else None

    def reveal_until(self, day: date | None) -> None:
        with self._lock:
            self._visible_until = pd.Timestamp(day) if day else None

    def advance(self, n_sessions: int = 1) -> date:
        """Reveal the next ``n_sessions`` dates found in the frames; returns the new cut-off."""
        with self._lock:
            if self._visible_until is None:
                raise RuntimeError("everything is visible already: set visible_until first")
            dates = sorted({d for df in self._frames.values() for d in df.index})
            later = [d for d in dates if d > self._visible_until]
            if len(later) < n_sessions:
                raise RuntimeError(f"only {len(later)} hidden sessions left")
            self._visible_until = later[n_sessions - 1]
            return self._visible_until.date()

    def add_nan_rows(self, symbol: str, days: Iterable[date], volume: float = 0.0) -> None:
        with self._lock:
            self._nan_rows[symbol] = ([pd.Timestamp(d) for d in days], volume)

    def duplicate_last_row(self, symbol: str) -> None:
        with self._lock:
            self._dup_last.add(symbol)

    def set_intraday(self, symbol: str, frame: pd.DataFrame) -> None:
        """Serve ``frame`` (open/high/low/close/volume, indexed by tz-aware bar START times)
        for ``symbol``'s intraday charts (any interval other than 1d, e.g. futures at 5m)."""
        with self._lock:
            self._intraday[symbol.upper()] = frame.sort_index()

    def set_quote_summary(self, symbol: str, **fields: Any) -> None:
        """Serve ``symbol``'s quote summary with these ``summaryDetail`` fields (e.g.
        ``trailingPE=27.23``; leave it out to serve an ETF without one)."""
        with self._lock:
            self._summaries[symbol.upper()] = dict(fields)

    @property
    def summary_requests(self) -> Counter[str]:
        return self._count("summary")

    # ---------------------------------------------------------------- faults
    def fail_next(self, kind: str, times: int = 1, symbols: Iterable[str] | None = None,
                  delay: float = 2.0, lookups: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        with self._lock:
            self._faults.append(_Fault(kind, times, frozenset(symbols) if symbols else None,
                                       delay, lookups))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, symbol: str, kind: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.take(symbol, kind):
                    return fault
        return None

    # ---------------------------------------------------------------- log
    def _log(self, request: web.Request, kind: str, symbol: str | None, status: int) -> None:
        hit = Hit(host=request.headers.get("X-Fake-Host", "127.0.0.1"), path=request.path,
                  kind=kind, symbol=symbol, params=dict(request.query), status=status)
        with self._lock:
            self.requests.append(hit)

    def path_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(hit.path for hit in self.requests)

    def _count(self, kind: str) -> Counter[str]:
        with self._lock:
            return Counter(h.symbol for h in self.requests if h.kind == kind and h.symbol)

    @property
    def chart_requests(self) -> Counter[str]:
        return self._count("chart")

    @property
    def tz_requests(self) -> Counter[str]:
        return self._count("tz")

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    # ---------------------------------------------------------------- handlers
    async def _crumb(self, request: web.Request) -> web.Response:
        self._log(request, "crumb", None, 200)
        return web.Response(text="fakeCrumb123", content_type="text/plain")

    async def _other(self, request: web.Request) -> web.Response:
        if request.path == "/" and request.headers.get("X-Fake-Host") == "fc.yahoo.com":
            self._log(request, "cookie", None, 404)
            response = web.Response(status=404, text="<html>fake</html>",
                                    content_type="text/html")
            response.set_cookie("A3", "d=fake&S=fake", max_age=3600 * 24 * 365)
            return response
        self._log(request, "other", None, 404)
        return web.Response(status=404, text="<html>not here</html>", content_type="text/html")

    async def _chart(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self._chart_answer(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _chart_answer(self, request: web.Request) -> web.StreamResponse:
        symbol = request.match_info["symbol"].upper()
        daily = request.query.get("interval", "1d") == "1d"
        kind = "tz" if "range" in request.query and daily else "chart"
        fault = self._take_fault(symbol, kind)
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None:
            return self._fault_response(request, kind, symbol, fault.kind)
        with self._lock:
            frame = self._frames.get(symbol)
            intraday = self._intraday.get(symbol)
        if intraday is not None and (not daily or frame is None):
            self._log(request, kind, symbol, 200)
            return _json(intraday_payload(symbol, intraday, request.query))
        if frame is None:
            return self._fault_response(request, kind, symbol, "unknown")
        try:
            payload = self._payload(symbol, frame, request.query)
        except ValueError as exc:
            self._log(request, kind, symbol, 400)
            body = {"chart": {"result": None, "error": {"code": "Bad Request",
                                                         "description": str(exc)}}}
            return _json(body, status=400)
        self._log(request, kind, symbol, 200)
        return _json(payload)

    async def _quote_summary(self, request: web.Request) -> web.Response:
        """``/v10/finance/quoteSummary/{symbol}?modules=...``; faults apply as to charts."""
        symbol = request.match_info["symbol"].upper()
        fault = self._take_fault(symbol, "summary")
        with self._lock:
            fields = self._summaries.get(symbol)
        if fault is None and fields is None:
            fault = _Fault("unknown", 1, None, 0.0, False)
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            fault = None
        if fault is not None:
            if fault.kind == "unknown":
                self._log(request, "summary", symbol, 404)
                body = json.loads(json.dumps(QUOTE_NOT_FOUND).replace("{symbol}", symbol))
                return _json(body, status=404)
            return self._fault_response(request, "summary", symbol, fault.kind)
        self._log(request, "summary", symbol, 200)
        modules = request.query.get("modules", "").split(",")
        return _json(quote_summary_payload(symbol, fields or {}, modules))

    async def _quote(self, request: web.Request) -> web.Response:
        symbols = [s.upper() for s in request.query.get("symbols", "").split(",") if s]
        self._log(request, "quote", ",".join(symbols) or None, 200)
        with self._lock:
            known = {s: v for s, v in self._summaries.items() if s in symbols}
        return _json(quote_payload(symbols, known))

    async def _timeseries(self, request: web.Request) -> web.Response:
        symbol = request.match_info["symbol"].upper()
        self._log(request, "timeseries", symbol, 200)
        types = request.query.getall("type", []) or ["trailingPegRatio"]
        return _json(timeseries_payload(symbol, [t for ts in types for t in ts.split(",")]))

    def _fault_response(self, request: web.Request, kind: str, symbol: str,
                        fault: str) -> web.Response:
        if fault == "unknown":
            self._log(request, kind, symbol, 404)
            return _json(NOT_FOUND, status=404)
        if fault == "429":
            self._log(request, kind, symbol, 429)
            return web.Response(status=429, text="Too Many Requests", content_type="text/plain")
        if fault in STATUS_KINDS:
            status = int(fault)
            self._log(request, kind, symbol, status)
            body = {"finance": {"result": None, "error": {
                "code": "Internal Server Error", "description": f"HTTP {status}"}}}
            return _json(body, status=status)
        self._log(request, kind, symbol, 200)
        if fault == "empty":
            return web.Response(status=200, body=b"", content_type="application/json")
        if fault == "noresult":
            return _json({"chart": {"result": None, "error": None}})
        return web.Response(status=200, text='{"chart": {"result": [{"meta": {"currency"',
                            content_type="application/json")

    # ---------------------------------------------------------------- payload
    def _payload(self, symbol: str, frame: pd.DataFrame,
                 query: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            cut = self._visible_until
            nan_rows = self._nan_rows.get(symbol)
            dup = symbol in self._dup_last
        rows = frame if cut is None else frame.loc[frame.index <= cut]
        if nan_rows:
            rows = with_nan_rows(rows, [d for d in nan_rows[0] if cut is None or d <= cut],
                                 nan_rows[1])
        return chart_payload(symbol, rows, query, duplicate_last=dup)


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")
