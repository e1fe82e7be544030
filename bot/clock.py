"""The production clock, and "today" as the exchange counts it. Code that needs the time takes
a clock argument defaulting to :func:`utc_now`, so tests pass their own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


def utc_now() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def now_in_new_york() -> datetime:
    """Now, in New York (the exchange's date decides what "the future" is)."""
    return utc_now().astimezone(NEW_YORK)


def today_in_new_york() -> date:
    """Today's date in New York: what "a future date" means for a market date."""
    return now_in_new_york().date()
