"""The briefing on hand-built series: who leads, the notable clause, the live breakout analog,
freshness labels, and that later data never changes it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.briefing import compose_briefing
from analytics.leadership import InsufficientData
from analytics.verdict import EVEN_BAND
from bot.ui.text import render_briefing_markdown, render_briefing_text, to_jsonable
from tests.analytics._frames import bars, series, trending


def _pair(rut: pd.Series, spx: pd.Series) -> dict[str, pd.DataFrame]:
    return {"^RUT": bars(rut), "^GSPC": bars(spx)}


def _starts(rut: pd.Series, spx: pd.Series) -> dict[str, date]:
    """Each synthetic index starts with its data: its highs are records."""
    return {"^RUT": rut.index[0].date(), "^GSPC": spx.index[0].date()}


def _breakout_history() -> tuple[pd.Series, pd.Series]:
    """RUT: record, a ~2-year drought, a breakout, a year of gains, another long drought, and a
    breakout on the last day."""
    parts = [np.linspace(100, 200, 300), np.linspace(199, 150, 260), np.linspace(151, 199, 300),
             [201.0], np.linspace(202, 260, 260), np.linspace(259, 200, 300),
             np.linspace(201, 259, 300), [261.0]]
    rut = series(np.concatenate(parts), start="1990-01-01")
    spx = series(np.linspace(300, 600, len(rut)), start="1990-01-01")
    return rut, spx


def test_breakout_day_headline_records_line_and_history_analog() -> None:
    rut, spx = _breakout_history()
    asof = rut.index[-1].date()
    b = compose_briefing(_pair(rut, spx), asof,
                         inceptions=_starts(rut, spx))
    rec = b.leadership.rut_records
    assert rec.breakout and rec.prior_gap_days is not None and rec.prior_gap_days > 365
    assert "first record in" in b.headline and f"{rec.prior_gap_days:,} days" in b.headline
    assert "BREAKOUT" in b.records_line
    assert b.analog is not None and b.analog.event_date == asof
    assert b.analog.sessions_so_far == 0
    # One earlier breakout, complete: S&P 500 rose linearly, so it was higher a year later.
    assert (b.analog.count, b.analog.spx_hits) == (1, 1)
    assert b.history_line is not None
    assert "After the 1 earlier Russell breakout since 1990" in b.history_line
    assert "higher a year later in 1 of 1" in b.history_line


def test_no_analog_and_no_history_line_without_a_recent_breakout() -> None:
    rut, spx = trending(600, drift=-0.001, seed=1), trending(600, seed=2)
    b = compose_briefing(_pair(rut, spx), rut.index[-1].date(),
                         inceptions=_starts(rut, spx))
    assert b.analog is None and b.history_line is None
    assert b.leader == "large" and b.headline.startswith("Large caps lead")


def test_a_month_inside_the_band_is_level_and_abstains() -> None:
    """RUT/SPX creeps up: the month is level (inside the band), the 50- and 200-day averages
    lie below the ratio, so the verdict is small caps, with the month named level."""
    spx = series(np.linspace(100, 130, 300))
    rut = spx * (1 + EVEN_BAND / 4 * np.linspace(0, 1, 300))
    b = compose_briefing(_pair(rut, spx), rut.index[-1].date(),
                         inceptions=_starts(rut, spx))
    assert b.verdict is not None and b.verdict.month.side == "even"
    assert b.leader == "small" and abs(b.lead_margin) < EVEN_BAND
    assert b.headline.startswith("Small caps lead the 50-day average and the 200-day trend; "
                                 "the past month (21 sessions) is level.")


def test_freshness_is_passed_through_and_rendered() -> None:
    rut, spx = trending(300, seed=3), trending(300, seed=4)
    b = compose_briefing(_pair(rut, spx), rut.index[100].date(), data_asof=date(2021, 2, 1),
                         stale=True, stale_reason="Yahoo unreachable")
    assert (b.stale, b.stale_reason, b.data_asof) == (True, "Yahoo unreachable", date(2021, 2, 1))
    text = render_briefing_text(b)
    assert "STALE: Yahoo unreachable" in text and "latest held: 2021-02-01" in text
    assert "Yahoo unreachable" in render_briefing_markdown(b)


def test_appending_data_after_asof_changes_nothing() -> None:
    rut, spx = _breakout_history()
    full = _pair(rut, spx)
    for pos in (5, 300, 600, 861, 1200, len(rut) - 2):
        asof = rut.index[pos].date()
        cut = {k: v.loc[: pd.Timestamp(asof)] for k, v in full.items()}
        assert to_jsonable(compose_briefing(full, asof)) == to_jsonable(compose_briefing(cut, asof))


def test_requires_both_indices() -> None:
    with pytest.raises(InsufficientData):
        compose_briefing({"^GSPC": bars(trending(10))}, date(2020, 2, 1))


def test_pending_breakout_when_near_a_record_older_than_the_gap() -> None:
    rut, spx = _breakout_history()
    asof = rut.index[1715].date()  # 0.8% under the 260 record set ~2.3 years earlier
    b = compose_briefing(_pair(rut, spx), asof,
                         inceptions=_starts(rut, spx))
    rec = b.leadership.rut_records
    assert not rec.is_record and rec.days_since_record > 365 and -rec.drawdown < 0.05
    assert b.analog is not None and b.analog.kind == "pending"
    assert b.analog.event_date is None and b.analog.record_close == rec.record_close
    assert (b.analog.count, b.analog.gap_days) == (1, rec.days_since_record)
    assert b.history_line is not None
    assert b.history_line.startswith(f"A close above {rec.record_close:,.2f} would end a")
    # Far below the record: no analog.
    far = compose_briefing(_pair(rut, spx), rut.index[1500].date(),
                         inceptions=_starts(rut, spx))
    assert far.analog is None and far.history_line is None


def test_too_little_history_names_no_leader() -> None:
    rut, spx = series([100.0, 101.0, 102.0]), series([200.0, 201.0, 203.0])
    b = compose_briefing(_pair(rut, spx), rut.index[-1].date(),
                         inceptions=_starts(rut, spx))
    assert b.leader == "unknown" and b.headline.startswith("Too little history")
    assert "Russell 2000 n/a" in b.headline
