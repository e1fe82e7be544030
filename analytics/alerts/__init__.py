"""Alerts: events at a session's close, each with what followed its past occurrences and the
base rate of any day (``docs/alerts.md``). Pure: price Series in, dataclasses out, ``asof``
passed in. Text and embeds live in ``bot.ui.alert_text``; the chart is the ``alerts`` family."""

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
from analytics.alerts.params import EVENT_KINDS, EVENT_TITLES, AlertParams

__all__ = ["EVENT_KINDS", "EVENT_TITLES", "AlertBatch", "AlertEvent", "AlertParams",
           "AlertTimeline", "EventHistory", "FollowStats", "build_timeline", "calc_alerts",
           "replay_alerts"]
