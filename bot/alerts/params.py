"""``[alerts]`` (and ``[analytics] breakout_gap_days``) → :class:`analytics.alerts.AlertParams`,
and the event names a user types. Light: no pandas or SQLAlchemy (the cog checks input before
the alert service has started)."""

from __future__ import annotations

from analytics.alerts import EVENT_KINDS, AlertParams
from bot.errors import BadInput
from bot.settings import Settings


def to_alert_params(settings: Settings) -> AlertParams:
    """The analytics parameters of ``settings``; a combination the analytics rejects is a
    one-line :class:`BadInput` naming ``[alerts]``."""
    a = settings.alerts
    try:
        return AlertParams(
            rut_step=a.rut_step, spx_step=a.spx_step, level_band=a.level_band,
            ma_windows=tuple(a.ma_windows), ma_confirm=a.ma_confirm, cycle_swing=a.cycle_swing,
            breakout_gap_days=settings.analytics.breakout_gap_days,
            drought_years=tuple(a.drought_years), horizons=tuple(sorted(set(a.horizons))))
    except ValueError as exc:
        raise BadInput(f"[alerts]: {exc}") from None


def parse_events(text: str | None) -> tuple[str, ...]:
    """``"record, breakout"`` → ``("record", "breakout")`` (in :data:`EVENT_KINDS` order);
    None/empty → every kind; an unknown name is a one-line :class:`BadInput` listing the valid
    ones."""
    if not text or not text.strip():
        return EVENT_KINDS
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in EVENT_KINDS]
    if unknown or not names:
        shown = ", ".join(unknown) if unknown else repr(text)
        raise BadInput(f"unknown alert event(s): {shown}; choose from {', '.join(EVENT_KINDS)}")
    return tuple(k for k in EVENT_KINDS if k in names)
