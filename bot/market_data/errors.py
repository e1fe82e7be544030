"""Market-data failures, mapped from whatever the source raised. All are user-facing."""

from __future__ import annotations

from collections.abc import Iterable

from bot.errors import DataUnavailable


class MarketDataError(DataUnavailable):
    """The source failed; the message says how, without internals or secrets."""


class RateLimited(MarketDataError):
    """The source answered 429 (too many requests); worth retrying after a pause."""


class SourceUnavailable(MarketDataError):
    """5xx, timeout or a network failure; worth retrying."""


class SourceUnreachable(SourceUnavailable):
    """The host could not be resolved or connected to (no network, DNS, refused, proxy down).

    Still a :class:`SourceUnavailable` (the cache stops asking the source and serves what it
    holds), but the provider does not retry it at once as it does a 429 or a 5xx: a name that
    does not resolve now will not resolve a second later.
    """


class MalformedResponse(MarketDataError):
    """The source answered, but with an empty or unparseable body."""


class UnknownSymbol(MarketDataError):
    """The source does not know these symbols (it is not worth retrying)."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self.symbols = tuple(symbols)
        super().__init__(f"Unknown symbol(s): {', '.join(self.symbols)}")


RETRYABLE: tuple[type[MarketDataError], ...] = (RateLimited, SourceUnavailable, MalformedResponse)
