"""The whole bot (``CapbriefBot`` with some extensions) connected to the loopback fake Discord,
replaying the market history, with its briefing/alerts storage at ``db_url``: the start-up the
cog and late-start tests share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from bot.client import CapbriefBot
from bot.services import Services
from bot.settings import Settings
from tests.conftest import market_data_dir
from tests.fakes.discord_api import FakeDiscord


@asynccontextmanager
async def running_bot(db_url: str, extensions: Sequence[str], *,
                      channels: Callable[[FakeDiscord], None] | None = None,
                      token: str = "test-token", wait_started: bool = False,
                      ) -> AsyncIterator[tuple[FakeDiscord, CapbriefBot, asyncio.Task[None]]]:
    """(fake, bot, the gateway task) once READY; ``channels`` adds the fake's channels before it
    starts; ``wait_started``: also wait for the services built after READY. Closes all after."""
    data_dir = market_data_dir()
    settings = Settings(data={"provider": "csv", "csv_dir": data_dir},  # type: ignore[arg-type]
                        render={"pool_size": 1}, storage={"url": db_url})  # type: ignore[arg-type]
    fake = FakeDiscord()
    if channels is not None:
        channels(fake)
    await fake.start()
    fake.install()
    bot = CapbriefBot(settings, data_dir=data_dir,
                      services=Services.build(settings, data_dir, pool_size=1),
                      extensions=tuple(extensions), guild_ready_timeout=0.05)
    await bot.login(token)
    task = asyncio.create_task(bot.connect(reconnect=True))
    try:
        await fake.wait_ready(30)
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        if wait_started:
            await asyncio.wait_for(bot.wait_started(), 60)
        yield fake, bot, task
    finally:
        await bot.close()
        await asyncio.wait_for(task, 30)
        await fake.close()
        fake.uninstall()
