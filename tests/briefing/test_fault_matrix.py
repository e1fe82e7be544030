"""The fault matrix of the morning post: every scenario ends with exactly one post per subscription
(or, where Discord refused or no data existed, none) and a ledger that says what happened.

Two kinds of scenario:

- **kill -9**: a real child process (``tests/briefing/crash_child.py``) posts through the real
  discord.py client to the fake Discord served here and is SIGKILLed at a step (claim, send in
  flight, after send, during a 429 wait, during reconcile); it is then restarted (same instance:
  a restart; another instance: a second live process) until the fan-out completes;
- **in-process**: the runtime with the real discord.py client (REST) against the fake, with
  faults injected: 5xx and timeouts before and after Discord stored the message, 429 storms,
  a gateway drop, data outages, 403/404, a moderator's delete, two processes at once.

"Tells the truth": a ``sent`` row carries the id of the message in the channel; a row without a
post says why (``failed`` with Discord's reason, ``skipped: data unavailable``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy.engine import Engine

from bot.briefing.fanout import BriefingRuntime, FanoutReport
from bot.briefing.models import BriefingOptions, DeliveryStatus, Subscription
from bot.briefing.post import BriefingPost
from bot.briefing.schedule import slot_on
from bot.briefing.sender import DiscordSender
from bot.briefing.store import DeliveryRepository, SubscriptionRepository
from bot.storage.db import create_engine, migrate
from tests.briefing.conftest import NY, CountingComposer
from tests.fakes.discord_api import FakeDiscord

REPO = Path(__file__).resolve().parents[2]
TUE = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 30 min after the 08:30 New York slot
SLOT = slot_on(TUE, time(8, 30), NY)
POSTS = r"/channels/\d+/messages$"
N = 3


@dataclass
class World:
    url: str
    engine: Engine
    subs: SubscriptionRepository
    deliveries: DeliveryRepository
    fake: FakeDiscord
    members: list[Subscription] = field(default_factory=list)
    clients: list[discord.Client] = field(default_factory=list)

    def add(self, n: int = N, guild_base: int = 1) -> list[Subscription]:
        for _ in range(n):
            k = len(self.members)
            self.members.append(self.subs.upsert(
                guild_id=(guild_base + k) << 22, channel_id=1_700_000_000_000_000_001 + k,
                local_time=time(8, 30), timezone=NY, options=BriefingOptions(charts=False),
                created_by=None, now=datetime(2026, 1, 1, tzinfo=UTC)))
        return self.members

    async def runtime(self, instance: str = "a", *, composer: Any = None,
                      clock: Callable[[], datetime] = lambda: NOW, send_timeout: float = 0.5,
                      **kwargs: Any) -> BriefingRuntime:
        client = discord.Client(intents=discord.Intents.none())
        await client.login("fault-matrix-token")
        self.clients.append(client)
        options: dict[str, Any] = {"grace": timedelta(minutes=60), "clock": clock,
                                   "instance": instance, "throttle_backoff": 0.05,
                                   "concurrency": 1}
        options.update(kwargs)
        return BriefingRuntime(self.subs, self.deliveries, composer or CountingComposer(),
                               DiscordSender(client, timeout=send_timeout), **options)

    def accepted(self, sub: Subscription) -> int:
        """Posts Discord accepted in the subscription's channel (deleted ones included)."""
        return len(self.fake.channel_messages.get(sub.channel_id, []))

    def assert_one_post_each(self, *, deleted: bool = False) -> None:
        for sub in self.members:
            assert self.accepted(sub) == 1, (sub.id, self.accepted(sub))
            row = self.deliveries.get(sub.id, TUE)
            assert row is not None and row.status == DeliveryStatus.SENT, row
            if not deleted:
                [msg] = self.fake.posts(sub.channel_id)
                assert row.message_id == int(msg["id"])
                footer = msg["embeds"][0]["footer"]["text"]
                assert footer.endswith(f"ref {row.nonce}")


@pytest.fixture
async def world(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'capbrief.sqlite3'}"
    engine = create_engine(url)
    migrate(engine)
    fake = await FakeDiscord(global_limit=None).start()
    fake.install()
    w = World(url, engine, SubscriptionRepository(engine), DeliveryRepository(engine), fake)
    try:
        yield w
    finally:
        for client in w.clients:
            await client.close()
        await fake.close()
        fake.uninstall()
        engine.dispose()


