"""``run_bot`` (what ``python -m bot run`` calls) with a token Discord rejects: exit status 2,
a clear log line, and the token nowhere in the logs."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.client import run_bot
from tests.e2e.conftest import e2e_settings
from tests.fakes.discord_api import FakeDiscord

pytestmark = pytest.mark.e2e
TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GrEvOk.revoked-token-value-1234567890"


def test_rejected_token_exits_2_without_leaking_it(market_dir: Path, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeDiscord().start(), loop).result(10)
    fake.reject_login = True
    fake.install()
    try:
        with caplog.at_level(logging.DEBUG):
            status = run_bot(e2e_settings(market_dir, tmp_path), SecretStr(TOKEN), market_dir)
    finally:
        fake.uninstall()
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    assert status == 2
    assert "rejected the token" in caplog.text
    assert TOKEN not in caplog.text
    assert str(SecretStr(TOKEN)) == "**********"
    login = fake.find("GET", r"^/users/@me$")
    assert login and login[0].authorized and login[0].status == 401
