"""Work that runs in the render-pool workers besides drawing: a command's analysis and its
chart input, so the CPU-heavy part of a reply never holds the bot's GIL.

Every function here is module-level (a job pickles it by reference) and takes the bars mapping
first, as :meth:`bot.render.Renderer.analyse` passes it: ``fn(bars, *args, **kwargs)``, with
``bars`` read by :func:`bot.render_frames.load_bars` in the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.render_frames import FrameRef, load_bars

if TYPE_CHECKING:
    import pandas as pd

    from analytics.charts.inputs import CustomInput, Footnote, LeadershipInput
    from bot.chart_request import ChartRequest


def with_bars(fn: Callable[..., Any], refs: Mapping[str, FrameRef], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> tuple[int, Any]:
    """Worker side of :meth:`~bot.render.Renderer.analyse`: ``fn(bars, *args, **kwargs)`` and
    this worker's pid (so a caller can see where it ran)."""
    import os

    return os.getpid(), fn(load_bars(refs), *args, **kwargs)


def leadership_chart(bars: Mapping[str, pd.DataFrame], window: str, asof: date,
                     footnote: Footnote) -> LeadershipInput:
    """The /status chart's input: Russell 2000 and S&P 500 prices over ``window`` to ``asof``."""
    from analytics.charts.build import leadership_input
    from analytics.leadership import LARGE, SMALL
    from analytics.series import to_price

    return leadership_input(to_price(bars[SMALL]), to_price(bars[LARGE]), window, asof, footnote)


def chart_input(bars: Mapping[str, pd.DataFrame], request: ChartRequest, source: str,
                stale: bool) -> CustomInput:
    """The /chart input for ``request`` (:func:`bot.chart_request.build_chart_input`)."""
    from bot.chart_request import build_chart_input
    from bot.market_data.snapshot import MarketSnapshot

    snap = MarketSnapshot(bars=bars, asof=None, source=source, stale=stale)
    return build_chart_input(request, snap)
