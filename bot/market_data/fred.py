"""FRED (St. Louis Fed): the ONE module that knows its series ids, how to fetch and parse them, and
the local-folder reader used by CSV replay.

Sources, in order of precedence:

- a local folder of ``SERIES.csv`` files (``date,value``; the ``--fred-dir`` option, else
  ``[analytics] fred_dir``, else ``<data-dir>/fred`` in CSV replay): :func:`fred_dir_for` and
  :func:`read_fred_dir`, the one resolver and the one reader;
- otherwise FRED itself, through the store (:mod:`bot.market_data.fred_store`): the public
  per-series download ``{graph_url}?id=SERIES&cosd=YYYY-MM-DD`` (no key; first column
  ``observation_date``, ``DATE`` before December 2024; missing values ``.``), or, when
  ``FRED_API_KEY`` is set, the official API ``{api_url}?series_id=..&api_key=..&file_type=json
  &observation_start=..``. The key travels only in the request's query and never appears in a
  log line or an error message (:func:`redact`).

HTTP is aiohttp (already a dependency, via discord.py and our own): the fetches are I/O-bound
and concurrent, so a native async client keeps them on the loop without tying up threads.
Retries with exponential backoff (``Retry-After`` honoured) on 429, 5xx, timeouts and refused or
reset connections; never on a DNS failure, a malformed answer or an unknown series.

Replays use the latest vintage of each series (FRED revises past values; point-in-time ALFRED
vintages are not used): :data:`VINTAGE_NOTE` says so wherever FRED data is shown.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bot.errors import BadInput, DataUnavailable

if TYPE_CHECKING:  # aiohttp is imported only when FRED is fetched: a replay never loads it
    import aiohttp

log = logging.getLogger(__name__)

#: Every series capbrief can fetch, with what it is (units as FRED publishes them).
SERIES: dict[str, str] = {
    "UNRATE": "unemployment rate, monthly, %",
    "ICSA": "initial jobless claims, weekly (Saturday), count",
    "PAYEMS": "nonfarm payrolls, monthly, thousands",
    "GDPC1": "real GDP, quarterly, billions of chained dollars",
    "GDP": "nominal GDP, quarterly, billions of dollars",
    "INDPRO": "industrial production index, monthly",
    "CPIAUCSL": "consumer price index, monthly",
    "UMCSENT": "University of Michigan consumer sentiment, monthly, index",
    "FEDFUNDS": "effective federal funds rate, monthly average, %",
    "DGS2": "2-year Treasury constant maturity yield, daily, %",
    "DGS10": "10-year Treasury constant maturity yield, daily, %",
    "T10Y2Y": "10-year minus 2-year Treasury, daily, %",
    "BAMLH0A0HYM2": "ICE BofA US high yield OAS, daily, %",
    "BAMLC0A0CM": "ICE BofA US corporate (investment grade) OAS, daily, %",
    "RU2000PR": "Russell 2000 price index, daily (history check of the ^RUT splice)",
}
#: The series the drivers panel reads (the economy readings, the Fed path, the credit spread).
DRIVER_SERIES: tuple[str, ...] = ("UNRATE", "GDPC1", "GDP", "ICSA", "UMCSENT", "FEDFUNDS",
                                  "DGS2", "BAMLH0A0HYM2")
VINTAGE_NOTE = ("FRED series are the latest vintage (revisions included): a replay sees today's "
                "figures from each release date on, not the first-published ones")
#: The same, short enough for a footer.
VINTAGE_FOOTER = "FRED: latest vintage, not point-in-time"
API_KEY_ENV = "FRED_API_KEY"


class FredError(Exception):
    """A FRED fetch failed; ``retryable`` says whether trying again may help. ``str()`` is safe
    to show (no URL, no key)."""

    retryable = False


class FredTransient(FredError):
    """Worth retrying; ``retry_after`` is the server's ``Retry-After`` in seconds, if any."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FredUnknownSeries(FredError):
    """FRED does not know the series (its HTML/404 page, or the API's 400)."""


class FredMalformed(FredError):
    """The answer is empty or not the expected CSV/JSON."""


def redact(text: str, key: str | None = None) -> str:
    """``text`` with the API key (given, or from the environment) replaced by ``***``."""
    key = key if key is not None else os.environ.get(API_KEY_ENV)
    return text.replace(key, "***") if key else text


# ---------------------------------------------------------------------------------- parsing

