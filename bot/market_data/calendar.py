"""NYSE sessions from ``exchange_calendars`` (XNYS): holidays, early closes, session closes.

All public functions take and return plain ``date`` / tz-aware UTC ``datetime`` values; the
calendar object is built once per process (it takes ~0.5 s).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

CALENDAR_START = "1990-01-02"


@lru_cache(maxsize=1)
def _calendar() -> xcals.ExchangeCalendar:
    end = pd.Timestamp(datetime.now(UTC).date()) + pd.DateOffset(years=2)
    return xcals.get_calendar("XNYS", start=CALENDAR_START, end=end.strftime("%Y-%m-%d"))


def _ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, day.day)


def is_session(day: date) -> bool:
    """True when NYSE trades on ``day``."""
    return bool(_calendar().is_session(_ts(day)))


def session_close(day: date) -> datetime:
    """The close of session ``day`` as a UTC datetime (13:00 ET on early-close days)."""
    close = _calendar().session_close(_ts(day))
    return close.to_pydatetime()


def session_open(day: date) -> datetime:
    """The open of session ``day`` as a UTC datetime."""
    return _calendar().session_open(_ts(day)).to_pydatetime()


def is_early_close(day: date) -> bool:
    """True when session ``day`` closes early (e.g. the day after Thanksgiving)."""
    return is_session(day) and _ts(day) in _calendar().early_closes


def previous_session(day: date) -> date:
    """The last session strictly before ``day``."""
    return _calendar().date_to_session(_ts(day) - pd.Timedelta(days=1), direction="previous").date()


def next_session(day: date) -> date:
    """The first session strictly after ``day``."""
    return _calendar().date_to_session(_ts(day) + pd.Timedelta(days=1), direction="next").date()


def session_on_or_before(day: date) -> date:
    """``day`` if it is a session, else the last session before it."""
    return _calendar().date_to_session(_ts(day), direction="previous").date()


def last_completed_session(now: datetime) -> date:
    """The most recent session whose close is at or before ``now`` (tz-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = session_on_or_before(now.astimezone(UTC).date())
    while session_close(day) > now:
        day = previous_session(day)
    return day


def sessions(start: date, end: date) -> list[date]:
    """Every session from ``start`` to ``end``, both inclusive."""
    if end < start:
        return []
    return [ts.date() for ts in _calendar().sessions_in_range(_ts(start), _ts(end))]


def holidays(start: date, end: date) -> list[date]:
    """Weekdays between ``start`` and ``end`` (inclusive) on which NYSE is closed."""
    weekdays = pd.bdate_range(_ts(start), _ts(end))
    open_days = set(sessions(start, end))
    return [d.date() for d in weekdays if d.date() not in open_days]
