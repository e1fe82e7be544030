"""The fake Discord refuses what Discord would: requests against its OpenAPI description, the
global 50 requests/s, per-route buckets, and more than 2,500 guilds on one shard (close 4011).
Driven by the real discord.py client, as the bot is."""

from __future__ import annotations

import asyncio
import io
import json
import time

import aiohttp
import discord
import pytest

from tests.fakes import discord_limits as L
from tests.fakes import discord_payloads as P
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_spec import SPEC_PATH, load_spec

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module", autouse=True)
def _spec_present() -> None:
    if load_spec() is None:
        pytest.skip(f"Discord's API description absent: {SPEC_PATH}")


# ``client``: the fake Discord and a logged-in REST client (tests/fakes/discord_fixtures.py).


async def test_valid_message_with_a_file_passes(client: tuple[FakeDiscord, discord.Client]
                                                ) -> None:
    fake, bot = client
    channel = bot.get_partial_messageable(P.CHANNEL_ID)
    embed = discord.Embed(title="t", description="d").add_field(name="n", value="v")
    await channel.send("hello", embed=embed,
                       file=discord.File(io.BytesIO(b"\x89PNG"), filename="a.png"))
    assert fake.checked >= 3 and fake.violations == []  # login, app info, the message


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"content": "x" * 2001}, "content: 2,001 characters"),
    ({"embed": discord.Embed(title="t" * 257)}, "embeds/0/title: 257 characters"),
    ({"embeds": [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2001)]},
     "6,001 characters in all"),
    ({"embed": discord.Embed().add_field(name="n", value="v" * 1025)},
     "fields/0/value: 1,025 characters"),
])
async def test_message_over_discords_limits_is_refused_and_recorded(
        client: tuple[FakeDiscord, discord.Client], kwargs: dict[str, object],
        needle: str) -> None:
    fake, bot = client
    channel = bot.get_partial_messageable(P.CHANNEL_ID)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(**kwargs)  # type: ignore[arg-type]
    assert caught.value.status == 400 and caught.value.code == 50035
    found = fake.take_violations()
    assert len(found) == 1 and needle in found[0], found
    assert P.CHANNEL_ID not in fake.channel_messages  # nothing was posted


async def test_unknown_route_and_wrong_method_are_refused(
        client: tuple[FakeDiscord, discord.Client]) -> None:
    fake, bot = client
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/channels/{channel_id}/nonsense",
                                                  channel_id=1))
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.request(discord.http.Route("PUT", "/channels/{channel_id}/messages",
                                                  channel_id=1), json={"content": "x"})
    assert caught.value.status == 405
    found = fake.take_violations()
    assert "no such route" in found[0] and "method not in the spec" in found[1]


async def test_global_limit_answers_429_global_and_the_client_waits() -> None:
    """A limit of 5/s (50 in production) keeps the test independent of machine speed."""
    fake = await FakeDiscord(global_limit=5).start()
    fake.install()
    bot = discord.Client(intents=discord.Intents.none())
    try:
        await bot.login("fake-token")
        channels = [bot.get_partial_messageable(P.snowflake()) for _ in range(12)]
        started = time.perf_counter()
        await asyncio.gather(*(c.send("x") for c in channels))
        elapsed = time.perf_counter() - started
        posts = fake.find("POST", r"/channels/\d+/messages$")
        refused = [r for r in posts if r.status == 429]
        assert refused and all(r.response["global"] is True and r.response["retry_after"] > 0
                               for r in refused)
        assert len([r for r in posts if r.status == 200]) == 12  # every one got through
        assert fake.global_limit.peak == 5  # never more than the limit in any second
        assert elapsed >= 2.0  # the 11th may only pass 2 s after the 1st
    finally:
        await bot.close()
        await fake.close()
        fake.uninstall()


def test_the_default_global_limit_is_discords() -> None:
    assert FakeDiscord().global_limit.limit == L.GLOBAL_LIMIT == 50


