"""What every caller gets from market data: bars plus the as-of session and an honest stale flag."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing this module does not load pandas
    import pandas as pd


@dataclass(frozen=True)
class MarketSnapshot:
    """Normalised bar frames (history extensions applied) and how fresh they are.

    ``asof`` is the last session held for the reference symbol (``^GSPC`` when present, else the
    latest session of any symbol). ``stale`` is True when the last refresh failed and these bars
    are the last good ones; ``stale_reason`` then says why. ``version`` changes whenever any bar
    changes, so it can key caches of anything derived from the bars.
    """

    bars: Mapping[str, pd.DataFrame]
    asof: date | None
    source: str
    stale: bool = False
    stale_reason: str | None = None
    fetched_at: datetime | None = None
    missing: Mapping[str, str] = field(default_factory=dict)
    version: str = ""

    def frame(self, symbol: str) -> pd.DataFrame:
        """The bars of ``symbol``; KeyError when the snapshot does not hold it."""
        return self.bars[symbol]


def compute_version(bars: Mapping[str, pd.DataFrame]) -> str:
    """A short digest of every symbol's row count, last date and last two closes."""
    digest = hashlib.blake2b(digest_size=8)
    for symbol in sorted(bars):
        frame = bars[symbol]
        digest.update(symbol.encode())
        digest.update(str(len(frame)).encode())
        if len(frame):
            digest.update(str(frame.index[-1]).encode())
            digest.update(frame[["close", "adj_close"]].tail(2).to_numpy().tobytes())
    return digest.hexdigest()


def reference_asof(bars: Mapping[str, pd.DataFrame], reference: str = "^GSPC") -> date | None:
    """The last session of ``reference`` when present and non-empty, else the latest of all."""
    ref = bars.get(reference)
    if ref is not None and len(ref):
        return ref.index[-1].date()
    lasts = [f.index[-1] for f in bars.values() if len(f)]
    return max(lasts).date() if lasts else None