# -- child processes -------------------------------------------------------------------------
async def spawn(w: World, instance: str, kill_at: str = "",
                now: datetime = NOW) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.briefing.crash_child", w.url, w.fake.base_url,
        now.isoformat(), instance, kill_at, cwd=REPO, env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def run_child(w: World, instance: str, kill_at: str = "",
                    now: datetime = NOW) -> tuple[int, str, str]:
    return await finish(await spawn(w, instance, kill_at, now))


async def kill_when(w: World, instance: str, pred: Callable[[Any], bool]) -> None:
    """Start a child, SIGKILL it from here when the fake sees a matching request."""
    proc = await spawn(w, instance)
    await w.fake.wait_for(pred, 60)
    proc.send_signal(signal.SIGKILL)
    code, _, err = await finish(proc)
    assert code == -signal.SIGKILL, err


def is_post(rec: Any) -> bool:
    return rec.method == "POST" and rec.path.endswith("/messages")


def is_read(rec: Any) -> bool:
    return rec.method == "GET" and rec.path.endswith("/messages")


async def restart_until_done(w: World, instance: str = "a") -> dict[str, Any]:
    code, out, err = await run_child(w, instance)
    assert code == 0, err
    return {"out": json.loads(out), "err": err}


async def k_claim(w: World) -> None:
    code, _, err = await run_child(w, "a", "claim")
    assert code == -signal.SIGKILL, err
    assert w.fake.channel_messages == {}
    assert {r.status for r in w.deliveries.for_session(TUE)} == {DeliveryStatus.SENDING}
    await restart_until_done(w)


async def k_after_send(w: World) -> None:
    code, _, err = await run_child(w, "a", "after-send")
    assert code == -signal.SIGKILL, err
    first = w.members[0]
    assert w.accepted(first) == 1
    assert w.deliveries.get(first.id, TUE).status == DeliveryStatus.SENDING  # type: ignore[union-attr]
    await restart_until_done(w)
    row = w.deliveries.get(first.id, TUE)  # found by its marker, not re-sent
    assert row is not None and (row.last_error or "").startswith("found in the channel")


async def k_in_flight_stored(w: World) -> None:
    w.fake.hang(POSTS, 30, after_store=True)
    await kill_when(w, "a", is_post)
    await restart_until_done(w)


async def k_in_flight_not_stored(w: World) -> None:
    w.fake.hang(POSTS, 30, after_store=False)
    await kill_when(w, "a", is_post)
    await restart_until_done(w)


async def k_during_429_wait(w: World) -> None:
    w.fake.fail("POST", POSTS, 429, retry_after=20.0)
    await kill_when(w, "a", lambda r: is_post(r) and r.status == 429)
    await restart_until_done(w)


async def k_during_reconcile(w: World) -> None:
    code, _, _ = await run_child(w, "a", "after-send")
    assert code == -signal.SIGKILL
    code, _, err = await run_child(w, "a", "reconcile")
    assert code == -signal.SIGKILL, err
    await restart_until_done(w)


async def k_reconcile_read_in_flight(w: World) -> None:
    code, _, _ = await run_child(w, "a", "after-send")
    assert code == -signal.SIGKILL
    w.fake.delay(POSTS, 30)  # the GET shares the path: reads (and posts) are held
    await kill_when(w, "a", is_read)
    w.fake.delay(POSTS, 0)
    await restart_until_done(w)


async def k_rolling_restart_other_instance(w: World) -> None:
    """Instance a dies after a send; instance b (a live second process) must not touch a's
    leased row until the lease expires; then b reconciles it: still one post."""
    code, _, _ = await run_child(w, "a", "after-send")
    assert code == -signal.SIGKILL
    first = w.members[0]
    await restart_until_done(w, "b")
    row = w.deliveries.get(first.id, TUE)
    assert row is not None and row.status == DeliveryStatus.SENDING  # a's lease is respected
    code, _, err = await run_child(w, "b", now=NOW + timedelta(minutes=6))
    assert code == 0, err


