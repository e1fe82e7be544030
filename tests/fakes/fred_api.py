"""A fake FRED on 127.0.0.1: the public ``fredgraph.csv`` download and the official JSON API.

Usage (the server runs its own event loop in a background thread, like the fake Yahoo)::

    with FakeFred(series) as fake:          # series: {id: float Series on a date index}
        client = FredClient(graph_url=fake.graph_url, api_url=fake.api_url, ...)
        fake.hits                           # every request: series id, path, start asked

API
- ``FakeFred(series=None, *, header="observation_date", api_key=None)``: ``series`` maps an id
  to its observations (NaN is served as FRED's ``.``). ``header`` is the CSV's first column
  (``"DATE"`` for the pre-December-2024 format). ``api_key``: the key the JSON API accepts
  (a wrong or missing one gets FRED's 400 "api_key ... not registered").
  :func:`shared_series` loads the real ``../shared/data/market/fred`` files when present;
  :func:`tiny_series` generates small synthetic ones for any ids.
- ``graph_url`` (``{url}/graph/fredgraph.csv?id=..&cosd=..``) and ``api_url``
  (``{url}/fred/series/observations?series_id=..&api_key=..&file_type=json
  &observation_start=..``). Unknown ids: the CSV path answers FRED's HTML 404 page, the API a
  400 JSON error.
- Data: ``set_series(id, values)``; ``reveal_until(day)`` hides observations after ``day``
  (None shows all); ``holes[id] = [dates]`` serves those dates as ``.`` rows (holidays).
- Faults: ``fail_next(kind, times=1, series=None, delay=2.0)``: the next ``times`` requests of
  each matching series (None = any) fail. Kinds: ``"429"`` (with ``Retry-After: 0``), any 5xx
  code, ``"timeout"`` (waits ``delay`` s, past the client's timeout), ``"empty"`` (200, empty
  body), ``"malformed"`` (200, a body that is not the series' CSV/JSON), ``"unknown"`` (as for
  an unknown id). ``down()`` / ``up()``: every request answers 503 while down.
- Log: ``hits`` (list of :class:`FredHit`), ``requests_for(id)``, ``reset_log()``. The API key
  a request carried is recorded only as ``keyed`` (True/False), never its value.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from aiohttp import web

from tests.fakes.loopback import LoopbackServer

STATUS_KINDS = {"429"} | {str(code) for code in range(500, 600)}
KINDS = STATUS_KINDS | {"timeout", "empty", "malformed", "unknown"}
NOT_FOUND_HTML = ("<!DOCTYPE html><html><head><title>FRED | Error</title></head><body>"
                  "<h1>Error - Page Not Found</h1><p>The series does not exist.</p>"
                  "</body></html>")


@dataclass(frozen=True)
class FredHit:
    path: str
    series_id: str
    start: str | None
    keyed: bool


def shared_series(root: Path | None, ids: Iterable[str]) -> dict[str, pd.Series]:
    """The real ``date,value`` files of ``ids`` found in ``root`` (empty when absent)."""
    out: dict[str, pd.Series] = {}
    if root is None:
        return out
    for name in ids:
        path = root / f"{name}.csv"
        if path.is_file():
            frame = pd.read_csv(path, parse_dates=["date"], index_col="date")
            out[name] = frame["value"].astype("float64")
    return out


CADENCE = {"UNRATE": "MS", "PAYEMS": "MS", "INDPRO": "MS", "CPIAUCSL": "MS", "UMCSENT": "MS",
           "FEDFUNDS": "MS", "GDPC1": "QS", "GDP": "QS", "ICSA": "W-SAT"}
LEVEL = {"UNRATE": 4.0, "ICSA": 230_000.0, "PAYEMS": 150_000.0, "GDPC1": 22_000.0,
         "GDP": 28_000.0, "INDPRO": 103.0, "CPIAUCSL": 310.0, "UMCSENT": 65.0,
         "FEDFUNDS": 4.5, "DGS2": 4.0, "DGS10": 4.3, "T10Y2Y": 0.3, "BAMLH0A0HYM2": 3.2,
         "BAMLC0A0CM": 1.0, "RU2000PR": 2200.0}


def tiny_series(ids: Iterable[str], start: str = "2019-01-01", end: str = "2026-11-27",
                seed: int = 3) -> dict[str, pd.Series]:
    """Synthetic observations for ``ids`` at each series' cadence (daily = business days): a
    level near the real one plus a slow wave and noise (deterministic for ``seed``)."""
    rng = np.random.default_rng(seed)
    out: dict[str, pd.Series] = {}
    for name in ids:
        freq = CADENCE.get(name, "B")
        index = pd.date_range(start, end, freq=freq, name="date")
        if freq == "W-SAT":
            index = index.rename("date")
        t = np.arange(len(index), dtype="float64")
        base = LEVEL.get(name, 100.0)
        scale = abs(base) * 0.05 + 0.2
        values = base + scale * np.sin(t / max(len(index) / 6, 1)) + rng.normal(0, scale / 10,
                                                                                 len(index))
        out[name] = pd.Series(np.round(values, 4), index=index, name=name)
    return out


class FakeFred(LoopbackServer):
    name = "fake-fred"

    def __init__(self, series: Mapping[str, pd.Series] | None = None, *,
                 header: str = "observation_date", api_key: str | None = None) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self._series: dict[str, pd.Series] = {k: v.sort_index() for k, v in
                                              (series or {}).items()}
        self.header = header
        self.api_key = api_key
        self.holes: dict[str, list[date]] = {}
        self._visible_until: pd.Timestamp | None = None
        self._faults: list[tuple[str, str | None, int, float]] = []
        self._down = False
        self.hits: list[FredHit] = []

    # ------------------------------------------------------------------ lifecycle
    @property
    def graph_url(self) -> str:
        return f"{self.url}/graph/fredgraph.csv"

    @property
    def api_url(self) -> str:
        return f"{self.url}/fred/series/observations"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/graph/fredgraph.csv", self._graph)
        app.router.add_get("/fred/series/observations", self._api)

    # ------------------------------------------------------------------ data and faults
    def set_series(self, series_id: str, values: pd.Series) -> None:
        with self._lock:
            self._series[series_id] = values.sort_index()

    def reveal_until(self, day: date | None) -> None:
        with self._lock:
            self._visible_until = pd.Timestamp(day) if day is not None else None

    def fail_next(self, kind: str, times: int = 1, series: str | None = None,
                  delay: float = 2.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append((kind, series, times, delay))

    def down(self) -> None:
        with self._lock:
            self._down = True

    def up(self) -> None:
        with self._lock:
            self._down = False

    def requests_for(self, series_id: str) -> list[FredHit]:
        with self._lock:
            return [h for h in self.hits if h.series_id == series_id]

    def reset_log(self) -> None:
        with self._lock:
            self.hits.clear()

    def _take(self, series_id: str) -> tuple[str, float] | None:
        with self._lock:
            if self._down:
                return "503", 0.0
            for i, (kind, only, times, delay) in enumerate(self._faults):
                if only is None or only == series_id:
                    if times <= 1:
                        del self._faults[i]
                    else:
                        self._faults[i] = (kind, only, times - 1, delay)
                    return kind, delay
        return None

    def _observations(self, series_id: str, start: str | None) -> pd.Series | None:
        with self._lock:
            values = self._series.get(series_id)
            if values is None:
                return None
            out = values.copy()
            if self._visible_until is not None:
                out = out.loc[: self._visible_until]
            for day in self.holes.get(series_id, []):
                out.loc[pd.Timestamp(day)] = np.nan
        out = out.sort_index()
        if start:
            out = out.loc[pd.Timestamp(start):]
        return out

    # ------------------------------------------------------------------ handlers
    async def _fault(self, kind: str, delay: float, unknown: web.Response) -> web.Response | None:
        if kind in STATUS_KINDS:
            headers = {"Retry-After": "0"} if kind == "429" else {}
            return web.Response(status=int(kind), text="Too Many Requests"
                                if kind == "429" else "Server Error", headers=headers)
        if kind == "timeout":
            await asyncio.sleep(delay)
            return None
        if kind == "empty":
            return web.Response(status=200, body=b"")
        if kind == "unknown":
            return unknown
        return None  # "malformed": handled by the caller (format-specific)

    async def _graph(self, request: web.Request) -> web.Response:
        series_id = request.query.get("id", "")
        start = request.query.get("cosd")
        with self._lock:
            self.hits.append(FredHit("graph", series_id, start, False))
        unknown = web.Response(status=404, text=NOT_FOUND_HTML, content_type="text/html")
        fault = self._take(series_id)
        if fault is not None:
            kind, delay = fault
            answer = await self._fault(kind, delay, unknown)
            if answer is not None:
                return answer
            if kind == "malformed":
                return web.Response(status=200, text=f"{self.header},{series_id}\n"
                                                     "2024-13-45,abc\nnot,a,csv,row\n",
                                    content_type="text/csv")
        values = self._observations(series_id, start)
        if values is None:
            return unknown
        lines = [f"{self.header},{series_id}"]
        lines += [f"{ts:%Y-%m-%d},{'.' if np.isnan(v) else repr(float(v))}"
                  for ts, v in values.items()]
        return web.Response(status=200, text="\n".join(lines) + "\n", content_type="text/csv")

    async def _api(self, request: web.Request) -> web.Response:
        series_id = request.query.get("series_id", "")
        start = request.query.get("observation_start")
        key = request.query.get("api_key")
        with self._lock:
            self.hits.append(FredHit("api", series_id, start, key is not None))
        unknown = web.Response(status=400, content_type="application/json", text=json.dumps(
            {"error_code": 400, "error_message": "Bad Request.  The series does not exist."}))
        if self.api_key is not None and key != self.api_key:
            return web.Response(status=400, content_type="application/json", text=json.dumps(
                {"error_code": 400, "error_message": "Bad Request.  The value for variable "
                                                     "api_key is not registered."}))
        fault = self._take(series_id)
        if fault is not None:
            kind, delay = fault
            answer = await self._fault(kind, delay, unknown)
            if answer is not None:
                return answer
            if kind == "malformed":
                return web.Response(status=200, text='{"observations": [{"when": 1}]',
                                    content_type="application/json")
        values = self._observations(series_id, start)
        if values is None:
            return unknown
        rows = [{"realtime_start": "2026-11-27", "realtime_end": "2026-11-27",
                 "date": f"{ts:%Y-%m-%d}", "value": "." if np.isnan(v) else f"{v:g}"}
                for ts, v in values.items()]
        body: dict[str, Any] = {"units": "lin", "count": len(rows), "observations": rows}
        return web.Response(status=200, text=json.dumps(body), content_type="application/json")
