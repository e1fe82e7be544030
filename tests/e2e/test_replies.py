"""What the user is told, and what is logged, when Discord refuses the bot's answer: an expired
interaction (10062 Unknown interaction at the deferral, 10015 Unknown Webhook at the follow-up)
is a WARNING without a traceback; a 403 becomes a sentence, not "Something went wrong"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.conftest import Harness
from tests.fakes import discord_payloads as P

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
EPHEMERAL = 64


async def logged_after(harness: Harness, start: int, needle: str, within: float = 30) -> str:
    """The log lines from ``start`` on, once one of them contains ``needle``."""
    for _ in range(int(within / 0.05)):
        text = "\n".join(harness.logs.lines[start:])
        if needle in text:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{needle!r} never logged:\n" + "\n".join(harness.logs.lines[start:]))


@pytest.mark.parametrize(("method", "route", "code", "message"), [
    ("POST", r"/interactions/\d+/[^/]+/callback", 10062, "Unknown interaction"),
    # the answer edits the deferred original (idempotent), so that is what expires
    ("PATCH", r"/webhooks/\d+/[^/]+/messages/@original$", 10015, "Unknown Webhook"),
], ids=["deferral-10062", "followup-10015"])
async def test_expired_interaction_is_a_warning_without_traceback(
        harness: Harness, method: str, route: str, code: int, message: str) -> None:
    start = len(harness.logs.lines)
    harness.fake.fail(method, route, 404, code=code, message=message)
    ix = await harness.fake.interact("about", user_id=P.snowflake())
    text = await logged_after(harness, start, "the interaction expired")
    line = next(ln for ln in text.splitlines() if "the interaction expired" in ln)
    assert line.startswith("WARNING bot.tree: /about:") and str(code) in line
    assert "Traceback" not in text and "\nERROR " not in f"\n{text}"
    await asyncio.sleep(0.2)  # nothing more is attempted on a dead token
    sent = [r for r in ix.responses() if r.status == 200 and r.method in ("POST", "PATCH")
            and "/webhooks/" in r.path]
    assert sent == []


async def test_forbidden_becomes_a_sentence_not_something_went_wrong(harness: Harness) -> None:
    start = len(harness.logs.lines)
    harness.fake.fail("PATCH", r"/webhooks/\d+/[^/]+/messages/@original$", 403)  # refused once
    ix, callback = await harness.run("about")
    assert callback.json["type"] == 5
    error = await ix.followup(index=1)  # the refused answer, then the explanation
    assert error.flags & EPHEMERAL
    text = error.json["content"]
    assert text.startswith("I'm missing a permission Discord needs for that here") and \
        "Missing Permissions" in text and "Something went wrong" not in text
    logged = await logged_after(harness, start, "refused the bot a permission")
    assert "Traceback" not in logged


def _string_options(options: list[dict[str, Any]], path: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for o in options:
        if o["type"] in (1, 2):  # subcommand (group)
            out += _string_options(o.get("options") or [], f"{path} {o['name']}")
        elif o["type"] == 3:
            out.append((f"{path} {o['name']}", o))
    return out


async def test_every_string_option_is_bounded(harness: Harness) -> None:
    """Free text has Discord-side min/max_length; a fixed list of choices bounds itself."""
    options = [item for c in harness.fake.synced["global"]
               for item in _string_options(c.get("options") or [], f"/{c['name']}")]
    assert len(options) >= 5
    for where, o in options:
        if o.get("choices"):
            assert all(len(ch["value"]) <= 100 for ch in o["choices"]), where
            continue
        assert 1 <= o.get("min_length", 0) <= o["max_length"] <= 100, where
    asof = [o for where, o in options if where.endswith(" asof")]
    assert asof and all((o["min_length"], o["max_length"]) == (8, 10) for o in asof)


async def test_a_502_on_the_answer_is_retried_without_a_second_message(
        harness: Harness) -> None:
    """The answer edits the deferred original: discord.py's retry after a 502 (Discord had
    stored it) edits the same message again instead of posting a second follow-up."""
    harness.fake.fail("PATCH", r"/webhooks/\d+/[^/]+/messages/@original$", 502,
                      after_store=True)
    ix, callback = await harness.run("about")
    assert callback.json["type"] == 5
    retried = await ix.followup(index=1)
    assert retried.method == "PATCH" and retried.status == 200
    posted = [r for r in ix.responses() if r.method == "POST" and "/webhooks/" in r.path]
    assert posted == []  # no follow-up message at all: one answer, edited twice