async def k_claim_then_two_restarts(w: World) -> None:
    code, _, _ = await run_child(w, "a", "claim")
    assert code == -signal.SIGKILL
    await restart_until_done(w)
    await restart_until_done(w)  # a second restart finds everything sent


KILLS: dict[str, Callable[[World], Awaitable[None]]] = {
    "kill at claim": k_claim,
    "kill after send": k_after_send,
    "kill with send in flight (stored)": k_in_flight_stored,
    "kill with send in flight (not stored)": k_in_flight_not_stored,
    "kill during a 429 wait": k_during_429_wait,
    "kill during reconcile (after the read)": k_during_reconcile,
    "kill during reconcile (read in flight)": k_reconcile_read_in_flight,
    "kill, then another live instance (rolling restart)": k_rolling_restart_other_instance,
    "kill at claim, restarted twice": k_claim_then_two_restarts,
}


@pytest.mark.parametrize("name", list(KILLS))
async def test_kill_9(world: World, name: str) -> None:
    world.add()
    await KILLS[name](world)
    world.assert_one_post_each()


# -- in-process faults -----------------------------------------------------------------------
async def deliver(w: World, runtime: BriefingRuntime) -> FanoutReport:
    assert SLOT is not None
    return await runtime.deliver(SLOT, w.subs.enabled())


async def f_502_once_before_store(w: World) -> None:
    w.fake.fail("POST", POSTS, 502)  # discord.py retries the request with the same nonce
    report = await deliver(w, await w.runtime(send_timeout=10))
    assert len(report.sent) == N and not report.unknown


async def f_502_once_after_store(w: World) -> None:
    w.fake.fail("POST", POSTS, 502, after_store=True)
    report = await deliver(w, await w.runtime(send_timeout=10))
    assert len(report.sent) == N  # the retry got the first message back (enforce_nonce)


async def f_503_before_store(w: World) -> None:
    w.fake.fail("POST", POSTS, 503)  # no retry by discord.py: outcome unknown
    report = await deliver(w, await w.runtime())
    assert report.unknown == [w.members[0].id]  # then reconciled: not found, re-sent


async def f_503_after_store(w: World) -> None:
    w.fake.fail("POST", POSTS, 503, after_store=True)
    report = await deliver(w, await w.runtime())
    assert w.members[0].id in report.reconciled  # found by its marker


async def f_503_after_store_nonce_forgotten(w: World) -> None:
    w.fake.nonce_window = 0  # Discord no longer remembers the nonce: only the marker helps
    w.fake.fail("POST", POSTS, 503, after_store=True)
    report = await deliver(w, await w.runtime())
    assert w.members[0].id in report.reconciled


async def f_timeout_after_store(w: World) -> None:
    w.fake.hang(POSTS, 3, after_store=True)
    report = await deliver(w, await w.runtime())
    assert report.unknown and w.members[0].id in report.reconciled


async def f_timeout_before_store(w: World) -> None:
    w.fake.hang(POSTS, 3, after_store=False)
    report = await deliver(w, await w.runtime())
    assert report.unknown == [w.members[0].id]


async def f_unknown_then_restart(w: World) -> None:
    w.fake.fail("POST", POSTS, 503, after_store=True)
    w.fake.fail("GET", POSTS, 503)  # the read fails too: the row stays unknown
    await deliver(w, await w.runtime())
    row = w.deliveries.get(w.members[0].id, TUE)
    assert row is not None and row.status == DeliveryStatus.UNKNOWN
    await (await w.runtime("a")).catch_up()  # the restart reconciles it


async def f_429_storm(w: World) -> None:
    w.fake.fail("POST", POSTS, 429, times=2 * N, retry_after=0.05, is_global=True)
    await deliver(w, await w.runtime())


async def f_429_per_route(w: World) -> None:
    w.fake.limit_route("POST", POSTS, 1, 0.3)
    await deliver(w, await w.runtime())


async def f_429_outlasts_retries(w: World) -> None:
    w.fake.fail("POST", POSTS, 429, times=100, retry_after=0.01)
    runtime = await w.runtime(throttle_retries=1)
    report = await deliver(w, runtime)
    assert set(report.failed) == {s.id for s in w.members}
    assert w.fake.channel_messages == {}
    w.fake._faults.clear()
    await deliver(w, runtime)  # a 429 means not posted: claimed again, posted once


