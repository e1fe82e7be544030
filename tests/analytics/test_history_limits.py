"""A record is all-time only when the history reaches the index's inception: tiny hand-built
frames telling the 1989 story in miniature (a peak, then a copy of the history that starts after
it, where a lower high looks like a breakout)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.briefing import compose_briefing
from analytics.records import calc_records_snapshot, covers_inception
from analytics.studies.breakouts import calc_breakout_study
from analytics.studies.droughts import calc_droughts
from bot.ui.study_text import breakouts_json, render_breakouts_text, render_droughts_text
from bot.ui.text import render_records
from tests.analytics._frames import bars, series

CLAIMS = re.compile(r"record|breakout", re.IGNORECASE)


def _index() -> pd.Series:
    """Peak 200 on day 20, down to 100, up to 190 (a lower high) by day 400, down to 170, then
    up to 260 by day 800 (passing 200: the real breakout)."""
    parts = [np.linspace(100, 200, 21), np.linspace(195, 150, 10), np.linspace(149, 100, 170),
             np.linspace(101, 190, 200), np.linspace(189, 170, 50), np.linspace(171, 260, 350)]
    return series(np.concatenate(parts), start="2000-01-03")


FULL = _index()
INCEPTION = FULL.index[0].date()
SPX = series(np.linspace(1000, 1500, len(FULL)), start="2000-01-03")
LATE = FULL.iloc[30:]  # starts after the peak, like Yahoo's ^RUT after 1987-08-21
LATE_START = LATE.index[0].date()
ASOF = FULL.index[-1].date()


@pytest.mark.parametrize(("first", "inception", "expected"), [
    (date(1979, 1, 2), date(1979, 1, 2), True), (date(1979, 1, 2), date(1980, 1, 1), True),
    (date(1987, 9, 10), date(1979, 1, 2), False), (date(1979, 1, 2), None, False),
    (None, date(1979, 1, 2), False),
])
def test_covers_inception(first: date | None, inception: date | None, expected: bool) -> None:
    assert covers_inception(first, inception) is expected


def test_the_full_history_has_no_false_breakout_and_the_late_one_does() -> None:
    full = calc_breakout_study(FULL, SPX, ASOF, horizons=(5, 21), inception=INCEPTION)
    late = calc_breakout_study(LATE, SPX, ASOF, horizons=(5, 21), inception=INCEPTION)
    assert full.history_complete and not late.history_complete
    assert late.data_start == LATE_START and late.inception == INCEPTION
    false_highs = {e.date for e in late.events} - {e.date for e in full.events}
    assert false_highs, "the late history must show a high the full one rules out"
    (false_high,) = false_highs
    assert FULL.loc[pd.Timestamp(false_high)] < FULL.max() and FULL.iloc[:31].max() == 200.0

    text = render_breakouts_text(late)
    assert text.startswith(f"Russell 2000 highest closes since {LATE_START}")
    assert f"LIMIT: the data starts {LATE_START} but the Russell 2000 starts {INCEPTION}" in text
    assert f"Event: highest since {LATE_START}" in text
    row = next(line for line in text.splitlines() if line.startswith(false_high.isoformat()))
    assert not CLAIMS.search(row)
    doc = breakouts_json(late)
    assert doc["history_complete"] is False and doc["limit"]
    assert {e["label"] for e in doc["events"]} == {f"highest since {LATE_START}"}
    assert not [k for e in doc["events"] for k in e if "record" in k]

    full_text = render_breakouts_text(full)
    assert full_text.startswith("Russell 2000 breakouts: first record close")
    assert "LIMIT" not in full_text and false_high.isoformat() not in full_text


def test_an_unknown_inception_never_proves_a_record() -> None:
    study = calc_breakout_study(FULL, SPX, ASOF, horizons=(5,))
    assert study.inception is None and not study.history_complete
    assert "the Russell 2000's own start is unknown" in render_breakouts_text(study)
    snap = calc_records_snapshot(FULL, ASOF)
    assert snap is not None and not snap.history_complete


def test_highs_whose_look_back_starts_before_the_data_are_not_rulable() -> None:
    early = FULL.iloc[10:]  # starts on the way up to the peak
    study = calc_breakout_study(early, SPX, ASOF, horizons=(5,), inception=INCEPTION)
    start = early.index[0].date()
    assert study.rulable_from == start + timedelta(days=365)
    # the new highs of days 11..20 (up to the peak) fall inside the first 365 days of data
    assert [u.date for u in study.unruled] == [d.date() for d in FULL.index[11:21]]
    assert all(u.date < study.rulable_from for u in study.unruled)
    assert "look-back starts before the data does" in study.unruled[0].reason
    assert f"Cannot rule on 10 new highs before {study.rulable_from}" in \
        render_breakouts_text(study)
    # with the whole history there is nothing to rule out
    assert calc_breakout_study(FULL, SPX, ASOF, horizons=(5,), inception=INCEPTION).unruled == ()


def test_records_snapshot_and_status_text_say_highest_since() -> None:
    late = calc_breakout_study(LATE, SPX, ASOF, horizons=(5,), inception=INCEPTION)
    day = next(e.date for e in late.events)
    snap = calc_records_snapshot(LATE, day, inception=INCEPTION)
    assert snap is not None and snap.is_record and snap.breakout and not snap.history_complete
    lines = "\n".join(render_records(snap, "Russell 2000"))
    assert f"highest close since {LATE_START}" in lines and not re.search("RECORD|BREAKOUT", lines)
    assert f"data from {LATE_START} only, the index starts {INCEPTION}" in lines
    full = calc_records_snapshot(FULL, day, inception=INCEPTION)
    assert full is not None and full.history_complete and not full.is_record
    assert "from record 200.00" in "\n".join(render_records(full, "Russell 2000"))


def test_briefing_on_the_false_high_claims_no_record() -> None:
    late = calc_breakout_study(LATE, SPX, ASOF, horizons=(5,), inception=INCEPTION)
    day = next(e.date for e in late.events)
    pair = {"^RUT": bars(LATE), "^GSPC": bars(SPX)}
    known = {"^RUT": INCEPTION, "^GSPC": SPX.index[0].date()}
    b = compose_briefing(pair, day, inceptions=known)
    assert f"highest close since {LATE_START}" in b.headline and not CLAIMS.search(b.headline)
    rut_part = b.records_line.split(". S&P 500")[0]
    assert f"highest close since {LATE_START}" in rut_part
    assert "no record can be ruled on" in rut_part
    assert not CLAIMS.search(rut_part.replace("no record can be ruled on", ""))
    full = compose_briefing({"^RUT": bars(FULL), "^GSPC": bars(SPX)}, day, inceptions=known)
    assert "highest close since" not in full.headline + full.records_line


def test_droughts_of_a_late_history_are_gaps_between_highs() -> None:
    table = calc_droughts(LATE, ASOF, inception=INCEPTION)
    assert not table.history_complete and table.inception == INCEPTION
    text = render_droughts_text(table, "Russell 2000")
    assert text.startswith(f"Russell 2000 gaps between closes at the highest close since "
                           f"{LATE_START}")
    assert "not record droughts" in text and "record droughts (" not in text
    assert calc_droughts(FULL, ASOF, inception=INCEPTION).history_complete


def test_discord_embeds_of_a_late_history_claim_no_record() -> None:
    from analytics.leadership import calc_leadership_snapshot
    from bot.ui.embeds import status_embed
    from bot.ui.study_embeds import breakouts_embed, droughts_embed

    late = calc_breakout_study(LATE, SPX, ASOF, horizons=(5, 21), inception=INCEPTION)
    embed = breakouts_embed(late, source="yahoo", stale=False, stale_reason=None)
    assert embed.title is not None and f"highs since {LATE_START}" in embed.title
    assert embed.description is not None and "**Limit**" in embed.description
    assert "breakout" not in embed.title.lower()
    assert "price returns" in embed.description  # forward returns say what they are
    assert all(f.name.startswith("Price return after ") for f in embed.fields[:2] if f.name)
    table = calc_droughts(LATE, ASOF, inception=INCEPTION)
    embed = droughts_embed(table, name="Russell 2000", source="yahoo", stale=False,
                           stale_reason=None)
    assert embed.title is not None and "record" not in embed.title
    assert embed.description is not None and "not record droughts" in embed.description

    day = next(e.date for e in late.events)
    lead = calc_leadership_snapshot({"^RUT": bars(LATE), "^GSPC": bars(SPX)}, day,
                                    inceptions={"^RUT": INCEPTION, "^GSPC": SPX.index[0].date()})
    embed = status_embed(lead, source="yahoo", stale=False, stale_reason=None)
    rut = next(f for f in embed.fields if f.name and f.name.startswith("Russell 2000 vs"))
    assert rut.name == "Russell 2000 vs its highs" and rut.value is not None
    assert f"highest close since {LATE_START}" in rut.value and not CLAIMS.search(
        rut.value.replace("no record can be ruled on", ""))
    spx = next(f for f in embed.fields if f.name and f.name.startswith("S&P 500 vs"))
    assert spx.name == "S&P 500 vs record"  # its history reaches its inception
