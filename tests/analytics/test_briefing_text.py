"""Rendering and JSON of the snapshot and the briefing: stable keys, ISO dates, fractions, NaN as
null; the drivers panel wired into the briefing; text a trader can read."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest

from analytics.briefing import compose_briefing
from analytics.drivers import calc_drivers
from analytics.leadership import calc_leadership_snapshot
from bot.ui.text import (
    fmt_pct,
    render_briefing_markdown,
    render_briefing_text,
    render_status_text,
    to_jsonable,
)
from tests.analytics._frames import bars, series, trending


def _bars(n: int = 400) -> dict:
    return {"^RUT": bars(trending(n, seed=11)), "^GSPC": bars(trending(n, seed=12)),
            "IWM": bars(trending(n, seed=13)), "SPY": bars(trending(n, seed=14))}


def test_to_jsonable_dates_nan_mappings_and_nesting() -> None:
    @dataclass(frozen=True)
    class Inner:
        when: date
        value: float

    out = to_jsonable({"a": (Inner(date(2024, 1, 2), math.nan), np.float64(0.5), np.int64(3))})
    assert out == {"a": [{"when": "2024-01-02", "value": None}, 0.5, 3]}
    with pytest.raises(TypeError):
        to_jsonable(object())


def test_snapshot_json_round_trips_and_keeps_fractions() -> None:
    b = _bars()
    asof = b["^GSPC"].index[-1].date()
    starts = {s: b[s].index[0].date() for s in ("^RUT", "^GSPC")}  # each index starts here
    snap = calc_leadership_snapshot(b, asof, inceptions=starts)
    doc = json.loads(json.dumps(to_jsonable(snap)))
    assert doc["asof"] == asof.isoformat()
    assert [r["symbol"] for r in doc["scoreboard"]] == ["^RUT", "^GSPC", "IWM", "SPY"]
    rut = snap.row("^RUT")
    assert rut is not None
    assert doc["scoreboard"][0]["returns"]["1m"] == pytest.approx(rut.returns["1m"])
    assert doc["rut_records"]["record_date"] == snap.rut_records.record_date.isoformat()
    # without known inceptions nothing is a record: the same figure under an honest name
    late = to_jsonable(calc_leadership_snapshot(b, asof))["rut_records"]
    assert late["high_date"] == doc["rut_records"]["record_date"] and "record_date" not in late


def test_status_text_is_aligned_and_marks_rows_that_end_earlier() -> None:
    b = _bars()
    b["SPY"] = b["SPY"].iloc[:-3]  # SPY's file ends three sessions earlier
    asof = b["^GSPC"].index[-1].date()
    text = render_status_text(calc_leadership_snapshot(b, asof))
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Price returns "))
    last = next(i for i, line in enumerate(lines) if line.startswith("RUT vs SPX"))
    table = lines[first:last + 1]  # header, 4 rows, 2 total-return rows, RUT vs SPX
    assert len(table) == 8 and len({len(line) for line in table}) == 1
    last_spy = b["SPY"].index[-1].date().isoformat()
    assert f"* SPY: last close {last_spy}" in text
    assert "SPY*" in text


def test_short_history_renders_na_not_nan() -> None:
    b = {"^RUT": bars(series([100.0, 101.0])), "^GSPC": bars(series([200.0, 201.0]))}
    text = render_status_text(calc_leadership_snapshot(b, date(2024, 1, 2)))
    assert "nan" not in text.lower().replace("n/a", "")
    assert "n/a" in text and "Not available: IWM, SPY" in text
    assert fmt_pct(math.nan) == "n/a" and fmt_pct(0.01234) == "+1.23%"


def test_drivers_panel_feeds_the_briefing_line_and_counts() -> None:
    b = _bars()
    asof = b["^GSPC"].index[-1].date()
    panel = calc_drivers(b, asof)  # no driver symbols: every reading absent, nothing counted
    brief = compose_briefing(b, asof, drivers=panel)
    assert brief.drivers is panel and brief.drivers_line is None
    assert brief.drivers_tailwinds is None
    with pytest.raises(ValueError, match="drivers panel is as of"):
        compose_briefing(b, asof, drivers=calc_drivers(b, b["^GSPC"].index[-5].date()))


def test_briefing_markdown_and_text_hold_every_part() -> None:
    b = _bars()
    asof = b["^GSPC"].index[-1].date()
    brief = compose_briefing(b, asof, data_asof=asof)
    md = render_briefing_markdown(brief)
    assert md.startswith("**Small vs large caps · Morning briefing for ")
    assert f"data to the close of {asof:%a %d %b %Y}**" in md.splitlines()[0]
    assert brief.verdict is not None
    assert "```" in md and "**Records:**" in md and f"**{brief.verdict.title}:**" in md
    text = render_briefing_text(brief, note="a note")
    assert "(a note)" in text and brief.headline.split()[0] in text
    assert all(len(line) <= 84 for line in text.splitlines())