async def f_gateway_drop(w: World) -> None:
    client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.05)
    w.clients.append(client)
    await client.login("fault-matrix-token")
    task = asyncio.ensure_future(client.connect(reconnect=True))
    await w.fake.wait_ready()
    w.fake.delay(POSTS, 0.2)
    runtime = BriefingRuntime(w.subs, w.deliveries, CountingComposer(),
                              DiscordSender(client, timeout=5), grace=timedelta(minutes=60),
                              clock=lambda: NOW, instance="a", concurrency=1)
    fan = asyncio.ensure_future(deliver(w, runtime))
    await w.fake.wait_for(is_post)
    await w.fake.drop_gateway(4000)
    await fan
    w.fake.delay(POSTS, 0)
    await client.close()
    task.cancel()


class FlakyComposer(CountingComposer):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def compose(self, session: date, asof: date, options: BriefingOptions
                      ) -> BriefingPost:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("Yahoo answered 503")
        return await super().compose(session, asof, options)


async def f_data_outage_recovers(w: World) -> None:
    runtime = await w.runtime(composer=FlakyComposer(1))
    report = await deliver(w, runtime)
    assert set(report.failed) == {s.id for s in w.members} and not w.fake.channel_messages
    row = w.deliveries.get(w.members[0].id, TUE)
    assert row is not None and row.status == DeliveryStatus.FAILED
    assert "composition failed" in (row.last_error or "") and "retrying" in (row.last_error or "")
    for task in list(runtime._retries):  # the scheduled retry, run now instead
        task.cancel()
    await deliver(w, runtime)  # the retry within the grace window


async def f_data_outage_stale_fallback(w: World) -> None:
    clock = {"now": NOW}
    composer = FlakyComposer(0)
    runtime = await w.runtime(composer=composer, clock=lambda: clock["now"])
    await runtime.compose_now(BriefingOptions(charts=False))  # an older good composition
    composer.failures = 10
    clock["now"] = NOW + timedelta(minutes=28)  # the retry would land past the grace window
    runtime.cache.clear()
    await deliver(w, runtime)
    for sub in w.members:
        [msg] = w.fake.posts(sub.channel_id)
        assert "STALE" in msg["embeds"][0]["description"]
        row = w.deliveries.get(sub.id, TUE)
        assert row is not None and "STALE" in (row.last_error or "")


async def f_data_outage_skipped(w: World) -> None:
    runtime = await w.runtime(composer=FlakyComposer(10),
                              clock=lambda: NOW + timedelta(minutes=28))
    report = await deliver(w, runtime)
    assert set(report.skipped) == {s.id for s in w.members}
    for sub in w.members:
        row = w.deliveries.get(sub.id, TUE)
        assert row is not None and row.status == DeliveryStatus.SKIPPED
        assert (row.last_error or "").startswith("skipped: data unavailable")
    assert w.fake.channel_messages == {}


async def f_403_then_fixed(w: World) -> None:
    w.fake.fail("POST", POSTS, 403)
    runtime = await w.runtime()
    report = await deliver(w, runtime)
    row = w.deliveries.get(w.members[0].id, TUE)
    assert report.failed == [w.members[0].id]
    assert row is not None and row.status == DeliveryStatus.FAILED
    assert "may not post" in (row.last_error or "")
    await deliver(w, runtime)  # permission fixed: Discord held nothing, posted once


async def f_404(w: World) -> None:
    w.fake.fail("POST", POSTS, 404)
    runtime = await w.runtime()
    await deliver(w, runtime)
    row = w.deliveries.get(w.members[0].id, TUE)
    assert row is not None and row.status == DeliveryStatus.FAILED
    assert "no longer exists" in (row.last_error or "")
    await deliver(w, runtime)


async def f_deleted_post(w: World) -> None:
    runtime = await w.runtime()
    await deliver(w, runtime)
    for sub in w.members:
        [msg] = w.fake.posts(sub.channel_id)
        w.fake.delete_message(sub.channel_id, int(msg["id"]))
    await deliver(w, runtime)
    await (await w.runtime("a")).catch_up()  # a restart: still not posted again


