"""Alerts exactly once across two OS processes on one ledger, one of them killed with kill -9.

Processes A and B (``tests/alerts/crash_child.py``) each run a real :class:`AlertRuntime` that
posts through the real discord.py REST client to the loopback fake Discord. They share ONE
ledger database (a SQLite file; the same script on PostgreSQL when ``CAPBRIEF_TEST_POSTGRES_URL``
is set, as ``.ci/run`` does) and evaluate the same session on real history: 2025-09-18 (record,
breakout, 2,400 cross; see the replay in the closing note) for seven subscriptions that want
different events. Pausing instead of racing keeps it deterministic:

1. A runs the check and stops at the worst moment, still holding its lease: ``claim`` (its first
   row is ``sending``, nothing posted) or ``after-send`` (the post is in the channel, the row
   still says ``sending``);
2. B, alive at the same time, runs the same check: it must leave A's leased row alone and post
   the others;
3. the test kills A with SIGKILL;
4. recovery, by the survivor (B's next check, once A's 5-minute lease has expired) or by A's
   replacement (same instance, a new life: it does not wait for its dead predecessor's lease;
   started beside A and B to overlap the imports, as a supervisor starts one, and idle until A
   is dead); then the other process checks again and finds nothing to do.

Discord's nonce memory is off at the fake (``nonce_window = 0``, as after a restart minutes
later), so only the ledger and the marker can prevent a second post. Each channel must receive
exactly one POST whose marker and nonce are its subscription's, every subscription whose events
fired ends ``sent`` with that message's id, the one whose events did not fire has neither a row
nor a message, and no other channel receives anything.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy.engine import Engine

from analytics.alerts import EVENT_KINDS, EVENT_TITLES
from bot.alerts.store import (
    AlertDeliveryRepository,
    AlertSubscription,
    AlertSubscriptionRepository,
    alert_nonce,
)
from bot.briefing.models import DeliveryStatus
from bot.storage.db import create_engine, migrate
from tests.fakes.discord_api import FakeDiscord
from tests.postgres import needs_postgres, schema_engine

REPO = Path(__file__).resolve().parents[2]
SESSION = date(2025, 9, 18)
NOW = datetime(2025, 9, 18, 21, 0, tzinfo=UTC)  # the close (20:00 UTC) + 30 min has passed
LEASE_GONE = NOW + timedelta(minutes=6)  # AlertRuntime's lease is 5 minutes
FIRED = ("record", "breakout", "level_cross")  # 2025-09-18 in the replay
WANTS: tuple[tuple[str, ...], ...] = (
    EVENT_KINDS,  # all three in one message
    ("breakout",),
    ("record", "breakout"),
    ("level_cross",),
    ("record",),
    ("ma_cross", "level_cross"),
    ("drought",),  # nothing it wants fired: a skipped row, no message
)
WAIT = 120.0  # seconds for one step of a child (imports alone take a few on a busy machine)


@dataclass
class World:
    url: str
    engine: Engine
    fake: FakeDiscord
    market_dir: Path
    logs: Path
    subs: list[AlertSubscription]

    @property
    def deliveries(self) -> AlertDeliveryRepository:
        return AlertDeliveryRepository(self.engine)


class Child:
    """One ``tests.alerts.crash_child`` process; its protocol lines are read from stdout."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str, log: IO[bytes],
                 log_path: Path) -> None:
        self.proc, self.name, self.log, self.log_path = proc, name, log, log_path

    @classmethod
    async def start(cls, w: World, instance: str, hook: str = "") -> Child:
        name = f"{instance}{'-' + hook if hook else ''}-{len(list(w.logs.iterdir()))}"
        log_path = w.logs / f"{name}.log"
        log = log_path.open("wb")  # stderr to a file: a full pipe would block the child
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.alerts.crash_child", w.url, w.fake.base_url,
            str(w.market_dir), instance, hook, cwd=REPO, env=dict(os.environ),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log)
        return cls(proc, name, log, log_path)

    def why(self) -> str:
        self.log.flush()
        tail = self.log_path.read_text(errors="replace").splitlines()[-25:]
        return f"{self.name} (exit {self.proc.returncode}):\n" + "\n".join(tail)

    async def expect(self, prefix: str) -> str:
        """The rest of the next stdout line starting with ``prefix``."""
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), WAIT)
            assert raw, f"{self.name} ended before {prefix!r}: {self.why()}"
            line = raw.decode().rstrip("\n")
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    async def command(self, now: datetime) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {now.isoformat()}\n".encode())
        await self.proc.stdin.drain()

    async def run(self, now: datetime) -> dict[str, Any]:
        """One scheduled check at ``now``; its report."""
        await self.command(now)
        report: dict[str, Any] = json.loads(await self.expect("report"))
        return report

    async def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        code = await asyncio.wait_for(self.proc.wait(), WAIT)
        assert code == -signal.SIGKILL, self.why()

    async def exit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = await asyncio.wait_for(self.proc.wait(), WAIT)
        assert code == 0, self.why()

    def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        self.log.close()


