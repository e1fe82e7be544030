"""One process of ``bench_startup``: start a Discord client against the loopback fake Discord and
report, on stdout, when it is ready. The parent times it from before the process was spawned.

``python -m bench.startup_child bare|capbrief DATA_DIR WORKDIR``

- ``bare``: a plain ``discord.Client`` (guilds intent), the baseline;
- ``capbrief``: the real :class:`bot.client.CapbriefBot` replaying ``DATA_DIR`` with all its
  extensions (services, cogs, command sync; after READY the briefing and alerts services are
  built and the render pool warms, in the background).

Lines: ``READY`` (gateway session live: the fake got IDENTIFY and sent READY), ``ANSWERED`` (a
``/about`` interaction got its response; capbrief only), ``SERVICES`` (the briefing and alerts
services built and started: database migrated, schedulers running; capbrief only), ``WARM``
(render pool warmed; capbrief only), then ``IDLE`` once settled; the parent samples memory and
closes stdin to stop us.

The module imports only the standard library at the top: the render workers re-import the main
module (``multiprocessing`` does that for ``forkserver`` and ``spawn`` children), and with
``python -m bot`` that main module is light, so here it must be too, or the workers' memory and
warm-up would carry discord.py and the fake Discord.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord


def say(word: str) -> None:
    print(word, flush=True)


async def _bare(fake: FakeDiscord) -> tuple[Any, Any]:
    import discord

    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents)
    await client.login("bench-token")
    task = asyncio.create_task(client.connect())
    await fake.wait_ready(60)
    say("READY")
    return client, task


async def _capbrief(fake: FakeDiscord, data_dir: Path, workdir: Path) -> tuple[Any, Any]:
    from bot.client import CapbriefBot
    from bot.settings import Settings

    settings = Settings(data={"provider": "csv", "csv_dir": data_dir},  # type: ignore[arg-type]
                        storage={"url": f"sqlite:///{workdir / 'bench_startup.sqlite3'}"})  # type: ignore[arg-type]
    bot = CapbriefBot(settings, data_dir=data_dir, guild_ready_timeout=0.05)
    await bot.login("bench-token")
    task = asyncio.create_task(bot.connect())
    await fake.wait_ready(60)
    say("READY")
    ix = await fake.interact("about")
    await ix.callback(within=60)
    say("ANSWERED")
    await bot.wait_started()  # begun at the first READY
    say("SERVICES")
    await bot.services.renderer.start_background()  # the warm-up task begun in setup_hook
    say("WARM")
    return bot, task


async def main(mode: str, data_dir: Path, workdir: Path) -> None:
    from tests.fakes.discord_api import FakeDiscord

    fake = await FakeDiscord().start()
    fake.install()
    client, task = await (_bare(fake) if mode == "bare" else _capbrief(fake, data_dir, workdir))
    await asyncio.sleep(1.0)  # settle before the parent samples idle memory
    say("IDLE")
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
    await client.close()
    await task
    fake.uninstall()
    await fake.close()


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
