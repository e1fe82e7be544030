"""Alerts: events at a session's close, each with what followed its past occurrences and the
base rate of any day (``docs/alerts.md``). Pure: price Series in, dataclasses out, ``asof``
passed in. Text and embeds live in ``bot.ui.alert_text``; the chart is the ``alerts`` family.

Light to import: the package, :data:`EVENT_KINDS`, :data:`EVENT_TITLES` and
:class:`AlertParams` load without pandas (the ``/alerts`` commands are declared with them at the
bot's start); the engine and the history statistics load on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from analytics.alerts.params import EVENT_KINDS, EVENT_TITLES, AlertParams

if TYPE_CHECKING:
    from analytics.alerts.engine import (
        AlertBatch,
        AlertEvent,
        AlertTimeline,
        EventHistory,
        build_timeline,
        calc_alerts,
        replay_alerts,
    )
    from analytics.alerts.history import FollowStats

__all__ = ["EVENT_KINDS", "EVENT_TITLES", "AlertBatch", "AlertEvent", "AlertParams",
           "AlertTimeline", "EventHistory", "FollowStats", "build_timeline", "calc_alerts",
           "replay_alerts"]

#: Names loaded on first access, and the module (which imports pandas) that defines each.
_LAZY = {name: "analytics.alerts.engine" for name in (
    "AlertBatch", "AlertEvent", "AlertTimeline", "EventHistory", "build_timeline", "calc_alerts",
    "replay_alerts")} | {"FollowStats": "analytics.alerts.history"}


def __getattr__(name: str) -> Any:
    """The engine's and the history's names, imported on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
