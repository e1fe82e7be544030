"""Kill a real process between the send and the record, then restart it: at-most-once.

The child (``tests/briefing/crash_child.py``) posts through the real discord.py client to the
fake Discord served by this test, and ``os._exit``s right after the first send succeeds. The
message reached Discord but the delivery row still says ``sending``. The restarted child marks
that row ``interrupted`` (logged, shown by /briefing settings) and does NOT post it again; the
subscription that had not been claimed yet is delivered by the restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bot.briefing.fanout import CRASH_ENV, CRASH_EXIT_CODE
from bot.storage.db import create_engine, migrate
from bot.storage.repositories import DeliveryRepository, SubscriptionRepository
from bot.briefing.models import DeliveryStatus
from tests.briefing.conftest import add_sub
from tests.fakes.discord_api import FakeDiscord

REPO = Path(__file__).resolve().parents[2]
TUE = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 30 min after the 08:30 New York slot


async def _child(db_url: str, fake: FakeDiscord, *, crash: bool) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash:
        env[CRASH_ENV] = "after-send"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.briefing.crash_child", db_url, fake.base_url,
        NOW.isoformat(), cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_killed_after_send_is_not_resent_after_restart(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'capbrief.sqlite3'}"
    engine = create_engine(db_url)
    migrate(engine)
    subs, deliveries = SubscriptionRepository(engine), DeliveryRepository(engine)
    first = add_sub(subs, 1_700_000_000_000_000_001)
    second = add_sub(subs, 1_700_000_000_000_000_002)
    fake = await FakeDiscord().start()
    try:
        code, _, err = await _child(db_url, fake, crash=True)
        assert code == CRASH_EXIT_CODE, err
        assert len(fake.channel_messages.get(first.channel_id, [])) == 1  # it was posted ...
        row = deliveries.get(first.id, TUE)
        assert row is not None and row.status == DeliveryStatus.SENDING  # ... but not recorded
        assert deliveries.get(second.id, TUE) is None
        assert second.channel_id not in fake.channel_messages

        code, out, err = await _child(db_url, fake, crash=False)
        assert code == 0, err
        assert "interrupted between send and record" in err
        assert json.loads(out) == [{"sent": [second.id], "skipped": [first.id], "missed": []}]
    finally:
        await fake.close()
    assert len(fake.channel_messages[first.channel_id]) == 1  # never posted twice
    assert len(fake.channel_messages[second.channel_id]) == 1
    row = deliveries.get(first.id, TUE)
    assert row is not None and row.status == DeliveryStatus.INTERRUPTED
    assert row.last_error is not None and "at-most-once" in row.last_error
    done = deliveries.get(second.id, TUE)
    assert done is not None and done.status == DeliveryStatus.SENT
    engine.dispose()