def _to_series(dates: Iterable[str], values: Iterable[str], series_id: str) -> pd.Series:
    """Observations as a float series on a sorted, unique, tz-naive date index; ``.`` and empty
    values (FRED's missing observations) are dropped. FredMalformed on a bad date or value."""
    raw = pd.Series(list(values), index=list(dates), dtype="object")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(raw.index, format="%Y-%m-%d"), name="date")
    except (ValueError, TypeError):
        raise FredMalformed(f"FRED {series_id}: a date is not YYYY-MM-DD") from None
    text = raw.astype(str).str.strip()
    missing = text.isin([".", "", "nan", "NaN"])
    numbers = pd.to_numeric(text.where(~missing), errors="coerce")
    if bool((numbers.isna() & ~missing).any()):
        raise FredMalformed(f"FRED {series_id}: a value is not a number")
    out = pd.Series(numbers.to_numpy(dtype="float64"), index=index, name=series_id)
    out = out.dropna()
    return out[~out.index.duplicated(keep="last")].sort_index()


def parse_fredgraph_csv(text: str, series_id: str) -> pd.Series:
    """FRED's per-series CSV: header ``observation_date,SERIES`` (``DATE,SERIES`` before Dec 2024;
    ``date,value`` in our local folders), one row per observation, ``.`` = missing."""
    body = text.strip()
    if not body:
        raise FredMalformed(f"FRED {series_id}: empty answer")
    if body.startswith("<"):
        raise FredMalformed(f"FRED {series_id}: an HTML page instead of CSV")
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError):
        raise FredMalformed(f"FRED {series_id}: not a CSV") from None
    columns = [str(c).strip() for c in frame.columns]
    if len(columns) != 2 or columns[0].lower() not in ("observation_date", "date"):
        raise FredMalformed(f"FRED {series_id}: expected columns observation_date,{series_id} "
                            f"(got {','.join(columns)[:80]})")
    return _to_series(frame.iloc[:, 0], frame.iloc[:, 1], series_id)


