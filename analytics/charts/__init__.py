"""Charts: the only package that imports Matplotlib (Figure API only, never pyplot).

Public API (pure: no I/O, no clock; identical input → identical PNG bytes):

- inputs (:mod:`.inputs`, frozen dataclasses, picklable, small): ``LeadershipInput``,
  ``RecordsInput``, ``BreakoutsInput`` (of ``BreakoutPath``), ``CyclesInput`` (of ``Regime``),
  ``AnalogsInput``,
  ``DriversInput`` (of ``DriverPanel``), ``CustomInput``; every one carries a :class:`Footnote`.
- builders (:mod:`.build`, no Matplotlib): ``leadership_input``, ``records_input`` /
  ``from_records_snapshot``, ``breakouts_input`` / ``from_breakout_study``, ``cycles_input`` /
  ``from_cycle_study``, ``from_analog_study``, ``drivers_input`` / ``from_drivers_panel``,
  ``custom_input``.
- rendering: :func:`render_png` (kind, input, theme) here; per family ``<family>_chart`` (PNG
  bytes) and ``<family>_figure`` (a Figure, for tests) in the family modules;
  :func:`analytics.charts.registry.figure_for`.
- errors: :class:`ChartInputError` (a ValueError; its text is safe to show a user).

Light to import: the package itself, :data:`KINDS` and the error type load without pandas (so
the bot's render front end can be imported before pandas is needed); ``Footnote`` is loaded from
:mod:`.inputs` on first access. Inputs and builders load without Matplotlib; the families load
on first use of :func:`render_png` (in the render workers).
"""

from __future__ import annotations

from typing import Any

from analytics.charts.errors import ChartInputError

KINDS: tuple[str, ...] = ("leadership", "records", "breakouts", "cycles", "analogs", "drivers",
                          "custom", "alerts", "track_record")

__all__ = ["KINDS", "ChartInputError", "Footnote", "render_png"]


def __getattr__(name: str) -> Any:
    """``Footnote`` on first access (:mod:`.inputs` imports pandas)."""
    if name == "Footnote":
        from analytics.charts.inputs import Footnote

        return Footnote
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_png(kind: str, data: Any, theme: str = "dark") -> bytes:
    """PNG bytes of chart ``kind`` (see :data:`KINDS`) drawn from its input dataclass."""
    from analytics.charts.registry import render_png as _render

    return _render(kind, data, theme)
