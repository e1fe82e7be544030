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


class MalformedResponse(MarketDataError):
    """The source answered, but with an empty or unparseable body."""


class UnknownSymbol(MarketDataError):
    """The source does not know these symbols (it is not worth retrying)."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self.symbols = tuple(symbols)
        super().__init__(f"Unknown symbol(s): {', '.join(self.symbols)}")


RETRYABLE: tuple[type[MarketDataError], ...] = (RateLimited, SourceUnavailable, MalformedResponse)
