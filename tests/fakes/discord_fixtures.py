"""Fixtures shared by the tests that drive the real discord.py REST client against the loopback
fake Discord (registered for the whole suite through ``pytest_plugins`` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest_asyncio

from tests.fakes.discord_api import FakeDiscord


@pytest_asyncio.fixture
async def client() -> AsyncIterator[tuple[FakeDiscord, discord.Client]]:
    """A started fake Discord and a real ``discord.Client`` logged in against it (REST only)."""
    fake = await FakeDiscord().start()
    fake.install()
    bot = discord.Client(intents=discord.Intents.none())
    await bot.login("fake-token")
    try:
        yield fake, bot
    finally:
        await bot.close()
        await fake.close()
        fake.uninstall()
