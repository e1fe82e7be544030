"""Slot arithmetic: DST in New York and London, NYSE weekends/holidays/early closes, catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.briefing.schedule import (
    build_trigger,
    classify,
    data_asof,
    fire_instant,
    job_id,
    next_slot,
    recent_slots,
    slot_on,
)

NY = "America/New_York"
LDN = "Europe/London"
AT = time(8, 30)


def _fires(at: time, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """Every instant the real APScheduler trigger fires in [start, end), in UTC."""
    trigger = build_trigger(at, tz)
    out: list[datetime] = []
    prev = None
    now = start
    while True:
        nxt = trigger.get_next_fire_time(prev, now)
        if nxt is None or nxt >= end:
            return out
        out.append(nxt.astimezone(UTC))
        prev, now = nxt, nxt + timedelta(seconds=1)


def _sent(at: time, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """Fire instants that are NYSE sessions in the subscriber's local date (i.e. posts)."""
    return [f for f in _fires(at, tz, start, end)
            if slot_on(f.astimezone(ZoneInfo(tz)).date(), at, tz)]


def test_new_york_spring_forward_keeps_0830_wall_time() -> None:
    # US clocks spring forward Sunday 2026-03-08: 13:30 UTC before, 12:30 UTC after.
    fires = _sent(AT, NY, datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
    assert fires == [datetime(2026, 3, 5, 13, 30, tzinfo=UTC),
                     datetime(2026, 3, 6, 13, 30, tzinfo=UTC),
                     datetime(2026, 3, 9, 12, 30, tzinfo=UTC),
                     datetime(2026, 3, 10, 12, 30, tzinfo=UTC)]
    assert [fire_instant(f.date(), AT, NY) for f in fires] == fires


def test_new_york_fall_back_keeps_0830_wall_time() -> None:
    # US clocks fall back Sunday 2026-11-01.
    fires = _sent(AT, NY, datetime(2026, 10, 29, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC))
    assert fires == [datetime(2026, 10, 29, 12, 30, tzinfo=UTC),
                     datetime(2026, 10, 30, 12, 30, tzinfo=UTC),
                     datetime(2026, 11, 2, 13, 30, tzinfo=UTC),
                     datetime(2026, 11, 3, 13, 30, tzinfo=UTC)]


def test_each_day_fires_exactly_once_across_the_dst_weekends() -> None:
    for start in (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC)):
        fires = _fires(AT, NY, start, start + timedelta(days=14))
        days = [f.astimezone(ZoneInfo(NY)).date() for f in fires]
        assert len(days) == len(set(days)) == 10  # two weeks of weekdays, once each


def test_london_between_the_us_and_uk_changes() -> None:
    # US moved on 2026-03-08, UK on 2026-03-29: in between, London 08:30 is still 08:30 UTC
    # (GMT) while New York is already on EDT; after the UK change it is 07:30 UTC.
    fires = _sent(AT, LDN, datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert fires == [datetime(2026, 3, 26, 8, 30, tzinfo=UTC),
                     datetime(2026, 3, 27, 8, 30, tzinfo=UTC),
                     datetime(2026, 3, 30, 7, 30, tzinfo=UTC),
                     datetime(2026, 3, 31, 7, 30, tzinfo=UTC)]
    # UK falls back 2026-10-25, US 2026-11-01: London 08:30 = 08:30 UTC from Oct 26.
    fires = _sent(AT, LDN, datetime(2026, 10, 22, tzinfo=UTC), datetime(2026, 10, 28, tzinfo=UTC))
    assert fires == [datetime(2026, 10, 22, 7, 30, tzinfo=UTC),
                     datetime(2026, 10, 23, 7, 30, tzinfo=UTC),
                     datetime(2026, 10, 26, 8, 30, tzinfo=UTC),
                     datetime(2026, 10, 27, 8, 30, tzinfo=UTC)]


def test_london_morning_reports_the_previous_us_close() -> None:
    # 2026-03-10 08:30 London = 04:30 New York: Monday's session is the last completed one.
    slot = slot_on(date(2026, 3, 10), AT, LDN)
    assert slot is not None and slot.fire_at == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    assert data_asof(slot) == date(2026, 3, 9)
    # Tokyo 08:30 on Tuesday is Monday evening in New York, after Monday's close.
    tokyo = slot_on(date(2026, 3, 10), AT, "Asia/Tokyo")
    assert tokyo is not None and data_asof(tokyo) == date(2026, 3, 9)


def test_no_slot_on_weekends_or_thanksgiving_and_early_close_flagged() -> None:
    assert slot_on(date(2026, 11, 21), AT, NY) is None  # Saturday
    assert slot_on(date(2026, 11, 22), AT, NY) is None  # Sunday
    assert slot_on(date(2026, 11, 26), AT, NY) is None  # Thanksgiving
    friday = slot_on(date(2026, 11, 27), AT, NY)
    assert friday is not None and friday.early_close
    wednesday = slot_on(date(2026, 11, 25), AT, NY)
    assert wednesday is not None and not wednesday.early_close
    # Friday's post reports Wednesday's close (Thursday was a holiday).
    assert data_asof(friday) == date(2026, 11, 25)
    # From Wednesday after 08:30, the next post is Friday's.
    assert next_slot(datetime(2026, 11, 25, 14, tzinfo=UTC), AT, NY).session == date(2026, 11, 27)


def test_catch_up_classification_and_recent_slots() -> None:
    grace = timedelta(minutes=60)
    slot = slot_on(date(2026, 11, 24), AT, NY)
    assert slot is not None and slot.fire_at == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
    assert classify(datetime(2026, 11, 24, 13, 0, tzinfo=UTC), slot, grace) == "future"
    assert classify(datetime(2026, 11, 24, 14, 0, tzinfo=UTC), slot, grace) == "due"
    assert classify(datetime(2026, 11, 24, 14, 30, tzinfo=UTC), slot, grace) == "due"
    assert classify(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), slot, grace) == "missed"
    assert recent_slots(datetime(2026, 11, 24, 14, tzinfo=UTC), AT, NY) == [slot]
    # Before today's slot, yesterday's (23.5 h ago) is the recent one.
    assert recent_slots(datetime(2026, 11, 24, 13, tzinfo=UTC), AT, NY) == [
        slot_on(date(2026, 11, 23), AT, NY)]
    # Thanksgiving morning: nothing fired today; yesterday's slot is 24h old.
    assert recent_slots(datetime(2026, 11, 26, 14, tzinfo=UTC), AT, NY) == []


def test_spring_gap_wall_time_maps_once() -> None:
    # 02:30 does not exist in New York on 2026-03-08 (a Sunday, no post); the pure function
    # still gives one well-defined instant.
    assert fire_instant(date(2026, 3, 8), time(2, 30), NY) == datetime(2026, 3, 8, 7, 30,
                                                                        tzinfo=UTC)


@pytest.mark.parametrize("tz", [NY, LDN, "Asia/Tokyo"])
def test_trigger_has_explicit_zone_and_stable_id(tz: str) -> None:
    trigger = build_trigger(AT, tz)
    assert str(trigger.timezone) == tz
    assert job_id(AT, tz) == f"briefing:08:30:{tz}"
