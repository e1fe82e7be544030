"""``/history study:analogs`` through the fake Discord on the real history: a deferral, then one
follow-up with the analogs embed (within Discord's limits) and the analogs chart; numbers
checked against plain pandas on the CSV files; too early a date is one ephemeral line."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import discord
import pandas as pd
import pytest

from bot.ui import limits
from tests.e2e import expected as X
from tests.e2e.conftest import Harness
from tests.e2e.test_bad_input import ephemeral_error, render_count
from tests.e2e.test_commands import fields, one_png, within_limits

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_history_analogs_embed_and_chart(harness: Harness) -> None:
    callback, followup = await harness.reply("history", {"study": "analogs",
                                                         "asof": "2025-09-18"})
    assert callback.json["type"] == 5 and followup.flags & 64 == 0
    png = one_png(followup, "history-analogs.png")
    if os.environ.get("SAVE_ANALOGS_PNG"):                 # to look at it by hand
        await asyncio.to_thread(Path(os.environ["SAVE_ANALOGS_PNG"]).write_bytes, png)
    (embed,) = followup.embeds()
    within_limits(embed)
    assert embed["title"] == "History · days like today"
    assert "Data to close of 2025-09-18" in embed["footer"]["text"]
    assert "indistinguishable from a random day" in embed["description"]
    got = fields(followup)
    rows = next(v for k, v in got.items() if k.startswith("Analogs, closest first"))
    dates = re.findall(r"`(\d{4}-\d{2}-\d{2})`", rows)
    assert len(dates) == 10 and all(d < "2024-09-18" for d in dates)
    # the first analog's 1-year RUT/SPX relative return, from the CSV files directly
    rut = X.closes(harness.market_dir, "RUT_since1979")
    spx = X.closes(harness.market_dir, "GSPC")
    ratio = (rut / spx).dropna()
    p = ratio.index.get_loc(pd.Timestamp(dates[0]))
    rel = ratio.iloc[p + 252] / ratio.iloc[p] - 1
    first = rows.splitlines()[0]
    assert first.split(" · RUT/SPX ")[1].split(" ")[2] == X.fmt_pct(rel, 1)
    for h in ("1M", "3M", "1Y"):
        block = next(v for k, v in got.items() if k.startswith(f"After {h}"))
        assert block.count("\n") == 2 and "all days" in block and "p " in block
    assert not limits.problems(None, [discord.Embed.from_dict(embed)])


async def test_history_analogs_too_early_is_one_ephemeral_line(harness: Harness) -> None:
    before = render_count(harness)
    message = await ephemeral_error(harness, "history", {"study": "analogs",
                                                         "asof": "1980-06-02"})
    assert "no analogs for 1980-06-02" in message.lower()
    assert render_count(harness) == before
