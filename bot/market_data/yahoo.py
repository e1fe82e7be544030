"""Yahoo Finance daily bars through yfinance: the ONLY module that imports yfinance.

One ``yf.download`` call per round for the whole symbol list (yfinance sends one chart request
per symbol from its own threads), with ``auto_adjust=False`` so both the raw ``close`` and the
``adj_close`` are kept. The call runs in a worker thread, at most ``max_concurrency`` at once.

Why failures are read from the HTTP answers: yfinance 1.7 turns every per-symbol failure into an
empty column. ``download()`` keeps the reason in a per-call context it only logs (the old
``yfinance.shared._ERRORS`` is no longer written), and a 5xx, an empty body or a timeout all end
as "possibly delisted"-style messages. So the provider records, on its own session, the last
chart answer of each symbol (status, body, or the network exception) and maps it:

- 429 → :class:`RateLimited`; 5xx, 401/403/408, timeouts and connection errors →
  :class:`SourceUnavailable`; a 200 with an empty, non-JSON or result-less body →
  :class:`MalformedResponse`; Yahoo's 404 / ``chart.error`` "Not Found" → the symbol is unknown.
- Unknown symbols go to ``FetchResult.missing`` when others succeeded, and raise
  :class:`UnknownSymbol` when none did. A known symbol with no bars in range maps to an empty
  frame.
- Retryable errors (``RETRYABLE``) are retried, only for the symbols that failed, with
  exponential backoff and full jitter: ``sleep(uniform(0, backoff * 2**attempt))``, capped at
  ``max_backoff``. After the last retry the error of the failed symbols is raised.
- Out of reach is not busy: before the first round one ``HEAD`` request through the same session
  (so proxies and test fakes apply) checks that Yahoo's host resolves and accepts a connection
  within ``probe_timeout`` seconds (:mod:`bot.market_data.reach`). A failed name lookup, a
  refused connection, an unreachable proxy or a probe timeout raises
  :class:`SourceUnreachable` at once, with no round and no retry; any HTTP answer, even an
  error status, counts as reachable. The same failure seen in a round's chart answers ends the
  retries too.

Rows dated after ``last_completed_session(now())`` (a session still trading) are dropped, as are
rows outside ``[start, end]``; ``normalize_bars`` drops all-NaN rows and duplicated dates. A
volume of 0 becomes NaN (yfinance writes 0 for "none reported"; the CSV history leaves it empty).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pandas as pd
import yfinance as yf
from yfinance._http import new_session
from yfinance.data import YfData

from bot.market_data.calendar import last_completed_session
from bot.market_data.errors import (
    RETRYABLE,
    MalformedResponse,
    MarketDataError,
    RateLimited,
    SourceUnavailable,
    SourceUnreachable,
    UnknownSymbol,
)
from bot.market_data.frames import empty_bars, is_valid_symbol, normalize_bars
from bot.market_data.provider import FetchResult
from bot.market_data.reach import is_unreachable, probe, unreachable
from bot.settings import Settings

log = logging.getLogger(__name__)
# yfinance's own pandas calls raise deprecation warnings (pandas 3) that users cannot act on.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance(\.|$)")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"yfinance(\.|$)")
CHART_PATH = "/v8/finance/chart/"
UNAVAILABLE_STATUSES = {401, 403, 408}
UNKNOWN = "unknown"
NO_DATA = "no data"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Answer:
    """The last chart answer yfinance got for one symbol (``response`` or ``error``)."""

    symbol: str
    status: int | None
    response: Any
    error: BaseException | None


class _AnswerLog:
    """Records every chart answer on a session (installed by wrapping its ``request``).

    Rounds may overlap (``max_concurrency`` > 1): each reads the answers recorded since its
    own :meth:`begin`, and the log empties whenever no round is running.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: list[_Answer] = []
        self._offset = 0
        self._active = 0

    def install(self, session: Any) -> Any:
        original = session.request

        def request(method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
            path = urlsplit(url).path
            if CHART_PATH not in path:
                return original(method, url, *args, **kwargs)
            symbol = unquote(path.split(CHART_PATH, 1)[1]).upper()
            try:
                response = original(method, url, *args, **kwargs)
            except BaseException as exc:
                self._add(_Answer(symbol, None, None, exc))
                raise
            self._add(_Answer(symbol, response.status_code, response, None))
            return response

        setattr(session, "request", request)  # noqa: B010 - instance override, not a method
        return session

    def _add(self, answer: _Answer) -> None:
        with self._lock:
            self._answers.append(answer)

    def begin(self) -> int:
        """Start a round; returns its mark."""
        with self._lock:
            self._active += 1
            return self._offset + len(self._answers)

    def end(self, mark: int) -> dict[str, _Answer]:
        """Finish the round started at ``mark``: the last answer per symbol since then."""
        with self._lock:
            last = {a.symbol: a for a in self._answers[mark - self._offset:]}
            self._active -= 1
            if self._active == 0:
                self._offset += len(self._answers)
                self._answers = []
            return last


def _body(response: Any) -> tuple[dict[str, Any] | None, str]:
    """The parsed JSON of a chart answer, or None and why it is unreadable."""
    content = bytes(response.content or b"")
    if not content.strip():
        return None, "an empty answer"
    try:
        data = json.loads(content)
    except ValueError:
        return None, "an answer that is not valid JSON"
    if not isinstance(data, dict):
        return None, "an answer of the wrong shape"
    return data, ""


def classify(answer: _Answer | None, timeout: float) -> MarketDataError | str | None:
    """Map one symbol's last chart answer: an error, :data:`UNKNOWN`, :data:`NO_DATA`, or None
    when it was good (a 200 whose JSON holds ``chart.result[0]``)."""
    sym = answer.symbol if answer else "?"
    if answer is None:
        return SourceUnavailable("Yahoo Finance gave no answer; try again later")
    if answer.error is not None:
        name = type(answer.error).__name__
        if is_unreachable(answer.error):
            return unreachable(answer.error)
        if "Timeout" in name:
            return SourceUnavailable(f"Yahoo Finance did not answer within {timeout:g} s ({sym})")
        return SourceUnavailable(f"Yahoo Finance could not be reached ({sym}: {name})")
    status = answer.status or 0
    if status == 429:
        return RateLimited("Yahoo Finance is rate-limiting requests (HTTP 429); "
                           "try again in a few minutes")
    if status >= 500 or status in UNAVAILABLE_STATUSES:
        return SourceUnavailable(f"Yahoo Finance is unavailable (HTTP {status} for {sym})")
    data, why = _body(answer.response)
    chart = (data or {}).get("chart") or {}
    error = chart.get("error") or {}
    if status == 404 or (isinstance(error, dict) and error.get("code") == "Not Found"):
        return UNKNOWN
    description = str(error.get("description", "")) if isinstance(error, dict) else ""
    if status == 400 and description.startswith("Data doesn't exist"):
        return NO_DATA  # Yahoo's answer for a range without bars
    if status >= 400:
        return MarketDataError(f"Yahoo Finance refused the request for {sym} (HTTP {status})")
    if data is None:
        return MalformedResponse(f"Yahoo Finance sent {why} for {sym}")
    result = chart.get("result")
    if error or not isinstance(result, list) or not result or not isinstance(result[0], dict):
        return MalformedResponse(f"Yahoo Finance sent a chart without data for {sym}")
    return None


def _has_bars(answer: _Answer) -> bool:
    data, _ = _body(answer.response)
    result = ((data or {}).get("chart") or {}).get("result") or [{}]
    return bool(result[0].get("timestamp"))


def _columns_of(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """One symbol's columns out of ``yf.download``'s (Price, Ticker) MultiIndex frame."""
    if frame is None or frame.empty:
        return pd.DataFrame()
    if isinstance(frame.columns, pd.MultiIndex):
        level = "Ticker" if "Ticker" in frame.columns.names else 1
        if symbol not in frame.columns.get_level_values(level):
            return pd.DataFrame()
        picked = frame.xs(symbol, axis=1, level=level)
        return picked if isinstance(picked, pd.DataFrame) else picked.to_frame()
    return frame


def _clean(columns: pd.DataFrame) -> pd.DataFrame:
    """A bar frame from yfinance's columns, indexed in nanoseconds like :func:`empty_bars`; its
    volume 0 (yfinance fills gaps with 0, indices report 0) becomes NaN, "not reported", as
    in the CSV history."""
    bars = normalize_bars(columns)
    bars.index = pd.DatetimeIndex(bars.index).as_unit("ns")
    bars.loc[bars["volume"] == 0, "volume"] = float("nan")
    return bars


@dataclass(frozen=True)
class _Round:
    bars: dict[str, pd.DataFrame]
    unknown: dict[str, str]
    failed: dict[str, MarketDataError]


def _open_yf_caches() -> None:
    """Open yfinance's own SQLite caches (time zones, cookies) from this one thread first.

    yfinance sets ``journal_mode=wal`` on every connection; on a new cache file the threads of
    ``download(threads=True)`` race for that switch and lose with "database is locked", which
    shows up as a failed symbol. Once the file is in WAL mode the switch is a no-op.
    """
    try:
        yf.cache.get_tz_cache().lookup("^GSPC")
        yf.cache.get_cookie_cache().lookup("basic")
    except Exception:  # a cache problem must never fail a fetch; yfinance copes without it
        log.debug("yfinance cache warm-up failed", exc_info=True)


class YahooProvider:
    """A :class:`~bot.market_data.provider.BarProvider` over yfinance (see module doc).

    ``tz_cache_dir`` points yfinance's timezone cache somewhere writable and persistent (default:
    its user cache dir); without a working cache every round costs a second, ``range=1d``,
    request per symbol.
    """

    name = "yahoo"

    def __init__(
        self,
        *,
        session_factory: Callable[[], Any] | None = None,
        max_concurrency: int = 2,
        retries: int = 4,
        backoff_seconds: float = 1.0,
        max_backoff: float = 60.0,
        timeout_seconds: float = 20.0,
        now: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        tz_cache_dir: Path | None = None,
        probe_timeout: float | None = 5.0,
    ) -> None:
        if tz_cache_dir is not None:  # yfinance's tz/cookie caches (process-wide)
            Path(tz_cache_dir).mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(str(tz_cache_dir))
        self._session_factory = session_factory or new_session
        self._session: Any = None
        self._session_lock = threading.Lock()
        self._answers = _AnswerLog()
        self.max_concurrency = max_concurrency
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff = max_backoff
        self.timeout_seconds = timeout_seconds
        self._now = now
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.probe_timeout = probe_timeout
        """Seconds the reachability check may take (None: no check; see module doc)."""
        self.rounds = 0
        """How many ``yf.download`` calls this provider has made (tests and bench read it)."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> YahooProvider:
        """Build from ``[data]``: max_concurrency, retries, backoff_seconds, timeout_seconds."""
        data = settings.data
        kwargs: dict[str, Any] = {
            "max_concurrency": data.max_concurrency, "retries": data.retries,
            "backoff_seconds": data.backoff_seconds, "timeout_seconds": data.timeout_seconds,
        }
        kwargs.update(overrides)
        return cls(**kwargs)

    def _semaphore(self) -> asyncio.Semaphore:
        """The bound on concurrent rounds, one per event loop (a semaphore is loop-bound)."""
        loop = asyncio.get_running_loop()
        sem = self._semaphores.get(loop)
        if sem is None:
            self._semaphores = {lp: s for lp, s in self._semaphores.items() if not lp.is_closed()}
            sem = self._semaphores[loop] = asyncio.Semaphore(self.max_concurrency)
        return sem

    def _get_session(self) -> Any:
        with self._session_lock:
            if self._session is None:
                self._session = self._answers.install(self._session_factory())
            return self._session

    def close(self) -> None:
        """Close the HTTP session (a new one is made if the provider is used again)."""
        with self._session_lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

    async def fetch(self, symbols: Sequence[str], start: date, end: date) -> FetchResult:
        """Daily bars for ``symbols`` from ``start`` to ``end`` (inclusive; see module doc)."""
        wanted = list(dict.fromkeys(symbols))
        missing = {s: f"{s!r} is not a ticker symbol" for s in wanted if not is_valid_symbol(s)}
        pending = [s for s in wanted if s not in missing]
        if not pending:
            raise UnknownSymbol(wanted)
        last = min(end, last_completed_session(self._now()))
        if last < start:
            return FetchResult(bars={s: empty_bars() for s in pending}, missing=missing)
        await self._check_reachable()
        bars: dict[str, pd.DataFrame] = {}
        failed: dict[str, MarketDataError] = {}
        for attempt in range(self.retries + 1):
            if attempt:
                delay = self._rng.uniform(0.0, min(self.max_backoff,
                                                   self.backoff_seconds * 2 ** (attempt - 1)))
                log.warning("Yahoo: %s for %d symbol(s); retry %d/%d in %.2f s",
                            next(iter(failed.values())), len(failed), attempt, self.retries,
                            delay)
                await self._sleep(delay)
            try:
                async with self._semaphore():
                    result = await asyncio.to_thread(self._round, pending, start, last)
            except RETRYABLE as exc:  # the round failed as a whole
                failed = dict.fromkeys(pending, exc)
                continue
            bars.update(result.bars)
            missing.update(result.unknown)
            failed = result.failed
            if not failed or not all(isinstance(e, RETRYABLE) for e in failed.values()):
                break
            if any(isinstance(e, SourceUnreachable) for e in failed.values()):
                break  # out of reach, not busy: retrying at once cannot help
            pending = list(failed)
        if failed:
            raise next(iter(failed.values()))
        if not bars:
            raise UnknownSymbol(list(missing))
        return FetchResult(bars=bars, missing=missing)

    async def _check_reachable(self) -> None:
        """Raise :class:`SourceUnreachable` when the probe says Yahoo is out of reach."""
        if self.probe_timeout is None:
            return
        error = await asyncio.to_thread(self._probe)
        if error is not None:
            raise error

    def _probe(self) -> SourceUnreachable | None:
        """One ``HEAD`` of Yahoo's data host through the session (worker thread)."""
        timeout = min(self.probe_timeout or self.timeout_seconds, self.timeout_seconds)
        try:
            session = self._get_session()
        except Exception:  # the round reports (and retries) a session that cannot be made
            return None
        return probe(session, timeout)

    def _round(self, symbols: list[str], start: date, last: date) -> _Round:
        """One ``yf.download`` for ``symbols`` (worker thread), classified per symbol."""
        yf.config.debug.hide_exceptions = False  # raise inside yfinance, not "empty frame"
        YfData.cache_get.cache_clear()  # never replay a cached (possibly failed) answer
        mark = self._answers.begin()
        self.rounds += 1
        _open_yf_caches()
        try:
            session = self._get_session()
            frame = yf.download(
                symbols, start=start.isoformat(), end=(last + timedelta(days=1)).isoformat(),
                interval="1d", auto_adjust=False, actions=False, progress=False,
                group_by="column", repair=False, keepna=False, threads=True,
                ignore_tz=True,  # exchange-local session dates, never shifted through UTC
                timeout=self.timeout_seconds, session=session, multi_level_index=True,
            )
        except Exception as exc:  # yfinance failed as a whole (e.g. no session could be made)
            self._answers.end(mark)
            log.exception("yf.download failed")
            raise SourceUnavailable("Yahoo Finance download failed; try again later") from exc
        answers = self._answers.end(mark)
        lo, hi = pd.Timestamp(start), pd.Timestamp(last)
        out = _Round(bars={}, unknown={}, failed={})
        for symbol in symbols:
            bars = _clean(_columns_of(frame, symbol.upper()))
            answer = answers.get(symbol.upper())
            verdict = classify(answer, self.timeout_seconds)
            no_bars = verdict == NO_DATA or (verdict is None and answer and not _has_bars(answer))
            if not bars.empty or no_bars:
                out.bars[symbol] = bars.loc[(bars.index >= lo) & (bars.index <= hi)]
            elif verdict == UNKNOWN:
                out.unknown[symbol] = f"Yahoo Finance has no data for {symbol}"
            elif isinstance(verdict, MarketDataError):
                out.failed[symbol] = verdict
            else:  # a good answer with bars, yet yfinance produced nothing
                out.failed[symbol] = MalformedResponse(
                    f"Yahoo Finance's chart for {symbol} could not be read")
        log.info("Yahoo round: %d symbol(s) %s..%s → %d ok, %d unknown, %d failed",
                 len(symbols), start, last, len(out.bars), len(out.unknown), len(out.failed))
        return out


# ---------------------------------------------------------------- quote summary and futures
# Added for the valuation and pre-market readings (issue 9). Both read through the public
# ``yf.Ticker`` API on an injected session (tests aim it at the loopback fake), one symbol at a
# time, in the caller's worker thread, and never raise: a failure becomes a labelled absence.


@dataclass(frozen=True)
class QuoteFetch:
    """Per-symbol values read from Yahoo (``values``), and why the others are missing."""

    values: dict[str, Any]
    absent: dict[str, str]


def _quote_failure(exc: BaseException, symbol: str) -> str:
    """A short, user-safe reason for one failed quote-summary or intraday read."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    name = type(exc).__name__
    if status == 429 or "RateLimit" in name:
        return "Yahoo Finance is rate-limiting requests (HTTP 429)"
    if status == 404 or name in ("YFTzMissingError", "YFPricesMissingError"):
        return f"Yahoo Finance has no quote for {symbol}"
    if status:
        return f"Yahoo Finance answered HTTP {status} for {symbol}"
    if "Timeout" in name:
        return f"Yahoo Finance did not answer in time for {symbol}"
    if isinstance(exc, ValueError):
        return f"Yahoo Finance sent an unreadable answer for {symbol}"
    return f"Yahoo Finance could not be read for {symbol} ({name})"


def fetch_trailing_pe(symbols: Sequence[str], *, session: Any = None) -> QuoteFetch:
    """Trailing P/E per symbol: ``yf.Ticker(symbol).get_info()["trailingPE"]``.

    ``get_info`` reads Yahoo's quote summary (``/v10/finance/quoteSummary``: the
    ``summaryDetail`` module holds ``trailingPE`` for ETFs), the ``/v7/finance/quote`` record and
    the fundamentals time series (for ``trailingPegRatio``). A missing, non-numeric or
    non-positive ``trailingPE`` is an absence, as is any HTTP or parsing failure. Blocking: call
    it from a worker thread. ``session``: a yfinance-compatible session (default: a new one).
    """
    yf.config.debug.hide_exceptions = False  # failures raise here, not as empty answers
    session = session if session is not None else new_session()
    values: dict[str, Any] = {}
    absent: dict[str, str] = {}
    for symbol in symbols:
        YfData.cache_get.cache_clear()
        try:
            info = yf.Ticker(symbol, session=session).get_info()
        except Exception as exc:  # any failure of one symbol is that symbol's absence
            log.info("Yahoo quote summary for %s failed: %s", symbol, exc)
            absent[symbol] = _quote_failure(exc, symbol)
            continue
        value = (info or {}).get("trailingPE")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e6:
            values[symbol] = float(value)
        else:
            absent[symbol] = f"Yahoo Finance's quote summary for {symbol} has no trailing P/E"
    return QuoteFetch(values=values, absent=absent)


def fetch_intraday_closes(symbols: Sequence[str], *, session: Any = None,
                          interval: str = "5m", period: str = "5d") -> QuoteFetch:
    """Recent intraday closes per symbol (e.g. futures ``RTY=F``, ``ES=F``): a Series of floats
    indexed by each bar's START time, tz-aware in New York time, NaN bars dropped.

    One ``yf.Ticker(symbol).history(period, interval, prepost=True)`` per symbol: Yahoo's v8
    chart with ``range=5d&interval=5m&includePrePost=true``. Futures trade almost round the
    clock (CME Globex), and Yahoo serves their overnight bars in that chart, so the bars span
    the prior cash close and the morning. An empty or failed answer is an absence.
    """
    yf.config.debug.hide_exceptions = False
    session = session if session is not None else new_session()
    values: dict[str, Any] = {}
    absent: dict[str, str] = {}
    for symbol in symbols:
        YfData.cache_get.cache_clear()
        try:
            frame = yf.Ticker(symbol, session=session).history(
                period=period, interval=interval, prepost=True, auto_adjust=False,
                actions=False, repair=False)
        except Exception as exc:
            log.info("Yahoo intraday chart for %s failed: %s", symbol, exc)
            absent[symbol] = _quote_failure(exc, symbol)
            continue
        closes = frame["Close"].dropna() if "Close" in frame else pd.Series(dtype="float64")
        if closes.empty:
            absent[symbol] = f"Yahoo Finance sent no recent quotes for {symbol}"
            continue
        index = pd.DatetimeIndex(closes.index)
        index = index.tz_localize("UTC") if index.tz is None else index
        values[symbol] = pd.Series(closes.to_numpy(dtype="float64"),
                                   index=index.tz_convert("America/New_York"), name=symbol)
    return QuoteFetch(values=values, absent=absent)
