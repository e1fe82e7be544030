"""Briefing subscriptions and deliveries as plain values, plus validation of user input.

A subscription is one channel's morning post: its local time and IANA zone, whether charts are
attached and which sections are shown. Storage (``bot/briefing/store.py``) returns these
dataclasses; the scheduler, the fan-out and the cog only ever see them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import BadInput

#: Sections a briefing may show, in post order. A subscription lists the ones it wants.
SECTIONS: tuple[str, ...] = ("leadership", "records", "history", "drivers")

_HHMM = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


class DeliveryStatus(StrEnum):
    """The life of one (subscription, session) delivery row.

    - ``sending``: claimed under a lease (owner + expiry); the post may be in flight.
    - ``unknown``: the send ended in a 5xx or a timeout, so Discord may or may not hold the post;
      it is reconciled (the channel is read for the post's marker) before anything is re-sent.
    - ``sent``: the post was seen (send answered, or found in the channel); never sent again,
      even if a moderator deletes it later.
    - ``failed``: Discord did not take the post (403/404, a 429 that outlasted the retries, or
      the composition failed; for alerts also stale data, reason ``skipped: …``); it may be
      claimed again within the grace window.
    - ``skipped``: deliberately not posted, never retried; ``last_error`` says why: the grace
      window ran out with no data to compose from ("data unavailable"), or (alerts) none of
      the channel's events fired that session.
    - ``missed``: the slot (an alert's due session) passed outside the grace window while the
      bot was down; for alerts also each earlier session of an outage (only the latest due
      session is evaluated after one).
    - ``interrupted``: written by versions before leases (at-most-once); kept for old rows.
    """

    SENDING = "sending"
    UNKNOWN = "unknown"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    MISSED = "missed"
    INTERRUPTED = "interrupted"


#: Rows whose post may or may not be in the channel: reconciled before any re-send.
UNRESOLVED = (DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN)
#: Rows Discord certainly does not hold a post for: they may be claimed again.
RETRYABLE = (DeliveryStatus.FAILED,)


def nonce_for(subscription_id: int, session: date, prefix: str = "cb") -> str:
    """The one nonce of (subscription, session): ``"cb12-20261124"`` (Discord allows 25 chars);
    the alerts use ``prefix="ca"`` (a channel may hold both kinds with the same id).

    Sent with ``enforce_nonce``, so a repeat within Discord's window returns the first message;
    it doubles as the marker printed in the post's footer, which reconcile looks for.
    """
    return f"{prefix}{subscription_id}-{session:%Y%m%d}"


@dataclass(frozen=True)
class BriefingOptions:
    """What a subscriber sees: charts attached or not, and which sections (in :data:`SECTIONS`)."""

    charts: bool = True
    sections: tuple[str, ...] = SECTIONS

    def __post_init__(self) -> None:
        unknown = [s for s in self.sections if s not in SECTIONS]
        if unknown:
            raise BadInput(f"unknown briefing section(s): {', '.join(unknown)}; "
                           f"choose from {', '.join(SECTIONS)}")
        # Canonical order so that equal choices share one composition.
        object.__setattr__(self, "sections", tuple(s for s in SECTIONS if s in self.sections))

    @property
    def variant(self) -> str:
        """A stable key: subscribers with the same variant share one composed post."""
        return f"charts={int(self.charts)};sections={','.join(self.sections)}"

    def to_json(self) -> dict[str, object]:
        return {"charts": self.charts, "sections": list(self.sections)}

    @classmethod
    def from_json(cls, raw: dict[str, object] | None) -> BriefingOptions:
        if not raw:
            return cls()
        sections = raw.get("sections", SECTIONS)
        return cls(charts=bool(raw.get("charts", True)),
                   sections=tuple(str(s) for s in sections)  # type: ignore[attr-defined]
                   if sections is not None else SECTIONS)


@dataclass(frozen=True)
class Subscription:
    """One channel's subscription (one per channel; a guild may subscribe several channels)."""

    id: int
    guild_id: int
    channel_id: int
    local_time: time
    timezone: str
    options: BriefingOptions = field(default_factory=BriefingOptions)
    enabled: bool = True
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    created_by: int | None = None
    created_at: datetime | None = None

    @property
    def slot(self) -> tuple[str, str]:
        """``("08:30", "America/New_York")``: the scheduler groups subscribers by slot."""
        return format_time(self.local_time), self.timezone


@dataclass(frozen=True)
class Delivery:
    """The record of one subscription's post for one trading session."""

    subscription_id: int
    session: date
    status: DeliveryStatus
    message_id: int | None = None
    attempts: int = 0
    last_error: str | None = None
    updated_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    created_at: datetime | None = None
    #: The ledger's nonce prefix (``cb`` briefing, ``ca`` alerts; set by its repository).
    nonce_prefix: str = "cb"

    @property
    def nonce(self) -> str:
        """The nonce and footer marker of this row's post (:func:`nonce_for`)."""
        return nonce_for(self.subscription_id, self.session, self.nonce_prefix)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The gateway shard of a guild: ``(guild_id >> 22) % shard_count`` (Discord's rule)."""
    return (guild_id >> 22) % max(1, shard_count)


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_local_time(text: str) -> time:
    """``"8:30"`` / ``"08:30"`` → ``time(8, 30)``; anything else is :class:`BadInput`."""
    match = _HHMM.match(text or "")
    if not match:
        raise BadInput(f"time must be HH:MM on a 24-hour clock, e.g. 08:30 (got {text!r})")
    return time(int(match.group(1)), int(match.group(2)))


def parse_timezone(text: str) -> str:
    """An IANA zone name such as ``America/New_York``; case is corrected when unambiguous."""
    name = (text or "").strip()
    try:
        if "/" in name or name == "UTC":
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    folded = {z.lower(): z for z in available_timezones()}
    if name.lower() in folded:
        return folded[name.lower()]
    raise BadInput(f"unknown time zone {text!r}: use an IANA name such as America/New_York, "
                   "Europe/London or Asia/Tokyo")


def parse_sections(text: str | None) -> tuple[str, ...]:
    """``"leadership, records"`` → ``("leadership", "records")``; None/empty → every section."""
    if not text or not text.strip():
        return SECTIONS
    names = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        shown = ", ".join(unknown) if unknown else repr(text)
        raise BadInput(f"unknown briefing section(s): {shown}; "
                       f"choose from {', '.join(SECTIONS)}")
    return names
