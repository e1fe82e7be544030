"""How old the data is, said in one visible line when it matters.

The dates convention (every output): a briefing reports the close of one session (``asof``) and
is read the morning of the next NYSE session (:func:`morning_of`). When the newest close held is
more than one session older than the last completed NYSE session, :func:`data_age_line` says so
("Old data: the latest close held is Thu 20 Aug 2026, 101 days ago; NYSE has completed 68
sessions since (the last Fri 27 Nov 2026)"); within one session it returns None.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import pandas as pd
from pandas.tseries.offsets import BDay

NEW_YORK = ZoneInfo("America/New_York")
#: Sessions the data may trail the last completed one before a line says how old it is.
TOLERATED_SESSIONS = 1


def _calendar() -> ModuleType:
    """The NYSE calendar module, imported on first use (exchange_calendars costs ~0.3 s, and a
    replay of a past date never needs it)."""
    from bot.market_data import calendar

    return calendar


def morning_of(asof: date) -> date:
    """The morning that reads ``asof``'s close: the next NYSE session (weekday fallback before
    the calendar's range, e.g. replays of the 1980s)."""
    try:
        return _calendar().next_session(asof)
    except Exception:
        return (asof + BDay(1)).date()


def sessions_behind(data_asof: date, now: datetime) -> tuple[int, date]:
    """``(sessions completed after data_asof, the last completed session)`` as of ``now``."""
    last = _calendar().last_completed_session(now)
    if last <= data_asof:
        return 0, last
    try:
        held = _calendar().sessions(data_asof, last)
        behind = len(held) - (1 if held and held[0] == data_asof else 0)
    except Exception:  # before the calendar's range: weekdays
        behind = len(pd.bdate_range(data_asof, last)) - 1
    return behind, last


def data_age_line(data_asof: date | None, now: datetime | None = None) -> str | None:
    """The line saying how old the data is (see module doc); None when it is at most
    :data:`TOLERATED_SESSIONS` behind, or unknown. ``now``: tz-aware (default: the clock)."""
    if data_asof is None:
        return None
    now = now if now is not None else datetime.now(UTC)
    behind, last = sessions_behind(data_asof, now)
    if behind <= TOLERATED_SESSIONS:
        return None
    days = (now.astimezone(NEW_YORK).date() - data_asof).days
    return (f"Old data: the latest close held is {data_asof:%a %d %b %Y}, {days:,} days ago; "
            f"NYSE has completed {behind:,} sessions since (the last {last:%a %d %b %Y}).")
