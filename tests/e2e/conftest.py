"""End-to-end harness: the real CapbriefBot (discord.py 2.7) against the loopback fake Discord.

Data: CSV replay of the real shared history (``market_dir``; skipped where absent). Rendering:
a real 1-worker process pool. One bot + fake per test module (``harness``, module loop scope);
tests in a module share them, so each test uses its own user ids (cooldowns are per user).
Every log record of the run (DEBUG and up, tracebacks included) is kept in ``harness.logs``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.client import CapbriefBot
from bot.services import Services
from bot.settings import Settings
from tests.fakes import discord_payloads as P
from tests.fakes.discord_api import FakeDiscord, Interaction, Recorded, pop_violations

#: Looks like a real token (id.timestamp.hmac) so a leak would be recognisable.
TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GcApBr.e2e-" + secrets.token_hex(16)


class LogCapture(logging.Handler):
    """Keeps every formatted record (with traceback text)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Harness:
    fake: FakeDiscord
    bot: CapbriefBot
    logs: LogCapture
    market_dir: Path
    task: asyncio.Task[None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def run(self, name: str, options: dict[str, Any] | None = None, *,
                  user_id: int | None = None, **kw: Any) -> tuple[Interaction, Recorded]:
        """Invoke ``/name`` as a fresh user; returns the handle and the callback."""
        ix = await self.fake.interact(name, options, user_id=user_id or P.snowflake(), **kw)
        return ix, await ix.callback()

    async def reply(self, name: str, options: dict[str, Any] | None = None,
                    **kw: Any) -> tuple[Recorded, Recorded]:
        """A data command's deferral (type 5) and its one follow-up."""
        ix, callback = await self.run(name, options, **kw)
        return callback, await ix.followup()


def e2e_settings(market_dir: Path, workdir: Path, **overrides: Any) -> Settings:
    """CSV replay, one render worker, storage in ``workdir`` (never the repo's data/)."""
    return Settings(data={"provider": "csv", "csv_dir": market_dir},  # type: ignore[arg-type]
                    render={"pool_size": 1},  # type: ignore[arg-type]
                    storage={"url": f"sqlite:///{workdir / 'e2e.sqlite3'}"},  # type: ignore[arg-type]
                    **overrides)


async def start_harness(market_dir: Path, workdir: Path, *,
                        settings: Settings | None = None) -> Harness:
    logs = LogCapture()
    root = logging.getLogger()
    root.addHandler(logs)
    previous = root.level
    root.setLevel(logging.DEBUG)
    logs.extra_restore = previous  # type: ignore[attr-defined]
    fake = await FakeDiscord().start()
    fake.install()
    settings = settings or e2e_settings(market_dir, workdir)
    services = Services.build(settings, market_dir, pool_size=1)
    bot = CapbriefBot(settings, data_dir=market_dir, services=services,
                      guild_ready_timeout=0.05)
    await bot.login(TOKEN)
    harness = Harness(fake=fake, bot=bot, logs=logs, market_dir=market_dir)
    harness.task = asyncio.create_task(bot.connect(reconnect=True))
    await fake.wait_ready(30)
    await asyncio.wait_for(bot.wait_until_ready(), 30)
    return harness


async def stop_harness(h: Harness) -> None:
    """Bot first (so it does not reconnect into a dead server), then the fake."""
    await h.bot.close()
    if h.task is not None:
        await asyncio.wait_for(h.task, 30)
    await h.fake.close()
    h.fake.uninstall()
    root = logging.getLogger()
    root.removeHandler(h.logs)
    root.setLevel(getattr(h.logs, "extra_restore", logging.WARNING))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(market_dir: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> AsyncIterator[Harness]:
    h = await start_harness(market_dir, tmp_path_factory.mktemp("e2e"))
    try:
        yield h
    finally:
        await stop_harness(h)
        assert TOKEN not in h.logs.text, "the bot token leaked into the logs"
        late = pop_violations()  # sent while the harness stopped, after the last test
        assert not late, "requests Discord would refuse:\n" + "\n".join(late)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR; AssertionError when ``data`` is not a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR", "first chunk is not IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture
def token() -> str:
    return TOKEN
