"""``[alerts]`` (and ``[analytics] breakout_gap_days``) → :class:`analytics.alerts.AlertParams`."""

from __future__ import annotations

from analytics.alerts import AlertParams
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
