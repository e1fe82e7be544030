"""Resolve a user's ``--asof`` (CLI) or ``asof`` option (Discord) against the data held.

Rules, shared by every command that replays a past day:
- no date → the latest session held (no note);
- malformed text → :class:`~bot.errors.BadInput` ("expected YYYY-MM-DD");
- a date in the future (after ``today``) → BadInput;
- a date before both ^RUT and ^GSPC have data → BadInput naming the first date;
- a date after the last session held (but not in the future) → the last session, with a note;
- a day without a session (weekend, holiday) → the last session before it, with a note.
Sessions are the dates of the reference symbol's bars (``^GSPC``), so replay works before 1990,
where the NYSE calendar module has no data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.errors import BadInput, DataUnavailable
from bot.ui.format import shown

if TYPE_CHECKING:  # parse_asof needs no pandas (commands validate before it is loaded)
    import pandas as pd

REQUIRED = ("^RUT", "^GSPC")


@dataclass(frozen=True)
class ResolvedAsof:
    """``session`` to answer for; ``requested`` as given (None = latest); ``note`` says what
    changed (None when the requested day was used as is)."""

    session: date
    requested: date | None
    note: str | None


def parse_asof(text: object, *, today: date | None = None, option: str = "--asof"
               ) -> date | None:
    """``YYYY-MM-DD`` → date; None or blank → None; anything else → BadInput naming
    ``option``. With ``today``, a future date is refused too (before any data is read); dates
    before the data are refused once it is known (:func:`resolve_asof`)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise BadInput(f"{option} must be a date as YYYY-MM-DD.")
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{option} must be a date as YYYY-MM-DD, not `{shown(text)}`.") from None
    if today is not None and value > today:
        raise BadInput(f"{value.isoformat()} is in the future; pick a past trading day.")
    return value


def resolve_asof(bars: Mapping[str, pd.DataFrame], requested: date | None, *,
                 today: date) -> ResolvedAsof:
    """Pick the session to answer for (see module doc). DataUnavailable without ^RUT/^GSPC."""
    import pandas as pd

    absent = [s for s in REQUIRED if s not in bars or bars[s].empty]
    if absent:
        raise DataUnavailable(f"no market data for {', '.join(absent)}")
    sessions = bars["^GSPC"].index
    first = max(bars[s].index[0] for s in REQUIRED).date()
    last = sessions[-1].date()
    if requested is None:
        return ResolvedAsof(last, None, None)
    if requested > today:
        raise BadInput(f"{requested.isoformat()} is in the future; "
                       f"the latest session held is {last.isoformat()}")
    if requested < first:
        raise BadInput(f"{requested.isoformat()} is before the data begins "
                       f"({first.isoformat()}); pick a date from {first.isoformat()} "
                       f"to {last.isoformat()}")
    if requested > last:
        return ResolvedAsof(last, requested, f"no data after {last.isoformat()}; "
                            f"showing that session instead of {requested.isoformat()}")
    pos = int(sessions.searchsorted(pd.Timestamp(requested), side="right")) - 1
    session = sessions[pos].date()
    if session == requested:
        return ResolvedAsof(session, requested, None)
    return ResolvedAsof(session, requested,
                        f"{requested.isoformat()} ({requested:%A}) was not a trading session; "
                        f"showing the previous session, {session.isoformat()}")
