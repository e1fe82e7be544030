"""The window table, without pandas (the bot declares its slash-command choices from it before
pandas is loaded); :mod:`analytics.returns` computes with it and re-exports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["WINDOW_TABLE", "Window"]


@dataclass(frozen=True)
class Window:
    """One window: ``key`` (JSON key and command choice), ``sessions`` back (None: a calendar
    period or everything), ``label`` as every output prints it, ``approx`` its calendar
    nickname ("3 months"; None for calendar periods) and the table ``header``."""

    key: str
    sessions: int | None
    label: str
    approx: str | None
    header: str


def _trailing(key: str, sessions: int, approx: str) -> Window:
    label = f"{sessions} session{'s' if sessions != 1 else ''}"
    return Window(key, sessions, label, approx, f"{sessions}D")


#: Every window, by key (see module doc).
WINDOW_TABLE: Mapping[str, Window] = MappingProxyType({w.key: w for w in (
    _trailing("1d", 1, "1 day"), _trailing("1w", 5, "1 week"), _trailing("1m", 21, "1 month"),
    _trailing("3m", 63, "3 months"), _trailing("6m", 126, "6 months"),
    _trailing("1y", 252, "1 year"), _trailing("2y", 504, "2 years"),
    _trailing("3y", 756, "3 years"), _trailing("5y", 1260, "5 years"),
    _trailing("10y", 2520, "10 years"), _trailing("20y", 5040, "20 years"),
    Window("mtd", None, "month to date", None, "MTD"),
    Window("last_month", None, "last full month", None, "LAST M"),
    Window("ytd", None, "year to date", None, "YTD"),
    Window("max", None, "all history", None, "MAX"),
)})
