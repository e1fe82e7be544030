"""What a user can pick for a chart, without pandas (the bot declares its slash-command choices
and checks input before pandas is loaded): the chart windows with their labels
(:data:`analytics.charts.inputs.WINDOWS` pairs each with its calendar span) and the kinds of
custom chart."""

from __future__ import annotations

from analytics.windows import WINDOW_TABLE

CHART_WINDOWS: tuple[str, ...] = ("1m", "3m", "6m", "ytd", "1y", "2y", "3y", "5y", "10y", "20y",
                                  "max")
CUSTOM_KINDS: tuple[str, ...] = ("price", "rebased", "ratio", "drawdown")


def chart_label(key: str) -> str:
    """``"63 sessions (3 months)"``: the label of :mod:`analytics.returns` plus its nickname."""
    spec = WINDOW_TABLE[key]
    return f"{spec.label} ({spec.approx})" if spec.approx else spec.label


#: Chart window code → label.
WINDOW_LABELS: dict[str, str] = {k: chart_label(k) for k in CHART_WINDOWS}
