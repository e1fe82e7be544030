"""No "-0.0%": the chart families' percent labels and the pre-market line go through
:func:`analytics.formats.pct`, so a value that rounds to zero prints unsigned (issue 10)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analytics.charts.custom import pct_label
from analytics.charts.inputs import CyclesInput, Regime
from analytics.charts.registry import figure_for
from analytics.charts.theme import DARK
from analytics.premarket import calc_premarket
from tests.charts.conftest import FOOT, walk
from tests.charts.test_families import tiny_analogs, tiny_inputs

NY = "America/New_York"


def _y_label(kind: str, data: object, value: float) -> str:
    fig = figure_for(kind, data, DARK)
    ax = fig.axes[0]
    return str(ax.yaxis.get_major_formatter()(value, 0))


def test_chart_axis_labels_never_print_negative_zero() -> None:
    inputs = tiny_inputs()
    for kind in ("breakouts", "analogs"):
        assert _y_label(kind, inputs[kind], -0.004) == "0%"
        assert _y_label(kind, inputs[kind], -0.05) == "-5%"
    drawdown = inputs["custom"].__class__(series=inputs["custom"].series, kind="drawdown",
                                          period_label="1 year", footnote=FOOT)
    assert _y_label("custom", drawdown, -0.004) == "0%"
    assert _y_label("custom", drawdown, -0.2) == "−20%"


def test_chart_value_labels_never_print_negative_zero() -> None:
    assert pct_label(-0.0004) == "0.0%" and pct_label(-0.012) == "-1.2%"
    assert pct_label(-1.5) == "-150%"
    ratio = walk(2000, 0.4, seed=3).iloc[::5]
    regime = Regime(ratio.index[0].date(), ratio.index[-1].date(), "large", -0.002)
    fig = figure_for("cycles", CyclesInput(ratio=ratio, regimes=(regime,), footnote=FOOT), DARK)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "0%" in texts and "-0%" not in texts
    analogs = figure_for("analogs", tiny_analogs(), DARK)
    assert not any("-0.0%" in t.get_text() for t in analogs.findobj(
        lambda a: hasattr(a, "get_text")))


def test_premarket_line_never_prints_negative_zero() -> None:
    idx = pd.date_range("2026-08-13 15:00", "2026-08-14 09:30", freq="5min", tz=NY)
    rty = pd.Series(2300.0, index=idx)
    rty[rty.index > pd.Timestamp("2026-08-13 16:00", tz=NY)] = 2300.0 * (1 - 1e-6)
    close_at = pd.Timestamp("2026-08-13 16:00", tz=NY).to_pydatetime()
    read_at = pd.Timestamp("2026-08-14 08:47", tz=NY).to_pydatetime()
    r = calc_premarket({"RTY=F": rty}, date(2026, 8, 13), close_at, read_at)
    assert r.moves[0].change is not None and r.moves[0].change < 0
    assert "Russell 2000 futures 0.00% since" in r.line and "-0.00%" not in r.line
    assert np.isfinite(r.moves[0].change)
