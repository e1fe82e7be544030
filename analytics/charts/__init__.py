"""Charts: the only package that imports Matplotlib (Figure API only, never pyplot).

Light to import: inputs, builders and the error type load without Matplotlib; the families load
on first use of :func:`render_png` (in the render workers).
"""

from __future__ import annotations

from typing import Any

from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import Footnote

KINDS: tuple[str, ...] = ("leadership", "records", "breakouts", "cycles", "drivers", "custom")

__all__ = ["KINDS", "ChartInputError", "Footnote", "render_png"]


def render_png(kind: str, data: Any, theme: str = "dark") -> bytes:
    """PNG bytes of chart ``kind`` (see :data:`KINDS`) drawn from its input dataclass."""
    from analytics.charts.registry import render_png as _render

    return _render(kind, data, theme)