def parse_api_json(payload: Any, series_id: str) -> pd.Series:
    """The official API's ``series/observations`` JSON (``observations``: date, value)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("observations"), list):
        raise FredMalformed(f"FRED {series_id}: the API answer has no observations")
    rows = payload["observations"]
    try:
        return _to_series((r["date"] for r in rows), (r["value"] for r in rows), series_id)
    except (KeyError, TypeError):
        raise FredMalformed(f"FRED {series_id}: an observation lacks date or value") from None


# ------------------------------------------------------------------------------ local folder

def fred_dir_for(settings: Any, data_dir: Path | None, explicit: Path | None = None
                 ) -> Path | None:
    """THE resolver of the local FRED folder: ``explicit`` (``--fred-dir``; BadInput when not a
    directory), else ``[analytics] fred_dir``, else ``<data_dir>/fred`` when it exists (CSV
    replay), else None (FRED itself, through the store)."""
    if explicit is not None:
        if not Path(explicit).is_dir():
            raise BadInput(f"--fred-dir {explicit} is not a directory")
        return Path(explicit)
    if settings.analytics.fred_dir is not None:
        return Path(settings.analytics.fred_dir)
    if data_dir is not None and (Path(data_dir) / "fred").is_dir():
        return Path(data_dir) / "fred"
    return None


def read_fred_dir(root: Path, series: Iterable[str] = DRIVER_SERIES) -> dict[str, pd.Series]:
    """THE reader of the local folder: each of ``series`` that has a ``SERIES.csv`` in ``root``
    (same parser as the download); DataUnavailable naming the file when one is malformed."""
    out: dict[str, pd.Series] = {}
    for name in series:
        path = Path(root) / f"{name}.csv"
        if not path.is_file():
            continue
        try:
            out[name] = parse_fredgraph_csv(path.read_text(encoding="utf-8"), name)
        except FredMalformed as exc:
            raise DataUnavailable(f"FRED file {path.name} is not a date,value CSV ({exc})"
                                  ) from None
    return out


# ------------------------------------------------------------------------------------- HTTP

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class FredClient:
    """Fetches one series at a time from FRED (public CSV, or the API when a key is given).

    ``requests`` counts HTTP requests made (tests); ``sleep`` and ``rng`` are injectable.
    """

    graph_url: str = "https://fred.stlouisfed.org/graph/fredgraph.csv"
    api_url: str = "https://api.stlouisfed.org/fred/series/observations"
    api_key: str | None = None
    retries: int = 3
    backoff_seconds: float = 1.0
    timeout_seconds: float = 20.0
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    requests: int = 0

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> FredClient:
        fred = settings.fred
        kwargs: dict[str, Any] = {
            "graph_url": fred.graph_url, "api_url": fred.api_url,
            "api_key": os.environ.get(API_KEY_ENV) or None, "retries": fred.retries,
            "backoff_seconds": fred.backoff_seconds, "timeout_seconds": fred.timeout_seconds}
        kwargs.update(overrides)
        return cls(**kwargs)

    @property
    def source(self) -> str:
        return "fred-api" if self.api_key else "fred"

    async def fetch(self, session: aiohttp.ClientSession, series_id: str,
                    start: date | None = None) -> pd.Series:
        """Observations of ``series_id`` from ``start`` (all when None), retried as described
        in the module docstring; raises :class:`FredError` (message safe to log)."""
        attempt = 0
        while True:
            try:
                return await self._once(session, series_id, start)
            except FredError as exc:
                if not exc.retryable or attempt >= self.retries:
                    raise
                delay = exc.retry_after if isinstance(exc, FredTransient) else None
                if delay is None:
                    delay = self.backoff_seconds * (2 ** attempt) * (0.5 + self.rng.random())
                log.info("FRED %s: %s; retry %d/%d in %.1f s", series_id, exc, attempt + 1,
                         self.retries, delay)
                await self.sleep(delay)
                attempt += 1

    def _request(self, series_id: str, start: date | None) -> tuple[str, dict[str, str]]:
        if self.api_key:
            params = {"series_id": series_id, "api_key": self.api_key, "file_type": "json"}
            if start is not None:
                params["observation_start"] = start.isoformat()
            return self.api_url, params
        params = {"id": series_id}
        if start is not None:
            params["cosd"] = start.isoformat()
        return self.graph_url, params

    async def _once(self, session: aiohttp.ClientSession, series_id: str,
                    start: date | None) -> pd.Series:
        import aiohttp  # here, not at module level: a replay never loads it

        url, params = self._request(series_id, start)
        self.requests += 1
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with session.get(url, params=params, timeout=timeout) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                body = await resp.text(errors="replace")
        except TimeoutError:
            raise FredTransient(f"FRED {series_id}: timed out after "
                                f"{self.timeout_seconds:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, socket.gaierror):
                raise FredError(f"FRED {series_id}: host name lookup failed "
                                f"({exc.host})") from None
            raise FredTransient(f"FRED {series_id}: cannot connect to {exc.host}:{exc.port} "
                                f"({type(exc.os_error).__name__})") from None
        except (aiohttp.ClientError, UnicodeDecodeError) as exc:
            raise FredTransient(f"FRED {series_id}: {type(exc).__name__}") from None
        if status == 429 or status >= 500:
            wait = min(float(retry_after), 60.0) if retry_after and retry_after.isdigit() else None
            raise FredTransient(f"FRED {series_id}: HTTP {status}", wait)
        if status == 400 and self.api_key and "api_key" in body:
            raise FredError(f"FRED {series_id}: the API refused FRED_API_KEY (HTTP 400)")
        if status in (400, 404):
            raise FredUnknownSeries(f"FRED {series_id}: unknown series (HTTP {status})")
        if status != 200:
            raise FredError(f"FRED {series_id}: HTTP {status}")
        if self.api_key:
            try:
                payload = json.loads(body)
            except ValueError:
                raise FredMalformed(f"FRED {series_id}: the API answer is not JSON") from None
            return parse_api_json(payload, series_id)
        return parse_fredgraph_csv(body, series_id)


# ---------------------------------------------------------------------------------- readings

@dataclass(frozen=True)
class FredReadings(Mapping[str, pd.Series]):
    """FRED series by id (a read-only mapping, so it goes wherever ``fred=`` is taken) plus
    where they came from and how fresh they are.

    ``notes`` maps a series id to why it is absent or labelled stale (shown by the drivers);
    ``stale`` is True when any series is served from the store after a failed refresh.
    """

    series: Mapping[str, pd.Series]
    source: str
    stale: bool = False
    stale_reason: str | None = None
    notes: Mapping[str, str] = field(default_factory=dict)
    fetched_at: datetime | None = None

    def __getitem__(self, key: str) -> pd.Series:
        return self.series[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.series)

    def __len__(self) -> int:
        return len(self.series)

    def __hash__(self) -> int:
        return hash((self.source, self.version))

    def __eq__(self, other: object) -> bool:
        return self is other

    @property
    def version(self) -> str:
        """Changes whenever a series gains or loses observations (memo keys)."""
        parts = [f"{k}:{len(v)}:{v.index[-1].date() if len(v) else ''}"
                 for k, v in sorted(self.series.items())]
        return "|".join(parts)

    def as_json(self) -> dict[str, Any]:
        """Where the FRED data came from and how fresh it is (JSON ``fred`` block)."""
        return {"source": self.source, "stale": self.stale, "stale_reason": self.stale_reason,
                "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
                "last_observation": {k: v.index[-1].date().isoformat()
                                     for k, v in sorted(self.series.items()) if len(v)},
                "notes": dict(self.notes), "vintage": VINTAGE_NOTE}


def with_vintage_note(note: str | None, *, replay: bool) -> str | None:
    """``note`` plus :data:`VINTAGE_NOTE` when the output is a replay (CSV data or a past
    ``asof``): every replay says that FRED figures are today's vintage."""
    if not replay:
        return note
    return f"{note}; {VINTAGE_NOTE}" if note else VINTAGE_NOTE


def absent_readings(reason: str, series: Iterable[str] = DRIVER_SERIES) -> FredReadings:
    """No FRED data at all, every series noted with ``reason``."""
    return FredReadings(series={}, source="none", notes={s: reason for s in series})