async def f_deleted_after_reconcile_saw_it(w: World) -> None:
    w.fake.fail("POST", POSTS, 503, after_store=True)
    runtime = await w.runtime()
    await deliver(w, runtime)  # reconcile saw it: sent
    first = w.members[0]
    [msg] = w.fake.posts(first.channel_id)
    w.fake.delete_message(first.channel_id, int(msg["id"]))
    await (await w.runtime("a")).catch_up()


async def f_two_processes_overlap(w: World) -> None:
    a, b = await w.runtime("a"), await w.runtime("b")
    w.fake.delay(POSTS, 0.05)
    await asyncio.gather(deliver(w, a), deliver(w, b))


async def f_two_processes_disjoint_shards(w: World) -> None:
    a = await w.runtime("a", owns=lambda g: (g >> 22) % 2 == 0)
    b = await w.runtime("b", owns=lambda g: (g >> 22) % 2 == 1)
    ra, rb = await asyncio.gather(deliver(w, a), deliver(w, b))
    assert ra.not_owned + rb.not_owned == N and not set(ra.sent) & set(rb.sent)


async def f_no_read_history(w: World) -> None:
    w.fake.fail("POST", POSTS, 503, after_store=True)
    w.fake.fail("GET", POSTS, 403, times=1)
    runtime = await w.runtime()
    await deliver(w, runtime)
    row = w.deliveries.get(w.members[0].id, TUE)
    assert row is not None and row.status == DeliveryStatus.UNKNOWN  # never re-sent blind
    assert "Read Message History" in (row.last_error or "")
    await deliver(w, runtime)  # permission back: found, recorded


async def f_dead_other_instance_lease_expires(w: World) -> None:
    first = w.members[0]
    w.deliveries.claim([first.id], TUE, owner="dead/1/1", now=NOW,
                       lease_until=NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=6)
    await deliver(w, await w.runtime("b", clock=lambda: later))


async def f_fired_twice(w: World) -> None:
    runtime = await w.runtime()
    await asyncio.gather(deliver(w, runtime), deliver(w, runtime))


async def f_restart_after_success(w: World) -> None:
    await deliver(w, await w.runtime())
    await (await w.runtime("a")).catch_up()
    await (await w.runtime("b")).catch_up()


FAULTS: dict[str, Callable[[World], Awaitable[None]]] = {
    "502 once before storing (discord.py retry, same nonce)": f_502_once_before_store,
    "502 once after storing (retry answered by the nonce)": f_502_once_after_store,
    "503 before storing (unknown, reconciled, re-sent)": f_503_before_store,
    "503 after storing (unknown, found by marker)": f_503_after_store,
    "503 after storing, nonce forgotten (marker alone)": f_503_after_store_nonce_forgotten,
    "timeout after storing": f_timeout_after_store,
    "timeout before storing": f_timeout_before_store,
    "unknown and unreadable, settled by the restart": f_unknown_then_restart,
    "429 storm (global)": f_429_storm,
    "429 per-route bucket": f_429_per_route,
    "429 outlasting the retries, claimed again": f_429_outlasts_retries,
    "gateway drop mid fan-out": f_gateway_drop,
    "data outage, recovered within grace": f_data_outage_recovers,
    "data outage past grace with older data (stale label)": f_data_outage_stale_fallback,
    "403, then fixed": f_403_then_fixed,
    "404": f_404,
    "deleted post is not posted again": f_deleted_post,
    "post seen by reconcile, then deleted": f_deleted_after_reconcile_saw_it,
    "two processes, overlapping ownership": f_two_processes_overlap,
    "two processes, disjoint shards": f_two_processes_disjoint_shards,
    "no Read Message History during reconcile": f_no_read_history,
    "dead other instance, lease expires": f_dead_other_instance_lease_expires,
    "slot fired twice at once": f_fired_twice,
    "restarts after success": f_restart_after_success,
}
DELETED = {"deleted post is not posted again", "post seen by reconcile, then deleted"}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_fault(world: World, name: str) -> None:
    world.add()
    await FAULTS[name](world)
    world.assert_one_post_each(deleted=name in DELETED)


async def test_data_outage_past_grace_without_older_data_is_skipped_and_says_so(
        world: World) -> None:
    world.add()
    await f_data_outage_skipped(world)
