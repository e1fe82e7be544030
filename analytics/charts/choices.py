"""What a user can pick for a chart, without pandas (the bot declares its slash-command choices
and checks input before pandas is loaded): window codes with their labels
(:data:`analytics.charts.inputs.WINDOWS` pairs each with its calendar offset; "ytd" and "max"
have none) and the kinds of custom chart."""

from __future__ import annotations

WINDOW_LABELS: dict[str, str] = {
    "1m": "1 month",
    "3m": "3 months",
    "6m": "6 months",
    "ytd": "year to date",
    "1y": "1 year",
    "2y": "2 years",
    "3y": "3 years",
    "5y": "5 years",
    "10y": "10 years",
    "20y": "20 years",
    "max": "all history",
}

CUSTOM_KINDS: tuple[str, ...] = ("price", "rebased", "ratio", "drawdown")
