"""Bad input never renders, never posts publicly, never shows a traceback: one short ephemeral
message (flag 64). Values Discord's client would refuse (out of range, not a choice) are sent
anyway, as a crafted request could."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Harness
from tests.fakes import discord_payloads as P

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
EPHEMERAL = 64


def render_count(harness: Harness) -> int:
    renderer = harness.bot.services.renderer
    return int(getattr(renderer, "renders", 0) or 0) if renderer is not None else 0


async def ephemeral_error(harness: Harness, name: str, options: dict[str, Any],
                          user_id: int | None = None) -> str:
    """The one private message the user got; asserts nothing public was left behind."""
    ix, callback = await harness.run(name, options, user_id=user_id)
    if callback.json["type"] == 4:  # refused before deferring
        data = callback.json["data"]
        assert data["flags"] & EPHEMERAL
        message = data["content"]
    else:  # refused after the deferral (needed the data): placeholder deleted, private follow-up
        assert callback.json["type"] == 5
        followup = await ix.followup()
        assert followup.flags & EPHEMERAL
        assert not followup.files and not followup.embeds()
        deletes = [r for r in ix.responses() if r.method == "DELETE"]
        assert deletes, "the public 'thinking…' placeholder was left in the channel"
        message = followup.json["content"]
    assert 0 < len(message) <= 300
    assert "Traceback" not in message and "Error(" not in message and "/work/" not in message
    assert "Something went wrong" not in message, message  # a handled error, not a bug
    return message


CHART_CASES = [
    ({"symbols": ""}, "ticker symbols"),
    ({"symbols": "   "}, "ticker symbols"),
    ({"symbols": "A" * 200}, "too long"),
    ({"symbols": "../etc/passwd"}, "not a ticker"),
    ({"symbols": "\"SPY\""}, "not a ticker"),
    ({"symbols": "'IWM'"}, "not a ticker"),
    ({"symbols": "📈 SPY"}, "not a ticker"),
    ({"symbols": "' OR 1=1 --"}, "not a ticker"),
    ({"symbols": "SPY; DROP TABLE bars"}, "not a ticker"),
    ({"symbols": "IWM SPY QQQ XLF XLE"}, "At most 4"),
    ({"symbols": 12345}, "ticker symbols"),
    ({"symbols": "IWM SPY QQQ", "kind": "ratio"}, "exactly two"),
    ({"symbols": "IWM", "period": "7y"}, "period"),
    ({"symbols": "IWM", "kind": "candles"}, "kind"),
    ({"symbols": "ZZZZQ"}, "does not know"),
    ({"symbols": "IWM NOPEX"}, "NOPEX"),
]


@pytest.mark.parametrize(("options", "needle"), CHART_CASES,
                         ids=[f"chart-{i}" for i in range(len(CHART_CASES))])
async def test_chart_bad_input(harness: Harness, options: dict[str, Any], needle: str) -> None:
    before = render_count(harness)
    message = await ephemeral_error(harness, "chart", options)
    assert needle.lower() in message.lower(), message
    assert render_count(harness) == before


OTHER_CASES = [
    ("status", {"asof": "2999-01-01"}, "future"),
    ("status", {"asof": "1900-01-02"}, "before the data"),
    ("status", {"asof": "yesterday"}, "YYYY-MM-DD"),
    ("status", {"asof": "2024-13-45"}, "YYYY-MM-DD"),
    ("status", {"window": "13m"}, "window"),
    ("status", {"asof": 20250918}, "YYYY-MM-DD"),
    ("status", {"window": 12}, "window"),
    ("history", {"study": "breakouts", "gap_days": 5}, "between 30 and 3650"),
    ("history", {"study": "breakouts", "gap_days": 99_999}, "between 30 and 3650"),
    ("history", {"study": "breakouts", "horizon": 9_000}, "between 5 and 2520"),
    ("history", {"study": "breakouts", "horizon": 500, "asof": "1980-06-02"}, "longer than"),
    ("history", {"study": "rates", "horizon": 2500, "asof": "1980-06-02"}, "longer than"),
    ("history", {"study": "astrology"}, "study"),
    ("history", {"study": "breakouts", "gap_days": "ten"}, "whole number"),
    ("history", {"study": "droughts", "asof": "2999-01-01"}, "future"),
    ("drivers", {"asof": "1850-01-01"}, "before the data"),
]


@pytest.mark.parametrize(("name", "options", "needle"), OTHER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OTHER_CASES)])
async def test_other_bad_input(harness: Harness, name: str, options: dict[str, Any],
                               needle: str) -> None:
    if name not in {c["name"] for c in harness.fake.synced["global"]}:
        pytest.skip(f"/{name} not loaded")
    before = render_count(harness)
    message = await ephemeral_error(harness, name, options)
    assert needle.lower() in message.lower(), message
    assert render_count(harness) == before


async def test_cooldown_tells_the_user_when_to_retry(harness: Harness) -> None:
    user = P.snowflake()
    rate = harness.bot.settings.discord.cooldown_rate
    for _ in range(rate):  # within the limit: refused for bad input, but counted
        await ephemeral_error(harness, "chart", {"symbols": "../x"}, user_id=user)
    message = await ephemeral_error(harness, "chart", {"symbols": "IWM"}, user_id=user)
    assert "try again in" in message.lower()
