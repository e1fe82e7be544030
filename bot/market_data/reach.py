"""Is Yahoo reachable at all? Out of reach (no network, DNS, refused, proxy down) is not busy.

A failed name lookup, a refused connection or an unreachable proxy means no connection was ever
made: retrying at once, as after a 429, cannot help. :func:`probe` sends one ``HEAD`` of Yahoo's
data host through a given session (so proxies and test fakes apply) and turns such a failure, or
no answer within the timeout, into :class:`~bot.market_data.errors.SourceUnreachable`; any HTTP
answer, even an error status, counts as reachable. No yfinance here: ``python -m bot run`` asks
:func:`probe_yahoo` before the heavy imports, so an offline first run says so within seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.market_data.errors import SourceUnreachable

log = logging.getLogger(__name__)
PROBE_HOST = "query2.finance.yahoo.com"
PROBE_URL = f"https://{PROBE_HOST}/"
#: libcurl codes meaning "never got a connection": couldn't resolve proxy (5) / host (6),
#: couldn't connect (7), proxy handshake failed (97).
UNREACHABLE_CURL_CODES = frozenset({5, 6, 7, 97})
_UNREACHABLE_NAMES = frozenset({"DNSError", "ProxyError", "NameResolutionError", "gaierror",
                                "ConnectionRefusedError", "NewConnectionError"})


def _chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and what caused it (at most 6 deep)."""
    out: list[BaseException] = []
    while exc is not None and len(out) < 6 and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def is_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) means no connection was ever made: a failed name
    lookup, a refused connection, an unreachable proxy (curl_cffi's codes, or the exception
    names requests/urllib3/socket use). Timeouts and resets are not: those may pass."""
    for err in _chain(exc):
        code = getattr(err, "code", None)
        if isinstance(code, int) and code in UNREACHABLE_CURL_CODES:
            return True
        if any(c.__name__ in _UNREACHABLE_NAMES for c in type(err).__mro__):
            return True
    return False


def unreachable_reason(exc: BaseException) -> str:
    """A few words on why the host was out of reach (for the one line the user sees)."""
    for err in _chain(exc):
        code = getattr(err, "code", None)
        names = {c.__name__ for c in type(err).__mro__}
        if code == 6 or names & {"DNSError", "NameResolutionError", "gaierror"}:
            return f"the name {PROBE_HOST} could not be resolved"
        if code in (5, 97) or "ProxyError" in names or (code == 7 and "proxy" in str(err)):
            return "the HTTP proxy could not be reached"
    return f"no connection to {PROBE_HOST} could be made"


def is_timeout(exc: BaseException) -> bool:
    return any("Timeout" in c.__name__ for err in _chain(exc) for c in type(err).__mro__)


def unreachable(exc: BaseException) -> SourceUnreachable:
    """The error for a connection that was never made."""
    return SourceUnreachable(f"Yahoo Finance is unreachable: {unreachable_reason(exc)}")


def probe(session: Any, timeout: float) -> SourceUnreachable | None:
    """One ``HEAD`` of :data:`PROBE_URL` through ``session``; the error when out of reach."""
    try:
        session.request("HEAD", PROBE_URL, timeout=timeout, allow_redirects=False)
    except Exception as exc:
        if is_unreachable(exc):
            return unreachable(exc)
        if is_timeout(exc):
            return SourceUnreachable(f"Yahoo Finance is unreachable: {PROBE_HOST} did not "
                                     f"answer within {timeout:g} s")
        log.debug("Yahoo reachability check inconclusive (%s)", type(exc).__name__)
    return None


def probe_yahoo(timeout: float = 5.0) -> SourceUnreachable | None:
    """:func:`probe` through a fresh curl_cffi session like yfinance's (Chrome impersonation;
    honours the ``HTTPS_PROXY`` family), without importing yfinance."""
    from curl_cffi import requests as curl_requests

    session: Any = curl_requests.Session(impersonate="chrome")
    try:
        return probe(session, timeout)
    finally:
        session.close()
