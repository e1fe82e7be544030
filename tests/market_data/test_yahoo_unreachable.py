"""Out of reach is not busy: a failed name lookup or a refused connection ends a fetch at once,
with no retry and no yfinance round, through the real yfinance/curl_cffi stack on loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from curl_cffi.requests.exceptions import DNSError, ReadTimeout

from bot.market_data.errors import RETRYABLE, SourceUnavailable, SourceUnreachable
from bot.market_data.reach import is_unreachable, unreachable_reason
from bot.market_data.yahoo import CHART_PATH, YahooProvider, _Answer, classify
from tests.fakes.offline import PROXY_VARS, refused_port
from tests.fakes.yahoo_api import FakeYahoo, LoopbackSession
from tests.market_data.conftest import FIRST, LAST, Sleeps, tiny_bars

SYMBOLS = ["^RUT", "^GSPC", "IWM"]
Make = Callable[..., YahooProvider]


class DnsFailsForCharts(LoopbackSession):
    """The probe reaches the fake, but every chart request fails its name lookup (the network
    went away between the two)."""

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        if CHART_PATH in url:
            raise DNSError("Failed to perform, curl: (6) Could not resolve host: "
                           "query2.finance.yahoo.com", 6)
        return super().request(method, url, *args, **kwargs)


def test_curl_dns_and_refused_connections_are_unreachable_but_timeouts_are_not() -> None:
    dns = DNSError("curl: (6) Could not resolve host", 6)
    assert is_unreachable(dns) and "could not be resolved" in unreachable_reason(dns)
    assert is_unreachable(socket.gaierror(-2, "Name or service not known"))
    assert is_unreachable(ConnectionRefusedError(111, "Connection refused"))
    assert not is_unreachable(ReadTimeout("curl: (28) Operation timed out", 28))
    verdict = classify(_Answer("SPY", None, None, dns), timeout=5.0)
    assert isinstance(verdict, SourceUnreachable)
    # Still "unavailable" for the cache (serve what is held), yet never retried by the provider.
    assert isinstance(verdict, SourceUnavailable) and isinstance(verdict, RETRYABLE)


async def test_refused_connection_fails_at_the_probe_with_no_round_and_no_retry(
        tmp_path: Any, sleeps: Sleeps, make_provider: Make) -> None:
    port = refused_port()
    provider = make_provider(session_factory=lambda: LoopbackSession(f"http://127.0.0.1:{port}"),
                             retries=4)

    with pytest.raises(SourceUnreachable, match="unreachable"):
        await provider.fetch(SYMBOLS, FIRST, LAST)

    assert provider.rounds == 0 and sleeps.delays == []


async def test_name_lookup_failure_in_a_round_is_not_retried_like_a_429(
        yahoo_fake: FakeYahoo, sleeps: Sleeps, make_provider: Make) -> None:
    yahoo_fake.set_frames({s: tiny_bars() for s in SYMBOLS})
    provider = make_provider(session_factory=lambda: DnsFailsForCharts(yahoo_fake.url),
                             retries=4)

    with pytest.raises(SourceUnreachable, match="could not be resolved"):
        await provider.fetch(SYMBOLS, FIRST, LAST)

    assert provider.rounds == 1 and sleeps.delays == []


async def test_probe_is_one_request_and_any_http_answer_counts_as_reachable(
        yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    frames = {s: tiny_bars(base=100.0 * (i + 1)) for i, s in enumerate(SYMBOLS)}
    yahoo_fake.set_frames(frames)
    provider = make_provider()

    result = await provider.fetch(SYMBOLS, FIRST, LAST)

    probes = [h for h in yahoo_fake.requests if h.kind == "other" and h.path == "/"]
    assert len(probes) == 1 and probes[0].status == 404  # the fake's 404 is still an answer
    assert probes[0].host == "query2.finance.yahoo.com"
    for symbol, frame in frames.items():
        pd.testing.assert_frame_equal(result.bars[symbol], frame, check_freq=False)


async def test_probe_can_be_switched_off(yahoo_fake: FakeYahoo, make_provider: Make) -> None:
    yahoo_fake.set_frames({"SPY": tiny_bars()})
    provider = make_provider(probe_timeout=None)

    await provider.fetch(["SPY"], FIRST, LAST)

    assert not [h for h in yahoo_fake.requests if h.kind == "other"]


class DnsFailsForAll(LoopbackSession):
    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        raise DNSError("Failed to perform, curl: (6) Could not resolve host: "
                       "query2.finance.yahoo.com", 6)


async def test_name_lookup_failure_at_the_probe_says_so_with_no_round(
        yahoo_fake: FakeYahoo, sleeps: Sleeps, make_provider: Make) -> None:
    provider = make_provider(session_factory=lambda: DnsFailsForAll(yahoo_fake.url), retries=4)

    with pytest.raises(SourceUnreachable) as info:
        await provider.fetch(SYMBOLS, FIRST, LAST)

    assert info.value.message == ("Yahoo Finance is unreachable: the name "
                                  "query2.finance.yahoo.com could not be resolved")
    assert provider.rounds == 0 and sleeps.delays == []


def test_probe_yahoo_without_yfinance_honours_the_proxy_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The early check of ``python -m bot run``; the refused proxy keeps it on loopback."""
    from bot.market_data.reach import probe_yahoo

    proxy = f"http://127.0.0.1:{refused_port()}"
    for name in PROXY_VARS:
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    error = probe_yahoo(timeout=5.0)

    assert isinstance(error, SourceUnreachable)
    assert error.message == "Yahoo Finance is unreachable: the HTTP proxy could not be reached"