async def test_interaction_routes_are_not_bound_by_the_global_limit() -> None:
    limit = L.GlobalLimit(2)
    assert not limit.applies("/interactions/1/tok/callback", authorized=False)
    assert not limit.applies("/webhooks/1/tok", authorized=True)
    assert limit.applies("/channels/1/messages", authorized=True)
    assert limit.admit() is None and limit.admit() is None
    wait = limit.admit()
    assert wait is not None and 0 < wait <= 1.0 and limit.refused == 1


async def test_per_route_bucket_sends_headers_and_429_with_retry_after(
        client: tuple[FakeDiscord, discord.Client]) -> None:
    fake, bot = client
    fake.limit_route("POST", r"/channels/\d+/messages", limit=2, per=0.3)
    channel = bot.get_partial_messageable(P.CHANNEL_ID)
    for _ in range(5):
        await channel.send("x")
    posts = fake.find("POST", rf"/channels/{P.CHANNEL_ID}/messages$")
    assert len([r for r in posts if r.status == 200]) == 5
    # discord.py reads X-RateLimit-Remaining and waits before the bucket is empty: no 429.
    assert all(r.status == 200 for r in posts)
    other = bot.get_partial_messageable(P.snowflake())
    fake.limit_route("POST", r"/channels/\d+/messages", limit=0, per=0.05)  # always over
    with pytest.raises(discord.HTTPException):
        await bot.http.request(discord.http.Route("POST", "/channels/{channel_id}/messages",
                                                  channel_id=other.id), json={"content": "x"})
    refused = [r for r in fake.find("POST", rf"/channels/{other.id}/messages$")
               if r.status == 429]
    assert refused and all(r.response["global"] is False for r in refused)
    assert all(r.response["retry_after"] > 0 for r in refused)


async def _identify(url: str, shard: list[int]) -> tuple[int | None, list[str]]:
    """IDENTIFY over a raw websocket: (close code, dispatch event names seen)."""
    events: list[str] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        await ws.send_str(json.dumps({"op": 2, "d": {"token": "t", "intents": 1,
                                                     "properties": {}, "shard": shard}}))
        while True:
            msg = await asyncio.wait_for(ws.receive(), 10)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                return ws.close_code, events
            payload = json.loads(msg.data)
            events.append(payload.get("t") or "")
            if payload.get("t") == "READY":
                assert payload["d"]["shard"] == shard
                return None, events


async def test_more_than_2500_guilds_on_a_shard_is_closed_4011() -> None:
    fake = await FakeDiscord(extra_guilds=3000).start()
    try:
        code, _ = await _identify(fake.gateway_url, [0, 1])
        assert code == L.SHARDING_REQUIRED and fake.gateway_closes == [4011]
        for shard in ([0, 2], [1, 2]):  # ~1,500 guilds each: accepted
            code, events = await _identify(fake.gateway_url, shard)
            assert code is None and events[0] == "READY"
        assert fake.identified_shards == [(0, 2), (1, 2)]
    finally:
        await fake.close()


async def test_discordpy_with_one_shard_for_3000_guilds_gets_4011() -> None:
    fake = await FakeDiscord(extra_guilds=3000).start()
    fake.install()
    bot = discord.AutoShardedClient(intents=discord.Intents.none(), shard_count=1)
    try:
        await bot.login("fake-token")
        gateway = await bot.http.request(discord.http.Route("GET", "/gateway/bot"))
        assert gateway["shards"] == 4  # 3,001 guilds: one shard per 1,000 recommended
        with pytest.raises(discord.ConnectionClosed) as caught:
            await asyncio.wait_for(bot.connect(reconnect=False), 30)
        assert caught.value.code == L.SHARDING_REQUIRED
    finally:
        await bot.close()
        await fake.close()
        fake.uninstall()


async def test_query_parameters_are_checked(client: tuple[FakeDiscord, discord.Client]) -> None:
    fake, bot = client
    await bot.http.logs_from(P.CHANNEL_ID, 100)  # the most Discord gives at once
    assert fake.violations == []
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.logs_from(P.CHANNEL_ID, 500)
    assert caught.value.status == 400
    [found] = fake.take_violations()
    assert "query limit='500'" in found and "maximum 100" in found
