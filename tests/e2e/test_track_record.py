"""``/history study:track-record`` through the fake Discord on the real history: a deferral,
then one follow-up with the track-record embed (within Discord's limits) and its chart, quoting
the same record as the CLI."""

from __future__ import annotations

import asyncio
from datetime import date

import discord
import pytest

from analytics.studies.track_record import calc_track_record
from bot.ui import limits
from bot.ui.study_text import track_share, track_span
from tests.e2e.conftest import Harness
from tests.e2e.test_commands import fields, one_png, within_limits

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_history_track_record_embed_and_chart(harness: Harness) -> None:
    callback, followup = await harness.reply("history", {"study": "track-record",
                                                         "asof": "2025-09-18"})
    assert callback.json["type"] == 5 and followup.flags & 64 == 0
    one_png(followup, "history-track-record.png")
    (embed,) = followup.embeds()
    within_limits(embed)
    assert embed["title"] == "History · capbrief's track record"
    assert "Data to close of 2025-09-18" in embed["footer"]["text"]
    assert "since 1990-01-02" in embed["description"]
    got = fields(followup)
    snap = await harness.bot.services.snapshot(("^RUT", "^GSPC"))
    record = await asyncio.to_thread(calc_track_record, snap.bars, date(2025, 9, 18))
    for s in record.scores:
        block = got[f"Next {s.horizon} sessions"]
        assert f"Hit rate {track_share(s.hit_rate)}" in block
        assert f"Small − large {track_span(s.spread, 2)}" in block
        assert ("no forecast value" in block) is (not s.forecast_value)
    assert not limits.problems(None, [discord.Embed.from_dict(embed)])
