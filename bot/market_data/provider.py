"""The one interface every market-data source implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: importing this module does not load pandas
    import pandas as pd


@dataclass(frozen=True)
class FetchResult:
    """What one fetch returned: a normalised bar frame per symbol found (see ``frames.py``),
    and, for symbols the source does not know, the reason. A symbol with no bars in the range
    but known to the source maps to an empty frame, not to ``missing``."""

    bars: Mapping[str, pd.DataFrame]
    missing: Mapping[str, str] = field(default_factory=dict)


class BarProvider(Protocol):
    """Daily bars for many symbols between two session dates (both inclusive).

    Implementations raise :class:`bot.market_data.errors.MarketDataError` subclasses for
    failures of the whole request, and never return an empty frame to hide an error.
    """

    name: str

    async def fetch(self, symbols: Sequence[str], start: date, end: date) -> FetchResult: ...