@asynccontextmanager
async def children(w: World) -> AsyncIterator[list[Child]]:
    """A list to start children into; any still running at the end is killed."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in started:
            child.stop()
            await child.proc.wait()


@contextmanager
def ledger(backend: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    if backend == "postgres":
        with schema_engine("capbrief_alert_procs") as engine:
            yield engine.url.render_as_string(hide_password=False), engine
        return
    url = f"sqlite:///{tmp_path / 'capbrief.sqlite3'}"
    engine = create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=needs_postgres)])
async def world(request: pytest.FixtureRequest, tmp_path: Path, market_dir: Path
                ) -> AsyncIterator[World]:
    with ledger(request.param, tmp_path) as (url, engine):
        migrate(engine)
        repo = AlertSubscriptionRepository(engine)
        subs = [repo.upsert(guild_id=(100 + i) << 22, channel_id=1_900_000_000_000_000_001 + i,
                            events=wants, created_by=None, now=datetime(2025, 1, 1, tzinfo=UTC))
                for i, wants in enumerate(WANTS)]
        fake = await FakeDiscord().start()
        fake.nonce_window = 0  # Discord has forgotten the nonce: only the ledger protects
        logs = tmp_path / "logs"
        logs.mkdir()
        try:
            yield World(url, engine, fake, market_dir, logs, subs)
        finally:
            await fake.close()


def wanted(sub: AlertSubscription) -> list[str]:
    return [k for k in FIRED if k in sub.events]


def post_requests(w: World, channel_id: int) -> list[Any]:
    return [r for r in w.fake.find("POST", rf"^/channels/{channel_id}/messages$")
            if r.status == 200]


def assert_exactly_once(w: World) -> None:
    """One accepted POST per subscription whose events fired, carrying its marker, nonce and
    events, recorded ``sent`` with that message's id; nothing anywhere else (a subscription
    none of whose events fired has a ``skipped`` row)."""
    served = [s for s in w.subs if wanted(s)]
    assert set(w.fake.channel_messages) == {s.channel_id for s in served}
    for sub in w.subs:
        row = w.deliveries.get(sub.id, SESSION)
        if not wanted(sub):  # recorded as a quiet session, never posted
            assert row is not None and row.status == DeliveryStatus.SKIPPED, row
            assert post_requests(w, sub.channel_id) == []
            continue
        assert len(post_requests(w, sub.channel_id)) == 1, sub
        assert len(w.fake.channel_messages[sub.channel_id]) == 1, sub
        [msg] = w.fake.posts(sub.channel_id)
        nonce = alert_nonce(sub.id, SESSION)
        assert msg["nonce"] == nonce
        embed = msg["embeds"][0]
        assert embed["footer"]["text"].endswith(f"ref {nonce}")
        assert sorted(f["name"] for f in embed["fields"]) == sorted(
            EVENT_TITLES[k] for k in wanted(sub))
        assert row is not None and row.status == DeliveryStatus.SENT, row
        assert row.message_id == int(msg["id"]), (row, msg["id"])
    w.fake.assert_valid()


#: Both kill points, both recoveries (a kill at claim followed by a restart is the in-process
#: ``test_restart_between_evaluation_and_send_posts_once``; each scenario costs a few seconds
#: of child start-up).
SCENARIOS = [("after-send", "survivor"), ("after-send", "restart"), ("claim", "survivor")]


@pytest.mark.parametrize(("step", "recovery"), SCENARIOS,
                         ids=[f"kill9-at-{s}-{r}" for s, r in SCENARIOS])
async def test_two_processes_one_killed_every_alert_posts_once(
        world: World, step: str, recovery: str) -> None:
    w = world
    first = w.subs[0]  # A's first (and only) claim: the lowest id among pending rows
    async with children(w) as started:
        a = await Child.start(w, "host-a", f"pause:{step}")
        b = await Child.start(w, "host-b")
        started += [a, b]
        if recovery == "restart":
            started.append(await Child.start(w, "host-a"))  # the replacement, idle for now
        await asyncio.gather(*(child.expect("ready") for child in started))

        # 1. A stops at the worst moment, holding the lease of its first row.
        await a.command(NOW)
        assert await a.expect("paused") == step
        row = w.deliveries.get(first.id, SESSION)
        assert row is not None and row.status == DeliveryStatus.SENDING, row
        assert (row.lease_owner or "").startswith("alerts-host-a/")
        assert len(post_requests(w, first.channel_id)) == (step == "after-send")

        # 2. B, alive at the same time, evaluates the same session.
        report = await b.run(NOW)
        assert report["events"] == len(FIRED)
        assert sorted(report["sent"]) == sorted(s.id for s in w.subs[1:] if wanted(s))
        assert report["reconciled"] == [] and report["failed"] == [] and report["unknown"] == []

        # 3. kill -9 A; its row is still leased and untouched by B.
        await a.kill9()
        row = w.deliveries.get(first.id, SESSION)
        assert row is not None and row.status == DeliveryStatus.SENDING, row

        # 4. Recovery: the survivor after the lease expired, or A restarted at once.
        if recovery == "survivor":
            fixer, other, later = b, None, LEASE_GONE
        else:
            fixer, other, later = started[2], b, NOW
        settled = await fixer.run(later)
        if step == "after-send":  # found in the channel by its marker: recorded, not re-sent
            assert settled["reconciled"] == [first.id] and settled["sent"] == []
        else:  # claimed but never posted: not found, claimed again, posted once
            assert settled["reconciled"] == [] and settled["sent"] == [first.id]
        row = w.deliveries.get(first.id, SESSION)
        assert row is not None and row.status == DeliveryStatus.SENT, row
        if step == "after-send":
            assert (row.last_error or "").startswith("found in the channel")

        # And every later check, by either process, has nothing left to do.
        for child in filter(None, (other, fixer)):
            again = await child.run(LEASE_GONE + timedelta(minutes=1))
            assert again["sent"] == again["reconciled"] == again["skipped"] == []
        for child in started[1:]:
            await child.exit()
    assert_exactly_once(w)
