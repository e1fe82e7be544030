"""Command sync payload and /about, through the real client and the fake Discord."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import bot as bot_package
from tests.e2e.conftest import Harness
from tests.fakes import discord_payloads as P

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

NAME_RE = re.compile(r"^[-_\p{L}\p{N}]{1,32}$".replace(r"\p{L}\p{N}", "a-z0-9"))


def _check_option(opt: dict, path: str) -> None:
    assert NAME_RE.fullmatch(opt["name"]), f"{path}: bad option name {opt['name']!r}"
    assert 1 <= len(opt["description"]) <= 100, f"{path}.{opt['name']}: description length"
    choices = opt.get("choices") or []
    assert len(choices) <= 25, f"{path}.{opt['name']}: too many choices"
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100
    subs = opt.get("options") or []
    assert len(subs) <= 25
    for sub in subs:
        _check_option(sub, f"{path}.{opt['name']}")


async def test_sync_payload_within_discord_limits(harness: Harness) -> None:
    commands = harness.fake.synced["global"]
    names = {c["name"] for c in commands}
    assert {"status", "history", "drivers", "chart", "about"} <= names
    assert harness.fake.find("PUT", r"^/applications/\d+/commands$"), "no global sync happened"
    for cmd in commands:
        assert NAME_RE.fullmatch(cmd["name"]), cmd["name"]
        assert 1 <= len(cmd["description"]) <= 100, cmd["name"]
        options = cmd.get("options") or []
        assert len(options) <= 25
        required_seen_optional = False
        for opt in options:
            _check_option(opt, cmd["name"])
            # Discord rejects a required option after an optional one.
            if not opt.get("required"):
                required_seen_optional = True
            else:
                assert not required_seen_optional, f"{cmd['name']}: required after optional"


async def test_about_defers_then_reports_version_and_asof(harness: Harness) -> None:
    callback, followup = await harness.reply("about")
    assert callback.json["type"] == 5
    (embed,) = followup.embeds()
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    last = pd.read_csv(harness.market_dir / "GSPC.csv", usecols=["date"])["date"].iloc[-1]
    assert fields["Data as of"] == f"close of {last}"
    assert fields["Version"] == f"capbrief {bot_package.__version__}"
    assert "Not investment advice" in embed["footer"]["text"]
    assert followup.flags & 64 == 0  # public


async def test_login_used_the_token_but_logs_never_show_it(harness: Harness, token: str) -> None:
    me = harness.fake.find("GET", r"^/users/@me$")
    assert me and me[0].authorized
    assert harness.logs.lines, "no logs were captured"
    assert token not in harness.logs.text


async def test_dev_guild_sync_goes_to_that_guild(harness: Harness) -> None:
    bot = harness.bot
    original = bot.settings
    guild = P.GUILD_ID
    bot.settings = original.model_copy(
        update={"discord": original.discord.model_copy(update={"dev_guild_id": guild})})
    try:
        await bot.sync_commands()
    finally:
        bot.settings = original
    assert harness.fake.find("PUT", rf"^/applications/\d+/guilds/{guild}/commands$")
    synced = {c["name"] for c in harness.fake.synced[str(guild)]}
    assert synced == {c["name"] for c in harness.fake.synced["global"]}
    assert {"status", "history", "drivers", "chart", "about"} <= synced
